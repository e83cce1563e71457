"""The synthetic demo hospital: reproducible, Synthea-shaped FHIR R4 that the ingest accepts."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date

from campus.warehouse import synthetic

TYPES = {
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "MedicationRequest",
    "Procedure",
    "Immunization",
    "AllergyIntolerance",
    "DiagnosticReport",
    "CarePlan",
    "Claim",
    "ExplanationOfBenefit",
    "Practitioner",
    "Organization",
    "Location",
}


def _resources(patients: int = 60, seed: int = synthetic.SEED):
    for _, bundle in synthetic.generate(patients, seed):
        for entry in bundle["entry"]:
            yield entry["resource"]


def _codings(value):
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            yield value
        for child in value.values():
            yield from _codings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _codings(child)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones(tmp_path):
    first = synthetic.write(tmp_path / "a", 5)
    second = synthetic.write(tmp_path / "b", 5)
    other = synthetic.write(tmp_path / "c", 5, seed=7)
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
    assert len(first) == 7  # the hospital, its practitioners, five patients


def test_the_hospital_has_every_resource_type_of_the_synthea_sample_it_stands_for():
    counts = Counter(r["resourceType"] for r in _resources())
    assert set(counts) == TYPES
    assert counts["Patient"] == 60
    assert counts["Observation"] > 10 * counts["Patient"]


def test_every_code_has_a_display_label_from_the_terminologies_synthea_uses():
    systems = Counter()
    for resource in _resources(20):
        for coding in _codings(resource):
            if coding["system"] in (synthetic.SNOMED, synthetic.LOINC, synthetic.RXNORM):
                assert coding.get("display"), coding
            systems[coding["system"]] += 1
    assert systems[synthetic.SNOMED] and systems[synthetic.LOINC] and systems[synthetic.RXNORM]


def test_patients_carry_us_core_extensions_and_some_have_died_after_birth_before_the_end():
    patients = [r for r in _resources() if r["resourceType"] == "Patient"]
    for patient in patients:
        urls = {e["url"] for e in patient["extension"]}
        assert {
            f"{synthetic.US_CORE}/us-core-race",
            f"{synthetic.US_CORE}/us-core-ethnicity",
            f"{synthetic.US_CORE}/us-core-birthsex",
        } <= urls
    dead = [p for p in patients if "deceasedDateTime" in p]
    assert dead
    for patient in dead:
        died = date.fromisoformat(patient["deceasedDateTime"][:10])
        assert date.fromisoformat(patient["birthDate"]) < died <= synthetic.END.date()


def test_observations_carry_values_with_ucum_units_and_encounters_stay_in_the_patients_life():
    resources = list(_resources(20))
    births = {r["id"]: r["birthDate"] for r in resources if r["resourceType"] == "Patient"}
    quantities = [
        r["valueQuantity"]
        for r in resources
        if r["resourceType"] == "Observation" and "valueQuantity" in r
    ]
    assert quantities and all(q["system"] == synthetic.UCUM and q["unit"] for q in quantities)
    for encounter in (r for r in resources if r["resourceType"] == "Encounter"):
        patient = encounter["subject"]["reference"].removeprefix("urn:uuid:")
        start = encounter["period"]["start"][:10]
        assert births[patient] <= start <= synthetic.END.date().isoformat()


def test_every_in_bundle_reference_resolves_in_its_bundle_and_shared_ones_in_the_hospital():
    bundles = list(synthetic.generate(10))
    shared = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for _, bundle in bundles[:2]
        for e in bundle["entry"]
    }
    for _, bundle in bundles[2:]:
        local = {e["fullUrl"] for e in bundle["entry"]}
        text = json.dumps(bundle)
        for reference in set(re.findall(r'"reference": "([^"]+)"', text)):
            assert reference in local or reference in shared, reference
