"""The privacy budget ledger holds under concurrent jobs: the second waits, then is refused."""

import threading
import time

import pytest
from sqlalchemy import update

from campus.errors import Conflict
from campus.governance import budget
from campus.governance.models import DataProject
from tests.integration.analysis.setup import approve


def test_two_jobs_cannot_both_spend_the_last_of_the_budget(db, settings, world):
    approve(db, settings, world)
    with db.session() as session:
        session.execute(
            update(DataProject).where(DataProject.id == world.project_id).values(privacy_budget=1.0)
        )
    outcome = {}
    first = db.sessions()
    budget.charge(first, world.project_id, "job-a", 0.6)  # holds the lock, not committed

    def second():
        with db.session() as session:
            try:
                budget.charge(session, world.project_id, "job-b", 0.6)
                outcome["b"] = "charged"
            except Conflict as error:
                outcome["b"] = error.code

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the second charge must wait for the first transaction"
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome["b"] == "privacy_budget_spent"
    with db.session() as session:
        assert budget.spent(session, world.project_id) == pytest.approx(0.6)
