"""The datasets page's settings form: parsed into the API's settings, refused whole."""

from __future__ import annotations

from tests.integration.warehouse.helpers import publish


def test_the_settings_form_saves_what_the_api_saves_and_a_refusal_saves_nothing(client, db):
    publish(client, db)
    saved = client.post(
        "/datasets/hopital/settings",
        data={
            "error_tolerance": "7",
            "every": "hours",
            "every_hours": "6",
            "csrf_token": client.csrf(),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/datasets"
    dataset = client.get("/api/v1/datasets/hopital").json()
    assert dataset["error_tolerance"] == 7 and dataset["pull_source"] is None
    refused = client.post(
        "/datasets/hopital/settings",
        data={"error_tolerance": "-3", "csrf_token": client.csrf()},
    )
    assert refused.status_code == 422 and "error_tolerance" in refused.text
    assert 'id="form-error"' in refused.text and "hopital" in refused.text
    assert client.get("/api/v1/datasets/hopital").json()["error_tolerance"] == 7
