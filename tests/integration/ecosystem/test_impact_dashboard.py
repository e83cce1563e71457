import csv
import datetime as dt
import io
from decimal import Decimal

from campus.auth.actor import SYSTEM
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Person
from campus.ecosystem.impact import service as impact
from tests.helpers import make_account

YEAR = dt.date.today().year - 1


def seed(db):
    with db.session() as session:
        startup = directory.create_organisation(
            session, {"name": "S", "kind": "startup"}, by=SYSTEM
        )
        hospital = directory.create_organisation(
            session, {"name": "H", "kind": "hospital"}, by=SYSTEM
        )
        for name in ("Ana", "Bob"):
            person = Person(display_name=name)
            session.add(person)
            session.flush()
            directory.add_member(session, startup, person, by=SYSTEM)
        records = [
            {
                "kind": "fundraising",
                "title": "Seed",
                "occurred_on": f"{YEAR}-03-10",
                "amount": "1000000",
                "currency": "EUR",
            },
            {
                "kind": "fundraising",
                "title": "A",
                "occurred_on": f"{YEAR}-03-20",
                "amount": "500000.50",
                "currency": "EUR",
            },
            {
                "kind": "fundraising",
                "title": "US",
                "occurred_on": f"{YEAR}-04-01",
                "amount": "200000",
                "currency": "USD",
            },
            {
                "kind": "contract",
                "title": "AP-HP",
                "occurred_on": f"{YEAR}-05-05",
                "counterpart": "AP-HP",
                "counterpart_kind": "hospital",
            },
            {
                "kind": "partnership",
                "title": "P",
                "occurred_on": f"{YEAR}-05-06",
                "counterpart": "H",
            },
        ]
        for data in records:
            record = impact.submit(session, startup, data, by=SYSTEM)
            impact.decide(session, record, validate=True, by=SYSTEM)
        # Submitted but not validated: must not count.
        impact.submit(
            session,
            hospital,
            {
                "kind": "fundraising",
                "title": "X",
                "occurred_on": f"{YEAR}-03-01",
                "amount": "9",
                "currency": "EUR",
            },
            by=SYSTEM,
        )


def test_dashboard_counts_validated_records_only(client, db):
    seed(db)
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")
    data = client.get("/api/v1/dashboard", params={"year": YEAR}).json()
    march = data["by_month"][2]
    assert march["funds_eur"] == 1500000.5 and march["fundraisings"] == 2
    assert data["totals"]["funds_raised"] == {"EUR": 1500000.5, "USD": 200000.0}
    assert data["totals"]["contracts"] == 1 and data["totals"]["partnerships"] == 1
    kinds = {k["kind"]: k for k in data["members_by_kind"]}
    assert kinds["startup"] == {"kind": "startup", "organisations": 1, "people": 2}
    assert kinds["hospital"]["organisations"] == 1 and data["pending_impact_records"] == 1
    assert len(data["by_month"]) == 12 and all("events" in m for m in data["by_month"])


def test_dashboard_csv_twin_holds_the_same_figures(client, db):
    seed(db)
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")
    response = client.get("/api/v1/dashboard.csv", params={"year": YEAR})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    funds = {r["month"]: Decimal(r["value"]) for r in rows if r["key"] == "funds_eur"}
    assert funds["3"] == Decimal("1500000.5") and funds["1"] == 0
    totals = {r["key"]: r["value"] for r in rows if r["section"] == "totals"}
    assert totals["funds_raised_USD"] == "200000.0" and totals["contracts"] == "1"


def test_dashboard_page_feeds_charts_through_a_json_block_without_inline_script(client, db):
    seed(db)
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")
    page = client.get("/dashboard", params={"year": YEAR}).text
    assert '<script type="application/json" id="dashboard-data">' in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page and "/static/js/charts.js" in page
    scripts = [chunk.split(">", 1)[0] for chunk in page.split("<script")[1:]]
    assert all("src=" in s or 'type="application/json"' in s for s in scripts)
    assert client.get("/static/js/charts.js").status_code == 200
    assert client.get("/api/v1/dashboard", params={"year": 1200}).status_code == 400


def test_dashboard_is_not_public(client, db):
    assert client.get("/api/v1/dashboard").status_code == 401


def test_dashboard_reads_events_and_registrations_from_the_events_service(client, db, settings):
    from campus.ecosystem.events import service as events
    from campus.web.templating import PARIS
    from tests.integration.ecosystem.events_helpers import member, published_event, staff

    admin = staff(db)
    event_id = published_event(db, admin, capacity=5)
    ana = member(db, "ana@example.org")
    with db.session() as session:
        event = events.register(session, settings, ana, event_id).event_id
        starts = events.get_event(session, admin, event).starts_at.astimezone(PARIS)
    client.login("ana@example.org")
    data = client.get("/api/v1/dashboard", params={"year": starts.year}).json()
    month = data["by_month"][starts.month - 1]
    assert month["events"] == 1 and month["registered"] == 1 and month["attended"] == 0
    assert data["totals"]["events"] == 1
