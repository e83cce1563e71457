"""Bulk NDJSON resources that name their patient by identifier, the Patient being in another
file: found in a second pass among the Patients landed (`campus.warehouse.deferred`)."""

import json

import pytest

from campus.optout.service import key_with
from campus.warehouse import messages
from tests.unit.warehouse.samples import (
    INS_SYSTEM,
    NIR,
    NIR_BODY,
    observation,
    patient,
    write_ndjson,
)
from tests.unit.warehouse.test_ingest_files import OKEY, rows, run

MRN_SYSTEM = "urn:oid:1.2.250.1.71.4.2.7"


def _bulk(tmp_path, observations: list[dict], patients: list[dict] | None = None):
    folder = tmp_path / "bulk"
    folder.mkdir()
    write_ndjson(folder / "Patient.ndjson", [patient()] if patients is None else patients)
    write_ndjson(folder / "Observation.ndjson", observations)
    return folder


def _logical(oid: str, system: str = INS_SYSTEM, value: str = NIR) -> dict:
    resource = observation(oid, "Patient/unused")
    resource["subject"] = {"identifier": {"system": system, "value": value}, "display": "J. D."}
    return resource


def _conditional(oid: str, system: str = MRN_SYSTEM, value: str = "MRN-0001") -> dict:
    return observation(oid, f"Patient?identifier={system}|{value}")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_patient_named_by_identifier_in_another_file_is_found_after_the_workers(
    tmp_path, workers
):
    literal = observation("o1", "Patient/pat-1")
    folder = _bulk(tmp_path, [literal, _logical("o2"), _conditional("o3")])
    report = run(tmp_path, [folder], workers=workers)
    assert report.landed == {"Patient": 1, "Observation": 3}, report.problems
    assert report.read == 4 and not report.problems
    [pat] = rows(tmp_path, "Patient")
    landed = {json.loads(r["resource"])["id"]: r for r in rows(tmp_path, "Observation")}
    # Same patient column, same (the patient's) date offset, whichever way it was named.
    assert {r["patient"] for r in landed.values()} == {pat["id"]}
    assert len({r["effective"] for r in landed.values()}) == 1
    assert not next(iter(landed.values()))["effective"].startswith("2020-03-01")
    subjects = [json.loads(r["resource"])["subject"] for r in landed.values()]
    assert {"reference": f"Patient/{pat['id']}"} in subjects  # the conditional, rewritten
    logical = next(s for s in subjects if "identifier" in s)
    assert "value" not in logical["identifier"] and "display" not in logical


def test_a_conditional_reference_that_matches_no_patient_is_still_refused_at_its_line(tmp_path):
    folder = _bulk(tmp_path, [_conditional("o1"), _conditional("o2", value="MRN-9999")])
    report = run(tmp_path, [folder])
    assert report.landed == {"Patient": 1, "Observation": 1}
    [problem] = report.problems
    assert (problem.file, problem.line) == ("Observation.ndjson", 2)
    assert problem.message == messages.UNRESOLVED_CONDITIONAL
    assert problem.path == "subject.reference"


def test_a_logical_reference_that_matches_no_patient_lands_with_its_own_offset(tmp_path):
    other = NIR_BODY[:-1] + "1"
    folder = _bulk(tmp_path, [_logical("o1"), _logical("o2", value=other)])
    report = run(tmp_path, [folder])
    assert report.landed == {"Patient": 1, "Observation": 2}, report.problems
    patients = {r["patient"] for r in rows(tmp_path, "Observation")}
    assert patients == {rows(tmp_path, "Patient")[0]["id"], None}


def test_an_opted_out_patient_named_by_identifier_elsewhere_is_dropped_too(tmp_path):
    folder = _bulk(tmp_path, [observation("o1", "Patient/pat-1"), _conditional("o2")])
    report = run(tmp_path, [folder], registry={key_with(OKEY, "nir:" + NIR_BODY)})
    assert report.landed == {} and report.dropped_optout == 3


def test_lines_of_deferred_resources_are_those_of_their_file_across_chunks(tmp_path, monkeypatch):
    from campus.warehouse import sources

    monkeypatch.setattr(sources, "CHUNK_BYTES", 2048)  # several chunks per file
    filler = [observation(f"f{n}", "Patient/pat-1") for n in range(12)]
    bad = _conditional("bad", value="MRN-9999")
    folder = _bulk(tmp_path, [*filler, _conditional("good"), *filler[:3], bad])
    report = run(tmp_path, [folder], workers=2)
    assert report.landed["Observation"] == 13
    [problem] = report.problems
    assert problem.line == 17 and problem.file == "Observation.ndjson"
