"""The view editor's form: a refusal keeps what was typed and saves nothing."""

import json

from campus.web.twins import TWIN_PAGES
from tests.helpers import make_account


def test_a_refused_save_shows_why_keeps_the_view_and_saves_nothing(client, db):
    twin = TWIN_PAGES["/views"]  # the editor's JSON (the app is built: its pages are known)
    make_account(db, "rita@example.org", "member")
    client.login("rita@example.org")
    view = {"resource": "Patient", "select": [{"column": [{"name": "pid", "path": "id"}]}]}
    typed = json.dumps(view)
    refused = client.post(
        "/views", data={"view": typed, "action": "save", "name": "", "csrf_token": client.csrf()}
    )
    assert refused.status_code == 400 and 'data-testid="view-error"' in refused.text
    assert "<code>name</code>" in refused.text  # where the problem is
    assert json.dumps(view).replace('"', "&#34;") in refused.text  # the view typed, kept
    assert client.get(twin).json()["saved"] == []
    saved = client.post(
        "/views",
        data={"view": typed, "action": "save", "name": "Patients", "csrf_token": client.csrf()},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith("/views/saved/")
    assert [s["title"] for s in client.get(twin).json()["saved"]] == ["Patients"]
    unknown = client.post(
        "/views", data={"view": typed, "dialect": "oracle", "csrf_token": client.csrf()}
    )
    assert unknown.status_code == 422 and "dialect" in unknown.text
