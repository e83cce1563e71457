import json

from tests.helpers import run_cli
from tests.unit.warehouse.samples import (
    NIR,
    PATIENT_ID,
    observation,
    small_bundle,
    write_json,
    write_ndjson,
)


def test_ingest_list_show_drop_and_optout_from_the_command_line(monkeypatch, settings, tmp_path):
    bundle = write_json(tmp_path / "b.json", small_bundle())
    ingested = run_cli(monkeypatch, settings, "ingest", "--dataset", "demo", str(bundle))
    assert ingested.exit_code == 0, ingested.output
    assert "published: demo v0001" in ingested.output
    # The progress bar's last state: bytes read of the total, resources, rate and errors.
    [bar] = [line for line in ingested.output.splitlines() if line.startswith("demo ")]
    assert "2.0/2.0 kB" in bar and "4 resources · " in bar and "/s · 0 errors" in bar
    listed = run_cli(monkeypatch, settings, "dataset", "list")
    assert "demo" in listed.output and "v0001 (4)" in listed.output
    shown = json.loads(run_cli(monkeypatch, settings, "dataset", "show", "demo").output)
    assert shown["manifest"]["counts"]["Observation"] == 2
    added = run_cli(monkeypatch, settings, "optout", "add", NIR.replace("7", " 7", 1))
    assert added.exit_code == 0 and "registered: receipt OPT-" in added.output
    bad = run_cli(monkeypatch, settings, "optout", "add", "1234")
    assert bad.exit_code == 1 and "15 characters" in bad.output
    listing = run_cli(monkeypatch, settings, "optout", "list")
    assert "1 objection" in listing.output and NIR not in listing.output
    again = run_cli(
        monkeypatch, settings, "ingest", "-d", "demo", "--on-error", "abort", "--json", str(bundle)
    )
    assert again.exit_code == 1 and "dropped_optout" not in json.loads(again.output)  # DPO's
    dropped = run_cli(
        monkeypatch, settings, "dataset", "drop", "demo", "--version", "v0001", "--yes"
    )
    assert dropped.exit_code == 0 and "dropped demo: v0001" in dropped.output
    missing = run_cli(monkeypatch, settings, "ingest", "-d", "demo", str(tmp_path / "nothing"))
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_an_ingest_with_a_failing_resource_publishes_nothing_unless_told_and_then_says_so(
    monkeypatch, settings, tmp_path
):
    bundle = small_bundle()
    bundle["entry"].append({"resource": {"resourceType": "Observation", "id": "bad id"}})
    path = write_json(tmp_path / "b.json", bundle)
    refused = run_cli(monkeypatch, settings, "ingest", "--dataset", "demo", str(path))
    assert refused.exit_code == 1, refused.output
    last = refused.output.strip().splitlines()[-1]
    assert last.startswith("NOT PUBLISHED: 1 resource(s) failed") and "--on-error skip" in last
    assert (
        json.loads(run_cli(monkeypatch, settings, "dataset", "show", "demo").output)["versions"]
        == []
    )
    skipped = run_cli(
        monkeypatch, settings, "ingest", "-d", "demo", "--on-error", "skip", str(path)
    )
    assert skipped.exit_code == 3, skipped.output
    last = skipped.output.strip().splitlines()[-1]
    assert last == (
        "PUBLISHED v0001 WITH 1 RESOURCE(S) SKIPPED: 1 × id must be 1-64 letters, digits, "
        "'-' or '.'"
    )
    shown = json.loads(run_cli(monkeypatch, settings, "dataset", "show", "demo").output)
    assert shown["manifest"]["skipped"] == 1
    assert shown["versions"][0]["summary"]["skipped_reasons"] == {
        "id must be 1-64 letters, digits, '-' or '.'": 1
    }
    # A steward's tolerance lets the default publish that many failures (and still say so).
    bad = run_cli(monkeypatch, settings, "dataset", "tolerance", "demo", "-1")
    assert bad.exit_code != 0
    set_to = run_cli(monkeypatch, settings, "dataset", "tolerance", "demo", "1")
    assert set_to.exit_code == 0 and "demo: error tolerance 1" in set_to.output
    tolerated = run_cli(monkeypatch, settings, "ingest", "-d", "demo", str(path))
    assert tolerated.exit_code == 3 and "PUBLISHED v0002 WITH 1" in tolerated.output
    complete = write_json(tmp_path / "c.json", small_bundle())
    clean = run_cli(monkeypatch, settings, "ingest", "-d", "demo", str(complete))
    assert clean.exit_code == 0
    assert clean.output.strip().splitlines()[-1] == "published v0003: complete, no resource skipped"


def test_an_incremental_ingest_upserts_onto_the_latest_version_and_removes_what_it_names(
    monkeypatch, settings, tmp_path
):
    first = write_json(tmp_path / "b.json", small_bundle())
    assert run_cli(monkeypatch, settings, "ingest", "-d", "demo", str(first)).exit_code == 0
    changes = tmp_path / "changes"
    changes.mkdir()
    write_ndjson(changes / "Observation.ndjson", [observation("obs-9", f"Patient/{PATIENT_ID}")])
    built = run_cli(
        monkeypatch, settings, "ingest", "-d", "demo", "--incremental",
        "--delete", "Observation/obs-2", str(changes),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "incremental: built on v0001, 1 resource(s) removed" in built.output
    shown = json.loads(run_cli(monkeypatch, settings, "dataset", "show", "demo").output)
    # obs-1 kept, obs-2 removed, obs-9 added onto the base's patient and encounter
    assert shown["manifest"]["counts"]["Observation"] == 2
    assert shown["manifest"]["base_version"] == "v0001"


def test_an_incremental_ingest_without_a_base_or_with_a_bad_delete_says_what_to_do(
    monkeypatch, settings, tmp_path
):
    bundle = write_json(tmp_path / "b.json", small_bundle())
    nothing = run_cli(monkeypatch, settings, "ingest", "-d", "new", "--incremental", str(bundle))
    assert nothing.exit_code == 1 and "has no version to build on" in nothing.output
    alone = run_cli(
        monkeypatch, settings, "ingest", "-d", "new", "--delete", "Patient/p", str(bundle)
    )
    assert alone.exit_code == 1 and "add --incremental" in alone.output
    bad = run_cli(
        monkeypatch, settings, "ingest", "-d", "new", "--incremental", "--delete", "p1", str(bundle)
    )
    assert bad.exit_code == 1 and "--delete 'p1': write a resource as TYPE/ID" in bad.output
    assert "Traceback" not in nothing.output + alone.output + bad.output
