"""An incremental version (`ingest.run(..., base_version=...)`): the resources read upserted
onto the base version's by type and id, the deleted ones and the patients who opted out since
left out."""

import json

import pyarrow.parquet as pq
import pytest

from campus.optout.service import key_with
from campus.warehouse import layout, messages
from tests.unit.warehouse.samples import NIR_BODY, observation, patient, write_ndjson
from tests.unit.warehouse.test_ingest_files import OKEY, rows, run

OPTED = key_with(OKEY, "nir:" + NIR_BODY)


def test_rows_are_upserted_onto_the_base_deleted_ones_and_late_opt_outs_left_out(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    write_ndjson(first / "Patient.ndjson", [patient(), patient("pat-2", nir="2" * 13 + "00")])
    write_ndjson(
        first / "Observation.ndjson",
        [observation(f"o{i}", "Patient/pat-2") for i in range(3)]
        + [observation("mine", "Patient/pat-1")],
    )
    assert run(tmp_path, [first], on_error="abort").status == "published"
    before = {json.loads(r["resource"])["id"]: r for r in rows(tmp_path, "Observation")}
    second = tmp_path / "second"
    second.mkdir()
    changed = observation("o0", "Patient/pat-2", valueQuantity={"value": 1.0, "unit": "cm"})
    write_ndjson(second / "Observation.ndjson", [changed, observation("o9", "Patient/pat-2")])
    report = run(
        tmp_path,
        [second],
        registry={OPTED},  # pat-1 opted out since the first version
        on_error="abort",
        base_version="v0001",
        deleted=[("Observation", "o1")],
    )
    assert report.status == "published" and report.base_version == "v0001"
    # o1 deleted; pat-1 and their observation left out (opted out since)
    assert report.removed == 3
    assert report.landed == {"Observation": 3, "Patient": 1}
    after = {json.loads(r["resource"])["id"]: r for r in rows(tmp_path, "Observation")}
    [kept_patient] = rows(tmp_path, "Patient")
    assert {r["patient"] for r in after.values()} == {kept_patient["id"]}
    assert len(set(before) & set(after)) == 2  # o2 as it was, o0 replaced; o9 new
    values = sorted(json.loads(r["resource"])["valueQuantity"]["value"] for r in after.values())
    assert values == [1.0, 170.2, 170.2]  # the changed copy replaced the base's
    version = layout.resolve(tmp_path / "wh", "test")
    assert version.manifest["base_version"] == "v0001" and version.manifest["removed"] == 3
    keys = {k["optout_key"] for k in pq.read_table(version.optout_keys).to_pylist()}
    assert OPTED not in keys and keys  # pat-2's keys kept, pat-1's gone


def test_an_incremental_version_may_only_remove_resources(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    write_ndjson(first / "Patient.ndjson", [patient()])
    write_ndjson(first / "Observation.ndjson", [observation("o1", "Patient/pat-1")])
    run(tmp_path, [first], on_error="abort")
    report = run(
        tmp_path, [], on_error="abort", base_version="v0001", deleted=[("Observation", "o1")]
    )
    assert report.status == "published" and report.version == "v0002"
    assert report.landed == {"Patient": 1} and report.removed == 1
    assert set(layout.resolve(tmp_path / "wh", "test").tables()) == {"Patient"}


@pytest.mark.parametrize("native", [True, False])
def test_conditional_references_of_an_increment_resolve_against_the_base(tmp_path, native):
    """A server's `_since` export holds the new Encounter, not the Practitioner, Organization
    and Patient it names by identifier, which are in the version built upon."""
    from tests.unit.warehouse.test_conditional_across_files import (
        _organization,
        _practitioner,
        _pseudonym,
        _visit,
    )

    first = tmp_path / "first"
    first.mkdir()
    write_ndjson(first / "Patient.ndjson", [patient()])
    write_ndjson(first / "Practitioner.ndjson", [_practitioner("pr-1", "9999999999")])
    write_ndjson(first / "Organization.ndjson", [_organization("org-1")])
    assert run(tmp_path, [first], native=native, on_error="abort").status == "published"
    second = tmp_path / "second"
    second.mkdir()
    visit = _visit("e-new", "Patient/pat-1")
    visit["subject"] = {"reference": "Patient?identifier=urn:oid:1.2.250.1.71.4.2.7|MRN-0001"}
    write_ndjson(second / "Encounter.ndjson", [visit])
    report = run(tmp_path, [second], native=native, on_error="abort", base_version="v0001")
    assert report.status == "published" and report.errors == 0, report.problems
    [row] = rows(tmp_path, "Encounter")
    resource = json.loads(row["resource"])
    assert resource["participant"][0]["individual"]["reference"] == (
        f"Practitioner/{_pseudonym('Practitioner', 'pr-1')}"
    )
    assert resource["serviceProvider"]["reference"] == (
        f"Organization/{_pseudonym('Organization', 'org-1')}"
    )
    assert row["patient"] == _pseudonym("Patient", "pat-1")
    # The version built on also serves the next one: its keys are the base's and its own.
    third = tmp_path / "third"
    third.mkdir()
    write_ndjson(third / "Encounter.ndjson", [_visit("e-later", "Patient/pat-1")])
    later = run(tmp_path, [third], native=native, on_error="abort", base_version="v0002")
    assert later.status == "published" and later.errors == 0, later.problems


def test_a_patient_opted_out_since_is_not_found_in_the_base(tmp_path):
    from campus.optout.service import key_with as key

    first = tmp_path / "first"
    first.mkdir()
    write_ndjson(first / "Patient.ndjson", [patient()])
    assert run(tmp_path, [first], on_error="abort").status == "published"
    second = tmp_path / "second"
    second.mkdir()
    visit = observation("o-new", "Patient?identifier=urn:oid:1.2.250.1.71.4.2.7|MRN-0001")
    write_ndjson(second / "Observation.ndjson", [visit])
    report = run(
        tmp_path,
        [second],
        registry={key(OKEY, "nir:" + NIR_BODY)},
        on_error="skip",
        base_version="v0001",
    )
    # Their keys were not staged from the base: the reference finds no one, as if new.
    [problem] = report.problems
    assert problem.message == messages.UNRESOLVED_CONDITIONAL and problem.resource_id == "o-new"
    assert report.landed == {}
