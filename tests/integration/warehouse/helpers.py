"""A small published dataset for the warehouse's page tests."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.helpers import make_account
from tests.unit.warehouse.samples import bundle, encounter, observation, patient


def _nir(i: int) -> str:
    body = f"1840576451{i:03d}"
    return body + f"{97 - int(body) % 97:02d}"


def hospital() -> dict:
    """12 patients with one Observation each, and 3 Encounters: a type under the threshold."""
    resources = []
    for i in range(12):
        resources.append(patient(f"pat-{i}", nir=_nir(i), mrn=f"MRN-{i:04d}"))
        resources.append(observation(f"obs-{i}", f"urn:uuid:pat-{i}"))
    resources += [encounter(f"enc-{i}", f"urn:uuid:pat-{i}") for i in range(3)]
    return bundle(resources)


def publish(client, db) -> None:
    """The hospital published by a steward, who stays signed in."""
    make_account(db, "steward@example.org", "data_steward", "member")
    client.login("steward@example.org")
    upload = client.post(
        "/api/v1/datasets/hopital/upload",
        content=json.dumps(hospital()).encode(),
        headers={"content-type": "application/octet-stream", "x-filename": quote("h.json")},
    )
    assert upload.status_code == 201, upload.text
