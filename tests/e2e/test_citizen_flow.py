"""The citizen's task of issue 21, on a phone (390 px), in French, by clicking from the home
page: sign up, follow the verification link from the mail (the console is the demo's
mailbox), be signed in by it, support a proposal, then comment (through the charter)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from campus.participation import service
from campus.settings import Settings
from tests.integration.participation.helpers import body, citizen, make_consultation, set_phase

EMAIL = "e2e-lea@example.org"


def _link_from_the_console(live_server, deadline: float = 15) -> str:
    """The verification link as the demo prints it on its console (the server's output)."""
    log = live_server.var_dir / "server.log"
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = re.findall(
            r"https?://[^\s\"]+/signup/verify#token=[A-Za-z0-9_.-]+", log.read_text()
        )
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError("no verification link on the server's console:\n" + log.read_text())


@pytest.mark.slow
def test_a_citizen_signs_up_verifies_supports_and_comments_on_a_phone(browser, live_server):
    db = live_server.db
    cid = make_consultation(db, "contributions", title="Parcours citoyen E2E")
    author = citizen(db, "e2e-proposer@example.org")
    with db.session() as session:
        service.create_proposal(
            session,
            Settings(env="test"),
            author,
            service.get_consultation(session, cid),
            title="Des résultats lisibles par tous",
            body=body(),
        )
    set_phase(db, cid, "voting")
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_test_id("menu-toggle").click()  # on a phone the menu holds sign-in
        page.get_by_test_id("login-link").click()
        page.get_by_test_id("signup-link").click()
        page.get_by_label("Nom affiché avec vos contributions").fill("Léa Citoyenne")
        page.get_by_label("Adresse électronique").fill(EMAIL)
        page.get_by_label("Mot de passe").fill("un long mot de passe citoyen")
        page.get_by_role("button", name="Créer mon compte").click()
        expect(page.get_by_role("status")).to_contain_text("il vous connecte aussi")

        page.goto(_link_from_the_console(live_server))  # the citizen follows the mail's link
        page.get_by_role("button", name="Confirmer mon adresse électronique").click()
        expect(page.get_by_test_id("signed-in")).to_contain_text(EMAIL)
        assert "#token=" not in page.url

        page.get_by_role("link", name="Voir les consultations").click()
        page.get_by_role("link", name="Parcours citoyen E2E").click()
        expect(page.get_by_test_id("supports-left")).to_contain_text("3 / 3")
        page.get_by_role("button", name="Soutenir Des résultats lisibles par tous").click()
        expect(page.get_by_test_id("supports-left")).to_contain_text("2 / 3")

        page.get_by_role("link", name="Des résultats lisibles par tous").click()
        page.get_by_label("Pour", exact=True).check()
        page.get_by_label("Votre commentaire").fill("Oui, et en langage clair.")
        page.get_by_role("button", name="Publier le commentaire").click()
        expect(page.get_by_test_id("draft-kept")).to_be_visible()  # the charter first
        page.get_by_test_id("accept-charter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Des résultats lisibles par tous")
        expect(page.get_by_text("Oui, et en langage clair.")).to_be_visible()
        assert "#comment-" in page.url
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the proposal page is {width} px wide on a 390 px phone"
    finally:
        context.close()
