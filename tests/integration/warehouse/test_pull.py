"""`campus pull` against the Bulk Data test server (tests/bulk_server.py), a process of its own
on loopback serving the shared Synthea sample: the pulled version is the version of the same
files ingested from disk, each fault is retried then fails clearly with nothing published, and
a pull killed mid-download resumes."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time

import httpx
import pyarrow.parquet as pq
import pytest

from campus.warehouse import layout
from tests.helpers import audit_events, run_cli
from tests.integration.warehouse.conftest import ROOT, Server, process_env

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def _register_key(monkeypatch, settings, server: Server, name="hospital", alg="ES384"):
    made = run_cli(monkeypatch, settings, "pull", "keygen", name, "--alg", alg)
    assert made.exit_code == 0, made.output
    jwks = json.loads(made.stdout)
    assert "d" not in jwks["keys"][0]  # the public half only
    return jwks


def _tables(settings, dataset: str) -> dict[str, str]:
    version = layout.resolve(settings.warehouse_path, dataset)
    found = {}
    for name, path in version.tables().items():
        rows = sorted(json.dumps(r, sort_keys=True) for r in pq.read_table(path).to_pylist())
        found[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return found


def _pull(monkeypatch, settings, server: Server, *args: str):
    return run_cli(
        monkeypatch, settings, "pull", "--dataset", "hopital", "--from", server.url, *args
    )


def test_a_pulled_version_is_the_version_of_the_same_files_ingested_from_disk(
    monkeypatch, settings, server
):
    jwks = _register_key(monkeypatch, settings, server)
    server.configure(
        auth={"campus-test": jwks},
        gzip=True,
        max_lines=50,
        polls_before_done=2,
        poll_statuses=[429, 503],
        download_statuses={"Patient": [503]},
        revoke_after=6,
        cut_after={"Observation": 1000},
        bad_gzip=["Condition"],
        clock_skew=-150,
    )
    pulled = _pull(monkeypatch, settings, server, "--client-id", "campus-test", "--key", "hospital")
    assert pulled.exit_code == 0, pulled.output
    assert pulled.output.strip().splitlines()[-1].startswith("published v0001: complete")
    state = server.state()
    assert state["deletes"] == 1 and state["jobs"] == 0  # the export deleted on the server
    assert state["tokens"] >= 2  # revoked mid-download, a new token was fetched
    folder = layout.dataset_dir(settings.warehouse_path, "hopital")
    assert not any((folder / "pulls").iterdir())  # the downloaded source data is gone
    disk = run_cli(
        monkeypatch, settings, "ingest", "--dataset", "disque", str(server.out / "export")
    )
    assert disk.exit_code == 0, disk.output
    assert _tables(settings, "hopital") == _tables(settings, "disque")
    pulled_manifest = layout.resolve(settings.warehouse_path, "hopital").manifest
    disk_manifest = layout.resolve(settings.warehouse_path, "disque").manifest
    assert sorted(map(json.dumps, pulled_manifest["sources"])) == sorted(
        map(json.dumps, disk_manifest["sources"])
    )
    assert pulled_manifest["counts"] == disk_manifest["counts"]
    assert pulled_manifest["pull"]["from"] == server.url
    assert pulled_manifest["pull"]["transaction_time"].endswith("Z")
    assert pulled_manifest["pull"]["files"] > len(pulled_manifest["counts"])  # split files


@pytest.mark.parametrize(
    ("faults", "says"),
    [
        ({"kickoff_status": 403}, "the server refused the export: HTTP 403"),
        ({"poll_statuses": [503] * 9}, "the export failed: HTTP 503"),
        ({"download_statuses": {"Patient": [429] * 9}}, "cannot be downloaded"),
        ({"not_found": ["Condition"]}, "HTTP 404: no such file"),
        ({"short": ["Encounter"]}, "the manifest announced"),
        ({"truncate": ["Observation"]}, "NOT PUBLISHED: 1 resource(s) failed"),
        ({"error_file": True}, "NOT PUBLISHED: 1 resource(s) failed"),
    ],
)
def test_each_fault_is_retried_then_fails_clearly_with_nothing_published(
    monkeypatch, settings, server, faults, says
):
    server.configure(**faults)
    pulled = _pull(monkeypatch, settings, server)
    assert pulled.exit_code == 1, pulled.output
    assert says in " ".join(pulled.output.split()), pulled.output
    assert layout.versions(settings.warehouse_path, "hopital") == []
    if "kickoff_status" not in faults:
        assert server.state()["jobs"] == 0  # the export was deleted on the server
    folder = layout.dataset_dir(settings.warehouse_path, "hopital") / "pulls"
    assert not folder.exists() or not any(folder.iterdir())


def test_server_errors_are_published_only_when_told_and_then_counted(monkeypatch, settings, server):
    server.configure(error_file=True)
    pulled = _pull(monkeypatch, settings, server, "--on-error", "skip")
    assert pulled.exit_code == 3, pulled.output
    last = pulled.output.strip().splitlines()[-1]
    assert last.startswith("PUBLISHED v0001 WITH 1 RESOURCE(S) SKIPPED: 1 × the hospital's")


def test_a_refused_client_assertion_is_a_clear_failure(monkeypatch, settings, server):
    jwks = _register_key(monkeypatch, settings, server, "other", "RS384")
    server.configure(auth={"campus-test": {"keys": []}, "other-client": jwks})
    refused = _pull(monkeypatch, settings, server, "--client-id", "campus-test", "--key", "other")
    assert refused.exit_code == 1
    assert "refused the client credentials: invalid_client" in " ".join(refused.output.split())
    # RS384 keys work too, for the client they are registered for.
    accepted = _pull(monkeypatch, settings, server, "--client-id", "other-client", "--key", "other")
    assert accepted.exit_code == 0, accepted.output


def test_group_and_type_exports_pull_what_they_name(monkeypatch, settings, server):
    pulled = _pull(monkeypatch, settings, server, "--group", "half", "--type", "Patient,Encounter")
    assert pulled.exit_code == 0, pulled.output
    manifest = layout.resolve(settings.warehouse_path, "hopital").manifest
    assert set(manifest["counts"]) == {"Patient", "Encounter"}
    assert manifest["counts"]["Patient"] == 1  # the first half of 3 patients
    bad = _pull(monkeypatch, settings, server, "--since", "yesterday")
    assert bad.exit_code == 1 and "--since is a FHIR instant" in bad.output
    filtered = _pull(monkeypatch, settings, server, "--type-filter", "Observation?code=1")
    assert filtered.exit_code == 1
    assert "HTTP 400: _typeFilter is not supported" in " ".join(filtered.output.split())


def test_a_token_about_to_expire_is_renewed_before_it_is_sent(monkeypatch, settings, server):
    jwks = _register_key(monkeypatch, settings, server)
    # Tokens of 60 s are within the refresh margin (60 s) at once: one per request.
    server.configure(auth={"campus-test": jwks}, token_seconds=60, polls_before_done=2)
    pulled = _pull(monkeypatch, settings, server, "--client-id", "campus-test", "--key", "hospital")
    assert pulled.exit_code == 0, pulled.output
    state = server.state()
    assert state["unauthorised"] == 0  # never sent an expired token
    assert state["tokens"] >= state["polls"] + state["downloads"]


def _pull_midway(settings, server: Server):
    """`campus pull` in a process of its own, once some files are in and one is half in."""
    env = process_env(settings)
    command = [sys.executable, "-m", "campus.cli", "pull", "-d", "hopital", "--from", server.url]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    pulls = layout.dataset_dir(settings.warehouse_path, "hopital") / "pulls"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = list(pulls.glob("*/files/*.ndjson")) if pulls.exists() else []
        if len(done) >= 3 and list(pulls.glob("*/files/*.part")):
            break
        time.sleep(0.2)
    return process, pulls


@pytest.mark.slow
def test_ctrl_c_cancels_the_export_and_publishes_nothing(settings, server):
    server.configure(throttle=20_000, max_lines=200)
    process, pulls = _pull_midway(settings, server)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "interrupted: the export was cancelled, nothing was published" in err
    assert server.state()["jobs"] == 0 and server.state()["deletes"] >= 1
    assert not any(pulls.iterdir())  # the downloaded source data is gone
    assert layout.versions(settings.warehouse_path, "hopital") == []


@pytest.mark.slow
def test_a_pull_killed_mid_download_is_resumed_by_the_next_run(
    monkeypatch, settings, server, tmp_path
):
    server.configure(throttle=20_000, max_lines=200)
    process, pulls = _pull_midway(settings, server)
    process.kill()  # SIGKILL: no cleanup runs
    process.wait()
    assert layout.versions(settings.warehouse_path, "hopital") == []
    kept = len(list(pulls.glob("*/files/*.ndjson")))
    server.configure(max_lines=200)  # the same export, now at full speed; counts from 0
    again = _pull(monkeypatch, settings, server)
    assert again.exit_code == 0, again.output
    assert server.state()["kickoffs"] == 0  # the same export resumed, not a new one
    total = layout.resolve(settings.warehouse_path, "hopital").manifest["pull"]["files"]
    assert server.state()["downloads"] == total - kept  # the complete files were kept


def test_a_steward_stores_the_server_on_the_dataset_and_pulls_from_the_api_and_the_page(
    client, db, server
):
    from tests.integration.warehouse.test_web import _dataset, _steward

    _steward(client, db)
    _dataset(db, "hopital", "")
    bad = client.put(
        "/api/v1/datasets/hopital/settings",
        json={"pull_source": {"base_url": server.url, "client_id": "c", "key_ref": "/etc/x"}},
    )
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "key_ref"
    bad = client.put("/api/v1/datasets/hopital/settings", json={"pull_source": {"base_url": "x"}})
    assert bad.status_code == 400
    bad = client.put("/api/v1/datasets/hopital/settings", json={"error_tolerance": -1})
    assert bad.status_code in (400, 422)
    stored = client.put(
        "/api/v1/datasets/hopital/settings",
        json={"error_tolerance": 2, "pull_source": {"base_url": server.url, "types": ["Patient"]}},
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["pull_source"]["types"] == ["Patient"]
    assert stored.json()["error_tolerance"] == 2
    pulled = client.post("/api/v1/datasets/hopital/pull")
    assert pulled.status_code == 201, pulled.text
    assert pulled.json()["version"] == "v0001" and pulled.json()["landed"] == {"Patient": 3}
    page = client.get("/datasets").text
    assert "Importer maintenant" in page and server.url in page
    server.configure(kickoff_status=403)
    refused = client.post("/api/v1/datasets/hopital/pull")
    assert refused.status_code == 502
    assert "HTTP 403" in refused.json()["error"]["message"]
    # The failed run is on the dataset's page and in the audit log (a scheduled pull's too).
    last = client.get("/api/v1/datasets/hopital").json()["pull_source"]["last_run"]
    assert last["status"] == "failed" and "HTTP 403" in last["message"]
    assert "Dernier import" in client.get("/datasets").text
    pulls = [e for e in audit_events(db) if e.action == "dataset.pull"]
    assert [e.details["status"] for e in pulls] == ["published", "failed"]
    server.configure()
    # Nothing changed on the server since v0001: the incremental pull makes no version.
    unchanged = client.post("/api/v1/datasets/hopital/pull")
    assert unchanged.status_code == 200 and unchanged.json()["status"] == "unchanged"
    changed = {"resourceType": "Patient", "id": "new-patient", "gender": "female"}
    httpx.post(f"{server.url}/_admin/change", json={"upsert": [changed]}).raise_for_status()
    form = client.post(
        "/datasets/hopital/pull", data={"on_error": "abort", "csrf_token": client.csrf()}
    )
    assert form.status_code == 201 and "v0002" in form.text
    assert client.get("/api/v1/datasets/hopital/versions/v0002").json()["counts"] == {"Patient": 4}


def test_an_incremental_pull_upserts_changes_and_removes_deletions_onto_the_last_version(
    monkeypatch, settings, server
):
    first = _pull(monkeypatch, settings, server)
    assert first.exit_code == 0, first.output
    v1 = layout.resolve(settings.warehouse_path, "hopital").manifest
    since = v1["pull"]["transaction_time"]
    patient = next(r for r in _server_resources(server) if r["resourceType"] == "Patient")
    changed = {**patient, "gender": "other"}
    condition = next(r for r in _server_resources(server) if r["resourceType"] == "Condition")
    added = {
        "resourceType": "Encounter",
        "id": "new-visit-1",
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "period": {"start": "2020-05-01T10:00:00Z"},
    }
    change = {"upsert": [changed, added], "delete": [f"Condition/{condition['id']}"]}
    httpx.post(f"{server.url}/_admin/change", json=change).raise_for_status()
    again = _pull(monkeypatch, settings, server)
    assert again.exit_code == 0, again.output
    assert f"incremental: built on v0001, since {since}, 1 resource(s) removed" in again.output
    v2 = layout.resolve(settings.warehouse_path, "hopital").manifest
    assert v2["base_version"] == "v0001" and v2["removed"] == 1
    assert v2["pull"]["request"]["since"] == since and v2["pull"]["deleted"] == 1
    assert v2["counts"]["Encounter"] == v1["counts"]["Encounter"] + 1
    assert v2["counts"]["Condition"] == v1["counts"]["Condition"] - 1
    assert v2["counts"]["Patient"] == v1["counts"]["Patient"]
    assert len(v2["sources"]) == 2  # only what changed was downloaded
    # The same rows as a whole export of the server as it is now.
    full = run_cli(monkeypatch, settings, "pull", "-d", "complet", "--from", server.url, "--full")
    assert full.exit_code == 0, full.output
    assert _tables(settings, "hopital") == _tables(settings, "complet")


def _server_resources(server: Server) -> list[dict]:
    folder = server.out / "export"
    return [json.loads(line) for path in folder.glob("*.ndjson") for line in path.open()]


def test_a_pull_reaches_an_internal_address_only_when_its_host_is_allowed(
    monkeypatch, settings, server
):
    monkeypatch.delenv("CAMPUS_PULL_ALLOWED_HOSTS")
    refused = _pull(monkeypatch, settings, server)
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())
    assert "is at 127.0.0.1, an internal address" in said
    assert "CAMPUS_PULL_ALLOWED_HOSTS" in said
    for url in ("http://169.254.169.254/fhir", "http://[::ffff:10.0.0.1]/fhir"):
        other = run_cli(monkeypatch, settings, "pull", "-d", "hopital", "--from", url)
        assert other.exit_code == 1 and "an internal address" in other.output, url
    assert server.state()["kickoffs"] == 0  # never connected
    # Allowed, the base URL is reached; the manifest's files are named on another host
    # ("localhost", checked only when the download connects to it): refused there.
    monkeypatch.setenv("CAMPUS_PULL_ALLOWED_HOSTS", "127.0.0.1")
    server.configure(files_host="localhost")
    moved = _pull(monkeypatch, settings, server)
    assert moved.exit_code == 1
    assert "the server localhost is at 127.0.0.1" in " ".join(moved.output.split())
    state = server.state()
    assert state["kickoffs"] == 1 and state["downloads"] == 0 and state["deletes"] == 1
    assert layout.versions(settings.warehouse_path, "hopital") == []
    # The token endpoint the server publishes is checked as well: no assertion is sent there.
    _register_key(monkeypatch, settings, server)
    server.configure(auth={"campus-test": {"keys": []}}, token_host="localhost")
    token = _pull(monkeypatch, settings, server, "--client-id", "campus-test", "--key", "hospital")
    assert token.exit_code == 1
    assert "the server localhost is at 127.0.0.1" in " ".join(token.output.split())
    assert server.state()["tokens"] == 0 and server.state()["kickoffs"] == 0


def test_a_steward_cannot_store_an_internal_server_and_is_told_why(client, db, server, monkeypatch):
    from tests.integration.warehouse.test_web import _dataset, _steward

    monkeypatch.delenv("CAMPUS_PULL_ALLOWED_HOSTS")
    _steward(client, db)
    _dataset(db, "hopital", "")
    refused = client.put(
        "/api/v1/datasets/hopital/settings", json={"pull_source": {"base_url": server.url}}
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["where"] == "from"
    assert "CAMPUS_PULL_ALLOWED_HOSTS" in refused.json()["error"]["message"]
    page = client.post(
        "/datasets/hopital/settings",
        data={"base_url": "http://localhost:8080/fhir", "csrf_token": client.csrf()},
    )
    assert page.status_code == 400
    assert "une adresse interne" in page.text and "CAMPUS_PULL_ALLOWED_HOSTS" in page.text
    monkeypatch.setenv("CAMPUS_PULL_ALLOWED_HOSTS", "127.0.0.1")
    stored = client.put(
        "/api/v1/datasets/hopital/settings", json={"pull_source": {"base_url": server.url}}
    )
    assert stored.status_code == 200, stored.text
    # Stored while allowed, then no longer allowed (or a name now resolving elsewhere): the
    # pull itself refuses, from the API and the page, before any connection.
    monkeypatch.delenv("CAMPUS_PULL_ALLOWED_HOSTS")
    pulled = client.post("/api/v1/datasets/hopital/pull")
    assert pulled.status_code == 400 and pulled.json()["error"]["code"] == "host_not_allowed"
    page = client.post("/datasets/hopital/pull", data={"csrf_token": client.csrf()})
    assert page.status_code == 400 and "une adresse interne" in page.text
    assert server.state()["kickoffs"] == 0
    last = client.get("/api/v1/datasets/hopital").json()["pull_source"]["last_run"]
    assert last["status"] == "failed" and "an internal address" in last["message"]
    assert "Dernier import" in (shown := client.get("/datasets").text)
    assert "une adresse interne" in shown  # the recorded outcome, in the reader's language
