"""Checks every GET page shares, on the demo campus, as the anonymous visitor and as each demo
role: no server error, no English interface text in French, no page wider than a 390 px phone,
and no serious or critical accessibility violation found by axe-core.

The demo is loaded once for the module (about a minute) and the pages are walked over HTTP
(`site_walk`); one Chromium instance then opens them at 390 px with axe-core injected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from campus.demo_password import DEMO_PASSWORD
from tests.e2e import site_walk
from tests.e2e.french_leaks import leaks

pytestmark = pytest.mark.slow

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
# Routes with parameters no demo page links to (or only through a mail, a sign-in provider or
# a form): the walk cannot reach them. A new page must be reachable, or be listed here.
UNREACHABLE = {
    "/benchmarks/{benchmark_id}",
    "/benchmarks/{benchmark_id}/submit",
    "/consultations/{consultation_id}/proposals/new",
    "/consultations/{consultation_id}/proposals/{proposal_id}/edit",
    "/federated-jobs/{job_id}",  # the demo runs no federated job
    "/federation/datasets/{name}",  # nor names a federated dataset
    "/login/oidc",
    "/login/oidc/callback",
    "/organisations/{org_id}/impact",
    "/readyz",
    "/submissions/{submission_id}",
}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Iterator[site_walk.DemoSite]:
    var_dir = tmp_path_factory.mktemp("demo") / "var"
    var_dir.mkdir()
    site, process = site_walk.start_demo_site(var_dir)
    try:
        yield site
    finally:
        process.terminate()
        process.wait(timeout=10)
        if site.log:
            site.log.close()


@pytest.fixture(scope="module")
def walks(demo_site) -> dict[str, list[site_walk.Walk]]:
    return {language: list(site_walk.all_walks(demo_site, language)) for language in ("fr", "en")}


def test_the_walk_opens_every_page_route_without_a_server_error(walks):
    errors = [error for walk in walks["fr"] + walks["en"] for error in walk.errors]
    assert errors == []
    reached = {visit.route for walk in walks["fr"] for visit in walk.visits}
    templates = {path for path, _ in site_walk.page_routes() if not _not_a_page(path)}
    assert sorted(templates - reached - UNREACHABLE) == []
    assert len(reached) > 50


def _not_a_page(path: str) -> bool:
    return bool(site_walk.SKIPPED.search(path)) or path.endswith(".atom")


def test_pages_in_french_show_no_english_message_of_the_catalogues(walks):
    found = {}
    for walk in walks["fr"]:
        for visit in walk.visits:
            english = leaks(visit.html)
            if english:
                found.setdefault(visit.route, set()).update(english)
    assert found == {}


def _sign_in(context, actor: str | None) -> None:
    if actor is None:
        return
    response = context.request.get("/healthz")
    token = next(c["value"] for c in context.cookies() if c["name"] == "campus_csrf")
    response = context.request.post(
        "/api/v1/session",
        data=json.dumps({"email": actor, "password": DEMO_PASSWORD}),
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.ok, response.text()


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""


def _targets(walks) -> list[tuple[str, str | None, list[tuple[str, bool]]]]:
    """(language, actor, [(url, run axe)]): in French, one address per route for each actor,
    axe-core on each route once (as the first actor who reached it); in English, each route
    once, with axe-core. Several addresses of one route share a template; axe-core takes
    about a second a page."""
    plan = []
    for language in ("fr", "en"):
        audited: set[str] = set()
        for walk in walks[language]:
            urls: list[tuple[str, bool]] = []
            routes: set[str] = set()
            for visit in walk.visits:
                if visit.route in routes or (language == "en" and visit.route in audited):
                    continue
                routes.add(visit.route)
                urls.append((visit.url, visit.route not in audited))
                audited.add(visit.route)
            plan.append((language, walk.actor, urls))
    return plan


# Captions of more than a few letters laid out narrower than six letters and taller than three
# lines (a visually hidden one is a pixel each way): a table shown as a block on a phone once
# left its caption one letter a line.
_SQUEEZED_CAPTIONS = """() => [...document.querySelectorAll('caption')]
  .filter(c => {
    const box = c.getBoundingClientRect(), em = parseFloat(getComputedStyle(c).fontSize);
    return c.textContent.trim().length > 6 && box.width < 6 * em && box.height > 3 * em;
  })
  .map(c => c.textContent.trim())"""


def test_every_page_fits_a_phone_and_has_no_serious_accessibility_violation(
    demo_site, walks, browser
):
    axe = AXE.read_text()
    too_wide: list[str] = []
    squeezed: list[str] = []
    violations: list[str] = []
    for language, actor, urls in _targets(walks):
        context = browser.new_context(
            base_url=demo_site.url,
            viewport=PHONE,
            locale="fr-FR" if language == "fr" else "en-GB",
            bypass_csp=True,
        )
        context.add_cookies([{"name": "campus_lang", "value": language, "url": demo_site.url}])
        _sign_in(context, actor)
        page = context.new_page()
        for url, audit in urls:
            page.goto(url, wait_until="load")
            widths = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            if widths[0] > widths[1]:
                too_wide.append(f"{language} {actor or 'anonymous'} {url}: {widths[0]} px")
            for caption in page.evaluate(_SQUEEZED_CAPTIONS):
                squeezed.append(f"{language} {actor or 'anonymous'} {url}: {caption}")
            if not audit:
                continue
            page.add_script_tag(content=axe)
            for violation in page.evaluate(_AXE_RUN):
                violations.append(f"{language} {actor or 'anonymous'} {url}: {violation}")
        context.close()
    assert too_wide == []
    assert squeezed == [], "captions a few letters wide (one letter a line on a phone)"
    assert violations == []
