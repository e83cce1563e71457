"""A FHIR Bulk Data Access (v2) server for the tests, written from the IG, run as a process of
its own on loopback: `python -m tests.bulk_server --source DIR --out DIR [--patients N]` (or
`--static DIR`: a folder of large NDJSON files served as they are, for the benchmark).

It serves the resources of `--source` (FHIR Bundles, as Synthea writes them, or Bulk NDJSON)
as Bulk NDJSON: the Bundles' `urn:uuid:` references become `Type/id`, and the files it exports
for a system-level request without `_since` or `_type` are written once to `--out/export`, so a
test can ingest the very files a pull downloads. It prints `listening on http://127.0.0.1:PORT`
when ready.

What it implements (Bulk Data Access IG v2):

- kick-off `GET [base]/$export`, `[base]/Patient/$export`, `[base]/Group/[id]/$export` with
  `Accept: application/fhir+json` and `Prefer: respond-async` (else 400 with an
  OperationOutcome), `_outputFormat`, `_since`, `_type`; `_typeFilter` is refused (400, not
  supported); 202 with `Content-Location`;
- status `GET [status]`: 202 with `X-Progress` and `Retry-After` until done, then 200 with the
  manifest (`transactionTime`, `request`, `requiresAccessToken`, `output` with `count`,
  `error`, `deleted`); `DELETE [status]`: 202, the job and its files gone (404 after);
- files `GET [file]`: NDJSON (`application/fhir+ndjson`), `Range: bytes=N-` (206), gzip when
  the client accepts it and the configuration says so (no ranges then);
- SMART Backend Services: `/.well-known/smart-configuration`, token endpoint taking
  `client_credentials` with a `private_key_jwt` assertion (RS384 or ES384) checked against the
  client's registered JWKS (`kid`, `iss` = `sub` = client id, `aud` = the token URL, `exp` at
  most 5 minutes ahead, `jti` never reused); bearer tokens required everywhere when `auth` is
  configured.

Faults, set by `POST /_admin/config` (a JSON object merged into the configuration; loopback
only, the test's control channel, not part of the IG): `kickoff_status` (4xx with an
OperationOutcome), `poll_statuses` (statuses answered to the first polls: 429, 5xx),
`download_statuses` ({type: [statuses answered to the first requests of its files]}),
`not_found` (types whose file URLs 404), `truncate` (types whose last line is cut),
`bad_gzip` (types whose first gzip answer is corrupt), `short` (types the manifest lists with
their count but whose files are empty), `revoke_after` (a token stops working after that many
requests: "expired" mid-download), `clock_skew` (seconds added to the server's clock),
`error_file` (an OperationOutcome NDJSON in `error`), `throttle` (bytes a second per
download), `cut_after` ({type: bytes}: the first download of that type's first file stops
there), `polls_before_done`, `retry_after`, `token_seconds`, `max_lines` (per file), `gzip`,
`auth` ({client_id: JWKS}), `files_host` and `token_host` (a host name the manifest's file
URLs or the SMART configuration's token endpoint use instead of the one the client asked, e.g.
`localhost`). `POST /_admin/change` upserts or deletes resources (for `_since`).
`GET /_admin/state` counts kick-offs, polls, deletes, downloads, tokens and refusals (401)
since the last configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import secrets
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt

NDJSON = "application/fhir+ndjson"
FORMATS = {NDJSON, "application/ndjson", "ndjson"}
PATIENT_KEYS = ("subject", "patient", "beneficiary")
DEFAULT_TIME = "2020-05-06T00:00:00Z"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _rewrite(value, urls: dict[str, str]):
    if isinstance(value, dict):
        return {
            k: (urls.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite(v, urls))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, urls) for v in value]
    return value


def load(source: Path, patients: int | None) -> list[dict]:
    """The resources of a folder of Bundles or NDJSON; with `patients`, the first N patients'
    Bundles (by file name) and every Bundle without a Patient (practitioners, hospitals)."""
    resources: list[dict] = []
    kept = 0
    for path in sorted(source.rglob("*")):
        if path.suffix == ".ndjson":
            resources += [json.loads(line) for line in path.read_text().splitlines() if line]
        elif path.suffix == ".json":
            bundle = json.loads(path.read_text())
            entries = [e for e in bundle.get("entry", []) if "resource" in e]
            if any(e["resource"]["resourceType"] == "Patient" for e in entries):
                if patients is not None and kept >= patients:
                    continue
                kept += 1
            urls = {
                e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in entries
                if "fullUrl" in e
            }
            resources += [_rewrite(e["resource"], urls) for e in entries]
    return resources


def _patient_of(resource: dict) -> str | None:
    if resource["resourceType"] == "Patient":
        return resource["id"]
    for key in PATIENT_KEYS:
        ref = resource.get(key)
        if isinstance(ref, dict) and str(ref.get("reference", "")).startswith("Patient/"):
            return ref["reference"][8:]
    return None


def outcome(text: str, code: str = "processing") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }


class State:
    def __init__(self, resources: list[dict], out: Path):
        self.resources = resources
        self.out = out
        self.lock = threading.Lock()
        self.config: dict = {"polls_before_done": 1, "retry_after": 1, "max_lines": 0}
        self.jobs: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.jtis: set[str] = set()
        self.counts = dict.fromkeys(
            ("kickoffs", "polls", "deletes", "downloads", "tokens", "unauthorised"), 0
        )
        self.served: dict[str, int] = {}  # fault counters: key -> times answered
        self.deleted: list[tuple[str, dt.datetime]] = []  # "Type/id", when
        self.static: list[tuple[str, str, int]] = []  # --static: (file, type, lines)
        self.static_dir = out
        patients = sorted(r["id"] for r in resources if r["resourceType"] == "Patient")
        self.groups = {"all": set(patients), "half": set(patients[: max(1, len(patients) // 2)])}

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.config.get("clock_skew", 0))

    def once(self, key: str, faults: list) -> int | None:
        """The fault answered to the n-th request of `key`, or None once they are used."""
        with self.lock:
            n = self.served.get(key, 0)
            self.served[key] = n + 1
        return faults[n] if n < len(faults) else None


def updated(resource: dict) -> str:
    return (resource.get("meta") or {}).get("lastUpdated") or DEFAULT_TIME


def _instant(text: str) -> dt.datetime | None:
    try:
        found = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else None


class Handler(BaseHTTPRequestHandler):
    server_version = "campus-bulk-test/1"
    state: State

    def log_message(self, format, *args):  # quiet
        pass

    # -- helpers --
    def _send(self, status: int, body=None, headers: dict | None = None, kind=None) -> None:
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", kind or "application/fhir+json")
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _stream(self, path: Path) -> None:
        size = path.stat().st_size
        start = 0
        wanted = self.headers.get("Range", "")
        headers = {"Accept-Ranges": "bytes"}
        status = 200
        if wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[6:-1])
            if start > size:
                return self._send(416, None, {"Content-Range": f"bytes */{size}"})
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
            status = 206
        self.state.counts["downloads"] += 1
        self._head(status, headers, size - start)
        with path.open("rb") as handle:
            handle.seek(start)
            while chunk := handle.read(1 << 20):
                self.wfile.write(chunk)
        return None

    def _head(self, status: int, headers: dict, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", NDJSON)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _fail(self, status: int, text: str, code: str = "processing", headers=None) -> None:
        self._send(status, outcome(text, code), headers)

    def _host_base(self, setting: str) -> str:
        """The base URL, on the host name `setting` configures if any (the same server)."""
        host = self.state.config.get(setting)
        return f"http://{host}:{self.server.server_address[1]}" if host else self._base()

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _authorised(self) -> bool:
        if not self.state.config.get("auth"):
            return True
        header = self.headers.get("Authorization", "")
        token = self.state.tokens.get(header[7:]) if header.startswith("Bearer ") else None
        now = time.time()
        ok = token is not None and token["expires"] > now
        if ok and self.state.config.get("revoke_after") is not None:
            with self.state.lock:
                token["uses"] += 1
                ok = token["uses"] <= self.state.config["revoke_after"]
        if not ok:
            self.state.counts["unauthorised"] += 1
            self._send(
                401,
                outcome("invalid or expired access token", "login"),
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return ok

    # -- routes --
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if path == "/_admin/state":
            return self._send(200, {**self.state.counts, "jobs": len(self.state.jobs)})
        if path == "/.well-known/smart-configuration":
            return self._send(
                200,
                {
                    "token_endpoint": self._host_base("token_host") + "/auth/token",
                    "grant_types_supported": ["client_credentials"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                    "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
                    "scopes_supported": ["system/*.rs", "system/*.read"],
                    "capabilities": ["client-confidential-asymmetric"],
                },
                kind="application/json",
            )
        if path == "/metadata":
            return self._send(200, {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"})
        if path.endswith("/$export"):
            return self._kickoff(path, query)
        if path.startswith("/jobs/"):
            return self._status(path.split("/")[2])
        if path.startswith("/files/"):
            return self._file(path)
        return self._fail(404, "not found", "not-found")

    def do_DELETE(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith("/jobs/"):
            return self._fail(404, "not found", "not-found")
        if not self._authorised():
            return None
        job = self.state.jobs.pop(path.split("/")[2], None)
        if job is None:
            return self._fail(404, "no such export", "not-found")
        self.state.counts["deletes"] += 1
        shutil.rmtree(job["folder"], ignore_errors=True)
        return self._send(202)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if path == "/_admin/config":
            with self.state.lock:
                self.state.config.update(json.loads(body))
                self.state.served.clear()
                self.state.counts = dict.fromkeys(self.state.counts, 0)
            return self._send(200, self.state.config)
        if path == "/_admin/change":
            return self._change(json.loads(body))
        if path == "/auth/token":
            return self._token(parse_qs(body.decode()))
        return self._fail(404, "not found", "not-found")

    def _change(self, change: dict) -> None:
        """Resources changed on the server now: upserted (their `meta.lastUpdated` set) or
        deleted (listed in the `deleted` Bundles of later `_since` exports)."""
        state = self.state
        with state.lock:
            now = state.now()
            stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            for resource in change.get("upsert") or []:
                resource = {**resource, "meta": {**resource.get("meta", {}), "lastUpdated": stamp}}
                key = (resource["resourceType"], resource["id"])
                state.resources = [
                    r for r in state.resources if (r["resourceType"], r["id"]) != key
                ] + [resource]
            for text in change.get("delete") or []:
                type_name, _, source_id = text.partition("/")
                state.resources = [
                    r
                    for r in state.resources
                    if (r["resourceType"], r["id"]) != (type_name, source_id)
                ]
                state.deleted.append((text, now))
        return self._send(200, {"changed": True}, kind="application/json")

    def _token(self, form: dict) -> None:
        def oauth_error(error: str, text: str) -> None:
            self._send(400, {"error": error, "error_description": text}, kind="application/json")

        clients = self.state.config.get("auth") or {}
        first = {k: v[0] for k, v in form.items()}
        if first.get("grant_type") != "client_credentials":
            return oauth_error("unsupported_grant_type", "client_credentials only")
        if first.get("client_assertion_type") != ASSERTION_TYPE:
            return oauth_error("invalid_request", "a jwt-bearer client assertion is required")
        assertion = first.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            return oauth_error("invalid_client", f"malformed assertion: {error}")
        client = claims.get("iss")
        if client not in clients or claims.get("sub") != client:
            return oauth_error("invalid_client", "unknown client (iss and sub must be its id)")
        if header.get("alg") not in ("RS384", "ES384"):
            return oauth_error("invalid_client", "the assertion must be signed RS384 or ES384")
        keys = [k for k in clients[client]["keys"] if k.get("kid") == header.get("kid")]
        if not keys:
            return oauth_error("invalid_client", "no registered key has the assertion's kid")
        skew = self.state.config.get("clock_skew", 0)
        try:
            key = jwt.PyJWK(keys[0], header["alg"]).key
            verified = jwt.decode(
                assertion,
                key,
                algorithms=[header["alg"]],
                audience=self._base() + "/auth/token",
                options={"require": ["exp", "jti", "iss", "sub", "aud"], "verify_exp": False},
            )
        except jwt.PyJWTError as error:
            return oauth_error("invalid_client", f"assertion refused: {error}")
        scope = first.get("scope", "")
        if not scope or not all(s.startswith("system/") for s in scope.split()):
            return oauth_error("invalid_scope", "system scopes only")
        now = time.time() + skew
        # The server's clock may be off by `clock_skew`: a minute of leeway, as the IG allows.
        if verified["exp"] < now - 60 or verified["exp"] > now + 300 + 60:
            return oauth_error("invalid_client", "the assertion's exp is past or too far ahead")
        with self.state.lock:
            if verified["jti"] in self.state.jtis:
                return oauth_error("invalid_client", "the assertion's jti was used already")
            self.state.jtis.add(verified["jti"])
            token = secrets.token_urlsafe(24)
            seconds = int(self.state.config.get("token_seconds", 300))
            self.state.tokens[token] = {"expires": time.time() + seconds, "uses": 0}
            self.state.counts["tokens"] += 1
        return self._send(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": seconds, "scope": scope},
            kind="application/json",
        )

    def _kickoff(self, path: str, query: dict) -> None:
        config = self.state.config
        if not self._authorised():
            return None
        status = config.get("kickoff_status")
        if status:
            return self._fail(int(status), "the export was refused (test fault)", "forbidden")
        if "application/fhir+json" not in self.headers.get("Accept", ""):
            return self._fail(400, "Accept must be application/fhir+json", "invalid")
        if "respond-async" not in self.headers.get("Prefer", ""):
            return self._fail(400, "Prefer: respond-async is required", "invalid")
        fmt = query.get("_outputFormat", [NDJSON])[0]
        if fmt not in FORMATS:
            return self._fail(400, f"_outputFormat {fmt} is not supported", "not-supported")
        if "_typeFilter" in query:
            return self._fail(400, "_typeFilter is not supported by this server", "not-supported")
        since = None
        if "_since" in query:
            since = _instant(query["_since"][0])
            if since is None:
                return self._fail(400, "_since must be a FHIR instant", "invalid")
        types = None
        if "_type" in query:
            types = {t for each in query["_type"] for t in each.split(",") if t}
        patients = None
        if path.startswith("/Group/"):
            group = path.split("/")[2]
            if group not in self.state.groups:
                return self._fail(404, f"no Group {group}", "not-found")
            patients = self.state.groups[group]
        elif path.startswith("/Patient/"):
            patients = self.state.groups["all"]
        chosen = []
        for resource in self.state.resources:
            if types is not None and resource["resourceType"] not in types:
                continue
            if since is not None and _instant(updated(resource)) <= since:
                continue
            if patients is not None and _patient_of(resource) not in patients:
                continue
            chosen.append(resource)
        job = secrets.token_hex(8)
        folder = self.state.out / "jobs" / job
        folder.mkdir(parents=True)
        by_type: dict[str, list[dict]] = {}
        for resource in chosen:
            by_type.setdefault(resource["resourceType"], []).append(resource)
        files = []
        limit = int(config.get("max_lines") or 0) or None
        for type_name in sorted(by_type):
            rows = by_type[type_name]
            step = limit or len(rows)
            for n, start in enumerate(range(0, len(rows), step)):
                name = f"{type_name}.{n}.ndjson"
                text = "".join(
                    json.dumps(r, separators=(",", ":")) + "\n" for r in rows[start : start + step]
                )
                (folder / name).write_text(text)
                files.append(
                    {"type": type_name, "name": name, "count": len(rows[start : start + step])}
                )
        for name, type_name, count in self.state.static:
            if types is None or type_name in types:
                os.symlink(self.state.static_dir / name, folder / name)
                files.append({"type": type_name, "name": name, "count": count})
        gone = [t for t, when in self.state.deleted if since is not None and when > since]
        if gone:
            bundle = {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [{"request": {"method": "DELETE", "url": t}} for t in gone],
            }
            (folder / "deleted.ndjson").write_text(json.dumps(bundle) + "\n")
        if path == "/$export" and since is None and types is None and not self.state.static:
            export = self.state.out / "export"
            shutil.rmtree(export, ignore_errors=True)
            shutil.copytree(folder, export)
        with self.state.lock:
            self.state.counts["kickoffs"] += 1
            self.state.jobs[job] = {
                "folder": folder,
                "files": files,
                "polls": 0,
                "request": self._base() + self.path,
                "time": self.state.now(),
                "deleted": bool(gone),
            }
        return self._send(
            202,
            outcome("accepted", "informational"),
            {"Content-Location": f"{self._base()}/jobs/{job}"},
        )

    def _status(self, job_id: str) -> None:
        config = self.state.config
        if not self._authorised():
            return None
        job = self.state.jobs.get(job_id)
        if job is None:
            return self._fail(404, "no such export (deleted or expired)", "not-found")
        self.state.counts["polls"] += 1
        fault = self.state.once("poll", list(config.get("poll_statuses") or []))
        if fault is not None:
            return self._fail(
                int(fault),
                "try again later (test fault)",
                "transient",
                {"Retry-After": config["retry_after"]},
            )
        job["polls"] += 1
        if job["polls"] <= int(config.get("polls_before_done", 1)):
            done = job["polls"] * 100 // (int(config.get("polls_before_done", 1)) + 1)
            return self._send(
                202, None, {"X-Progress": f"{done}% exported", "Retry-After": config["retry_after"]}
            )
        base = self._base()
        base = self._host_base("files_host")
        output = []
        for each in job["files"]:
            output.append(
                {
                    "type": each["type"],
                    "url": f"{base}/files/{job_id}/{each['name']}",
                    "count": each["count"],
                }
            )
        errors = []
        if config.get("error_file"):
            name = "OperationOutcome.errors.ndjson"
            problem = outcome("Observation/obs-x could not be exported: the store timed out")
            (job["folder"] / name).write_text(json.dumps(problem) + "\n")
            errors.append({"type": "OperationOutcome", "url": f"{base}/files/{job_id}/{name}"})
        manifest = {
            "transactionTime": job["time"]
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "request": job["request"],
            "requiresAccessToken": bool(config.get("auth")),
            "output": output,
            "error": errors,
            "deleted": (
                [{"type": "Bundle", "url": f"{base}/files/{job_id}/deleted.ndjson"}]
                if job["deleted"]
                else []
            ),
        }
        return self._send(
            200, manifest, {"Expires": "Thu, 01 Jan 2099 00:00:00 GMT"}, kind="application/json"
        )

    def _file(self, path: str) -> None:
        config = self.state.config
        _, _, job_id, name = path.split("/", 3)
        job = self.state.jobs.get(job_id)
        if job is None or "/" in name or ".." in name:
            return self._fail(404, "no such file", "not-found")
        if config.get("auth") and not self._authorised():
            return None
        type_name = name.split(".")[0]
        if type_name in (config.get("not_found") or []):
            return self._fail(404, "no such file (test fault)", "not-found")
        fault = self.state.once(
            f"file:{type_name}", list((config.get("download_statuses") or {}).get(type_name, []))
        )
        if fault is not None:
            return self._fail(
                int(fault),
                "try again later (test fault)",
                "transient",
                {"Retry-After": config["retry_after"]},
            )
        plain = not any(
            config.get(k) for k in ("short", "truncate", "gzip", "cut_after", "throttle")
        )
        if plain:  # as it is on disk, streamed (the benchmark's files are large)
            return self._stream(job["folder"] / name)
        data = (job["folder"] / name).read_bytes()
        if type_name in (config.get("short") or []):
            data = b""
        if type_name in (config.get("truncate") or []) and data:
            data = data[: len(data) - 40]
        self.state.counts["downloads"] += 1
        headers = {"Accept-Ranges": "bytes"}
        status = 200
        zipped = config.get("gzip") and "gzip" in self.headers.get("Accept-Encoding", "")
        wanted = self.headers.get("Range", "")
        if zipped:
            data = gzip.compress(data)
            headers = {"Content-Encoding": "gzip"}
            if type_name in (config.get("bad_gzip") or []) and self.state.once(
                f"gzip:{type_name}", [True]
            ):
                data = data[:10] + bytes(b ^ 0x55 for b in data[10:])  # a corrupt stream
        elif wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[6:-1])
            if start > len(data):
                return self._send(416, None, {"Content-Range": f"bytes */{len(data)}"})
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            data, status = data[start:], 206
        cut = (config.get("cut_after") or {}).get(type_name)
        if (
            cut is not None
            and name.endswith(".0.ndjson")
            and self.state.once(f"cut:{type_name}", [True])
        ):
            # Announce the whole length, send part of it and drop the connection.
            self._head(status, headers, len(data))
            self.wfile.write(data[:cut])
            self.wfile.flush()
            self.close_connection = True
            return None
        throttle = config.get("throttle")
        if throttle:
            self._head(status, headers, len(data))
            step = max(1, int(throttle) // 10)
            for start in range(0, len(data), step):
                self.wfile.write(data[start : start + step])
                self.wfile.flush()
                time.sleep(0.1)
            return None
        return self._send(status, data, headers, kind=NDJSON)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="Bundles or NDJSON, loaded in memory")
    parser.add_argument(
        "--static",
        type=Path,
        help="a folder of <Type>*.ndjson served as they are, system level only (the benchmark)",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--config", default="{}", help="initial configuration (JSON)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.static is not None:
        Handler.state = State([], args.out)
        Handler.state.static_dir = args.static.resolve()
        for path in sorted(args.static.glob("*.ndjson")):
            with path.open("rb") as handle:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            Handler.state.static.append((path.name, path.name.split(".")[0], lines))
    elif args.source is not None:
        Handler.state = State(load(args.source, args.patients), args.out)
    else:
        parser.error("give --source or --static")
    Handler.state.config.update(json.loads(args.config))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
