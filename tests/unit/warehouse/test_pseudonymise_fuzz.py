"""Seeded fuzzing of the default policy: identifying values planted where FHIR puts them
(identifiers, names of people, telecom, addresses, notes, reference displays, resources inside
resources), then buried at random depths under random elements of random resources. Whatever
the nesting, the walk either removes every planted value or refuses the resource."""

import random

import orjson
import pytest

from campus.warehouse import policy as policies
from campus.warehouse.pseudonymise import Pseudonymiser, ResourceProblem

SECRET = "Zorglub-Secret-4242"
BIRTH = "1984-05-17"
PLACES = [
    lambda s: {"identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": s}]},
    lambda s: {"identifier": {"system": "urn:x", "value": s}, "display": s},
    lambda s: {"reference": "Patient/p1", "display": s},
    lambda s: {"telecom": [{"system": "phone", "value": s}]},
    lambda s: {"address": [{"line": [s], "city": s, "text": s, "district": s}]},
    lambda s: {"address": {"line": [s], "postalCode": "76000"}},
    lambda s: {"note": [{"text": s, "authorString": s}]},
    lambda s: {"valueIdentifier": {"system": "urn:x", "value": s}},
    lambda s: {"preAdmissionIdentifier": {"value": s}},
    lambda s: {"photo": [{"contentType": "image/png", "data": s}]},
    lambda s: {"resourceType": "Patient", "id": "p9", "name": [{"family": s}], "birthDate": BIRTH},
    lambda s: {"resourceType": "Practitioner", "id": "d9", "name": [{"given": [s]}]},
    lambda s: {"resourceType": "RelatedPerson", "id": "r9", "name": [{"text": s}]},
]
WRAPPERS = [
    "component",
    "extension",
    "item",
    "part",
    "parameter",
    "resource",
    "detail",
    "participant",
    "actor",
    "valueReference",
    "partOf",
    "hospitalization",
    "foo",
    "reaction",
    "entity",
    "member",
    "contact",
    "modifierExtension",
    "coding",
]
ROOTS = [
    "Observation",
    "Encounter",
    "Parameters",
    "Condition",
    "Appointment",
    "Organization",
    "Claim",
    "Patient",
    "Group",
    "Provenance",
    "QuestionnaireResponse",
]


def _bury(rng: random.Random, value: dict, depth: int) -> dict:
    for _ in range(depth):
        key = rng.choice(WRAPPERS)
        if "resourceType" in value and rng.random() < 0.3:
            key = "contained"
        value = {key: [value] if key in ("contained", "coding") or rng.random() < 0.5 else value}
        if rng.random() < 0.3:
            value["url"] = "http://example.org/ext"
    return value


def _resource(rng: random.Random) -> dict:
    resource = {"resourceType": rng.choice(ROOTS), "id": "r1", "status": "final"}
    for _ in range(rng.randint(1, 3)):
        planted = _bury(rng, rng.choice(PLACES)(SECRET), rng.randint(0, 6))
        key = next(iter(planted))
        if key in resource and key != "contained":
            continue
        if key == "contained" or "resourceType" in planted:
            resource.setdefault("contained", []).extend(
                planted["contained"] if key == "contained" else [planted]
            )
        else:
            resource.update(planted)
    return resource


@pytest.mark.parametrize("seed", range(40))
def test_planted_identifying_values_never_survive_however_deep(seed):
    rng = random.Random(seed)
    pseudonymiser = Pseudonymiser(b"k" * 32, policies.default())
    for _ in range(100):
        resource = _resource(rng)
        before = orjson.dumps(resource).decode()
        try:
            pseudonymiser.apply(resource, "p", lambda r: None, lambda t, local, rewritten: None)
        except ResourceProblem:
            continue  # refused: nothing lands
        after = orjson.dumps(resource).decode()
        assert SECRET not in after and BIRTH not in after, before
