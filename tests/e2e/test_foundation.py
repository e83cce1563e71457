"""Sign in, switch language, sign out, wrong password, forbidden page: in a real browser."""

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.helpers import PASSWORD, make_account


def test_sign_in_switch_language_and_sign_out(page, live_server):
    make_account(live_server.db, "e2e-member@example.org", "member", name="Eve Membre")
    sign_in(page, "e2e-member@example.org", PASSWORD)
    expect(page.get_by_role("link", name="Eve Membre")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-link")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(f"{live_server.url}/login?next=/account")


def test_wrong_password_shows_an_error(page, live_server):
    make_account(live_server.db, "e2e-wrong@example.org")
    sign_in(page, "e2e-wrong@example.org", "not the password")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("mot de passe incorrect")
    expect(page.get_by_label("Mot de passe")).to_be_empty()


def test_a_member_sees_403_on_an_admin_page(page, live_server):
    make_account(live_server.db, "e2e-403@example.org", "member")
    sign_in(page, "e2e-403@example.org", PASSWORD)
    response = page.goto("/admin/accounts")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")


def test_keyboard_users_can_skip_to_the_content(page, live_server):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
