"""The demo loader on a real ingest of the synthetic hospital through the warehouse and views."""

from pathlib import Path

from campus.analysis import demo as analysis_demo
from campus.analysis.models import Job
from campus.auth import service as auth
from campus.auth.actor import SYSTEM
from campus.demo import DEMO_ACCOUNTS
from campus.governance import demo, register
from campus.warehouse import service as warehouse


def test_the_demo_has_an_approved_request_a_released_job_a_pending_review_and_a_refusal(
    db, settings, hospital_bundles: list[Path], client
):
    with db.session() as session:
        for email, name, roles in DEMO_ACCOUNTS:
            account = auth.create_account(
                session, email=email, name=name, password=None, email_verified=True
            )
            for role in roles:
                auth.grant_role(session, account, role)
        warehouse.create_dataset(session, SYSTEM, demo.DATASET)
    bundles = [f for f in hospital_bundles if "Information" not in f.name]
    warehouse.ingest(db, settings, SYSTEM, demo.DATASET, bundles, workers=1)
    for _twice in range(2):  # loading twice changes nothing
        demo.load(settings, db)
        analysis_demo.load(settings, db)  # after governance's, as the registry orders them
    with db.session() as session:
        entries = {e["id"]: e for e in register.listing(session)}
        job = session.query(Job).one()
    assert sorted(d["status"] for d in entries["demo-project"]["decisions"]) == [
        "approved",
        "in_review",
    ]
    assert [d["status"] for d in entries["demo-readmissions"]["decisions"]] == ["refused"]
    assert job.status == "succeeded" and job.release_status == "released"
    page = client.get(f"/jobs/{job.id}")
    assert "data-charts" in page.text and "chart.umd.min.js" in page.text


def test_campus_demo_runs_analysis_s_demo_job_after_governance_s_projects():
    """The demo job needs the approved project: the registry orders the loaders so."""
    from campus.site import registry
    from campus.site.capabilities import CAPABILITIES

    loaders = registry.loaders(CAPABILITIES)
    assert loaders.index(demo.load) < loaders.index(analysis_demo.load)
