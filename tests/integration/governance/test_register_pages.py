"""The project pages people use: organisations and team members picked from the directory,
a legal basis from the list of French bases, people by name with roles in French; and the
public register with its status, dates, references, filters, CSV and JSON twin."""

from __future__ import annotations

import csv
import io
import re

from campus.auth import service as auth
from campus.auth.actor import SYSTEM
from campus.ecosystem.directory import service as directory
from campus.governance import legal
from tests.helpers import make_account


def _organisations(db) -> dict[str, str]:
    with db.session() as session:
        ids = {}
        for name in ("CHU Exemple", "Labo Exemple", '=HYPERLINK("x")'):
            org = directory.create_organisation(
                session, {"name": name, "kind": "hospital"}, by=SYSTEM
            )
            ids[name] = org.id
        return ids


FORM = {
    "title": "Parcours post-AVC",
    "purpose": "Décrire les parcours après un AVC",
    "summary_fr": "Étude des parcours",
    "summary_en": "Care pathways",
    "legal_basis": "mr-004",
    "expected_benefits": "Un meilleur suivi",
    "starts_on": "2026-01-05",
    "ends_on": "2027-06-30",
    "cesrees_number": "",
    "cnil_number": "MR004-2026-17",
}


def test_a_project_is_created_from_pickers_and_shows_people_by_name_in_french(client, db):
    orgs = _organisations(db)
    make_account(db, "claire@example.org", "member", name="Claire Martin")
    colleague = make_account(db, "paul@example.org", "member", name="Paul Durand")
    with db.session() as session:
        directory.ensure_person(session, auth.get_account(session, colleague))
    client.login("claire@example.org")
    page = client.get("/projects").text
    assert "CHU Exemple" in page and 'name="partner_ids"' in page
    assert "MR-004" in page and "9.2.j" in page  # the bases with their articles
    what_next = page.split('data-testid="what-next"', 1)[1].split("</section>", 1)[0]
    assert "Et après la création" in what_next and "registre public" in what_next
    assert "relecteurs éthiques indépendants, extérieurs à vos organisations" in what_next

    # A basis that is not in the list: 400 naming the field, what was typed kept.
    refused = client.post(
        "/projects",
        data=FORM | {"lead_org_id": orgs["CHU Exemple"], "legal_basis": "intérêt public"},
    )
    assert refused.status_code == 400
    assert "choisissez la base légale dans la liste" in refused.text
    assert 'value="Parcours post-AVC"' in refused.text
    assert f'<option value="{orgs["CHU Exemple"]}" selected>' in refused.text
    api = client.post(
        "/api/v1/projects",
        json={k: v for k, v in FORM.items() if k not in ("starts_on", "ends_on")}
        | {"lead_org_id": orgs["CHU Exemple"], "legal_basis": "RGPD"},
    )
    assert api.status_code == 400 and api.json()["error"]["where"] == "legal_basis"
    # An organisation the directory does not know: 400 too.
    unknown = client.post("/projects", data=FORM | {"lead_org_id": "nowhere"})
    assert unknown.status_code == 400 and "annuaire" in unknown.text
    backwards = client.post(
        "/projects", data=FORM | {"lead_org_id": orgs["CHU Exemple"], "ends_on": "2025-01-01"}
    )
    assert backwards.status_code == 400
    blank = client.post("/projects", data=FORM | {"lead_org_id": orgs["CHU Exemple"], "title": " "})
    assert blank.status_code == 400 and "remplissez ce champ" in blank.text

    created = client.post(
        "/projects",
        data=FORM | {"lead_org_id": orgs["CHU Exemple"], "partner_ids": [orgs["Labo Exemple"]]},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    project_url = created.headers["location"]
    project = client.get("/api" + "/v1" + project_url).json()
    assert project["lead_organisation"]["name"] == "CHU Exemple"
    assert [p["name"] for p in project["partners"]] == ["Labo Exemple"]
    assert project["regulatory"]["methodology"] == "MR-004"
    assert project["members"][0]["name"] == "Claire Martin"

    # The team picker finds people by name; the page shows names and roles in French.
    found = client.get(f"{project_url}/team", params={"q": "Durand"}).text
    person_id = re.search(r'name="person_id" value="([^"]+)"', found).group(1)
    added = client.post(
        f"{project_url}/members",
        data={"person_id": person_id, "role": "analyst", "q": "Durand"},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    page = client.get(project_url).text
    team = page.split('data-testid="team"', 1)[1].split("</ul>", 1)[0]
    assert "Claire Martin" in team and "Paul Durand" in team
    assert "responsable du projet" in team and "analyste" in team
    assert colleague not in page and "data_manager" not in page
    bad = client.post(f"{project_url}/members", data={"person_id": "nobody", "q": "x"})
    assert bad.status_code == 400 and "annuaire" in bad.text


def test_the_register_filters_exports_csv_and_its_twin_has_the_same_data(client, db):
    orgs = _organisations(db)
    make_account(db, "claire@example.org", "member", name="Claire Martin")
    client.login("claire@example.org")
    for title, lead, start, basis in (
        ("Parcours post-AVC", "CHU Exemple", "2026-01-05", "mr-004"),
        ("Cohorte diabète", "Labo Exemple", "2025-03-01", "cnil-cesrees"),
        ("=1+1 formula", '=HYPERLINK("x")', "2025-05-01", "mr-003"),
    ):
        answer = client.post(
            "/projects",
            data=FORM
            | {"title": title, "lead_org_id": orgs[lead], "starts_on": start, "legal_basis": basis},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    client.delete("/api/v1/session")

    everything = client.get("/api/v1/register").json()
    assert len(everything["projects"]) == 3
    assert everything["choices"]["years"] == [2026, 2025]
    assert {p["register_status"] for p in everything["projects"]} == {"in_preparation"}
    first = next(p for p in everything["projects"] if p["title"] == "Parcours post-AVC")
    assert first["regulatory"]["cnil_number"] == "MR004-2026-17"
    assert first["data_controller"] == "CHU Exemple" and first["ends_on"] == "2027-06-30"
    assert first["regulatory"]["legal_basis"] == legal.describe("mr-004")

    in_2025 = client.get("/api/v1/register", params={"year": 2025}).json()["projects"]
    assert sorted(p["title"] for p in in_2025) == ["=1+1 formula", "Cohorte diabète"]
    by_org = client.get("/api/v1/register", params={"organisation": orgs["Labo Exemple"]})
    assert [p["title"] for p in by_org.json()["projects"]] == ["Cohorte diabète"]
    text = client.get("/api/v1/register", params={"q": "diabète", "status": "in_preparation"})
    assert [p["title"] for p in text.json()["projects"]] == ["Cohorte diabète"]
    bad = client.get("/api/v1/register", params={"status": "everything"})
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "status"
    assert client.get("/register", params={"status": "everything"}).status_code == 400

    page = client.get("/register", params={"year": 2025}).text
    assert "Cohorte diabète" in page and "Parcours post-AVC" not in page
    assert "2 projets" in page
    assert 'href="/register.csv?year=2025"' in page

    exported = client.get("/register.csv", params={"year": 2025})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:3] == ["id", "title", "register_status"]
    assert sorted(r[1] for r in rows[1:]) == ["'=1+1 formula", "Cohorte diabète"]
    formula_row = next(r for r in rows[1:] if r[1].startswith("'"))
    assert formula_row[3] == '\'=HYPERLINK("x")'  # the lead organisation, neutralised too


def test_an_access_request_is_drafted_by_ticking_datasets_and_views_saved_ones_too(client, db):
    """The project page offers the warehouse's datasets, the library's views and the reader's
    saved views; what was ticked is kept when the form is refused."""
    from campus.warehouse import service as warehouse
    from tests.integration.analysis import seeds

    orgs = _organisations(db)
    make_account(db, "claire@example.org", "member", name="Claire Martin")
    with db.session() as session:
        warehouse.create_dataset(session, SYSTEM, "hopital-synthea", owner_org="")
    key = seeds.saved_view(db, "claire@example.org")
    client.login("claire@example.org")
    created = client.post(
        "/projects", data=FORM | {"lead_org_id": orgs["CHU Exemple"]}, follow_redirects=False
    )
    project_url = created.headers["location"]
    page = client.get(project_url).text
    assert 'name="datasets" value="hopital-synthea"' in page
    assert f'name="views" value="{key}"' in page and "Mes patients" in page
    assert 'name="views" value="patient_demographics"' in page
    assert "Rédigez ci-dessous une demande" in page.split('data-testid="next-step"', 1)[1]
    request = {"duration_days": "365", "justification": "Décrire les parcours"}
    refused = client.post(
        f"{project_url}/requests", data=request | {"datasets": ["hopital-synthea"]}
    )
    assert refused.status_code == 400
    assert 'value="hopital-synthea" checked' in refused.text
    drafted = client.post(
        f"{project_url}/requests",
        data=request | {"datasets": ["hopital-synthea"], "views": [key, "patient_demographics"]},
        follow_redirects=False,
    )
    assert drafted.status_code == 303, drafted.text
    shown = client.get("/api/v1" + drafted.headers["location"]).json()
    assert shown["datasets"] == ["hopital-synthea"]
    assert shown["views"] == sorted([key, "patient_demographics"])
    assert "Une demande vous attend" in client.get(project_url).text
    draft = client.get(drafted.headers["location"]).text
    assert "est envoyé avant que vous soumettiez" in draft
    # The views by their French titles (their names beside them), not by English names alone.
    named = draft.split('data-testid="request-views"', 1)[1].split("</dd>", 1)[0]
    assert "Données démographiques des patients <code>patient_demographics</code>" in named
    assert "Mes patients" in named
    listed = client.get(project_url).text.split('data-testid="requests"', 1)[1]
    assert "Données démographiques des patients" in listed.split("</table>", 1)[0]
    # The edit form ticks what the request names, a name outside the pickers included.
    client.patch(f"/api/v1/requests/{shown['id']}", json={"views": [key, "colleague-view"]})
    edit = client.get(drafted.headers["location"]).text
    assert f'name="views" value="{key}" checked' in edit
    assert 'name="views" value="colleague-view" checked' in edit
    assert 'name="views" value="patient_demographics">' in edit
    kept = client.post(
        f"/requests/{shown['id']}/edit",
        data=request | {"datasets": ["hopital-synthea"], "views": [key, "colleague-view"]},
        follow_redirects=False,
    )
    assert kept.status_code == 303, kept.text
    typed = client.post(
        f"/requests/{shown['id']}/edit",
        data=request | {"datasets": "hopital-synthea", "views": "BAD VIEW"},
    )
    assert typed.status_code == 400
    assert "s'écrit en lettres minuscules" in typed.text.replace("&#39;", "'")
