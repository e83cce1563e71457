"""How a version's tables are published: the workers' parts as written, unless rows must go.

A type's table is the folder of its workers' part files, moved into the version without being
read and written again. Only a type with a duplicate id (the last copy wins) or with rows of a
patient found opted out after they were staged is rewritten, into one file.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from campus.optout.service import key_with
from campus.warehouse import catalogue, layout, publish
from campus.warehouse.parts import PartWriter
from tests.unit.warehouse.samples import NIR_BODY, encounter, observation, patient, write_ndjson
from tests.unit.warehouse.test_ingest_files import OKEY, run

OTHER_NIR = "2840576451089" + f"{97 - 2840576451089 % 97:02d}"


def _observations(prefix: str, subject: str, count: int) -> list[dict]:
    return [observation(f"{prefix}-{n}", subject) for n in range(count)]


def _version(tmp_path) -> layout.DatasetVersion:
    return layout.resolve(tmp_path / "wh", "test")


def test_two_workers_parts_are_published_as_two_files_of_the_key_columns(tmp_path):
    staging = tmp_path / "staging"
    for worker, count in ((0, 300), (1, 200)):
        writer = PartWriter(staging, worker)
        for n in range(count):
            resource = {"resourceType": "Observation", "id": f"w{worker}-{n}"}
            writer.resource(
                "Observation",
                f"w{worker}-{n}",
                f"patient-{worker}",
                "2020-03-01",
                "http://loinc.org|8302-2",
                (worker << 32) | (n + 1),
                json.dumps(resource).encode(),
            )
        writer.close()
    written = {p.name: p.read_bytes() for p in (staging / "parts" / "Observation").iterdir()}
    final = publish.finalise(staging, set())
    assert final.counts == {"Observation": 500} and final.duplicates == 0
    table = layout.tables_in(staging / "real")["Observation"]
    files = layout.files(table)
    assert [f.name for f in files] == ["part-0.parquet", "part-1.parquet"]
    assert [f.read_bytes() for f in files] == [written["w0.parquet"], written["w1.parquet"]]
    for path in files:
        assert pq.ParquetFile(path).schema_arrow.names == list(layout.KEY_COLUMNS)
    assert not (staging / "parts").exists() and not (staging / "order").exists()
    stats = catalogue.compute(publish.connect(tmp_path / "tmp"), staging / "real", 10)
    assert stats["types"]["Observation"]["count"] == 500
    assert stats["types"]["Observation"]["patients"] == catalogue.mask(2, 10)


def test_a_type_sent_twice_is_rewritten_into_one_file_where_the_last_copy_wins(tmp_path):
    early = observation("dup", "Patient/p-a", valueQuantity={"value": 1.0, "unit": "cm"})
    late = observation("dup", "Patient/p-a", valueQuantity={"value": 2.0, "unit": "cm"})
    path = write_ndjson(
        tmp_path / "in.ndjson",
        [
            patient("p-a"),
            early,
            encounter("e-1", "Patient/p-a"),
            late,
            *_observations("o", "Patient/p-a", 20),
        ],
    )
    report = run(tmp_path, [path])
    assert report.duplicates == 1
    tables = _version(tmp_path).tables()
    assert [f.name for f in layout.files(tables["Observation"])] == ["part-0.parquet"]
    values = [
        json.loads(row["resource"])["valueQuantity"]["value"]
        for row in pq.read_table(tables["Observation"]).to_pylist()
    ]
    assert len(values) == 21 and values.count(2.0) == 1 and 1.0 not in values
    assert pq.read_table(tables["Encounter"]).num_rows == 1


def test_rows_staged_before_their_patient_was_found_opted_out_are_left_out(tmp_path):
    """The Patient comes last: its resources were staged before the worker knew. The types
    holding them are rewritten without them; the others are published as written."""
    path = write_ndjson(
        tmp_path / "in.ndjson",
        _observations("gone", "Patient/p-a", 5)
        + _observations("kept", "Patient/p-b", 12)
        + [encounter("e-b", "Patient/p-b"), patient("p-b", nir=OTHER_NIR, mrn="B")]
        + [patient("p-a")],
    )
    report = run(tmp_path, [path], registry={key_with(OKEY, "nir:" + NIR_BODY)})
    assert report.status == "published", report.problems
    assert report.dropped_optout == 6  # five Observations and the Patient
    tables = _version(tmp_path).tables()
    kept = pq.read_table(tables["Observation"]).to_pylist()
    assert len(kept) == 12 == report.landed["Observation"]
    assert len({row["patient"] for row in kept}) == 1
    assert [row["id"] for row in pq.read_table(tables["Patient"]).to_pylist()] == [
        kept[0]["patient"]
    ]
    assert pq.read_table(tables["Encounter"]).num_rows == 1


def test_the_progress_counts_every_line_of_a_long_ndjson_file(tmp_path):
    """Lines landed by the native path count too, not only those the Python path takes."""
    lines = [patient("p-a"), *_observations("o", "Patient/p-a", 4_500)]
    path = write_ndjson(tmp_path / "in.ndjson", lines)
    seen = {"bytes": 0, "resources": 0, "errors": 0, "calls": 0}

    def progress(done: int, resources: int, errors: int) -> None:
        seen["bytes"] += done
        seen["resources"] += resources
        seen["errors"] += errors
        seen["calls"] += 1

    report = run(tmp_path, [path], progress=progress)
    assert report.landed == {"Patient": 1, "Observation": 4_500}
    assert seen["resources"] == 4_501 and seen["bytes"] == path.stat().st_size
    assert seen["errors"] == 0 and seen["calls"] > 2  # counted as it goes, not only at the end
