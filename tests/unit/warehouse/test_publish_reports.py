"""What finalise and publish report: places of unresolved references, conflicting duplicates,
and the manifest's sizes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from campus.warehouse import layout, publish
from campus.warehouse.parts import REFS_SCHEMA, PartWriter
from tests.unit.warehouse.samples import (
    observation,
    patient,
    small_bundle,
    write_json,
    write_ndjson,
)
from tests.unit.warehouse.test_ingest_files import run


def _unresolved(report):
    return [p for p in report.problems if "unresolved reference" in p.message]


def _staging(tmp_path, parts: dict[str, list[tuple]], refs: list[tuple]):
    """Parts staged as a worker stages them (rows of parts.PART_SCHEMA), and reference rows."""
    staging = tmp_path / "staging"
    writer = PartWriter(staging, 0)
    for type_name, rows in parts.items():
        for *columns, resource, order in rows:
            writer.resource(type_name, *columns, order, resource.encode())
    writer.close()
    if refs:
        _write(staging / "refs" / "w0.parquet", REFS_SCHEMA, refs)
    return staging


def _checked(staging, line_offsets: dict[int, int]) -> publish.Finalised:
    """Finalise, then check the references against the published tables, as an ingest does."""
    out = publish.finalise(staging, set(), line_offsets)
    publish.check_references(publish.connect(staging / "tmp"), staging, out, line_offsets)
    assert not (staging / "refs").exists()
    return out


def _write(path, schema: pa.Schema, rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [dict(zip(schema.names, row, strict=True)) for row in rows]
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)


def test_an_unresolved_reference_in_a_later_chunk_of_a_big_ndjson_has_its_file_line(
    tmp_path, monkeypatch
):
    from campus.warehouse import sources

    monkeypatch.setattr(sources, "CHUNK_BYTES", 4096)
    lines = [patient("p")] + [observation(f"o{i}", "Patient/p") for i in range(299)]
    lines[250] = observation("o-ghost", "Patient/ghost")
    report = run(tmp_path, [write_ndjson(tmp_path / "big.ndjson", lines)])
    assert report.status == "published"
    [problem] = _unresolved(report)
    assert (problem.file, problem.line) == ("big.ndjson", 251)


def test_the_first_place_of_an_unresolved_reference_gives_file_and_line_of_the_same_row(
    tmp_path,
):
    # One target, seen at line 5 of the first file (task 0) and at line 1 of the second (task 1);
    # another in a second chunk of a file (task 2) whose first chunk had 100 lines.
    ref = ("Patient", "ghost")
    staging = _staging(
        tmp_path,
        {"Observation": [("o1", None, None, None, "{}", 0)]},
        [
            (*ref, "a.ndjson", 5, None, "Observation", 0, 0),
            (*ref, "b.ndjson", 1, None, "Encounter", 1, 0),
            ("Patient", "other", "b.ndjson", 7, None, "Encounter", 2, 1),
        ],
    )
    out = _checked(staging, {0: 0, 1: 0, 2: 100})
    places = sorted((p.file, p.line, p.resource_type) for p in out.references)
    assert places == [("a.ndjson", 5, "Observation"), ("b.ndjson", 107, "Encounter")]
    assert out.unresolved == 2


def test_duplicates_with_different_content_are_located_at_their_copies(tmp_path):
    # Orders: task index << 32 | rank in the task. Task 0 is a.ndjson (its second chunk,
    # 100 lines after the file's start), task 1 a Bundle b.json.
    first, bundle = 0 << 32, 1 << 32
    rows = [(f"o{i}", None, None, None, '{"v": 1}', first | (i + 1)) for i in range(8)]
    rows += [(f"o{i}", None, None, None, '{"v": 2}', bundle | (i + 1)) for i in range(7)]
    rows += [("o7", None, None, None, '{"v": 1}', bundle | 50)]  # an identical copy: no conflict
    staging = _staging(tmp_path, {"Observation": rows}, [])
    places = {0: ("a.ndjson", True), 1: ("b.json", False)}
    out = publish.finalise(staging, set(), {0: 100, 1: 0}, places)
    assert out.conflicts == 7 and out.duplicates == 8
    *located, more = out.problems
    assert [(p.file, p.line) for p in located] == [("a.ndjson", 101 + i) for i in range(5)]
    assert "the copy read last (b.json entry 0) was kept" in located[0].message
    assert "sent 2 times" in located[0].message
    assert more.message.startswith("2 more Observation id(s)")


def test_the_manifest_sizes_list_exactly_the_files_of_the_version(tmp_path):
    report = run(tmp_path, [write_json(tmp_path / "b.json", small_bundle())])
    version = layout.resolve(tmp_path / "wh", "test")
    assert report.version == version.version
    kept = {
        str(p.relative_to(version.path))
        for p in version.path.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    sizes = version.manifest["sizes"]
    assert "owner.json" not in sizes
    assert set(sizes) == kept
    assert all(sizes[name] == (version.path / name).stat().st_size for name in kept)


def test_the_reference_check_split_in_passes_finds_the_same_dangling_targets(tmp_path, monkeypatch):
    # 40 patients; references to 30 of them and to 12 that do not exist, from two files.
    patients = [(f"p{i}", f"p{i}", None, None, "{}", i + 1) for i in range(40)]
    refs = [
        ("Patient", f"p{i}" if i < 30 else f"ghost{i}", f"f{i % 2}.ndjson", i + 1, None,
         "Observation", i % 2, 0)
        for i in range(42)
    ]  # fmt: skip

    def finalised(per_pass: int, name: str):
        monkeypatch.setattr(publish, "IDS_PER_PASS", per_pass)
        staging = _staging(tmp_path / name, {"Patient": patients}, refs)
        out = _checked(staging, {0: 0, 1: 0})
        return out.unresolved, [(p.file, p.line, p.message) for p in out.references]

    whole = finalised(1_000_000, "one")
    assert whole[0] == 12
    assert finalised(7, "six") == whole  # six passes
    assert finalised(1, "forty") == whole
