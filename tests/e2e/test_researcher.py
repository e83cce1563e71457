"""A researcher of the demo campus, by clicking from the home page: picks a library view,
previews it on the dummy twin, writes her own view and previews it, runs an analysis on the
real data of her approved project through the job worker, and follows it to release by the
two output checkers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from campus.analysis.demo import DEMO_ANALYSIS
from campus.demo_password import DEMO_PASSWORD
from campus.governance.demo import CHECKERS, RESEARCHER
from tests.e2e.conftest import sign_in
from tests.e2e.french_leaks import leaks
from tests.e2e.test_pages_everywhere import demo_site  # noqa: F401 (the fixture)

SHOTS = Path(os.environ.get("CAMPUS_SHOTS", "/work/notes/shots"))
TITLE = "Patients par sexe, parcours de bout en bout"
WRITTEN_VIEW = {
    "resourceType": "ViewDefinition",
    "name": "mes_patients",
    "resource": "Patient",
    "status": "draft",
    "select": [
        {
            "column": [
                {"name": "patient", "path": "getResourceKey()"},
                {"name": "sexe", "path": "gender"},
            ]
        }
    ],
}


def _menu(page, link: str) -> None:
    page.locator("header nav").get_by_text("Données", exact=True).click()
    page.locator("header nav").get_by_role("link", name=link, exact=True).click()


def _french(page) -> None:
    found = leaks(page.content())
    assert not found, f"English on {page.url}: {found}"


def _shot(page, name: str) -> None:
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"researcher-{name}.png"), full_page=True)


def _preview(page) -> None:
    """The library view of patients, previewed on the dummy twin of the demo hospital."""
    _menu(page, "Vues")
    page.get_by_role("link", name="Données démographiques des patients").click()
    page.get_by_label("Jeu de données (jumeau fictif)").select_option("hopital-synthea")
    page.get_by_role("button", name="Prévisualiser sur le jumeau fictif").click()
    expect(page.get_by_test_id("view-preview")).to_be_visible()
    assert page.get_by_test_id("view-preview").locator("tbody tr").count() > 1
    # Then a view of her own, written in the editor, previewed the same way.
    page.get_by_label("ViewDefinition (JSON)").fill(json.dumps(WRITTEN_VIEW))
    page.get_by_label("Jeu de données (jumeau fictif)").select_option("hopital-synthea")
    page.get_by_role("button", name="Prévisualiser sur le jumeau fictif").click()
    preview = page.get_by_test_id("view-preview")
    expect(preview).to_be_visible()
    assert preview.locator("th").all_inner_texts()[:2] == ["patient", "sexe"]
    assert preview.locator("tbody tr").count() > 1


def _run_worker(site) -> None:
    env = {
        **os.environ,
        "CAMPUS_ENV": "test",
        "CAMPUS_VAR_DIR": str(site.var_dir),
        "CAMPUS_DATABASE_URL": f"sqlite:///{site.var_dir / 'campus.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "campus.cli", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_a_researcher_previews_a_view_runs_it_on_real_data_and_two_checkers_release_it(
    browser,
    demo_site,  # noqa: F811 (the fixture imported above)
):
    wide = browser.new_context(
        base_url=demo_site.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    wide.set_default_timeout(30000)
    page = wide.new_page()
    page.goto("/")
    sign_in(page, RESEARCHER, DEMO_PASSWORD)
    _preview(page)
    _french(page)
    _shot(page, "preview-1280")

    _menu(page, "Mes projets")
    page.get_by_role("link", name="Parcours de soins post-AVC").click()
    analysis = {**DEMO_ANALYSIS, "title": TITLE}
    page.get_by_label("Analyse (YAML ou JSON)").fill(json.dumps(analysis, ensure_ascii=False))
    page.get_by_role("button", name="Soumettre le traitement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    job_url = page.url
    _run_worker(demo_site)
    page.goto(job_url)
    expect(page.get_by_test_id("release-status")).not_to_contain_text("diffusé")

    for checker in CHECKERS:
        context = browser.new_context(base_url=demo_site.url, locale="fr-FR")
        context.set_default_timeout(30000)
        checking = context.new_page()
        checking.goto("/")
        sign_in(checking, checker, DEMO_PASSWORD)
        _menu(checking, "Sorties à vérifier")
        checking.get_by_test_id("checks").get_by_role("link", name=TITLE).click()
        _french(checking)
        checking.get_by_label("approuver").check()
        checking.get_by_label("Commentaire").fill("Aucune cellule sous le seuil n'est visible.")
        checking.get_by_role("button", name="Enregistrer ma vérification").click()
        context.close()

    page.goto(job_url)
    expect(page.get_by_test_id("release-status")).to_contain_text("diffusé")
    _french(page)
    _shot(page, "job-1280")
    wide.close()

    narrow = browser.new_context(
        base_url=demo_site.url, locale="fr-FR", viewport={"width": 390, "height": 844}
    )
    narrow.set_default_timeout(30000)
    phone = narrow.new_page()
    phone.goto("/")
    sign_in(phone, RESEARCHER, DEMO_PASSWORD)
    phone.goto(job_url)
    _shot(phone, "job-390")
    phone.get_by_role("button", name="Menu").click()
    _preview(phone)
    _shot(phone, "preview-390")
    narrow.close()
