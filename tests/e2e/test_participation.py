"""Citizen consultation in a real browser: a contribution, a vote and a moderation."""

from playwright.sync_api import expect

from campus.participation import moderation, service
from campus.settings import Settings
from tests.e2e.conftest import sign_in
from tests.helpers import PASSWORD, make_account
from tests.integration.participation.helpers import body, citizen, make_consultation


def test_a_citizen_accepts_the_charter_makes_a_proposal_and_comments(page, live_server):
    cid = make_consultation(live_server.db, "contributions", title="E2E contribution round")
    make_account(live_server.db, "e2e-chloe@example.org", name="Chloé E2E")
    sign_in(page, "e2e-chloe@example.org", PASSWORD)
    page.goto(f"/consultations/{cid}")
    page.get_by_test_id("new-proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Charte de participation")
    page.get_by_test_id("accept-charter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Faire une proposition")
    page.get_by_label("Titre").fill("Des résumés en langage clair")
    page.get_by_label("Votre proposition").fill(
        "Chaque résultat devrait avoir un résumé lisible par tous.\n\n<script>alert(1)</script>"
    )
    page.get_by_role("button", name="Publier la proposition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Des résumés en langage clair")
    expect(page.get_by_test_id("proposal-body")).to_contain_text("résumé lisible par tous")
    expect(page.get_by_test_id("proposal-body")).not_to_contain_text("alert")
    page.get_by_label("Pour").check()
    page.get_by_label("Votre commentaire").fill("Et traduits dans plusieurs langues.")
    page.get_by_role("button", name="Publier le commentaire").click()
    expect(page.get_by_text("Et traduits dans plusieurs langues.")).to_be_visible()


def test_a_citizen_supports_a_proposal_and_changes_the_vote(page, live_server):
    db = live_server.db
    cid = make_consultation(db, "contributions", title="E2E vote round", supports_per_person=1)
    author = citizen(db, "e2e-author@example.org")
    with db.session() as session:
        consultation = service.get_consultation(session, cid)
        settings = Settings(env="test")
        for title in ("Proposition alpha claire", "Proposition beta claire"):
            service.create_proposal(
                session, settings, author, consultation, title=title, body=body()
            )
    from tests.integration.participation.helpers import set_phase

    set_phase(db, cid, "voting")
    citizen(db, "e2e-voter@example.org")
    sign_in(page, "e2e-voter@example.org", PASSWORD)
    page.goto(f"/consultations/{cid}")
    expect(page.get_by_test_id("supports-left")).to_contain_text("1 / 1")
    page.get_by_role("button", name="Soutenir Proposition alpha claire").click()
    expect(page.get_by_test_id("supports-left")).to_contain_text("0 / 1")
    page.get_by_role("button", name="Soutenir Proposition beta claire").click()
    expect(page.get_by_role("alert")).to_contain_text("vous avez utilisé vos 1 soutiens")
    page.goto(f"/consultations/{cid}")
    page.get_by_role("button", name="Retirer mon soutien à Proposition alpha claire").click()
    page.get_by_role("button", name="Soutenir Proposition beta claire").click()
    expect(
        page.get_by_role("button", name="Retirer mon soutien à Proposition beta claire")
    ).to_be_visible()


def test_a_report_then_a_moderator_hides_a_proposal_and_its_author_sees_why(page, live_server):
    db = live_server.db
    cid = make_consultation(db, "contributions", title="E2E moderation round", report_threshold=2)
    author = citizen(db, "e2e-troll@example.org")
    reporter = citizen(db, "e2e-reporter1@example.org")
    citizen(db, "e2e-reporter2@example.org")
    make_account(db, "e2e-mod@example.org", "moderator", name="Maël Modération")
    settings = Settings(env="test")
    with db.session() as session:
        consultation = service.get_consultation(session, cid)
        proposal = service.create_proposal(
            session, settings, author, consultation, title="Proposition hors sujet", body=body()
        )
        moderation.report(
            session,
            settings,
            reporter,
            target_type="proposal",
            target_id=proposal.id,
            reason="Publicité déguisée",
        )
    # the second report is made in the browser and reaches the threshold
    sign_in(page, "e2e-reporter2@example.org", PASSWORD)
    page.goto(f"/consultations/{cid}/proposals/{proposal.id}")
    page.get_by_text("Signaler", exact=True).click()
    page.get_by_label("Pourquoi les modérateurs devraient-ils l'examiner ?").fill("Hors sujet")
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_role("status")).to_contain_text("votre signalement a été transmis")
    page.goto(f"/consultations/{cid}")
    expect(page.get_by_text("Proposition hors sujet")).to_have_count(0)
    page.get_by_test_id("logout").click()
    sign_in(page, "e2e-mod@example.org", PASSWORD)
    page.goto("/moderation")
    card = page.locator(f"#moderation-{proposal.id}")
    expect(card).to_contain_text("Publicité déguisée")
    card.get_by_label("Motif montré à l'auteur").fill("Contenu publicitaire, contraire à la charte")
    card.get_by_role("button", name="Masquer").click()
    expect(page.get_by_text("Rien à modérer.")).to_be_visible()
    page.get_by_test_id("logout").click()
    sign_in(page, "e2e-troll@example.org", PASSWORD)
    page.goto(f"/consultations/{cid}/proposals/{proposal.id}")
    expect(page.get_by_test_id("moderation-note")).to_contain_text(
        "Contenu publicitaire, contraire à la charte"
    )
