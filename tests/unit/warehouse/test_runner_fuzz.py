"""Seeded fuzzing of a worker: resources whose elements are swapped at random for values of
the wrong type or shape (lists where texts go, texts where objects go, ids that are lists,
extension urls that are objects, dates at the calendar's edges, nested resources of unknown
types), in Bulk NDJSON and in a Bundle. Whatever arrives, the worker reports problems and goes
on: no exception leaves it, in plain or strict mode, with or without an opt-out registry."""

import copy
import random

import orjson
import pytest

from campus.warehouse import policy, sources
from campus.warehouse.worker import Config, Runner
from tests.unit.warehouse.samples import encounter, observation, patient, small_bundle

ODD = [
    None,
    True,
    0,
    -1,
    2**62,
    1.5e308,
    "",
    "9999-12-31",
    "0001-01-01",
    "0000",
    "2020-02-30",
    "Patient/x",
    "Patient/",
    "urn:uuid:nowhere",
    "#x",
    "Patient?identifier=a|b",
    "http://example.org/fhir/Patient/1",
    "x" * 70,
    "\u0000",
    [],
    {},
    [[]],
    [{}],
    [None],
    {"reference": 3},
    {"reference": "Patient/pat-1"},
    {"identifier": {"system": 3, "value": []}},
    {"identifier": [1]},
    {"resourceType": "Patient"},
    {"resourceType": 3},
    {"resourceType": "Bundle"},
    {"resourceType": "0001-01-01"},
    [{"url": ["a"], "valueString": "x"}],
    {"url": None, "valueString": "x"},
    {"system": [], "value": {}},
    {"coding": 3},
    {"coding": [3]},
]
KEYS = ["identifier", "subject", "patient", "reference", "start", "end", "contained"]
KEYS += ["extension", "display", "id", "meta", "birthDate", "address", "fullUrl", "resource"]


def _mutate(rng: random.Random, value, depth: int = 0):
    if depth > 6:
        return value
    if isinstance(value, dict):
        if value and rng.random() < 0.3:
            key = rng.choice(list(value))
            value[key] = copy.deepcopy(rng.choice(ODD))
        if rng.random() < 0.15:
            value[rng.choice(KEYS)] = copy.deepcopy(rng.choice(ODD))
        for key in list(value):
            if rng.random() < 0.25:
                value[key] = _mutate(rng, value[key], depth + 1)
    elif isinstance(value, list):
        for index in range(len(value)):
            if rng.random() < 0.25:
                value[index] = _mutate(rng, value[index], depth + 1)
        if rng.random() < 0.1:
            value.append(copy.deepcopy(rng.choice(ODD)))
    return value


def _samples() -> list[dict]:
    resources = [patient(), encounter("enc-1", "Patient/pat-1")]
    resources.append(observation("obs-1", "Patient/pat-1", "Encounter/enc-1"))
    resources.extend(entry["resource"] for entry in small_bundle()["entry"])
    return resources


@pytest.mark.parametrize("seed", range(24))
def test_no_input_makes_a_worker_raise(tmp_path, seed):
    rng = random.Random(seed)
    samples = _samples()
    with (tmp_path / "in.ndjson").open("wb") as handle:
        for _ in range(150):
            handle.write(orjson.dumps(_mutate(rng, copy.deepcopy(rng.choice(samples)))) + b"\n")
    data = _mutate(rng, small_bundle()) if rng.random() < 0.5 else small_bundle()
    for entry in data.get("entry") if isinstance(data.get("entry"), list) else ():
        _mutate(rng, entry)
    (tmp_path / "b.json").write_bytes(orjson.dumps(data))
    tasks = sources.plan([tmp_path / "in.ndjson", tmp_path / "b.json"])
    for registry in (frozenset(), frozenset({"some-key"})):
        strict = bool(registry) == (seed % 2 == 0)
        config = Config(
            str(tmp_path / f"staging-{len(registry)}"),
            b"k" * 32,
            b"o" * 32,
            policy.default().as_dict(),
            registry,
            strict,
            16 << 20,
            512 << 20,
        )
        runner = Runner(config, 0)
        results = [runner.run(task) for task in tasks]
        runner.close()
        assert sum(r.errors for r in results) > 0  # the mutations were seen
