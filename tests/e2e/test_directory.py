"""The directory, an organisation profile and the dashboard charts in a real browser."""

from playwright.sync_api import expect

from campus.auth.actor import SYSTEM
from campus.ecosystem.directory import service
from campus.settings import Settings
from tests.e2e.conftest import sign_in
from tests.helpers import PASSWORD, make_account


def test_a_member_searches_the_directory_without_accents_and_opens_a_profile(page, live_server):
    with live_server.db.session() as session:
        service.create_organisation(
            session,
            {
                "name": "Hôpital Saint-Éloi-des-Champs",
                "kind": "hospital",
                "city": "Créteil",
                "themes": ["oncology"],
                "summary_fr": "Centre de référence en oncologie",
            },
            by=SYSTEM,
        )
    make_account(live_server.db, "e2e-dir@example.org", "member", name="Dora Annuaire")
    sign_in(page, "e2e-dir@example.org", PASSWORD)
    page.locator("header nav").get_by_text("Écosystème").click()
    page.locator("header nav").get_by_role("link", name="Annuaire", exact=True).click()
    page.get_by_test_id("directory-query").fill("hopital saint eloi creteil")
    page.get_by_test_id("directory-submit").click()
    results = page.get_by_test_id("directory-results")
    profile = results.get_by_role("link", name="Hôpital Saint-Éloi-des-Champs", exact=True)
    expect(profile).to_be_visible()
    profile.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hôpital Saint-Éloi-des-Champs")
    expect(page.get_by_text("oncologie").first).to_be_visible()


def test_the_dashboard_draws_its_charts_without_script_errors(page, live_server):
    make_account(live_server.db, "e2e-dash@example.org", "member")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, "e2e-dash@example.org", PASSWORD)
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord du campus")
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 4")
    assert errors == []


def test_an_invitation_link_keeps_its_token_out_of_urls_through_a_sign_in(page, live_server):
    """The mail's link carries the token in its fragment: the page takes it into a form, the
    address bar loses it, and it survives the sign-in that comes back to the page."""
    make_account(live_server.db, "e2e-invited@example.org", "member", name="Ines Invitée")
    with live_server.db.session() as session:
        org = service.create_organisation(
            session, {"name": "Imagerie Invitante", "kind": "startup"}, by=SYSTEM
        )
        settings = Settings(env="test", var_dir=live_server.var_dir, base_url=live_server.url)
        _, link = service.invite(
            session, settings.resolve(), org, email="e2e-invited@example.org", by=SYSTEM
        )
    token = link.split("#token=")[1]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(link)
    assert token not in page.url
    page.get_by_role("button", name="Voir l'invitation").click()
    expect(page.get_by_text("Imagerie Invitante")).to_be_visible()
    page.get_by_role("link", name="Se connecter pour accepter").click()
    page.get_by_label("Adresse électronique").fill("e2e-invited@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#token")).to_have_value(token)
    page.get_by_role("button", name="Voir l'invitation").click()
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imagerie Invitante")
    assert not [url for url in requested if token in url]


def test_a_startup_member_finds_three_imaging_organisations_and_asks_each_to_meet(
    page, live_server
):
    """From the home page by clicking: the directory, a search, and on each result 'Ask for
    an introduction' on behalf of one's startup, with a message."""
    from sqlalchemy import select

    from campus.auth.models import Account
    from campus.ecosystem.directory.models import Organisation
    from campus.ecosystem.matchmaking.models import Introduction

    names = ["Imagerie de l'Odet", "Radiologie du Steir", "Centre IRM de Kerfeunteun"]
    make_account(live_server.db, "e2e-startup@example.org", "member", name="Sam Startup")
    with live_server.db.session() as session:
        startup = service.create_organisation(
            session, {"name": "Échos de Cornouaille", "kind": "startup"}, by=SYSTEM
        )
        account = session.scalar(select(Account).where(Account.email == "e2e-startup@example.org"))
        person = service.ensure_person(session, account)
        service.add_member(session, startup, person, role="admin", by=SYSTEM)
        for name in names:
            service.create_organisation(
                session,
                {"name": name, "kind": "clinic", "city": "Quimper", "themes": ["medical_imaging"]},
                by=SYSTEM,
            )
        startup_id = startup.id
    sign_in(page, "e2e-startup@example.org", PASSWORD)
    page.goto("/")
    for n in range(3):
        page.locator("header nav").get_by_text("Écosystème").click()
        page.locator("header nav").get_by_role("link", name="Annuaire", exact=True).click()
        page.get_by_test_id("directory-query").fill("imagerie quimper")
        page.get_by_test_id("directory-submit").click()
        results = page.get_by_test_id("directory-result")
        expect(results).to_have_count(3)
        expect(results.nth(n).get_by_test_id("matched")).to_contain_text("imagerie médicale")
        results.nth(n).get_by_test_id("ask-introduction").click()
        expect(page.get_by_label("Au nom de")).to_have_value(f"organisation:{startup_id}")
        page.get_by_label("Message (facultatif)").fill("Bonjour, parlons échographie.")
        page.get_by_test_id("send-introduction").click()
        expect(page.get_by_role("status")).to_contain_text("Demande envoyée")
    expect(page.get_by_test_id("sent").locator("tbody tr")).to_have_count(3)
    with live_server.db.session() as session:
        asked = session.scalars(
            select(Organisation.name)
            .join(Introduction, Introduction.target_id == Organisation.id)
            .where(Introduction.source_id == startup_id)
        )
        assert sorted(asked) == sorted(names)
