"""`campus pull`: a Bulk Data export of the hospital's FHIR server, ending in a new dataset
version through the same ingest as an upload (policy, opt-out, references, catalogue, twin).

The files land in the dataset's `pulls/<request>/` folder (the request's own: a rerun of the
same pull finds it): `state.json` keeps the status URL, so a pull killed while the server
exports or while files download resumes that export and the files that were complete, and
resumes a cut file with `Range`. Nothing is published before every file is in and checked;
then the folder (source data) is removed and the export deleted on the server (`DELETE` of
its status URL), also when the pull fails or is interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from campus.auth.actor import Actor
from campus.db.engine import Database
from campus.errors import BadRequest, CampusError, Conflict, Forbidden
from campus.settings import Settings
from campus.warehouse import layout, messages, service
from campus.warehouse.bulk import guard
from campus.warehouse.bulk.client import Backoff, BulkClient, ExportGone, PullFailed, Request
from campus.warehouse.bulk.smart import KEY_NAME, BackendAuth, discover, load_key
from campus.warehouse.ingest import IngestReport, OnError
from campus.warehouse.problems import Problem

TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def keys_dir(settings: Settings) -> Path:
    """Where `campus pull keygen` writes private keys, and where a dataset's key name points."""
    return Path(settings.warehouse_path) / "keys"


def key_path(settings: Settings, key: str) -> Path:
    """A key name (the dataset's `key_ref`, kept in `keys_dir`) or, from the command line, a
    file path."""
    if KEY_NAME.match(key):
        return keys_dir(settings) / f"{key}.jwk.json"
    return Path(key)


def check_request(request: Request) -> None:
    if not re.match(r"^https?://[^\s/?#]+", request.base_url or ""):
        raise BadRequest(
            "the server's base URL must be an http(s) URL", code="bad_url", where="from"
        )
    guard.check_url(request.base_url)
    if request.group and request.patient:
        raise BadRequest(
            "--group and --patient are two levels: choose one", code="bad_level", where="group"
        )
    if request.group is not None and not re.match(r"^[A-Za-z0-9\-.]{1,64}$", request.group):
        raise BadRequest(
            "a Group id is 1-64 letters, digits, - or .", code="bad_group", where="group"
        )
    for each in request.types:
        if not TYPE_NAME.match(each):
            raise BadRequest(f"{each!r} is not a resource type", code="bad_type", where="type")
    if request.since is not None and not INSTANT.match(request.since):
        raise BadRequest(
            "--since is a FHIR instant, e.g. 2026-01-31T00:00:00Z", code="bad_since", where="since"
        )


def _folder(settings: Settings, dataset: str, request: Request, client_id: str) -> Path:
    digest = hashlib.sha256(f"{request.url()}\n{client_id}".encode()).hexdigest()[:16]
    return layout.dataset_dir(settings.warehouse_path, dataset) / "pulls" / digest


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One pull of a request at a time (the lock goes with a killed process)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = (folder / "lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Conflict(
            "this pull is already running", code="pull_running", where="dataset"
        ) from None
    try:
        yield
    finally:
        handle.close()


def _stale(folder: Path) -> None:
    """Remove the folders of other pulls of the dataset that no process holds any more."""
    for other in folder.parent.iterdir() if folder.parent.is_dir() else ():
        if other == folder or not other.is_dir():
            continue
        with contextlib.suppress(Conflict), _exclusive(other):
            shutil.rmtree(other, ignore_errors=True)


def pull(
    db: Database,
    settings: Settings,
    actor: Actor,
    dataset: str,
    request: Request,
    *,
    client_id: str = "",
    key: str = "",
    on_error: OnError = "abort",
    events: Callable[..., None] | None = None,
    progress=None,
    backoff: Backoff | None = None,
    workers: int | None = None,
    http: httpx.Client | None = None,
    full: bool = False,
    trigger: str = "",
) -> IngestReport:
    """Export from the server, download, check, ingest; the ingest's report.

    Incremental unless `full`: when the dataset's latest version was pulled from the same
    server with the same request, `since` defaults to its `transactionTime`; with a `since`
    (given or so found) the new version builds on the latest one (upsert by type and id, the
    manifest's `deleted` resources removed)."""
    service.check_name(dataset)
    with db.session() as session:  # before anything is recorded on the dataset
        found = service.get_dataset(session, dataset)
        if found is not None and not service.may_steward(actor, found):
            raise Forbidden(
                "only a data steward of the dataset's owner organisation may pull into it",
                code="forbidden",
            )
    tag = {"trigger": trigger} if trigger else {}
    try:
        check_request(request)
    except guard.HostNotAllowed as error:  # a stored server refused now: seen on the page
        failed = {**tag, "status": "failed", "message": error.message}
        service.record_pull(db, actor, dataset, failed)
        raise
    try:
        report = _pull(
            db, settings, actor, dataset, request, client_id, key, on_error, events,
            progress, backoff, workers, http, full,
        )  # fmt: skip
    except (CampusError, KeyboardInterrupt) as error:
        message = getattr(error, "message", "interrupted: the export was cancelled")
        service.record_pull(db, actor, dataset, {**tag, "status": "failed", "message": message})
        raise
    service.record_pull(
        db,
        actor,
        dataset,
        {
            **tag,
            "status": report.status,
            "version": report.version,
            "resources": report.resources,
            "skipped": report.skipped,
            "errors": report.errors,
        },
    )
    return report


def pull_stored(
    db: Database,
    settings: Settings,
    actor: Actor,
    name: str,
    on_error: OnError = "abort",
    since: str | None = None,
    events: Callable[..., None] | None = None,
    trigger: str = "",
) -> IngestReport:
    """A pull from the server stored on the dataset (API, page, the worker's schedule)."""
    with db.session() as session:
        source = dict(service.require_dataset(session, name).pull_source or {})
    if not source.get("base_url"):
        raise BadRequest(
            "store the hospital's server on the dataset first (PUT .../settings)",
            code="no_pull_source",
            where="pull_source",
        )
    request = Request(
        base_url=source["base_url"],
        group=source.get("group") or None,
        types=list(source.get("types") or []),
        since=since,
    )
    return pull(
        db,
        settings,
        actor,
        name,
        request,
        client_id=source.get("client_id", ""),
        key=source.get("key_ref", ""),
        on_error=on_error,
        events=events,
        trigger=trigger,
    )


def _pull(
    db, settings, actor, dataset, request, client_id, key, on_error, events, progress,
    backoff, workers, http, full,
) -> IngestReport:  # fmt: skip
    base_version = None if full else _base(settings, dataset, request)
    events = events or (lambda *a, **k: None)
    own_http = http is None
    http = http or guard.client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True)
    folder = _folder(settings, dataset, request, client_id)
    try:
        auth = None
        if client_id or key:
            if not (client_id and key):
                raise BadRequest(
                    "SMART Backend Services needs both a client id and a key",
                    code="bad_auth",
                    where="client_id",
                )
            private = load_key(key_path(settings, key))
            auth = BackendAuth(http, discover(http, request.base_url), client_id, private)
        client = BulkClient(http, auth, backoff, events)
        with _exclusive(folder):
            _stale(folder)
            ingest = functools.partial(
                service.ingest,
                db,
                settings,
                actor,
                dataset,
                on_error=on_error,
                progress=progress,
                workers=workers,
            )
            return _run(client, request, folder, events, base_version, ingest, dataset)
    finally:
        if own_http:
            http.close()


def _base(settings: Settings, dataset: str, request: Request) -> str | None:
    """The version an incremental pull builds on (setting `request.since` when the latest
    version was pulled the same way), or None for a version of its own."""
    try:
        published = layout.versions(settings.warehouse_path, dataset)
    except ValueError:
        return None
    if not published:
        return None
    latest = published[-1]
    if request.since is not None:
        return latest.version
    pulled = latest.manifest.get("pull") or {}
    same = {k: v for k, v in asdict(request).items() if k not in ("base_url", "since")}
    before = {k: v for k, v in (pulled.get("request") or {}).items() if k != "since"}
    if pulled.get("from") == request.base_url and before == same:
        since = pulled.get("transaction_time")
        if isinstance(since, str) and INSTANT.match(since):
            request.since = since
            return latest.version
    return None


def _run(
    client: BulkClient,
    request: Request,
    folder: Path,
    events: Callable[..., None],
    base_version: str | None,
    ingest: Callable[..., IngestReport],
    dataset: str,
) -> IngestReport:
    """Kick-off (or resume), poll, download and check, then `ingest` the files."""
    state_file = folder / "state.json"
    state: dict[str, Any] = {}
    if state_file.exists():
        with contextlib.suppress(ValueError, OSError):
            state = json.loads(state_file.read_text())
    status_url = state.get("status_url")
    finished = False
    try:
        manifest = None
        if status_url:
            events("resume", status_url=status_url)
            try:
                manifest = client.poll(status_url)
            except ExportGone:
                status_url = None
                shutil.rmtree(folder / "files", ignore_errors=True)
        if status_url is None:
            status_url = client.kickoff(request)
            _write_state(state_file, {"status_url": status_url})
        if manifest is None:
            manifest = client.poll(status_url)
        outputs = _outputs(manifest)
        requires_token = bool(manifest.get("requiresAccessToken"))
        if requires_token and client.auth is None:
            raise PullFailed(
                "the server's files require an access token: set a client id and key",
                code="token_required",
                where="client_id",
            )
        events("manifest", files=len(outputs), resources=sum(c or 0 for _, _, c in outputs))
        files_dir = folder / "files"
        files_dir.mkdir(exist_ok=True)
        paths = []
        for n, (type_name, url, count) in enumerate(outputs):
            target = files_dir / f"{type_name}.{n:04d}.ndjson"
            if not target.exists():
                client.download(url, target, count, requires_token)
            events("file", type=type_name, count=count)
            paths.append(target)
        problems = _server_errors(client, manifest, folder, requires_token)
        deleted = _deleted(client, manifest, folder, requires_token) if base_version else []
        transaction = manifest.get("transactionTime")
        pulled = {
            "from": request.base_url,
            "request": {k: v for k, v in asdict(request).items() if k != "base_url"},
            "transaction_time": transaction if isinstance(transaction, str) else None,
            "files": len(outputs),
            "server_errors": len(problems),
            "deleted": len(deleted),
        }
        if base_version is not None and not paths and not deleted and not problems:
            # Nothing changed on the server since the version built upon: no new version.
            finished = True
            return IngestReport(dataset, status="unchanged", version=base_version)
        events("ingest", files=len(paths))
        report = ingest(
            paths,
            labels=[p.name for p in paths],
            external_problems=problems,
            manifest_extra={"pull": pulled},
            audit_details={"pull": pulled},
            base_version=base_version,
            deleted=deleted,
        )
        finished = True
        return report
    except KeyboardInterrupt:
        finished = True  # cancelled: the export is deleted, nothing was published
        raise
    except (PullFailed, guard.HostNotAllowed):
        finished = True  # a rerun would fail the same way: the export is deleted
        raise
    finally:
        if finished:
            if status_url:
                client.delete(status_url)
            shutil.rmtree(folder, ignore_errors=True)


def _write_state(path: Path, state: dict[str, Any]) -> None:
    partial = path.with_name("state.json.part")
    partial.write_text(json.dumps(state))
    os.replace(partial, path)


def _outputs(manifest: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    found = []
    for each in manifest.get("output") or []:
        if not isinstance(each, dict):
            raise PullFailed(
                "the manifest's output holds a non-object", code="bad_manifest", where="from"
            )
        type_name, url, count = each.get("type"), each.get("url"), each.get("count")
        if not isinstance(type_name, str) or not TYPE_NAME.match(type_name):
            raise PullFailed(
                "the manifest names an output without a resource type",
                code="bad_manifest",
                where="from",
            )
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise PullFailed(
                f"the manifest gives {type_name} a URL that is not http(s)",
                code="bad_manifest",
                where="from",
            )
        found.append((type_name, url, count if isinstance(count, int) and count >= 0 else None))
    return found


def _server_errors(
    client: BulkClient, manifest, folder: Path, requires_token: bool
) -> list[Problem]:
    """The server's error files (OperationOutcomes), as ingest errors: each names a resource
    the export lacks, so the version would silently miss it."""
    problems: list[Problem] = []
    errors = [e for e in manifest.get("error") or [] if isinstance(e, dict)]
    for n, each in enumerate(errors):
        url = each.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        target = folder / f"errors.{n:04d}.ndjson"
        client.download(url, target, None, requires_token)
        label = f"server error file {n + 1}"
        with target.open("rb") as handle:
            for line_number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    outcome = json.loads(line)
                    texts = [
                        str(issue.get("diagnostics") or "")
                        for issue in outcome.get("issue") or []
                        if isinstance(issue, dict)
                    ]
                except (ValueError, AttributeError):
                    texts = ["(an error line that is not an OperationOutcome)"]
                text = "; ".join(t for t in texts if t)[:300] or "(no diagnostics)"
                problems.append(
                    Problem(
                        "error", label, messages.SERVER_ERROR.format(diagnostics=text), line_number
                    )
                )
    return problems


def _deleted(
    client: BulkClient, manifest, folder: Path, requires_token: bool
) -> list[tuple[str, str]]:
    """The resources the manifest's `deleted` Bundles name (`request.url` = `Type/id`)."""
    found: list[tuple[str, str]] = []
    entries = [e for e in manifest.get("deleted") or [] if isinstance(e, dict)]
    for n, each in enumerate(entries):
        url = each.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        target = folder / f"deleted.{n:04d}.ndjson"
        client.download(
            url,
            target,
            each.get("count") if isinstance(each.get("count"), int) else None,
            requires_token,
        )
        with target.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    bundle = json.loads(line)
                    items = [e.get("request", {}).get("url", "") for e in bundle.get("entry") or []]
                except (ValueError, AttributeError):
                    raise PullFailed(
                        "a deleted-resources file of the export is not NDJSON Bundles",
                        code="bad_deleted",
                        where="from",
                    ) from None
                for text in items:
                    type_name, _, source_id = str(text).partition("/")
                    if TYPE_NAME.match(type_name) and source_id:
                        found.append((type_name, source_id))
    return found
