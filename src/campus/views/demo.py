"""Demo data: the demo researcher's saved custom view (the blood pressure readings of the
synthetic hospital), listed in her view editor and opened at `/views/saved/{key}`."""

from __future__ import annotations

from campus.auth import service as auth
from campus.db.engine import Database
from campus.settings import Settings
from campus.views import service

RESEARCHER_EMAIL = "chercheuse@campus.example"
TITLE = "Tension artérielle systolique"
VIEW = {
    "resourceType": "ViewDefinition",
    "name": "systolic_blood_pressure",
    "status": "active",
    "resource": "Observation",
    "where": [
        {"path": "code.coding.where(system = 'http://loinc.org' and code = '8480-6').exists()"}
    ],
    "select": [
        {
            "column": [
                {"name": "observation_id", "path": "getResourceKey()", "type": "id"},
                {"name": "patient_id", "path": "subject.getReferenceKey()", "type": "id"},
                {"name": "effective", "path": "effective.ofType(dateTime)", "type": "dateTime"},
                {"name": "systolic", "path": "value.ofType(Quantity).value", "type": "decimal"},
            ]
        }
    ],
}


def load(settings: Settings, db: Database) -> None:
    """Save the demo view as the demo researcher (saving twice changes nothing)."""
    with db.session() as session:
        account = auth.find_account(session, RESEARCHER_EMAIL)
        if account is None:
            raise RuntimeError(f"the demo needs the researcher account {RESEARCHER_EMAIL}")
        service.save_view(session, auth.actor_for(account, "session"), TITLE, VIEW)
