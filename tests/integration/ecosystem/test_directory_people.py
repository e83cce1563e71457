from campus.auth.actor import SYSTEM
from campus.ecosystem.directory import service
from tests.helpers import make_account


def test_a_member_edits_their_profile_and_is_found_by_competence(client, db):
    make_account(db, "lea@example.org", "member", name="Léa Durand")
    client.login("lea@example.org")
    response = client.patch(
        "/api/v1/me/profile",
        json={
            "job_title": "Biostatisticienne",
            "competences": ["biostatistics", "epidemiology"],
            "bio_html": "<p>Données <b>et</b> santé</p><img src=x onerror=alert(1)>",
        },
    )
    assert response.status_code == 200, response.text
    assert "onerror" not in response.json()["bio_html"]
    found = client.get("/api/v1/directory", params={"section": "people", "q": "lea epidemiologie"})
    assert [p["display_name"] for p in found.json()["items"]] == ["Léa Durand"]
    by_skill = client.get(
        "/api/v1/directory", params={"section": "people", "skill": "biostatistics"}
    )
    assert by_skill.json()["total"] == 1
    person_id = found.json()["items"][0]["id"]
    assert "Biostatisticienne" in client.get(f"/people/{person_id}").text


def test_a_hidden_profile_is_not_listed(client, db):
    make_account(db, "lea@example.org", "member", name="Léa Durand")
    client.login("lea@example.org")
    client.patch("/api/v1/me/profile", json={"visible": False})
    found = client.get("/api/v1/directory", params={"section": "people", "q": "lea"})
    assert found.json()["total"] == 0


def test_profile_form_shows_errors_and_keeps_nothing(client, db):
    make_account(db, "lea@example.org", "member", name="Léa Durand")
    client.login("lea@example.org")
    client.get("/profile")
    response = client.post(
        "/profile",
        data={"display_name": "Léa", "contact_email": "not-an-email", "csrf_token": client.csrf()},
    )
    assert response.status_code == 400 and "contact_email" in response.text
    assert client.get("/api/v1/me/profile").json()["display_name"] == "Léa Durand"


def test_people_filter_by_organisation_kind(client, db):
    make_account(db, "m@example.org", "member")
    with db.session() as session:
        lab = service.create_organisation(
            session, {"name": "Lab", "kind": "research_lab"}, by=SYSTEM
        )
        from campus.ecosystem.directory.models import Person

        person = Person(display_name="Zoé Chercheuse")
        session.add(person)
        session.flush()
        service.add_member(session, lab, person, by=SYSTEM)
    client.login("m@example.org")
    found = client.get("/api/v1/directory", params={"section": "people", "kind": "research_lab"})
    assert [p["display_name"] for p in found.json()["items"]] == ["Zoé Chercheuse"]
    by_org = client.get("/api/v1/directory", params={"section": "people", "q": "lab"})
    assert by_org.json()["total"] == 1


def test_a_person_without_a_photo_shows_their_initials_drawn_without_any_image(client, db):
    make_account(db, "lea@example.org", "member", name="Léa Durand-Pérez")
    client.login("lea@example.org")
    person_id = client.get("/api/v1/me/profile").json()["id"]
    page = client.get(f"/people/{person_id}").text
    article = page[page.index("<article>") : page.index("</article>")]
    assert '" aria-hidden="true" data-testid="avatar">LD</span>' in article
    assert "<h1>Léa Durand-Pérez</h1>" in article  # the name itself is read, not the letters
    assert "<img" not in article and "http" not in article  # nothing fetched for it
