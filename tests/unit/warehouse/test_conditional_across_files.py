"""Conditional references across the files of one ingest (Synthea's standard export: the
Practitioners and Organizations in Bundles of their own, named from every patient's Bundle as
`Type?identifier=system|value`), in Bundles and in Bulk NDJSON, by the Python and native paths."""

import json

import pytest

from campus.warehouse import messages
from campus.warehouse.policy import default
from campus.warehouse.pseudonymise import Pseudonymiser
from tests.unit.warehouse.samples import bundle, encounter, patient, write_json, write_ndjson
from tests.unit.warehouse.test_ingest_files import PKEY, rows, run

NPI = "http://hl7.org/fhir/sid/us-npi"
SYNTHEA = "https://github.com/synthetichealth/synthea"


def _practitioner(pid: str, npi: str) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "identifier": [{"system": NPI, "value": npi}],
        "name": [{"family": "Ortiz", "given": ["Otis"]}],
    }


def _organization(oid: str) -> dict:
    return {
        "resourceType": "Organization",
        "id": oid,
        "identifier": [{"system": SYNTHEA, "value": oid}],
        "name": "HOLYOKE MEDICAL CENTER",
    }


def _visit(eid: str, subject: str, npi: str = "9999999999", org: str = "org-1") -> dict:
    resource = encounter(eid, subject)
    resource["participant"] = [
        {"individual": {"reference": f"Practitioner?identifier={NPI}|{npi}", "display": "Dr. O"}}
    ]
    resource["serviceProvider"] = {"reference": f"Organization?identifier={SYNTHEA}|{org}"}
    return resource


def _pseudonym(type_name: str, source_id: str) -> str:
    return Pseudonymiser(PKEY, default()).pseudonym(type_name, source_id)


def _synthea_like(folder):
    folder.mkdir()
    write_json(
        folder / "practitionerInformation1.json",
        bundle([_practitioner("pr-1", "9999999999"), _practitioner("pr-2", "9999999998")], "batch"),
    )
    write_json(folder / "hospitalInformation1.json", bundle([_organization("org-1")], "batch"))
    write_json(
        folder / "Jeanne_Dupont.json",
        bundle(
            [
                patient(),
                _visit("enc-1", "urn:uuid:pat-1"),
                _visit("enc-2", "urn:uuid:pat-1", npi="9999999998"),
                encounter("enc-3", "urn:uuid:pat-1"),
            ]
        ),
    )
    return folder


@pytest.mark.parametrize("workers", [1, 2])
def test_encounters_of_a_patient_bundle_find_practitioners_of_another_file(tmp_path, workers):
    folder = _synthea_like(tmp_path / "synthea")
    report = run(tmp_path, [folder], workers=workers, on_error="abort")
    assert report.status == "published", report.problems
    assert report.landed == {"Practitioner": 2, "Organization": 1, "Patient": 1, "Encounter": 3}
    assert report.errors == 0 and report.skipped == 0 and report.read == 7
    visits = {json.loads(r["resource"])["id"]: r for r in rows(tmp_path, "Encounter")}
    patient_id = _pseudonym("Patient", "pat-1")
    assert {r["patient"] for r in visits.values()} == {patient_id}
    assert len({r["effective"] for r in visits.values()}) == 1  # the patient's own date shift
    resources = {k: json.loads(r["resource"]) for k, r in visits.items()}
    first = resources[_pseudonym("Encounter", "enc-1")]
    second = resources[_pseudonym("Encounter", "enc-2")]
    assert first["subject"] == {"reference": f"Patient/{patient_id}"}
    assert first["participant"][0]["individual"] == {
        "reference": f"Practitioner/{_pseudonym('Practitioner', 'pr-1')}"
    }
    assert second["participant"][0]["individual"]["reference"] == (
        f"Practitioner/{_pseudonym('Practitioner', 'pr-2')}"
    )
    assert first["serviceProvider"] == {
        "reference": f"Organization/{_pseudonym('Organization', 'org-1')}"
    }
    # Nothing the workers staged to find them is left in the version.
    assert not report.unresolved_references
    published = next((tmp_path / "wh" / "test" / "versions").iterdir())
    assert not (published / "idkeys").exists() and not (published / "deferred").exists()


def test_a_conditional_reference_nothing_matches_is_refused_at_its_entry(tmp_path):
    folder = _synthea_like(tmp_path / "synthea")
    write_json(
        folder / "Other.json",
        bundle([patient("pat-2", mrn="MRN-2"), _visit("enc-9", "urn:uuid:pat-2", npi="1")]),
    )
    refused = run(tmp_path, [folder], on_error="abort")
    assert refused.status == "aborted" and refused.skipped == 1
    [problem] = [p for p in refused.problems if p.severity == "error"]
    assert (problem.file, problem.entry, problem.resource_type) == ("Other.json", 1, "Encounter")
    assert problem.message == messages.UNRESOLVED_CONDITIONAL
    assert problem.path == "participant.[0].individual.reference"


@pytest.mark.parametrize("native", [True, False])
def test_bulk_ndjson_encounters_find_practitioners_of_another_file(tmp_path, native):
    folder = tmp_path / "bulk"
    folder.mkdir()
    write_ndjson(folder / "Patient.ndjson", [patient()])
    write_ndjson(folder / "Practitioner.ndjson", [_practitioner("pr-1", "9999999999")])
    write_ndjson(folder / "Organization.ndjson", [_organization("org-1")])
    write_ndjson(folder / "Encounter.ndjson", [_visit(f"e{i}", "Patient/pat-1") for i in range(5)])
    report = run(tmp_path, [folder], native=native, on_error="abort")
    assert report.status == "published" and report.errors == 0, report.problems
    assert report.landed["Encounter"] == 5
    for row in rows(tmp_path, "Encounter"):
        resource = json.loads(row["resource"])
        assert resource["participant"][0]["individual"]["reference"] == (
            f"Practitioner/{_pseudonym('Practitioner', 'pr-1')}"
        )


def test_native_and_python_paths_stage_the_same_rows_for_indexed_types(tmp_path):
    """The native path gives the lines of the indexed types back to the Python path, which
    stages their identifiers: both ingests are the same, row for row."""
    found = {}
    for native in (True, False):
        base = tmp_path / str(native)
        base.mkdir()
        folder = base / "bulk"
        folder.mkdir()
        write_ndjson(folder / "Practitioner.ndjson", [_practitioner("pr-1", "9999999999")])
        write_ndjson(folder / "Organization.ndjson", [_organization("org-1")])
        write_ndjson(folder / "Encounter.ndjson", [_visit("e1", "Patient/pat-1")])
        run(base, [folder], native=native, on_error="abort")
        found[native] = {t: rows(base, t) for t in ("Practitioner", "Organization", "Encounter")}
    assert found[True] == found[False]
