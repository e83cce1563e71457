"""The library views' titles in the reader's language: in the access request's pickers of a
project page and in the view editor, French by default and English when chosen."""

from __future__ import annotations

import re

from sqlalchemy import select

from campus.analysis.models import Job
from tests.helpers import make_account
from tests.integration.analysis import seeds

FRENCH = ("Données démographiques des patients", "Prescriptions de médicaments")
ENGLISH = ("Patient demographics", "Medication requests")


def _picker_titles(page: str) -> set[str]:
    """The titles beside the view boxes of the request form."""
    found = re.findall(r'name="views" value="[^"]+"[^>]*><span>([^<]+) <code>', page)
    return {title.strip() for title in found}


def test_library_titles_are_shown_in_the_readers_language(client, db):
    job_id = seeds.released_job(db)
    with db.session() as session:
        project_id = session.scalar(select(Job.project_id).where(Job.id == job_id))
    make_account(db, "member@campus.example", "member")  # the editor is for members
    client.login("member@campus.example")
    editor = client.get("/views").text
    listed = re.findall(r'href="/views\?example=[a-z_]+">([^<]+)</a>', editor)
    assert set(FRENCH) <= set(listed) and not set(ENGLISH) & set(listed)
    client.login("author@campus.example")  # the project's lead, who files requests
    titles = _picker_titles(client.get(f"/projects/{project_id}").text)
    assert set(FRENCH) <= titles and not set(ENGLISH) & titles
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": client.csrf()})
    titles = _picker_titles(client.get(f"/projects/{project_id}").text)
    assert set(ENGLISH) <= titles and not set(FRENCH) & titles
