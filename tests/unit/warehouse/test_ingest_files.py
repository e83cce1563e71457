"""The ingest engine on small files: formats, references, opt-out, and every kind of bad input."""

import gzip
import json

import pyarrow.parquet as pq
import pytest

from campus.optout.service import key_with
from campus.warehouse import ingest, layout, policy
from tests.unit.warehouse.samples import (
    INS_SYSTEM,
    NIR,
    NIR_BODY,
    bundle,
    encounter,
    observation,
    patient,
    small_bundle,
    write_json,
    write_ndjson,
)

PKEY, OKEY = b"p" * 32, b"o" * 32


def run(tmp_path, paths, registry=(), **options):
    options.setdefault("workers", 1)
    # These tests check what lands beside the problems they report: skipping is their point.
    options.setdefault("on_error", "skip")
    return ingest.run(
        tmp_path / "wh",
        "test",
        [p for p in paths],
        policy=policy.default(),
        pseudonym_key=PKEY,
        optout_secret=OKEY,
        registry=set(registry),
        actor="account:tester",
        **options,
    )


def rows(tmp_path, type_name, kind="real"):
    version = layout.resolve(tmp_path / "wh", "test")
    return pq.read_table(version.tables(kind)[type_name]).to_pylist()


def test_a_transaction_bundle_lands_as_a_pseudonymised_version(tmp_path):
    report = run(tmp_path, [write_json(tmp_path / "b.json", small_bundle())])
    assert report.status == "published" and report.version == "v0001", report.problems
    assert report.landed == {"Patient": 1, "Encounter": 1, "Observation": 2}
    [pat] = rows(tmp_path, "Patient")
    assert list(pat) == list(layout.KEY_COLUMNS)
    observations = rows(tmp_path, "Observation")
    assert {o["patient"] for o in observations} == {pat["id"]}  # urn:uuid and conditional
    for o in observations:
        resource = json.loads(o["resource"])
        assert resource["subject"]["reference"] == f"Patient/{pat['id']}"
        assert o["code"] == "http://loinc.org|8302-2"
        assert o["effective"] == resource["effectiveDateTime"]
    manifest = layout.resolve(tmp_path / "wh", "test").manifest
    assert manifest["policy"]["sha256"] == policy.default().digest
    assert manifest["sources"][0]["sha256"] and manifest["counts"]["Observation"] == 2
    assert manifest["sizes"]["real/Patient/part-0.parquet"] > 0


def test_optout_keys_map_every_identifier_hash_to_the_patient_pseudonym(tmp_path):
    run(tmp_path, [write_json(tmp_path / "b.json", small_bundle())])
    version = layout.resolve(tmp_path / "wh", "test")
    keys = {r["optout_key"]: r["patient"] for r in pq.read_table(version.optout_keys).to_pylist()}
    [pat] = rows(tmp_path, "Patient")
    assert keys[key_with(OKEY, "nir:" + NIR_BODY)] == pat["id"]
    assert keys[key_with(OKEY, "urn:oid:1.2.250.1.71.4.2.7|MRN-0001")] == pat["id"]


def test_an_opted_out_patient_is_dropped_with_all_their_resources(tmp_path):
    other = bundle(
        [
            patient("pat-2", nir="2840576451089" + "xx", mrn="MRN-2"),
            observation("obs-9", "urn:uuid:pat-2"),
        ]
    )
    registry = {key_with(OKEY, "nir:" + NIR_BODY)}
    report = run(
        tmp_path,
        [write_json(tmp_path / "a.json", small_bundle()), write_json(tmp_path / "b.json", other)],
        registry,
    )
    assert report.landed == {"Patient": 1, "Observation": 1}
    assert report.dropped_optout == 4
    assert json.loads(rows(tmp_path, "Patient")[0]["resource"])["gender"] == "female"


def test_optout_works_across_ndjson_files_too(tmp_path):
    folder = tmp_path / "bulk"
    folder.mkdir()
    write_ndjson(folder / "Patient.ndjson", [patient()])
    write_ndjson(folder / "Observation.ndjson", [observation("o1", "Patient/pat-1")])
    registry = {key_with(OKEY, "urn:oid:1.2.250.1.71.4.2.7|MRN-0001")}
    report = run(tmp_path, [folder], registry)
    assert report.status == "empty" and report.landed == {}


def _appointment(aid: str, patient_ref: str) -> dict:
    return {
        "resourceType": "Appointment",
        "id": aid,
        "status": "booked",
        "start": "2020-04-01T09:00:00Z",
        "participant": [{"actor": {"reference": patient_ref}, "status": "accepted"}],
    }


@pytest.mark.parametrize("workers", [1, 2])
def test_an_opt_out_reaches_every_way_a_resource_points_at_its_patient(tmp_path, workers):
    folder = tmp_path / "bulk"
    folder.mkdir()
    by_identifier = observation("o2", "Patient/pat-1")
    by_identifier["subject"] = {"identifier": {"system": INS_SYSTEM, "value": NIR}}
    malformed = patient()
    malformed["identifier"] = malformed["identifier"][0]  # one object, not a list
    write_ndjson(folder / "Patient.ndjson", [malformed])
    by_identifier_elsewhere = _appointment("a2", "Patient/ghost")
    by_identifier_elsewhere["participant"][0]["actor"] = {
        "identifier": {"system": INS_SYSTEM, "value": NIR},
        "display": "Jeanne Dupont-Secret",
    }
    write_ndjson(
        folder / "Appointment.ndjson",
        [_appointment("a1", "Patient/pat-1"), by_identifier_elsewhere],
    )
    write_ndjson(folder / "Observation.ndjson", [by_identifier])
    registry = {key_with(OKEY, "nir:" + NIR_BODY)}
    report = run(tmp_path, [folder], registry, workers=workers)
    assert report.landed == {} and report.errors == 0, report.problems
    assert report.dropped_optout == 4


def test_a_resource_linked_to_its_patient_elsewhere_gets_the_patients_date_shift(tmp_path):
    data = bundle([patient(), _appointment("a1", "urn:uuid:pat-1")])
    run(tmp_path, [write_json(tmp_path / "b.json", data)])
    [row] = rows(tmp_path, "Appointment")
    assert row["patient"] == rows(tmp_path, "Patient")[0]["id"]
    assert row["effective"] is None or not row["effective"].startswith("2020-04-01")
    assert not json.loads(row["resource"])["start"].startswith("2020-04-01")


def test_an_opted_out_patient_is_dropped_even_when_strict_mode_refuses_it(tmp_path):
    folder = tmp_path / "bulk"
    folder.mkdir()
    write_ndjson(folder / "Patient.ndjson", [{**patient(), "notAnR4Element": True}])
    write_ndjson(folder / "Observation.ndjson", [observation("o1", "Patient/pat-1")])
    report = run(tmp_path, [folder], {key_with(OKEY, "nir:" + NIR_BODY)}, strict=True)
    assert report.landed == {} and report.dropped_optout == 2, report.problems


@pytest.mark.parametrize("value", [5, "text", {"system": "s", "value": "v"}])
def test_an_identifier_that_is_not_a_list_is_an_error_not_a_crash(tmp_path, value):
    data = bundle([{**patient(), "identifier": value}, observation("o1", "urn:uuid:pat-1")])
    report = run(tmp_path, [write_json(tmp_path / "b.json", data)])
    assert report.landed == {"Observation": 1}
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert problem.path == "identifier" and "must be a list" in problem.message


def test_bulk_ndjson_gzip_and_folders_are_read_and_duplicates_upserted(tmp_path):
    folder = tmp_path / "bulk"
    folder.mkdir()
    write_ndjson(folder / "Patient.ndjson", [patient(), patient()])
    (folder / "Observation.ndjson.gz").write_bytes(
        gzip.compress(
            b"\n".join(json.dumps(observation(f"o{i}", "Patient/pat-1")).encode() for i in range(5))
        )
    )
    (folder / "notes.txt").write_text("ignored")
    report = run(tmp_path, [folder])
    assert report.landed == {"Patient": 1, "Observation": 5}
    assert report.duplicates == 1 and report.errors == 0


def test_unresolved_relative_references_are_reported_not_dropped(tmp_path):
    path = write_ndjson(tmp_path / "o.ndjson", [observation("o1", "Patient/ghost")])
    report = run(tmp_path, [path])
    assert report.unresolved_references == 1
    [warning] = [p for p in report.problems if "unresolved reference" in p.message]
    assert warning.file == "o.ndjson" and warning.line == 1
    assert warning.resource_type == "Observation"
    assert report.landed == {"Observation": 1}


def _problem(report, text):
    found = [p for p in report.problems if text in p.message]
    assert found, [p.message for p in report.problems]
    return found[0]


BAD_LINES = [
    (b"{not json", "not valid JSON", None),
    (
        json.dumps({"resourceType": "Spaceship", "id": "x"}).encode(),
        "unknown R4 resource",
        "resourceType",
    ),
    (json.dumps(small_bundle()).encode(), "Bundle inside a Bundle", None),
    (json.dumps({"resourceType": "Observation", "id": "bad id!"}).encode(), "id must be", "id"),
    # A trailing newline is part of the text, not the end of it ($ of a regular expression).
    (json.dumps({"resourceType": "Observation", "id": "o2\n"}).encode(), "id must be", "id"),
    (
        json.dumps(observation("o3", "Patient/p", effectiveDateTime="2020-01-01\n")).encode(),
        "not a valid FHIR date",
        "effectiveDateTime",
    ),
    (json.dumps({"resourceType": 7}).encode(), "resourceType is missing", "resourceType"),
    (
        json.dumps(observation("o", "Patient/p", effectiveDateTime=[1])).encode(),
        "a date must be a text",
        "effectiveDateTime.[0]",
    ),
    (b"[1, 2]", "must be a JSON object", None),
    (b"{" * 5000 + b"}" * 5000, "not valid JSON", None),
    # Valid JSON nested deeper than the walk goes, and deeper than the parser goes.
    (
        b'{"resourceType":"Observation","id":"deep","x":' + b'{"a":' * 200 + b"1" + b"}" * 201,
        "nested more than 48 levels",
        "x" + ".a" * 48,
    ),
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, "depth limit exceeded", None),
]


@pytest.mark.parametrize("raw, message, path", BAD_LINES)
def test_each_bad_line_is_reported_with_its_line_and_the_good_ones_land(
    tmp_path, raw, message, path
):
    good = json.dumps(observation("ok", "Patient/p")).encode()
    report = run(tmp_path, [write_ndjson(tmp_path / "in.ndjson", [good, raw, good])])
    problem = _problem(report, message)
    assert problem.severity == "error" and problem.file == "in.ndjson" and problem.line == 2
    assert problem.path == path
    assert report.status == "published" and report.landed == {"Observation": 1}


def test_abort_lands_nothing_and_keeps_the_previous_version(tmp_path):
    good = write_json(tmp_path / "good.json", small_bundle())
    assert run(tmp_path, [good]).version == "v0001"
    bad = write_ndjson(tmp_path / "bad.ndjson", [observation("x", "Patient/p"), b"{oops"])
    report = run(tmp_path, [good, bad], on_error="abort")
    assert report.status == "aborted" and report.errors == 1 and report.landed == {}
    assert [v.version for v in layout.versions(tmp_path / "wh", "test")] == ["v0001"]
    assert not any((tmp_path / "wh" / "test" / "staging").iterdir())


def test_a_truncated_gzip_is_reported_and_what_was_read_before_lands(tmp_path):
    lines = b"\n".join(json.dumps(observation(f"o{i}", "Patient/p")).encode() for i in range(200))
    data = gzip.compress(lines)
    (tmp_path / "cut.ndjson.gz").write_bytes(data[: len(data) // 2])
    report = run(tmp_path, [tmp_path / "cut.ndjson.gz"])
    assert "truncated or corrupt" in _problem(report, "gzip").message
    assert 0 < report.landed.get("Observation", 0) < 200


def test_a_50_mb_string_is_refused_without_crashing(tmp_path):
    huge = observation("big", "Patient/p", valueString="x" * (50 * 1024 * 1024))
    write_ndjson(tmp_path / "big.ndjson", [huge, observation("ok", "Patient/p")])
    report = run(tmp_path, [tmp_path / "big.ndjson"])
    assert _problem(report, "longer than").line == 1
    assert report.landed == {"Observation": 1}
    write_json(tmp_path / "big.json", bundle([huge]))
    report = run(tmp_path, [tmp_path / "big.json"])
    problem = _problem(report, "over the")
    assert problem.entry == 0 and problem.resource_id == "big"


def test_duplicates_with_different_content_are_reported(tmp_path):
    first = observation("dup", "Patient/p")
    second = observation("dup", "Patient/p", status="amended")
    report = run(tmp_path, [write_ndjson(tmp_path / "d.ndjson", [first, b"", second])])
    problem = _problem(report, "different content")
    assert (problem.file, problem.line, problem.resource_type) == ("d.ndjson", 1, "Observation")
    assert "the copy read last (d.ndjson line 3) was kept" in problem.message
    [row] = rows(tmp_path, "Observation")
    assert json.loads(row["resource"])["status"] == "amended"  # the last one wins


def test_bundle_types_other_than_transaction_batch_collection_are_refused(tmp_path):
    report = run(tmp_path, [write_json(tmp_path / "s.json", bundle([patient()], "history"))])
    assert "not accepted" in _problem(report, "history").message
    assert report.status == "empty"


def test_strict_mode_catches_what_structural_checks_let_through(tmp_path):
    wrong = encounter("e1", "Patient/p")
    wrong["status"] = {"not": "a code"}
    path = write_ndjson(tmp_path / "e.ndjson", [wrong])
    assert run(tmp_path, [path]).landed == {"Encounter": 1}
    report = run(tmp_path, [path], strict=True)
    problem = _problem(report, "strict R4 validation")
    assert problem.path and problem.path.startswith("status")


def test_a_big_ndjson_is_split_and_line_numbers_stay_right(tmp_path, monkeypatch):
    from campus.warehouse import sources

    monkeypatch.setattr(sources, "CHUNK_BYTES", 4096)
    lines = [observation(f"o{i}", "Patient/p") for i in range(300)]
    lines[40] = lines[41] = b""  # blank lines still count
    lines[250] = b"{broken"
    report = run(tmp_path, [write_ndjson(tmp_path / "big.ndjson", lines)], workers=2)
    assert _problem(report, "not valid JSON").line == 251
    assert report.landed == {"Observation": 297}


def test_the_dummy_twin_has_the_same_schema_and_copies_no_record(tmp_path):
    observations = [observation(f"o{i}", "Patient/pat-1") for i in range(30)]
    run(tmp_path, [write_json(tmp_path / "b.json", bundle([patient(), *observations]))])
    real, dummy = rows(tmp_path, "Observation"), rows(tmp_path, "Observation", "dummy")
    assert len(dummy) == 30 and list(dummy[0]) == list(real[0])
    assert not {r["resource"] for r in real} & {d["resource"] for d in dummy}
    assert not {r["id"] for r in real} & {d["id"] for d in dummy}
    assert {d["code"] for d in dummy} == {"http://loinc.org|8302-2"}


def test_unreadable_input_paths_are_a_clear_error(tmp_path):
    from campus.errors import BadRequest

    with pytest.raises(BadRequest, match="no such file"):
        run(tmp_path, [tmp_path / "missing.json"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadRequest, match="no input file"):
        run(tmp_path, [tmp_path / "empty"])
    assert INS_SYSTEM and NIR  # the samples carry a valid INS


def test_a_gzip_file_is_read_by_a_worker_process_never_in_the_callers(tmp_path, monkeypatch):
    def in_this_process(*args, **kwargs):
        raise AssertionError("read in the calling process")

    monkeypatch.setattr(ingest, "Runner", in_this_process)  # the spawned worker has its own
    packed = tmp_path / "o.ndjson.gz"
    packed.write_bytes(gzip.compress(json.dumps(observation("o1", "Patient/p")).encode()))
    report = run(tmp_path, [packed], workers=None)
    assert report.landed == {"Observation": 1}
    plain = write_ndjson(tmp_path / "p.ndjson", [observation("o2", "Patient/p")])
    with pytest.raises(AssertionError, match="calling process"):
        run(tmp_path, [plain], workers=None)  # small plain input: read here


def _by_identifier(oid: str, value: str = NIR, **extra) -> dict:
    resource = observation(oid, "Patient/unused", **extra)
    resource["subject"] = {"identifier": {"system": INS_SYSTEM, "value": value}}
    return resource


def test_a_patient_given_by_identifier_in_its_bundle_is_the_patient_column_and_date_shift(
    tmp_path,
):
    data = bundle([patient(), observation("o1", "urn:uuid:pat-1"), _by_identifier("o2")])
    report = run(tmp_path, [write_json(tmp_path / "b.json", data)])
    assert report.landed == {"Patient": 1, "Observation": 2}, report.problems
    [pat] = rows(tmp_path, "Patient")
    by_reference, by_identifier = sorted(rows(tmp_path, "Observation"), key=lambda r: r["id"])
    if json.loads(by_reference["resource"])["subject"].get("identifier"):
        by_reference, by_identifier = by_identifier, by_reference
    assert by_identifier["patient"] == by_reference["patient"] == pat["id"]
    # The same source date, shifted by the same (the patient's) offset.
    assert by_identifier["effective"] == by_reference["effective"]
    assert not by_identifier["effective"].startswith("2020-03-01")


def test_a_patient_given_by_identifier_alone_still_gets_its_dates_shifted(tmp_path):
    """Bulk NDJSON has no Bundle to find the Patient in: the `patient` column stays empty,
    but the dates are shifted, by one offset per identifier, never landed as they were."""
    folder = tmp_path / "bulk"
    folder.mkdir()
    other = NIR_BODY[:-1] + "1"
    write_ndjson(
        folder / "Observation.ndjson",
        [_by_identifier("o1"), _by_identifier("o2"), _by_identifier("o3", value=other)],
    )
    report = run(tmp_path, [folder])
    assert report.landed == {"Observation": 3}, report.problems
    landed = rows(tmp_path, "Observation")
    effective = sorted(r["effective"] for r in landed)
    assert all(r["patient"] is None for r in landed)
    assert not any(e.startswith("2020-03-01") for e in effective)
    assert len(set(effective)) == 2  # o1 and o2 share their identifier's offset, o3 has its own


def test_strict_mode_reports_a_nested_resource_of_unknown_type_instead_of_crashing(tmp_path):
    nested = {
        "resourceType": "Parameters",
        "id": "par-1",
        "parameter": [{"name": "x", "resource": {"resourceType": "0001-01-01"}}],
    }
    path = write_ndjson(tmp_path / "in.ndjson", [patient(), nested])
    report = run(tmp_path, [path], strict=True)
    assert report.landed == {"Patient": 1}
    [problem] = report.problems
    assert problem.line == 2 and "unknown resourceType" in problem.message


@pytest.mark.parametrize("bad_id", [["pat-9"], {"id": "pat-9"}, 7])
def test_an_id_that_is_not_a_text_inside_a_bundle_is_reported_and_the_rest_lands(tmp_path, bad_id):
    odd = {**patient(), "id": bad_id}
    data = bundle([patient(), odd])
    data["entry"][1]["fullUrl"] = ["not", "a", "text"]
    report = run(tmp_path, [write_json(tmp_path / "b.json", data)])
    assert report.status == "published" and report.landed == {"Patient": 1}
    [problem] = report.problems
    assert (problem.entry, problem.path) == (1, "id")


def test_a_byte_order_mark_and_crlf_line_ends_are_read_as_windows_tools_write_them(tmp_path):
    bom = b"\xef\xbb\xbf"
    lines = [json.dumps(patient(f"p{n}")).encode() for n in range(3)]
    (tmp_path / "a.ndjson").write_bytes(bom + b"\r\n".join(lines) + b"\r\n\r\n")
    (tmp_path / "b.json").write_bytes(bom + json.dumps(bundle([patient("p9")])).encode())
    report = run(tmp_path, [tmp_path / "a.ndjson", tmp_path / "b.json"])
    assert report.landed == {"Patient": 4} and not report.problems
    # Only a mark at the very start of a file is skipped: elsewhere the line is not JSON.
    (tmp_path / "c.ndjson").write_bytes(lines[0] + b"\n" + bom + lines[1] + b"\n")
    report = run(tmp_path, [tmp_path / "c.ndjson"])
    assert report.landed == {"Patient": 1}
    assert [p.line for p in report.problems] == [2]
