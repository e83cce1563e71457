import csv
import io

from campus.participation import service, votes
from campus.settings import Settings
from tests.integration.participation.helpers import body, citizen, make_consultation, set_phase


def _consultation_with_votes(db):
    cid = make_consultation(db, supports_per_person=2)
    author = citizen(db, "author@example.org")
    with db.session() as session:
        consultation = service.get_consultation(session, cid)
        first = service.create_proposal(
            session,
            Settings(env="test"),
            author,
            consultation,
            title="=cmd|' /C calc'!A0",
            body=body(),
        ).id
        second = service.create_proposal(
            session,
            Settings(env="test"),
            author,
            consultation,
            title="Second proposal",
            body=body(),
        ).id
    set_phase(db, cid, "voting")
    voters = [citizen(db, f"v{i}@example.org") for i in range(3)]
    with db.session() as session:
        consultation = service.get_consultation(session, cid)
        for voter in voters:
            votes.support(session, voter, consultation, first)
        votes.support(session, voters[0], consultation, second)
    return cid, first, second


def test_counts_are_published_only_once_voting_closes(client, db):
    """The staff account comes from make_consultation."""
    cid, first, second = _consultation_with_votes(db)
    before = client.get(f"/api/v1/consultations/{cid}/results").json()
    assert before["published"] is False
    assert {row["supports"] for row in before["proposals"]} == {None}
    client.login("staff@example.org")
    closed = client.post(f"/api/v1/consultations/{cid}/close")
    assert closed.json()["phase"] == "results"
    after = client.get(f"/api/v1/consultations/{cid}/results").json()
    assert after["published"] is True
    assert [(r["proposal_id"], r["supports"]) for r in after["proposals"]] == [
        (first, 3),
        (second, 1),
    ]
    assert after["totals"]["participants"] == 3 and after["totals"]["supports"] == 4


def test_staff_answer_proposals_and_the_results_export_as_csv_and_chart_data(client, db):
    cid, first, second = _consultation_with_votes(db)
    client.login("staff@example.org")
    early = client.post(
        f"/api/v1/consultations/{cid}/proposals/{first}/answer",
        json={"status": "accepted", "answer": "We will do it next spring."},
    )
    assert early.status_code == 409
    set_phase(db, cid, "results")
    answered = client.post(
        f"/api/v1/consultations/{cid}/proposals/{first}/answer",
        json={"status": "accepted", "answer": "We will do it next spring."},
    )
    assert answered.json()["status"] == "accepted"
    wrong = client.post(
        f"/api/v1/consultations/{cid}/proposals/{second}/answer",
        json={"status": "maybe", "answer": "We will see about it."},
    )
    assert wrong.json()["error"]["where"] == "status"
    exported = client.get(f"/api/v1/consultations/{cid}/results.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["proposal_id", "title", "supports", "status", "answer", "answered_at"]
    assert rows[1][1].startswith("'=")  # never a live spreadsheet formula
    assert rows[1][2:5] == ["3", "accepted", "We will do it next spring."]
    page = client.get(f"/consultations/{cid}/results").text
    assert 'id="results-chart-data"' in page and "<caption>" in page
    assert "/static/js/participation.js" in page and "Retenue" in page
