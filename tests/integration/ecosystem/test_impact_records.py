import datetime as dt

from sqlalchemy import select

from campus.auth.actor import SYSTEM
from campus.auth.models import Account
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.impact.models import ImpactRecord
from tests.helpers import audit_events, make_account

YEAR = dt.date.today().year - 1


def setup(db, client):
    with db.session() as session:
        org = directory.create_organisation(
            session, {"name": "Cardiolab", "kind": "startup"}, by=SYSTEM
        )
        org_id = org.id
    make_account(db, "ceo@cardiolab.example", "member")
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.email == "ceo@cardiolab.example"))
        person = directory.ensure_person(session, account)
        directory.add_member(
            session, session.get(Organisation, org_id), person, role="admin", by=SYSTEM
        )
    make_account(db, "staff@campus.example", "staff")
    client.login("ceo@cardiolab.example")
    return org_id


FUNDRAISING = {
    "kind": "fundraising",
    "title": "Série A",
    "occurred_on": f"{YEAR}-01-15",
    "amount": "2500000",
    "currency": "EUR",
    "round": "series_a",
    "investors": ["Fonds Santé", "BPI"],
}


def test_an_org_admin_records_impact_and_staff_validate_it(client, db):
    org_id = setup(db, client)
    created = client.post(f"/api/v1/organisations/{org_id}/impact", json=FUNDRAISING)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["status"] == "submitted" and record["amount"] == "2500000.00"
    assert client.get("/api/v1/impact/pending").status_code == 403
    client.delete("/api/v1/session")
    client.login("staff@campus.example")
    assert [r["id"] for r in client.get("/api/v1/impact/pending").json()] == [record["id"]]
    refused = client.post(f"/api/v1/impact/{record['id']}/reject", json={"note": ""})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "note_required"
    validated = client.post(f"/api/v1/impact/{record['id']}/validate", json={})
    assert validated.json()["status"] == "validated"
    assert client.post(f"/api/v1/impact/{record['id']}/validate", json={}).status_code == 409
    assert "Série A" in client.get("/organisations/cardiolab").text
    actions = {e.action for e in audit_events(db)}
    assert {"impact.submitted", "impact.validated"} <= actions


def test_bad_impact_input_is_refused_and_nothing_is_written(client, db):
    org_id = setup(db, client)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    cases = [
        ({**FUNDRAISING, "occurred_on": future}, "occurred_on"),
        ({**FUNDRAISING, "occurred_on": "31/01/2026"}, "occurred_on"),
        ({**FUNDRAISING, "amount": "-5"}, "amount"),
        ({**FUNDRAISING, "amount": "NaN"}, "amount"),
        ({**FUNDRAISING, "amount": None}, "amount"),
        ({**FUNDRAISING, "currency": "XYZ"}, "currency"),
        ({**FUNDRAISING, "kind": "lottery"}, "kind"),
        ({"kind": "contract", "title": "Contrat", "occurred_on": f"{YEAR}-01-02"}, "counterpart"),
    ]
    for body, where in cases:
        response = client.post(f"/api/v1/organisations/{org_id}/impact", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["where"].startswith(where)
    with db.session() as session:
        assert session.scalar(select(ImpactRecord)) is None


def test_impact_is_written_only_by_the_organisation_admins(client, db):
    org_id = setup(db, client)
    with db.session() as session:
        other = directory.create_organisation(
            session, {"name": "Other", "kind": "company"}, by=SYSTEM
        ).id
    response = client.post(f"/api/v1/organisations/{other}/impact", json=FUNDRAISING)
    assert response.status_code == 403
    page = client.post(
        f"/organisations/{org_id}/impact",
        data={
            **{k: v for k, v in FUNDRAISING.items() if k != "investors"},
            "amount": "abc",
            "investors": "A, B",
            "csrf_token": client.csrf(),
        },
    )
    assert page.status_code == 400 and "amount" in page.text


def test_a_refused_amount_says_what_is_wrong_with_it(client, db):
    org_id = setup(db, client)
    too_large = "the amount is too large: it must be below 100,000 billion"
    cases = {
        "1e15": too_large,
        "Infinity": too_large,
        "NaN": "not a number",
        "sNaN": "not a number",
        "-5": "the amount must be zero or more",
        "-Infinity": "the amount must be zero or more",
    }
    for amount, message in cases.items():
        body = {**FUNDRAISING, "amount": amount}
        response = client.post(f"/api/v1/organisations/{org_id}/impact", json=body)
        assert response.status_code == 400, (amount, response.text)
        error = response.json()["error"]
        assert (error["where"], error["message"]) == ("amount", message), amount
    with db.session() as session:
        assert session.scalar(select(ImpactRecord)) is None


def test_control_characters_and_nul_are_a_400_naming_the_field_and_nothing_is_stored(client, db):
    org_id = setup(db, client)
    url = f"/api/v1/organisations/{org_id}/impact"
    for field, value in [
        ("title", "Série\x00A"),
        ("description", "ligne\x00"),
        ("counterpart", "AP\x07HP"),
        ("investors", ["BPI\x00"]),
    ]:
        response = client.post(url, json={**FUNDRAISING, field: value})
        assert response.status_code == 400, (field, response.text)
        assert response.json()["error"]["where"].startswith(field)
    with db.session() as session:
        assert session.scalar(select(ImpactRecord.id)) is None


def test_script_in_every_text_of_a_record_is_shown_escaped(client, db):
    org_id = setup(db, client)
    script = "<script>alert(1)</script>"
    contract = {
        "kind": "contract",
        "title": "Contrat " + script,
        "occurred_on": f"{YEAR}-02-01",
        "counterpart": "AP-HP " + script,
        "counterpart_kind": "hospital",
        "description": "Description " + script,
    }
    created = client.post(f"/api/v1/organisations/{org_id}/impact", json=contract)
    assert created.status_code == 201, created.text
    mine = client.get(f"/organisations/{org_id}/impact")
    assert script not in mine.text and "&lt;script&gt;" in mine.text
    client.delete("/api/v1/session")
    client.login("staff@campus.example")
    queue = client.get("/admin/impact")
    assert script not in queue.text and "&lt;script&gt;" in queue.text
    client.post(f"/api/v1/impact/{created.json()['id']}/validate", json={})
    profile = client.get("/organisations/cardiolab")
    assert script not in profile.text and "Contrat &lt;script&gt;" in profile.text
