"""The directory's edit forms through their pages: parsed into the API's input models, a
refusal shown again in French with what and where and what was typed, nothing half-written;
a form shows every field, so a list left with no box ticked is emptied."""

from campus.ecosystem.directory.models import Organisation
from tests.integration.ecosystem.test_directory_organisations import make_org, org_admin

PROFILE = {
    "name": "Cardiolab Santé",
    "kind": "startup",
    "city": "Lyon",
    "website": "",
    "summary_fr": "Capteurs cardiaques",
    "summary_en": "",
    "description_html": "",
    "contact_email": "",
    "phone": "",
    "headcount": "12",
    "founded_year": "2019",
    "themes": ["cardiology", "ai"],
}


def test_a_refused_organisation_form_says_what_and_where_in_french_and_writes_nothing(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    url = f"/organisations/{org_id}/edit"
    bad_theme = client.post(url, data={**PROFILE, "themes": ["cardiology", "astrology"]})
    assert bad_theme.status_code == 400
    assert "valeur inconnue dans une liste" in bad_theme.text  # what, in French
    assert "<code>themes[1]" in bad_theme.text  # where
    assert 'value="Cardiolab Santé"' in bad_theme.text  # what was typed is kept
    not_a_number = client.post(url, data={**PROFILE, "headcount": "douze"})
    assert not_a_number.status_code == 422 and "<code>headcount</code>" in not_a_number.text
    assert "doit être un nombre entier" in not_a_number.text
    with db.session() as session:
        org = session.get(Organisation, org_id)
        assert (org.name, org.themes, org.headcount) == ("Cardiolab", [], None)


def test_the_organisation_form_saves_and_unticking_every_theme_empties_them(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    url = f"/organisations/{org_id}/edit"
    saved = client.post(url, data=PROFILE, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    twin = client.get(f"/api/v1/organisations/{org_id}/admin").json()
    assert (twin["name"], twin["themes"], twin["headcount"]) == (
        "Cardiolab Santé",
        ["cardiology", "ai"],
        12,
    )
    assert [m["role"] for m in twin["members"]] == ["admin"]
    unticked = {k: v for k, v in PROFILE.items() if k != "themes"}
    assert client.post(url, data=unticked, follow_redirects=False).status_code == 303
    assert client.get(f"/api/v1/organisations/{org_id}/admin").json()["themes"] == []


def test_the_admin_twin_is_refused_to_members_who_do_not_administer_it(client, db):
    org_id = make_org(db)
    other = make_org(db, name="Dermatech")
    org_admin(db, client, org_id)
    client.post(f"/organisations/{org_id}/invitations", data={"email": "new@example.org"})
    assert client.get(f"/api/v1/organisations/{org_id}/admin").status_code == 200
    for url in (f"/api/v1/organisations/{other}/admin", f"/organisations/{other}/edit"):
        assert client.get(url).status_code == 403
    mine = client.get(f"/api/v1/organisations/{org_id}/admin").json()
    assert [i["email"] for i in mine["invitations"]] == ["new@example.org"]
    public = client.get(f"/api/v1/organisations/{org_id}").json()
    assert "invitations" not in public  # invited addresses stay with the admins


def test_unticking_visible_on_my_profile_hides_it(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    form = {"display_name": "Léa Durand", "visible": "on", "competences": ["fhir_interop"]}
    assert client.post("/profile", data=form, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me/profile").json()["visible"] is True
    hidden = {"display_name": "Léa Durand"}
    assert client.post("/profile", data=hidden, follow_redirects=False).status_code == 303
    profile = client.get("/api/v1/me/profile").json()
    assert profile["visible"] is False and profile["competences"] == []
    refused = client.post("/profile", data={"display_name": "", "city": "Nantes"})
    assert refused.status_code == 400 and "<code>display_name</code>" in refused.text
    assert 'value="Nantes"' in refused.text
    assert client.get("/api/v1/me/profile").json()["display_name"] == "Léa Durand"
