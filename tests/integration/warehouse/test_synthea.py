"""The shared Synthea sample, ingested once: privacy, opt-out, catalogue and dummy twin."""

from __future__ import annotations

import json
import re
from collections import Counter

import orjson
import pyarrow.parquet as pq

from tests.integration.warehouse.conftest import OPTED_OUT


def _source_patients(shared_dir):
    for path in sorted((shared_dir / "data" / "synthea-r4" / "bundles").glob("*.json")):
        for entry in orjson.loads(path.read_bytes())["entry"]:
            if entry["resource"]["resourceType"] == "Patient":
                yield path.name, entry["resource"]


def _secrets(patient):
    """Every direct identifier of a source patient, as it is written in the source."""
    found = set()
    for name in patient.get("name", []):
        found.add(name["family"])
        found.update(name.get("given", []))
    found.update(t["value"] for t in patient.get("telecom", []))
    for address in patient.get("address", []):
        found.update(address.get("line", []))
    found.update(i["value"] for i in patient.get("identifier", []))
    for extension in patient.get("extension", []):
        if "valueString" in extension:
            found.update(extension["valueString"].split())  # mother's maiden name
    return {s for s in found if len(s) >= 3}


def _clinical_words(shared_dir) -> set[str]:
    words: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "display" and isinstance(item, str):
                    words.update(re.split(r"[^A-Za-z0-9\-]+", item))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted((shared_dir / "data" / "synthea-r4" / "bundles").glob("*.json")):
        walk(orjson.loads(path.read_bytes()))
    return words


def _leaves(value, into):
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item, into)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, into)
    elif isinstance(value, str):
        into.add(value)


def test_nothing_identifying_comes_out_of_the_warehouse(synthea, shared_dir):
    report, version = synthea
    assert report.status == "published" and report.errors == 0
    raw = b"".join(p.read_bytes() for p in version.path.rglob("*") if p.is_file())
    values: set[str] = set()
    for table in version.path.rglob("*.parquet"):
        for column in pq.read_table(table).columns:
            for value in column.to_pylist():
                if isinstance(value, str):
                    values.add(value)
                    if value.startswith("{"):
                        _leaves(orjson.loads(value), values)
    for path in version.path.glob("*.json"):
        _leaves(json.loads(path.read_text()), values)
    # A name may also be a word of a kept clinical term ("White oak IgE Ab"): such words
    # count as leaks only as whole values. Raw bytes are compressed: only long secrets
    # can be told from chance byte sequences there.
    terms = _clinical_words(shared_dir)
    tokens = {t for v in values for t in re.split(r"[^A-Za-z0-9\-]+", v)} - terms
    leaks = []
    for _, patient in _source_patients(shared_dir):
        for secret in _secrets(patient):
            in_raw = len(secret) >= 6 and secret.encode() in raw
            if in_raw or secret in values or secret in tokens:
                leaks.append(secret)
    assert leaks == []


def test_no_full_birth_date_remains_and_none_shows_in_the_patients_own_records(synthea, shared_dir):
    """Birth dates become year-month; care dates are shifted, so the day of birth (Synthea
    records a visit on it) does not show in the patient's own records."""
    _, version = synthea
    patients = pq.read_table(version.tables()["Patient"]).to_pylist()
    assert all(
        re.fullmatch(r"\d{4}-\d{2}", json.loads(p["resource"])["birthDate"]) for p in patients
    )
    by_patient: dict[str, list[str]] = {}
    for table in version.tables().values():
        for row in pq.read_table(table, columns=["patient", "resource"]).to_pylist():
            if row["patient"]:
                by_patient.setdefault(row["patient"], []).append(row["resource"])
    births = {p["id"]: p for p in patients}
    assert len(births) == 80
    sources = {p["birthDate"] for _, p in _source_patients(shared_dir)}
    patient_text = "\n".join(r for rows in by_patient.values() for r in rows)
    assert sum(birth in patient_text for birth in sources) < len(sources) // 4
    for pseudonym, records in by_patient.items():
        assert pseudonym in births


def test_the_opted_out_patient_left_no_trace(synthea, shared_dir):
    report, version = synthea
    assert report.dropped_optout > 100
    opted = next(p for name, p in _source_patients(shared_dir) if name == OPTED_OUT)
    assert report.landed["Patient"] == 80
    keys = pq.read_table(version.optout_keys).to_pylist()
    assert len({k["patient"] for k in keys}) == 80
    patients = {p["id"] for p in pq.read_table(version.tables()["Patient"]).to_pylist()}
    for table in version.tables().values():
        column = pq.read_table(table, columns=["patient"]).column("patient").to_pylist()
        assert {c for c in column if c} <= patients
    assert opted["id"] not in json.dumps(version.manifest)


def test_references_resolve_and_joins_work_on_pseudonyms(synthea):
    report, version = synthea
    assert report.unresolved_references == 0
    encounters = {r["id"] for r in pq.read_table(version.tables()["Encounter"]).to_pylist()}
    observations = pq.read_table(version.tables()["Observation"]).to_pylist()
    linked = [
        json.loads(o["resource"]).get("encounter", {}).get("reference", "") for o in observations
    ]
    assert sum(ref.removeprefix("Encounter/") in encounters for ref in linked) == len(linked)
    # 404 Organizations and 404 Practitioners in the files, 203 distinct ids of each
    assert report.duplicates == (404 - 203) * 2


def test_the_catalogue_masks_small_counts_and_measures_completeness(synthea):
    _, version = synthea
    catalogue = json.loads((version.path / "catalogue.json").read_text())
    assert catalogue["patients"] == 80
    assert catalogue["types"]["Device"]["count"] in ("<10", 0)
    assert catalogue["types"]["AllergyIntolerance"]["count"] == 18 or isinstance(
        catalogue["types"]["AllergyIntolerance"]["count"], int
    )
    loinc = catalogue["types"]["Observation"]["top_codes"]["http://loinc.org"]
    assert len(loinc) == 10 and all(isinstance(c["count"], int) for c in loinc[:3])
    counts = [
        c["count"] for t in catalogue["types"].values() for s in t["top_codes"].values() for c in s
    ]
    assert all(c == "<10" or c >= 10 for c in counts)
    assert catalogue["types"]["Observation"]["completeness"]["status"] == 1.0
    assert catalogue["first"] < catalogue["last"]


def test_the_dummy_twin_is_synthetic_with_similar_code_frequencies(synthea):
    _, version = synthea
    real_tables, dummy_tables = version.tables("real"), version.tables("dummy")
    assert set(real_tables) == set(dummy_tables)
    for type_name in ("Observation", "Condition", "Encounter", "Patient"):
        real = pq.read_table(real_tables[type_name])
        dummy = pq.read_table(dummy_tables[type_name])
        assert real.schema.names == dummy.schema.names
        assert not set(real.column("resource").to_pylist()) & set(
            dummy.column("resource").to_pylist()
        )
        assert not set(real.column("id").to_pylist()) & set(dummy.column("id").to_pylist())
    real_codes = Counter(pq.read_table(real_tables["Observation"]).column("code").to_pylist())
    dummy_codes = Counter(pq.read_table(dummy_tables["Observation"]).column("code").to_pylist())
    assert set(dummy_codes) <= {c for c, n in real_codes.items() if n >= 10}
    total_real, total_dummy = sum(real_codes.values()), sum(dummy_codes.values())
    distance = 0.5 * sum(
        abs(real_codes[c] / total_real - dummy_codes[c] / total_dummy)
        for c in set(real_codes) | set(dummy_codes)
    )
    assert distance < 0.1
    real_rows = {
        (r["patient"], r["code"], r["effective"])
        for r in pq.read_table(real_tables["Observation"]).to_pylist()
    }
    dummy_rows = {
        (r["patient"], r["code"], r["effective"])
        for r in pq.read_table(dummy_tables["Observation"]).to_pylist()
    }
    assert not real_rows & dummy_rows
