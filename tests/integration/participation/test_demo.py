from sqlalchemy import func, select

from campus.participation import demo, service
from campus.participation.models import Comment, Proposal, Report, Support
from tests.helpers import make_account


def test_the_demo_has_a_consultation_on_the_stroke_project_with_proposals_comments_votes(
    client, db, settings
):
    make_account(db, "admin@campus.example", "staff")
    demo.load(settings, db)
    demo.load(settings, db)  # a second run adds nothing
    with db.session() as session:
        consultations = {c.title: c for c in service.list_consultations(session)}
        assert len(consultations) == 2
        open_one = consultations[demo.OPEN_TITLE]
        assert (open_one.subject_type, open_one.subject_id) == ("data_project", "demo-project")
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Proposal) == 7 and count(Comment) == 4 and count(Support) == 14
        assert count(Report) == 1
    detail = client.get(f"/api/v1/consultations/{open_one.id}").json()
    assert detail["consultation"]["phase"] == "voting" and len(detail["proposals"]) == 4
    closed = consultations[demo.CLOSED_TITLE]
    data = client.get(f"/api/v1/consultations/{closed.id}/results").json()
    assert data["published"] and data["totals"]["statuses"]["accepted"] == 2
