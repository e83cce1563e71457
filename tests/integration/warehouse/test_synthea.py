"""The shared Synthea sample, ingested once: privacy, opt-out, catalogue and dummy twin."""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections import Counter

import orjson
import pyarrow.parquet as pq

from campus.warehouse.dummy import DUMMY_TAG
from campus.warehouse.worker import EFFECTIVE_PATHS, PATIENT_KEYS
from tests.integration.warehouse.conftest import OPTED_OUT

BUNDLES = ("data", "synthea-r4", "bundles")
WORD = re.compile(r"[^A-Za-z0-9\-]+")


@functools.cache
def _bundles(shared_dir) -> list[tuple[str, dict]]:
    """(file name, Bundle) of the sample, read once for the tests of this module."""
    return [
        (path.name, orjson.loads(path.read_bytes()))
        for path in sorted(shared_dir.joinpath(*BUNDLES).glob("*.json"))
    ]


def _source_resources(shared_dir, *types: str):
    for name, bundle in _bundles(shared_dir):
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] in types:
                yield name, entry["resource"]


def _source_patients(shared_dir):
    yield from _source_resources(shared_dir, "Patient")


def _full_names(person) -> set[str]:
    """ "Aleta Wintheiser": given names and family, as reference displays write them."""
    return {
        " ".join([*name.get("given", []), name["family"]])
        for name in person.get("name", [])
        if "family" in name
    }


def _name_parts(person) -> set[str]:
    parts = set()
    for name in person.get("name", []):
        parts.update(name.get("given", []))
        parts.update([name["family"]] if "family" in name else [])
    return {p for p in parts if len(p) >= 3}


def _other_secrets(patient):
    """Every other direct identifier of a source patient, as it is written in the source."""
    found = set()
    found.update(t["value"] for t in patient.get("telecom", []))
    for address in patient.get("address", []):
        found.update(address.get("line", []))
    found.update(i["value"] for i in patient.get("identifier", []))
    for extension in patient.get("extension", []):
        if "valueString" in extension:
            found.update(extension["valueString"].split())  # mother's maiden name
    return {s for s in found if len(s) >= 3}


def _walk(value, visit):
    if isinstance(value, dict):
        visit(value)
        for item in value.values():
            _walk(item, visit)
    elif isinstance(value, list):
        for item in value:
            _walk(item, visit)


def _term_words(shared_dir) -> set[str]:
    """Words of what is no one's name and is kept: clinical terms (the `display` of a Coding,
    next to its `code`) and the names of organisations and locations ("Quincy Outpatient
    Clinic"). Not the display of a reference, which holds patients' and practitioners' names."""
    words: set[str] = set()

    def visit(item: dict) -> None:
        if isinstance(item.get("display"), str) and "code" in item and "reference" not in item:
            words.update(WORD.split(item["display"]))
        if item.get("resourceType") in ("Organization", "Location") and "name" in item:
            words.update(WORD.split(item["name"]))

    for _, bundle in _bundles(shared_dir):
        _walk(bundle, visit)
    return words


def _reference_displays(shared_dir) -> set[str]:
    found: set[str] = set()

    def visit(item: dict) -> None:
        if "reference" in item and isinstance(item.get("display"), str):
            found.add(item["display"])

    for _, bundle in _bundles(shared_dir):
        _walk(bundle, visit)
    return found


def _leaves(value, into):
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item, into)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, into)
    elif isinstance(value, str):
        into.add(value)


def _leaks(values: set[str], raw: bytes, shared_dir) -> list[str]:
    """The names and identifiers of the source's patients and practitioners found in `values`
    (strings, whole) or `raw` (bytes). A full name counts anywhere in a value ("Mrs. Aleta
    Wintheiser"); a name part counts as a whole word, unless it is also a word of a clinical
    term ("White oak IgE Ab") or of a place's name; other identifiers as whole values or
    words. Raw bytes are compressed: only long secrets can be told from chance byte sequences
    there."""
    terms = _term_words(shared_dir)
    people = list(_source_resources(shared_dir, "Patient", "Practitioner"))
    last_words = {WORD.split(full)[-1] for _, person in people for full in _full_names(person)}
    tokens: set[str] = set()
    holding: dict[str, list[str]] = {}  # a full name's last word -> the values holding it
    for value in values:
        words = WORD.split(value)
        tokens.update(words)
        for word in last_words.intersection(words):
            holding.setdefault(word, []).append(value)
    tokens -= terms
    leaks = []
    for type_name, person in people:
        for full in _full_names(person):
            candidates = holding.get(WORD.split(full)[-1], ())
            if any(full in value for value in candidates) or full.encode() in raw:
                leaks.append(full)
        others = _other_secrets(person) if type_name == "Patient" else set()
        for secret in (_name_parts(person) - terms) | others:
            in_raw = len(secret) >= 6 and secret.encode() in raw
            if in_raw or secret in values or secret in tokens:
                leaks.append(secret)
    return leaks


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
    assert _leaks(values, raw, shared_dir) == []


def test_the_privacy_check_finds_names_that_reference_displays_would_leak(shared_dir):
    """Guards the test above: were reference displays kept, it would see the names in them."""
    displays = _reference_displays(shared_dir)
    assert "Mrs. Aleta Wintheiser" in displays
    leaks = set(_leaks(displays, b"", shared_dir))
    assert {"Aleta Wintheiser", "Aleta", "Wintheiser"} <= leaks
    patients = [p for _, p in _source_patients(shared_dir)]
    assert sum(bool(_full_names(p) & leaks) for p in patients) == len(patients)


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


# Every element the dummy twin writes (`campus.warehouse.dummy`), as dotted paths to its leaves:
# a record with any other element (a name, a narrative, a note, an identifier, an address, a
# display, an encounter...) was not drawn by the twin.
CODE_KEYS = ("code", "vaccineCode", "medicationCodeableConcept", "type")
TWIN_LEAVES = (
    {"resourceType", "id", "status", "gender", "birthDate", "meta.tag.system", "meta.tag.code"}
    | {"valueQuantity.value", "valueQuantity.unit", "class.system", "class.code"}
    | {f"{key}.coding.{leaf}" for key in CODE_KEYS for leaf in ("system", "code")}
    | {f"{key}.reference" for key in PATIENT_KEYS}
    | {".".join(path) for path in EFFECTIVE_PATHS}
)
DRAWN_DATE = re.compile(r"\d{4}-\d{2}(-\d{2}T\d{2}:\d{2}:00Z)?")


def _leaf_paths(value, prefix="") -> set[str]:
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in _leaf_paths(v, f"{prefix}{k}.")}
    if isinstance(value, list):
        return {p for item in value for p in _leaf_paths(item, prefix)}
    return {prefix[:-1]}


def _clinical_content(resource: dict) -> bytes:
    """A resource without what the twin makes up for each record: id, meta, patient."""
    kept = {k: v for k, v in resource.items() if k not in ("id", "meta", *PATIENT_KEYS)}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)


def _not_drawn(real: dict[str, list[dict]], dummy: dict[str, list[dict]]) -> list[str]:
    """What shows that twin records were not drawn afresh: elements the twin never writes,
    dates it never draws, links to real patients, or the clinical content of a real record."""
    found = []
    dummy_patients = {row["id"] for row in dummy.get("Patient", [])}
    for type_name, rows in dummy.items():
        real_contents = {_clinical_content(orjson.loads(r["resource"])) for r in real[type_name]}
        for row in rows:
            resource = orjson.loads(row["resource"])
            where = f"{type_name}/{row['id']}"
            foreign = _leaf_paths(resource) - TWIN_LEAVES
            if foreign:
                found.append(f"{where}: elements the twin never writes: {sorted(foreign)}")
            if resource.get("meta") != {"tag": [DUMMY_TAG]}:
                found.append(f"{where}: not tagged synthetic")
            dates = [row["effective"], resource.get("birthDate")]
            if any(d is not None and not DRAWN_DATE.fullmatch(d) for d in dates):
                found.append(f"{where}: a date the twin does not draw: {dates}")
            if row["patient"] is not None and row["patient"] not in dummy_patients:
                found.append(f"{where}: linked to a patient outside the twin")
            if _clinical_content(resource) in real_contents:
                found.append(f"{where}: the clinical content of a real {type_name}")
    return found


def _rows(tables: dict) -> dict[str, list[dict]]:
    return {name: pq.read_table(path).to_pylist() for name, path in tables.items()}


def test_no_dummy_record_is_a_real_one_or_holds_what_the_twin_never_draws(synthea):
    _, version = synthea
    real, dummy = _rows(version.tables("real")), _rows(version.tables("dummy"))
    assert set(real) == set(dummy)
    assert _not_drawn(real, dummy) == []


def test_the_copy_check_flags_a_twin_that_copies_real_records_under_new_ids(synthea):
    """Guards the test above: a twin made of real records with fresh ids, fresh patients and
    the synthetic tag (what comparing whole records or ids could not see) is caught."""
    _, version = synthea
    real = _rows(version.tables("real"))
    copied: dict[str, list[dict]] = {}
    for type_name in ("Patient", "Observation", "Condition"):
        copied[type_name] = []
        for row in real[type_name]:
            resource = orjson.loads(row["resource"])
            fresh = secrets.token_hex(16)
            patient = fresh if type_name == "Patient" else secrets.token_hex(16)
            resource.update(id=fresh, meta={"tag": [DUMMY_TAG]})
            for key in PATIENT_KEYS:
                if key in resource:
                    resource[key] = {"reference": f"Patient/{patient}"}
            copy = {**row, "id": fresh, "patient": patient, "resource": orjson.dumps(resource)}
            copied[type_name].append(copy)
    found = _not_drawn(real, copied)
    for type_name in copied:
        assert any(f.startswith(type_name) and "elements the twin never" in f for f in found)
        assert any(f.startswith(type_name) and "clinical content of a real" in f for f in found)


def test_the_dummy_twin_is_synthetic_with_similar_code_frequencies(synthea):
    _, version = synthea
    real_tables, dummy_tables = version.tables("real"), version.tables("dummy")
    assert set(real_tables) == set(dummy_tables)
    for type_name in ("Observation", "Condition", "Encounter", "Patient"):
        real = pq.read_table(real_tables[type_name])
        dummy = pq.read_table(dummy_tables[type_name])
        assert real.schema.names == dummy.schema.names
    real_codes = Counter(pq.read_table(real_tables["Observation"]).column("code").to_pylist())
    dummy_codes = Counter(pq.read_table(dummy_tables["Observation"]).column("code").to_pylist())
    assert set(dummy_codes) <= {c for c, n in real_codes.items() if n >= 10}
    total_real, total_dummy = sum(real_codes.values()), sum(dummy_codes.values())
    distance = 0.5 * sum(
        abs(real_codes[c] / total_real - dummy_codes[c] / total_dummy)
        for c in set(real_codes) | set(dummy_codes)
    )
    assert distance < 0.1
