"""A patient, from the home page and by clicking only, files an objection (a typo first,
kept in the form), then checks it with the receipt and withdraws it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from campus.optout import service as optout
from campus.settings import Settings


def _nir(body: str) -> str:
    return f"{body}{97 - int(body) % 97:02d}"


def test_a_patient_files_an_objection_checks_it_with_the_receipt_and_withdraws_it(
    page, live_server
):
    nir = _nir("1850769123456")
    page.goto("/")
    page.get_by_text("Patients et citoyens").click()
    page.get_by_role("link", name="Opposition", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("opposer à la réutilisation")

    page.get_by_label("Numéro de sécurité sociale (NIR) ou INS").check()
    typo = nir[:-1] + str((int(nir[-1]) + 1) % 10)  # a wrong check key
    page.get_by_label("Identifiant", exact=True).fill(typo)
    page.get_by_role("button", name="Enregistrer mon opposition").click()
    expect(page.get_by_role("alert")).to_contain_text("la clé du NIR/INS ne correspond pas")
    expect(page.get_by_label("Identifiant", exact=True)).to_have_value(typo)

    page.get_by_label("Identifiant", exact=True).fill(nir)
    page.get_by_role("button", name="Enregistrer mon opposition").click()
    receipt = page.get_by_test_id("receipt").inner_text()
    assert re.fullmatch(r"OPT-[0-9A-F]{16}", receipt)
    assert receipt not in page.url
    settings = Settings(var_dir=live_server.var_dir, database_url=live_server.db.url).resolve()
    with live_server.db.session() as session:
        assert optout.is_registered(session, settings, "nir", nir)

    page.get_by_role("link", name="Vérifier ou retirer mon opposition").click()
    page.get_by_label("Récépissé").fill(receipt.lower())
    page.get_by_role("button", name="Vérifier", exact=True).click()
    expect(page.get_by_test_id("receipt-state")).to_contain_text("est enregistrée")
    assert receipt not in page.url
    page.get_by_role("button", name="Retirer mon opposition").click()
    expect(page.get_by_test_id("receipt-state")).to_contain_text("Votre opposition est retirée")
    with live_server.db.session() as session:
        assert not optout.is_registered(session, settings, "nir", nir)
