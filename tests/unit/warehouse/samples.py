"""Small FHIR inputs built in code, with a valid NIR, for the warehouse tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

NIR_BODY = "1840576451089"
NIR = NIR_BODY + f"{97 - int(NIR_BODY) % 97:02d}"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
PATIENT_ID = "pat-1"


def patient(pid: str = PATIENT_ID, nir: str = NIR, mrn: str = "MRN-0001") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "text": {"status": "generated", "div": "<div>Jeanne Dupont-Secret</div>"},
        "identifier": [
            {"system": INS_SYSTEM, "value": nir},
            {"system": "urn:oid:1.2.250.1.71.4.2.7", "value": mrn},
        ],
        "name": [{"family": "Dupont-Secret", "given": ["Jeanne"]}],
        "telecom": [{"system": "phone", "value": "+33 6 12 34 56 78"}],
        "gender": "female",
        "birthDate": "1984-05-17",
        "address": [{"line": ["12 rue des Secrets"], "city": "Rouen", "postalCode": "76000"}],
    }


def encounter(eid: str, subject: str, start: str = "2020-03-01T10:00:00+01:00") -> dict:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": subject, "display": "Jeanne Dupont-Secret"},
        "period": {"start": start, "end": start},
    }


def observation(oid: str, subject: str, encounter_ref: str | None = None, **extra) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2020-03-01T10:05:00+01:00",
        "valueQuantity": {"value": 170.2, "unit": "cm"},
        "note": [{"text": "patient anxious about the results"}],
    }
    if encounter_ref:
        resource["encounter"] = {"reference": encounter_ref}
    resource.update(extra)
    return resource


def bundle(resources: list[dict], kind: str = "transaction") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r.get('id')}",
                "resource": r,
                "request": {"method": "POST", "url": r.get("resourceType")},
            }
            for r in resources
        ],
    }


def small_bundle() -> dict:
    return bundle(
        [
            patient(),
            encounter("enc-1", f"urn:uuid:{PATIENT_ID}"),
            observation("obs-1", f"urn:uuid:{PATIENT_ID}", "urn:uuid:enc-1"),
            observation(
                "obs-2",
                "Patient?identifier=urn:oid:1.2.250.1.71.4.2.7|MRN-0001",
                effectiveDateTime="2021-01-02",
            ),
        ]
    )


def write_json(path: Path, data: Any, gz: bool = False) -> Path:
    raw = json.dumps(data).encode()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_ndjson(path: Path, resources: list[Any]) -> Path:
    with path.open("wb") as handle:
        for resource in resources:
            handle.write(
                (resource if isinstance(resource, bytes) else json.dumps(resource).encode()) + b"\n"
            )
    return path
