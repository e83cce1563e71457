"""On a phone the main menu folds behind a menu button in the header."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_menu_button_opens_and_closes_the_main_menu_on_a_phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, locale="fr-FR"
    )
    page = context.new_page()
    page.goto("/")
    menu = page.get_by_role("navigation", name="Menu principal")
    button = page.get_by_role("button", name="Menu")
    expect(menu).to_be_hidden()
    expect(page.get_by_test_id("login-link")).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(page.get_by_test_id("login-link")).to_be_visible()
    page.get_by_text("Patients et citoyens").click()
    expect(page.get_by_role("link", name="Registre public")).to_be_visible()
    button.click()
    expect(menu).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    context.close()


def test_the_menu_is_always_shown_on_a_wide_screen(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Menu principal")).to_be_visible()
