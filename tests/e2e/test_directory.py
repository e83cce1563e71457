"""The directory, an organisation profile and the dashboard charts in a real browser."""

from playwright.sync_api import expect

from campus.auth.actor import SYSTEM
from campus.ecosystem.directory import service
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
    expect(results.get_by_role("link", name="Hôpital Saint-Éloi-des-Champs")).to_be_visible()
    results.get_by_role("link", name="Hôpital Saint-Éloi-des-Champs").click()
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
