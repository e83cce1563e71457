"""Pages and their JSON twins come from one data function (`campus.web.twins.twin`): the data
a page renders equals the JSON its twin returns, for the same reader and the same query."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.encoders import jsonable_encoder
from pydantic import TypeAdapter
from sqlalchemy import select

from campus.analysis.models import Job
from campus.auth.actor import SYSTEM
from campus.auth.models import Account
from campus.ecosystem.directory import service as directory
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.impact import service as impact
from campus.ecosystem.trainings import service as trainings
from campus.federation import service as federation
from campus.federation.models import FederatedJob
from campus.governance.models import Approval
from campus.site import routes
from campus.web import twins
from campus.web.pages_registry import TWINS
from tests.helpers import make_account
from tests.integration.analysis import seeds
from tests.integration.campus_life.twin_seeds import campus_life
from tests.integration.ecosystem import programmes_helpers
from tests.integration.ecosystem.events_helpers import member, published_event, staff
from tests.integration.evaluation import seeds as evaluation_seeds
from tests.integration.participation.helpers import make_consultation, proposal_with_comment
from tests.integration.warehouse.helpers import publish

# Pages with a twin whose data is not yet built by one data function with it (the page and
# the API compute it apart), by the module that serves them. Convert a page with
# `campus.web.twins.twin`, then remove it here; a new page is built with `twin` from the start
# (or says with `no_twin` why it has none).
NOT_CONVERTED: dict[str, set[str]] = {}


def _unconverted() -> dict[str, str]:
    """Page path -> module, for every page with a twin that `twin` did not build."""
    return {
        path: route.endpoint.__module__
        for path, route in routes.walk()
        if "GET" in route.methods
        and not route.include_in_schema
        and path in TWINS
        and path not in twins.TWIN_PAGES
    }


def test_every_page_with_a_twin_is_built_with_it_or_listed_as_not_yet():
    unconverted = _unconverted()
    listed = {path for paths in NOT_CONVERTED.values() for path in paths}
    new = sorted(f"{module}: {path}" for path, module in unconverted.items() if path not in listed)
    assert not new, (
        "these pages compute their data apart from their JSON twin: declare each with "
        "campus.web.twins.twin (one data function, two renderings; see docs/architecture.md), "
        "or, until converted, add it to NOT_CONVERTED under its module:\n" + "\n".join(new)
    )
    stale = sorted(listed - set(unconverted))
    assert not stale, "converted (or gone), remove from NOT_CONVERTED: " + ", ".join(stale)
    assert {"/organisations/{org_id}", "/events"} <= set(twins.TWIN_PAGES)


def _seed(db) -> dict[str, str]:
    """An organisation with a visible member and a validated impact record; two events, one
    with a registration; the reader is a member of the campus (who sees members)."""
    reader = make_account(db, "reader@campus.example", "member")
    with db.session() as session:
        org = directory.create_organisation(
            session, {"name": "Cardiolab", "kind": "startup", "city": "Paris"}, by=SYSTEM
        )
        account = session.scalar(select(Account).where(Account.email == "reader@campus.example"))
        person = directory.ensure_person(session, account)
        directory.add_member(session, org, person, role="member", by=SYSTEM)
        person_id = person.id
        record = impact.submit(
            session,
            session.get(Organisation, org.id),
            {
                "kind": "fundraising",
                "title": "Seed round",
                "occurred_on": "2026-03-02",
                "amount": "1500000",
                "currency": "EUR",
            },
            by=SYSTEM,
        )
        impact.decide(session, record, validate=True, by=SYSTEM)
        org_id = org.id
    organiser = staff(db)
    with db.session() as session:
        training_id = trainings.create_training(
            session,
            organiser,
            trainings.TrainingInput(
                slug="fhir-basics", title_fr="Bases de FHIR", competences="fhir"
            ),
        ).id
    event_id = published_event(db, organiser, title="Atelier FHIR", training_id=training_id)
    published_event(db, organiser, title="Forum", capacity=None)
    member(db, "someone@campus.example")
    consultation_id = make_consultation(db, "results")
    proposal_ids = proposal_with_comment(db)
    make_account(db, "moderation@campus.example", "moderator")
    job_id, key = seeds.released_job(db), seeds.saved_view(db, "reader@campus.example")
    with db.session() as session:
        job = session.get(Job, job_id)
        project_id = job.project_id
        request_id = session.get(Approval, job.approval_id).request_id
        federation.register_node(session, SYSTEM, name="chu-a", title="CHU A")
        members = [{"node": "chu-a", "dataset": "hopital-a"}]
        federation.create_dataset(session, SYSTEM, name="fed-hopitaux", members=members)
        federated_job = FederatedJob(
            project_id=job.project_id,
            approval_id=job.approval_id,
            author_id=job.author_id,
            title="Patients par sexe",
            definition={"dataset": "fed-hopitaux", "outputs": []},
            dataset="fed-hopitaux",
        )
        session.add(federated_job)
        session.flush()
        federated_job_id = federated_job.id
    with db.session() as session:
        approval_id = session.get(Job, job_id).approval_id
    benchmark_id, submission_id = evaluation_seeds.released_submission(
        db, project_id=project_id, approval_id=approval_id
    )
    programmes = programmes_helpers.reviewed_application(db, organiser, reader)
    life = campus_life(db, org_id, "reader@campus.example")
    return {
        **programmes,
        **life,
        "project_id": project_id,
        "request_id": request_id,
        "benchmark_id": benchmark_id,
        "submission_id": submission_id,
        "job_id": job_id,
        "key": key,
        "person_id": person_id,
        "consultation_id": consultation_id,
        "proposal_consultation_id": proposal_ids[0],
        "proposal_id": proposal_ids[1],
        "org_id": org_id,
        "reader": reader,
        "training_id": training_id,
        "event_id": event_id,
        "federated": "fed-hopitaux",
        "federated_job": federated_job_id,
        "approval_id": approval_id,
    }


# Per converted page: the path parameters (names of seeded ids) and the queries to try.
SAMPLES: dict[str, list[tuple[dict[str, str], dict[str, str]]]] = {
    "/organisations/{org_id}": [({"org_id": "org_id"}, {})],
    "/people/{person_id}": [({"person_id": "person_id"}, {})],
    "/introductions": [({}, {}), ({}, {"sent": "1"})],
    "/directory": [({}, {}), ({}, {"q": "cardio"}), ({}, {"section": "people"})],
    "/matchmaking": [({}, {})],
    "/organisations/{org_id}/suggestions": [({"org_id": "org_id"}, {})],
    "/dashboard": [({}, {}), ({}, {"year": "2026"})],
    "/programmes": [({}, {})],
    "/programmes/{programme_id}": [({"programme_id": "programme_id"}, {})],
    "/programmes/calls/{call_id}": [({"call_id": "programme_call_id"}, {})],
    "/programmes/applications/{application_id}": [({"application_id": "application_id"}, {})],
    "/me/reviews": [({}, {})],
    "/organisations/{org_id}/edit": [({"org_id": "org_id"}, {})],
    "/organisations/{org_id}/impact": [({"org_id": "org_id"}, {})],
    "/admin/impact": [({}, {})],
    "/profile": [({}, {})],
    "/events": [
        ({}, {}),
        ({}, {"past": "true"}),
        ({}, {"view": "month"}),
        ({}, {"theme": "interoperability", "q": "fhir", "free": "true"}),
    ],
    "/events/{event_id}": [({"event_id": "event_id"}, {})],
    "/events/{event_id}/checkin": [
        ({"event_id": "event_id"}, {}),
        ({"event_id": "event_id"}, {"q": "an"}),
    ],
    "/me/events": [({}, {})],
    "/admin/events/stats": [({}, {}), ({}, {"year": "2026"})],
    "/trainings": [({}, {}), ({}, {"competence": "fhir"})],
    "/trainings/{training_id}": [({"training_id": "training_id"}, {})],
    "/me/trainings": [({}, {})],
    "/consultations": [({}, {})],
    "/consultations/{consultation_id}": [
        ({"consultation_id": "consultation_id"}, {}),
        ({"consultation_id": "consultation_id"}, {"sort": "title", "status": "open"}),
    ],
    "/consultations/{consultation_id}/results": [({"consultation_id": "consultation_id"}, {})],
    "/consultations/{consultation_id}/proposals/{proposal_id}": [
        ({"consultation_id": "proposal_consultation_id", "proposal_id": "proposal_id"}, {})
    ],
    "/moderation": [({}, {})],
    "/account": [({}, {})],
    "/admin/accounts": [({}, {}), ({}, {"q": "reader"})],
    "/admin/audit": [({}, {}), ({}, {"action": "consultation.created"})],
    "/participation/charter": [({}, {}), ({}, {"next": "/consultations"})],
    "/": [({}, {})],
    "/federation": [({}, {})],
    "/federation/datasets/{name}": [({"name": "federated"}, {})],
    "/federated-jobs/{job_id}": [({"job_id": "federated_job"}, {})],
    "/approvals/{approval_id}/federated-partial": [({"approval_id": "approval_id"}, {})],
    "/benchmarks": [({}, {})],
    "/benchmarks/{benchmark_id}": [({"benchmark_id": "benchmark_id"}, {})],
    "/submissions/{submission_id}": [({"submission_id": "submission_id"}, {})],
    "/jobs/{job_id}": [({"job_id": "job_id"}, {})],
    "/checks": [({}, {})],
    "/views": [({}, {}), ({}, {"example": "conditions"})],
    "/catalogue": [({}, {})],
    "/catalogue/{name}": [({"name": "dataset"}, {})],
    "/datasets": [({}, {})],
    "/views/saved/{key}": [({"key": "key"}, {})],
    "/register": [({}, {}), ({}, {"status": "authorised"}), ({}, {"q": "parcours"})],
    "/register/{project_id}": [({"project_id": "project_id"}, {})],
    "/projects": [({}, {})],
    "/projects/{project_id}": [({"project_id": "project_id"}, {})],
    "/projects/{project_id}/requests/{request_id}": [
        ({"project_id": "project_id", "request_id": "request_id"}, {})
    ],
    "/reviews": [({}, {})],
    "/approvals": [({}, {})],
    "/campus/hosted": [({}, {})],
    "/residency/admissions": [({}, {})],
    "/residency/rounds/{call_id}": [({"call_id": "call_id"}, {})],
    "/residencies": [({}, {}), ({}, {"status": "active"})],
    "/residencies/{residency_id}": [({"residency_id": "residency_id"}, {})],
    "/residency/dashboard": [({}, {}), ({}, {"year": "2025"})],
    "/sponsorships": [({}, {})],
    "/sponsorships/{pair_id}": [({"pair_id": "pair_id"}, {})],
    "/spaces": [({}, {})],
    "/spaces/rooms/{code}": [({"code": "room"}, {}), ({"code": "room"}, {"view": "week"})],
    "/spaces/bookings/{booking_id}": [({"booking_id": "booking_id"}, {})],
    "/spaces/mine": [({}, {})],
    "/spaces/pending": [({}, {})],
    "/spaces/site": [({}, {})],
}


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], template)


def as_json(page_path: str, data):
    """The page's data as its twin's route would write it: through the route's response
    model when it has one (keeping any field the model lacks, so a drift shows), else
    FastAPI's encoder."""
    api_path = twins.TWIN_PAGES[page_path]
    route = next(r for p, r in routes.walk() if p == api_path and "GET" in r.methods)
    if route.response_model is None:
        return jsonable_encoder(data)
    adapter = TypeAdapter(route.response_model)
    return adapter.dump_python(data, mode="json", warnings=False)


def test_each_converted_page_renders_the_data_its_twin_returns(client, db, monkeypatch):
    ids = _seed(db)
    publish(client, db)  # a published dataset, for the catalogue's pages
    client.delete("/api/v1/session")
    ids["dataset"] = "hopital"
    captured: list = []
    original = twins.render

    def capture(request, template, context=None, status=200):
        captured.append(context["data"])
        return original(request, template, context, status)

    monkeypatch.setattr(twins, "render", capture)
    missing = sorted(set(twins.TWIN_PAGES) - set(SAMPLES))
    assert missing == [], "give these converted pages a sample in SAMPLES"
    # The job's author is the project's lead: the team sees more of a project than others.
    readers = ("reader@campus.example", "moderation@campus.example", "author@campus.example")
    for reader in (None, *readers):
        if reader:
            client.login(reader)
        for page_path, samples in SAMPLES.items():
            for path_ids, query in samples:
                values = {name: ids[key] for name, key in path_ids.items()}
                captured.clear()
                url = _fill(page_path, values)
                page = client.get(url, params=query, follow_redirects=False)
                twin = client.get(_fill(twins.TWIN_PAGES[page_path], values), params=query)
                if twin.status_code == 401:  # both ask the visitor to sign in
                    assert page.headers["location"].startswith("/login"), page_path
                    continue
                if twin.status_code == 403:  # both refuse
                    assert page.status_code == 403, page_path
                    continue
                assert (page.status_code, twin.status_code) == (200, 200), page_path
                assert captured, f"{page_path} did not render through its twin"
                assert as_json(page_path, captured[0]) == twin.json(), page_path


def test_the_organisation_twin_returns_the_members_and_impacts_its_page_shows(client, db):
    """The drift the twins end: the profile's JSON lacked the members and impact records."""
    ids = _seed(db)
    public = client.get(f"/api/v1/organisations/{ids['org_id']}").json()
    assert public["members"] == []  # only members of the campus see members
    assert [r["title"] for r in public["impacts"]] == ["Seed round"]
    client.login("reader@campus.example")
    profile = client.get(f"/api/v1/organisations/{ids['org_id']}").json()
    assert [m["display_name"] for m in profile["members"]] == ["Test Person"]
    page = client.get(f"/organisations/{ids['org_id']}").text
    assert "Test Person" in page and "Seed round" in page


def test_the_events_twin_returns_the_seat_counts_its_page_shows(client, db):
    _seed(db)
    listed = client.get("/api/v1/events/calendar").json()
    assert {e["title"]: e["seats"]["capacity"] for e in listed} == {
        "Atelier FHIR": 2,
        "Forum": None,
    }
    assert all(e["seats"]["registered"] == 0 for e in listed)
    assert "0 / 2" in client.get("/events").text
    assert dt.datetime.fromisoformat(listed[0]["starts_at"]) > dt.datetime.now(dt.UTC)
