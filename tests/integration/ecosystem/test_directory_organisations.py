import datetime as dt

from sqlalchemy import select

from campus.auth.actor import SYSTEM
from campus.auth.models import Account, OutboxMail
from campus.ecosystem.directory import service
from campus.ecosystem.directory.models import Invitation, Membership, Organisation
from tests.helpers import CampusClient, audit_events, forge, make_account
from tests.unit.ecosystem.test_logo_images import png

PNG = png(16, 16)


def make_org(db, name="Cardiolab", kind="startup", **extra):
    data = {"name": name, "kind": kind, **extra}
    with db.session() as session:
        return service.create_organisation(session, data, by=SYSTEM).id


def org_admin(db, client, org_id, email="admin@cardiolab.example"):
    make_account(db, email, "member")
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        person = service.ensure_person(session, account)
        org = session.get(Organisation, org_id)
        service.add_member(session, org, person, role="admin", by=SYSTEM)
    client.login(email)


def test_directory_search_is_accent_insensitive_in_french_and_english(client, db):
    make_org(db, "Hôpital Sainte-Élise", "hospital", themes=["oncology"], city="Créteil")
    make_org(db, "Cardiolab", "startup", themes=["cardiology", "ai"])
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")

    def names(**params):
        return [i["name"] for i in client.get("/api/v1/directory", params=params).json()["items"]]

    assert names(q="hopital sainte elise") == ["Hôpital Sainte-Élise"]
    assert names(q="HÔPITAUX") == ["Hôpital Sainte-Élise"]
    assert names(q="creteil") == ["Hôpital Sainte-Élise"]
    assert names(q="oncologie") == names(q="oncology") == ["Hôpital Sainte-Élise"]
    assert names(q="intelligence artificielle") == ["Cardiolab"]
    assert names(kind="startup") == ["Cardiolab"]
    assert names(theme="oncology") == ["Hôpital Sainte-Élise"]
    assert names(q="nothing like this") == []


def test_directory_search_folds_ies_plurals_in_english_and_french(client, db):
    make_org(db, "Medisoft", "company")
    make_org(db, "Agence du numérique", "public_agency")
    make_org(db, "Thera", "startup", summary_fr="Une thérapie digitale")
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")

    def names(q):
        items = client.get("/api/v1/directory", params={"q": q}).json()["items"]
        return sorted(i["name"] for i in items)

    assert names("companies") == names("company") == ["Medisoft"]
    assert names("agencies") == names("agency") == ["Agence du numérique"]
    assert names("thérapies") == names("therapie") == ["Thera"]


def test_directory_paginates_and_refuses_bad_parameters(client, db):
    for i in range(25):
        make_org(db, f"Startup {i:02d}")
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")
    first = client.get("/api/v1/directory", params={"per_page": 10}).json()
    third = client.get("/api/v1/directory", params={"per_page": 10, "page": 3}).json()
    assert first["total"] == 25 and first["pages"] == 3 and len(third["items"]) == 5
    assert first["items"][0]["name"] == "Startup 00"
    response = client.get("/api/v1/directory", params={"per_page": 1000})
    assert response.status_code == 400 and response.json()["error"]["where"] == "page"
    assert client.get("/api/v1/directory", params={"kind": "bakery"}).status_code == 400
    page = client.get("/directory", params={"q": "startup", "page": 2})
    assert page.status_code == 200 and "Startup 20" in page.text


def test_directory_is_for_members_only(client, db):
    make_org(db)
    assert client.get("/api/v1/directory").status_code == 401
    make_account(db, "citizen@example.org")
    client.login("citizen@example.org")
    assert client.get("/api/v1/directory").status_code == 403


def test_public_profile_hides_member_only_fields_from_visitors(client, db):
    org_id = make_org(
        db, needs=["clinical_trials"], contact_email="hello@cardiolab.example", headcount=12
    )
    public = client.get(f"/api/v1/organisations/{org_id}").json()
    assert public["name"] == "Cardiolab" and "contact_email" not in public and "needs" not in public
    page = client.get("/organisations/cardiolab")
    assert page.status_code == 200 and "hello@cardiolab.example" not in page.text
    make_account(db, "m@example.org", "member")
    client.login("m@example.org")
    member_view = client.get(f"/api/v1/organisations/{org_id}").json()
    assert member_view["contact_email"] == "hello@cardiolab.example"
    assert member_view["needs"] == ["clinical_trials"] and member_view["headcount"] == 12


def test_org_admin_edits_profile_and_script_is_sanitised_or_escaped(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    response = client.patch(
        f"/api/v1/organisations/{org_id}",
        json={
            "summary_fr": "<script>alert(1)</script>Capteurs",
            "description_html": "<p>Bonjour <em>à tous</em></p><script>alert(2)</script>",
            "expertise": ["machine_learning", "ce_marking"],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["description_html"] == "<p>Bonjour <em>à tous</em></p>"
    page = client.get(f"/organisations/{org_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Capteurs" in page
    assert "<script>alert" not in page
    actions = {e.action for e in audit_events(db)}
    assert "organisation.updated" in actions


def test_bad_profile_input_names_the_field_and_changes_nothing(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    cases = [
        ({"website": "javascript:alert(1)"}, "website"),
        ({"themes": ["ai", "astrology"]}, "themes[1]"),
        ({"headcount": -3}, "headcount"),
        ({"name": ""}, "name"),
        ({"kind": "bakery"}, "kind"),
    ]
    for body, where in cases:
        response = client.patch(f"/api/v1/organisations/{org_id}", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["where"].startswith(where)
    with db.session() as session:
        org = session.get(Organisation, org_id)
        assert org.name == "Cardiolab" and org.website == "" and org.themes == []


def test_only_the_organisation_admins_may_edit_it(client, db):
    org_id = make_org(db)
    other = make_org(db, "Other")
    org_admin(db, client, org_id)
    assert client.patch(f"/api/v1/organisations/{other}", json={"city": "Lyon"}).status_code == 403
    assert client.get(f"/organisations/{other}/edit").status_code == 403
    assert client.get(f"/organisations/{org_id}/edit").status_code == 200


def test_logo_upload_checks_type_by_content_and_size(client, db, settings):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    url = f"/api/v1/organisations/{org_id}/logo"
    fake = client.put(url, files={"logo": ("logo.png", b"<svg onload=alert(1)>", "image/png")})
    assert fake.status_code == 400 and fake.json()["error"]["code"] == "wrong_file_type"
    huge = client.put(url, files={"logo": ("logo.png", PNG + b"\x00" * 600_000, "image/png")})
    assert huge.status_code == 413
    with db.session() as session:
        assert session.get(Organisation, org_id).logo_file == ""
    ok = client.put(url, files={"logo": ("whatever.bin", PNG, "application/octet-stream")})
    assert ok.status_code == 200 and ok.json()["logo_url"] == url
    served = client.get(url)
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    assert list((settings.var_dir / "uploads" / "logos").iterdir())


def test_a_polyglot_logo_is_refused_by_the_api_and_the_form_and_nothing_changes(
    client, db, settings
):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    url = f"/api/v1/organisations/{org_id}/logo"
    assert client.put(url, files={"logo": ("a.png", PNG, "image/png")}).status_code == 200
    with db.session() as session:
        before = session.get(Organisation, org_id).logo_file
    polyglot = PNG + b"<html><script>alert(1)</script></html>"
    refused = client.put(url, files={"logo": ("a.png", polyglot, "image/png")})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_image"
    assert refused.json()["error"]["where"] == "logo"
    page = client.post(
        f"/organisations/{org_id}/logo", files={"logo": ("a.png", polyglot, "image/png")}
    )
    assert page.status_code == 400 and "image entière et valide" in page.text
    with db.session() as session:
        assert session.get(Organisation, org_id).logo_file == before
    assert client.get(url).content == PNG
    assert [p.name for p in (settings.var_dir / "uploads" / "logos").iterdir()] == [before]


def test_invitation_by_email_creates_membership_and_scoped_admin_role(
    client, db, settings, mailbox
):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    response = client.post(
        f"/api/v1/organisations/{org_id}/invitations",
        json={"email": "New.Admin@Example.org", "role": "admin"},
    )
    assert response.status_code == 201, response.text
    link = mailbox.link("/invitations", to="new.admin@example.org")
    assert "/invitations#token=" in link  # in the fragment, which no request carries
    token = link.split("#token=")[1]
    client.delete("/api/v1/session")
    make_account(db, "intruder@example.org")
    client.login("intruder@example.org")
    refused = client.post("/api/v1/invitations/accept", json={"token": token})
    assert refused.status_code == 403
    client.delete("/api/v1/session")
    make_account(db, "new.admin@example.org")
    client.login("new.admin@example.org")
    assert "Cardiolab" in client.post("/invitations", data={"token": token}).text
    accepted = client.post("/api/v1/invitations/accept", json={"token": token})
    assert accepted.status_code == 200 and accepted.json()["role"] == "admin"
    grants = {(g["role"], g["scope_id"]) for g in client.get("/api/v1/me").json()["grants"]}
    assert ("member", "") in grants and ("org_admin", org_id) in grants
    assert (
        client.patch(f"/api/v1/organisations/{org_id}", json={"city": "Paris"}).status_code == 200
    )
    again = client.post("/api/v1/invitations/accept", json={"token": token})
    assert again.status_code == 409
    assert [o["id"] for o in client.get("/api/v1/me/organisations").json()] == [org_id]


def test_forged_and_expired_invitations_are_refused(client, db, settings):
    org_id = make_org(db)
    make_account(db, "guest@example.org")
    with db.session() as session:
        org = session.get(Organisation, org_id)
        invitation, link = service.invite(
            session, settings, org, email="guest@example.org", by=SYSTEM
        )
        invitation_id = invitation.id
    token = link.split("#token=")[1]
    client.login("guest@example.org")
    forged = client.post("/api/v1/invitations/accept", json={"token": forge(token)})
    assert forged.json()["error"]["code"] == "invitation_invalid"
    with db.session() as session:
        session.get(Invitation, invitation_id).expires_at = dt.datetime.now(dt.UTC)
    expired = client.post("/api/v1/invitations/accept", json={"token": token})
    assert expired.json()["error"]["code"] == "invitation_expired"
    with db.session() as session:
        assert session.scalar(select(Membership)) is None


def test_organisations_of_account_lists_memberships(db):
    org_id = make_org(db)
    account_id = make_account(db, "m@example.org")
    with db.session() as session:
        account = session.get(Account, account_id)
        person = service.ensure_person(session, account)
        service.add_member(session, session.get(Organisation, org_id), person, by=SYSTEM)
    with db.session() as session:
        assert [o.id for o in service.organisations_of_account(session, account_id)] == [org_id]


def test_an_admin_promotes_a_member_and_the_last_admin_cannot_step_down(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    with db.session() as session:
        from campus.ecosystem.directory.models import Person

        bob = Person(display_name="Bob")
        session.add(bob)
        session.flush()
        service.add_member(session, session.get(Organisation, org_id), bob, by=SYSTEM)
        bob_id = bob.id
        me = session.scalar(select(Membership.person_id).where(Membership.role == "admin"))
    url = f"/api/v1/organisations/{org_id}/members"
    alone = client.put(f"{url}/{me}/role", json={"role": "member"})
    assert alone.status_code == 409 and alone.json()["error"]["code"] == "last_admin"
    assert client.put(f"{url}/{bob_id}/role", json={"role": "admin"}).json()["role"] == "admin"
    assert client.put(f"{url}/{me}/role", json={"role": "member"}).status_code == 200
    grants = {(g["role"], g["scope_id"]) for g in client.get("/api/v1/me").json()["grants"]}
    assert ("org_admin", org_id) not in grants


def test_a_headcount_above_the_bound_says_the_bound(client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    for headcount in (2_000_000, -3):
        response = client.patch(f"/api/v1/organisations/{org_id}", json={"headcount": headcount})
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "out_of_range",
            "message": "the number must be from 0 to 1,000,000",
            "where": "headcount",
        }
    response = client.patch(f"/api/v1/organisations/{org_id}", json={"headcount": 1_000_000})
    assert response.status_code == 200


def test_nobody_removes_the_last_admin_of_an_organisation_not_even_staff(app, client, db):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    with db.session() as session:
        admin_id = session.scalar(select(Membership.person_id).where(Membership.role == "admin"))
    make_account(db, "staff@campus.example", "staff")
    staff = CampusClient(app)
    staff.login("staff@campus.example")
    for who in (staff, client):
        refused = who.delete(f"/api/v1/organisations/{org_id}/members/{admin_id}")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    with db.session() as session:
        assert session.scalar(select(Membership.role).where(Membership.person_id == admin_id))
    grants = {(g["role"], g["scope_id"]) for g in client.get("/api/v1/me").json()["grants"]}
    assert ("org_admin", org_id) in grants


def test_a_name_is_one_line_so_an_invitation_subject_cannot_gain_headers(client, db, settings):
    org_id = make_org(db)
    org_admin(db, client, org_id)
    response = client.patch(
        f"/api/v1/organisations/{org_id}",
        json={"name": "Cardiolab\r\nBcc: x@evil.example", "city": "Paris\u2028Lyon"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Cardiolab Bcc: x@evil.example"
    assert response.json()["city"] == "Paris Lyon"
    with db.session() as session:
        # A name written straight to the base (an import, an older row) is flattened too.
        session.get(Organisation, org_id).name = "Cardio\nBcc: y@evil.example"
    with db.session() as session:
        service.invite(
            session, settings, session.get(Organisation, org_id), email="new@x.example", by=SYSTEM
        )
    with db.session() as session:
        subject = session.scalar(select(OutboxMail.subject).order_by(OutboxMail.id.desc()))
    assert "\n" not in subject and "\r" not in subject and "Cardio Bcc" in subject


def test_search_results_come_by_relevance_name_then_tags_then_description(client, db):
    """ "imagerie" in the name first, then in a theme, then only in the summary; among
    equals by name. The card shows the matched expertise and the ask-for-an-introduction."""
    make_org(db, "Zeta Santé", "startup", summary_fr="Un outil d'imagerie pour les urgences")
    make_org(db, "Alpha Diagnostics", "startup", themes=["medical_imaging"])
    make_org(db, "Imagerie Rive Gauche", "startup")
    make_org(db, "Beta Radiologie", "company", themes=["medical_imaging"], city="Lyon")
    make_org(db, "Cardiolab", "startup", themes=["cardiology"])
    make_account(db, "reader@example.org", "member")
    client.login("reader@example.org")
    found = client.get("/api/v1/directory", params={"q": "imagerie"}).json()
    assert [o["name"] for o in found["items"]] == [
        "Imagerie Rive Gauche",
        "Alpha Diagnostics",
        "Beta Radiologie",
        "Zeta Santé",
    ]
    assert [o["matched"] for o in found["items"]] == [
        [],
        ["medical_imaging"],
        ["medical_imaging"],
        [],
    ]
    second = client.get("/api/v1/directory", params={"q": "imagerie", "per_page": 2, "page": 2})
    assert [o["name"] for o in second.json()["items"]] == ["Beta Radiologie", "Zeta Santé"]
    assert second.json()["total"] == 4
    page = client.get("/directory", params={"q": "imagerie"}).text
    assert (
        page.index("Imagerie Rive Gauche")
        < page.index("Alpha Diagnostics")
        < page.index("Zeta Santé")
    )
    assert page.count("Demander une mise en relation") == 4
    assert "Expertise correspondante" in page
