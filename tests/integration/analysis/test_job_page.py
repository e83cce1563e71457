"""The job page reads as French in French: suppressed cells say "supprimé" (never 0), the
engine's disclosure notes and labels are translated, dates are spelled; its status block
refreshes itself while a worker may change it, showing what `outward` gives the reader."""

from __future__ import annotations

import re

from campus.analysis import reading as pages
from tests.e2e.french_leaks import english_words, leaks
from tests.helpers import make_account
from tests.integration.analysis import seeds

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _text_without_definition(html: str) -> str:
    """The page without its definition block (code the researcher wrote, in English)."""
    return re.sub(r"<pre>.*?</pre>", "", html, flags=re.S)


def test_a_released_job_in_french_has_no_english_and_no_zero_for_a_suppressed_cell(client, db):
    job_id = seeds.released_job(db)
    html = client.get(f"/jobs/{job_id}", headers={"Accept-Language": "fr"}).text
    assert english_words(html) == [] and leaks(html) == []
    assert html.count('data-testid="suppressed"') == 2
    assert "supprimé" in html and "féminin" in html
    assert "effectifs arrondis au multiple de 5 le plus proche" in html
    assert "1 cellule(s) sous 10 supprimée(s)" in html
    assert not ISO.search(_text_without_definition(html)), "a date is shown as ISO"
    assert "Diffusé le" in html
    charts = pages.charts(seeds.RESULT)
    assert charts[0]["values"] == [25, None, None] and charts[0]["suppressed"] == [1, 2]
    assert charts[0]["labels"] == ["féminin", "masculin", "autre"]


def test_the_english_page_keeps_the_engine_notes_in_english(client, db):
    job_id = seeds.released_job(db)
    client.cookies.set("campus_lang", "en")
    html = client.get(f"/jobs/{job_id}", headers={"Accept-Language": "en"}).text
    assert "counts rounded to the nearest multiple of 5" in html and "suppressed" in html


def test_the_status_block_polls_while_the_job_waits_and_stops_when_it_is_final(client, db):
    queued = seeds.released_job(
        db, status="queued", release_status="", result=None, released_at=None
    )
    client.login("author@campus.example")  # a job not released is its team's to read
    html = client.get(f"/jobs/{queued}").text
    live = re.search(r'<section id="job-live"[^>]*>', html).group(0)
    assert f'hx-get="/jobs/{queued}"' in live and 'hx-select="#job-live"' in live
    assert "every 3s" in live
    done = seeds.released_job(db, author_email="other@campus.example")
    final = re.search(r'<section id="job-live"[^>]*>', client.get(f"/jobs/{done}").text)
    assert "hx-get" not in final.group(0)


def test_the_team_sees_finished_for_a_run_that_failed_on_the_data(client, db):
    """The live block shows outward's status: a failure on the data is `finished` to the team
    (and on its author's home), the raw outcome goes to checkers only."""
    job_id = seeds.released_job(
        db, status="failed", release_status="pending", result=None, error="boom on row 12"
    )
    client.login("author@campus.example")
    html = client.get(f"/jobs/{job_id}").text
    status = re.search(r'data-testid="job-status">(.*?)</dd>', html).group(1)
    assert "terminé" in status and "échec" not in html and "boom" not in html
    home = client.get("/").text
    assert "échec" not in home and "failed" not in home
    make_account(db, "checker@campus.example", "output_checker")
    client.delete("/api/v1/session")
    client.login("checker@campus.example")
    html = client.get(f"/jobs/{job_id}").text
    status = re.search(r'data-testid="job-status">(.*?)</dd>', html).group(1)
    assert "échec" in status and "boom on row 12" in html


def test_a_histogram_s_columns_are_named_in_french(client, db):
    histogram = {
        "name": "age",
        "kind": "histogram",
        "columns": ["gender", "bin", "count"],
        "rows": [["female", "[20, 40)", 15], ["male", "[20, 40)", None]],
        "disclosure": {"threshold": 10, "notes": []},
    }
    result = {**seeds.RESULT, "tables": [*seeds.RESULT["tables"], histogram]}
    job_id = seeds.released_job(db, result=result)
    html = client.get(f"/jobs/{job_id}", headers={"Accept-Language": "fr"}).text
    assert english_words(html) == [] and leaks(html) == []
    assert '<th scope="col">classe</th>' in html and "histogramme" in html
