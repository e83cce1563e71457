"""The warehouse service: datasets, ingest with the database around it, versions, catalogue.

CLI, API and pages call these functions. Files on disk (`layout`) are the truth about
published versions; the database rows are their indexed summary, reconciled by `sync`.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.engine import Database, lock
from campus.errors import BadRequest, Forbidden, NotFound
from campus.i18n import N_
from campus.optout import service as optout
from campus.settings import Settings
from campus.warehouse import catalogue as catalogue_module
from campus.warehouse import ingest as engine
from campus.warehouse import layout, publish
from campus.warehouse import policy as policies
from campus.warehouse.models import Dataset, DatasetVersionRow


def may_steward(actor: Actor, dataset: Dataset | None) -> bool:
    """Staff, a global data steward, or a data steward of the dataset's owner organisation."""
    if actor.via == "system" or actor.is_staff:
        return True
    if dataset is None or not dataset.owner_org:
        return actor.has_role(Role.DATA_STEWARD)
    return actor.has_role(Role.DATA_STEWARD, "organisation", dataset.owner_org)


def _check(actor: Actor, dataset: Dataset | None) -> None:
    if not may_steward(actor, dataset):
        raise Forbidden(
            "only a data steward of the dataset's owner organisation may change it",
            code="forbidden",
        )


def get_dataset(session: Session, name: str) -> Dataset | None:
    return session.scalar(select(Dataset).where(Dataset.name == name))


def require_dataset(session: Session, name: str) -> Dataset:
    dataset = get_dataset(session, name)
    if dataset is None:
        raise NotFound(f"no dataset {name!r}", code="not_found", where="dataset")
    return dataset


class AlreadyExists(BadRequest):
    """A dataset of that name exists (400, where: dataset)."""


def check_name(name: str) -> None:
    """Refuse a dataset name the folders and URLs cannot hold (400, where: dataset)."""
    if not layout.DATASET_NAME.match(name or ""):
        raise BadRequest(
            "a dataset name is 1-63 lowercase letters, digits, '-' or '_', starting with a "
            "letter or digit",
            code="bad_dataset",
            where="dataset",
        )


def create_dataset(
    session: Session,
    actor: Actor,
    name: str,
    *,
    title: str = "",
    owner_org: str = "",
    policy: policies.Policy | None = None,
    threshold: int = 10,
) -> Dataset:
    """Create a dataset (its policy defaults to the shipped one)."""
    check_name(name)
    if get_dataset(session, name) is not None:
        raise AlreadyExists(f"dataset {name!r} already exists", code="exists", where="dataset")
    if not actor.is_staff and actor.via != "system":
        owners = actor.scope_ids(Role.DATA_STEWARD, "organisation")
        if not actor.has_role(Role.DATA_STEWARD) and owner_org not in owners:
            raise Forbidden(
                "create the dataset for an organisation you are data steward of",
                code="forbidden",
            )
    policy = policy or policies.default()
    dataset = Dataset(
        name=name,
        title=title or name,
        owner_org=owner_org,
        policy=policy.as_dict(),
        date_shift=policy.date_shift,
        threshold=threshold,
        created_by=actor.label,
    )
    session.add(dataset)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="dataset.create",
        object_type="dataset",
        object_id=name,
        details={"owner_org": owner_org, "policy_sha256": policy.digest},
    )
    return dataset


def set_policy(session: Session, actor: Actor, name: str, policy: policies.Policy) -> Dataset:
    dataset = require_dataset(session, name)
    _check(actor, dataset)
    dataset.policy = policy.as_dict()
    dataset.date_shift = policy.date_shift
    audit.record(
        session,
        actor=actor.label,
        action="dataset.policy",
        object_type="dataset",
        object_id=name,
        details={"policy_sha256": policy.digest},
    )
    return dataset


def set_error_tolerance(session: Session, actor: Actor, name: str, tolerance: int) -> Dataset:
    """How many resources an ingest of this dataset may skip and still publish by default."""
    dataset = require_dataset(session, name)
    _check(actor, dataset)
    if type(tolerance) is not int or not 0 <= tolerance <= 1_000_000_000:
        raise BadRequest(
            "the error tolerance is a whole number of resources, 0 or more",
            code="bad_tolerance",
            where="error_tolerance",
        )
    dataset.error_tolerance = tolerance
    audit.record(
        session,
        actor=actor.label,
        action="dataset.error_tolerance",
        object_type="dataset",
        object_id=name,
        details={"error_tolerance": tolerance},
    )
    return dataset


def set_pull_source(
    session: Session, actor: Actor, name: str, source: dict[str, Any] | None
) -> Dataset:
    """Store (or, with None, forget) the hospital's Bulk Data server of a dataset: base URL,
    client id, key name (a key of `campus pull keygen`, never a path), Group, types, and the
    schedule the worker pulls it on (`campus.warehouse.bulk.schedule`)."""
    from campus.warehouse.bulk import schedule as schedules
    from campus.warehouse.bulk.client import Request
    from campus.warehouse.bulk.pull import check_request
    from campus.warehouse.bulk.smart import KEY_NAME

    dataset = require_dataset(session, name)
    _check(actor, dataset)
    stored = None
    if source is not None:
        text = {k: str(source.get(k) or "").strip() for k in ("base_url", "client_id", "key_ref")}
        group = str(source.get("group") or "").strip() or None
        types = source.get("types") or []
        if isinstance(types, str):
            types = [t.strip() for t in types.split(",") if t.strip()]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise BadRequest("types is a list of resource types", code="bad_type", where="types")
        check_request(Request(base_url=text["base_url"], group=group, types=types))
        if text["key_ref"] and not KEY_NAME.match(text["key_ref"]):
            raise BadRequest(
                "the key is the name of a key made by `campus pull keygen`, not a path",
                code="bad_key",
                where="key_ref",
            )
        if bool(text["client_id"]) != bool(text["key_ref"]) or len(text["client_id"]) > 200:
            raise BadRequest(
                "give both a client id (at most 200 characters) and a key, or neither",
                code="bad_auth",
                where="client_id",
            )
        stored = {**text, "group": group, "types": types}
        plan = schedules.check(source.get("schedule"))
        before = (dataset.pull_source or {}).get("schedule") or {}
        if plan is not None:
            if {k: v for k, v in before.items() if k != "from"} == {
                k: v for k, v in plan.items() if k != "from"
            }:
                plan["from"] = before["from"]  # the same schedule keeps its slots
            stored["schedule"] = plan
        last = (dataset.pull_source or {}).get("last_run")
        if last:
            stored["last_run"] = last
    dataset.pull_source = stored
    audit.record(
        session,
        actor=actor.label,
        action="dataset.pull_source",
        object_type="dataset",
        object_id=name,
        details={"pull_source": stored},
    )
    return dataset


def record_pull(db: Database, actor: Actor, name: str, outcome: dict[str, Any]) -> None:
    """A pull's outcome (published, unchanged, aborted, failed with the server's words): on
    the dataset (`pull_source.last_run`, shown on its page) and in the audit log, so that a
    scheduled pull (cron, a timer) that failed at night is seen in the morning."""
    import datetime as dt

    outcome = {**outcome, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with db.session() as session:
        dataset = get_dataset(session, name)
        if dataset is not None:
            dataset.pull_source = {**(dataset.pull_source or {}), "last_run": outcome}
        audit.record(
            session,
            actor=actor.label,
            action="dataset.pull",
            object_type="dataset",
            object_id=name,
            details=outcome,
        )


NO_BASE_VERSION = N_(
    "This dataset has no version to build on: ingest a whole file first, then files of changes."
)


def incremental_base(settings: Settings, name: str) -> str:
    """The version an incremental upload builds on: the dataset's latest (refused without)."""
    check_name(name)
    published = layout.versions(settings.warehouse_path, name)
    if not published:
        raise BadRequest(NO_BASE_VERSION, code="no_base_version", where="incremental")
    return published[-1].version


def ingest(
    db: Database,
    settings: Settings,
    actor: Actor,
    name: str,
    paths: list[Path],
    *,
    labels: list[str] | None = None,
    on_error: engine.OnError = "abort",
    strict: bool = False,
    policy: policies.Policy | None = None,
    owner_org: str = "",
    workers: int | None = None,
    progress: engine.Progress | None = None,
    limits: engine.Limits | None = None,
    audit_details: dict[str, Any] | None = None,
    external_problems: list | None = None,
    manifest_extra: dict[str, Any] | None = None,
    base_version: str | None = None,
    deleted: list[tuple[str, str]] | None = None,
) -> engine.IngestReport:
    """Ingest files into a new version of a dataset (created on first use).

    By default (`on_error="abort"`) nothing is published when more resources fail than the
    dataset's `error_tolerance` (0 unless a steward set it); `"skip"` publishes the rest."""
    check_name(name)
    try:
        chosen, threshold, registry, tolerance = _prepare(
            db, settings, actor, name, policy, owner_org
        )
    except (IntegrityError, AlreadyExists):
        # Another first upload created the dataset meanwhile: ingest into it, as its steward.
        chosen, threshold, registry, tolerance = _prepare(
            db, settings, actor, name, policy, owner_org
        )
    report = engine.run(
        settings.warehouse_path,
        name,
        paths,
        policy=chosen,
        pseudonym_key=settings.secret("pseudonym_key").encode(),
        optout_secret=settings.secret("optout_key").encode(),
        registry=registry,
        actor=actor.label,
        labels=labels,
        on_error=on_error,
        tolerance=tolerance,
        strict=strict,
        threshold=threshold,
        workers=workers,
        limits=limits,
        progress=progress,
        external_problems=external_problems,
        manifest_extra=manifest_extra,
        base_version=base_version,
        deleted=deleted,
    )
    from campus.ops.metrics import observe_ingest  # operations' figures (campus.ops)

    observe_ingest(report.seconds, published=bool(report.version))
    with db.session() as session:
        dataset = require_dataset(session, name)
        if report.version:
            # A catalogue visit may have recorded the published folder first (`sync`).
            lock(session, dataset)
            if report.version not in {row.version for row in dataset.versions}:
                _record_version(
                    session, dataset, layout.resolve(settings.warehouse_path, name, report.version)
                )
        audit.record(
            session,
            actor=actor.label,
            action="dataset.ingest",
            object_type="dataset",
            object_id=name,
            details={
                "status": report.status,
                "version": report.version,
                "resources": report.resources,
                "errors": report.errors,
                "warnings": report.warnings,
                "dropped_optout": report.dropped_optout,
                "policy_sha256": report.policy_hash,
                "skipped": report.skipped,
                "strict": strict,
                "on_error": on_error,
                **(audit_details or {}),
            },
        )
    return report


def _prepare(
    db: Database,
    settings: Settings,
    actor: Actor,
    name: str,
    policy: policies.Policy | None,
    owner_org: str,
) -> tuple[policies.Policy, int, set[str], int]:
    """The dataset's policy, threshold, the opt-out registry and its error tolerance; creates
    the dataset, or checks the actor may steward it and records a new policy."""
    with db.session() as session:
        dataset = get_dataset(session, name)
        if dataset is None:
            dataset = create_dataset(
                session,
                actor,
                name,
                owner_org=owner_org,
                policy=policy,
                threshold=settings.disclosure_threshold,
            )
        else:
            _check(actor, dataset)
            if policy is not None and policy.as_dict() != dataset.policy:
                set_policy(session, actor, name, policy)
        chosen = policies.parse(dataset.policy, "dataset policy")
        tolerance = dataset.error_tolerance or 0
        return chosen, dataset.threshold, optout.all_keys(session), tolerance


def _record_version(session: Session, dataset: Dataset, version: layout.DatasetVersion) -> None:
    manifest = version.manifest
    row = DatasetVersionRow(
        dataset_id=dataset.id,
        version=version.version,
        number=int(version.version[1:]),
        resources=manifest.get("resources", 0),
        patients=manifest.get("patients", 0),
        bytes=sum(manifest.get("sizes", {}).values()),
        policy_hash=manifest.get("policy", {}).get("sha256", ""),
        summary={
            k: manifest.get(k)
            for k in (
                "counts",
                "errors",
                "warnings",
                "duplicates",
                "created_at",
                "skipped",
                "skipped_reasons",
                "pull",
                "base_version",
                "removed",
            )
        },
        created_by=manifest.get("created_by", ""),
    )
    session.add(row)
    session.flush()


def sync(session: Session, settings: Settings, dataset: Dataset) -> None:
    """Make the version rows match the published folders (after a crash between the two, or
    in the moment between an ingest's publication and its own record of it). Nothing to do
    is the common case, found without a lock; a change is made under the dataset's row lock,
    which the ingest's record takes too, so the version is recorded once."""
    on_disk = {v.version: v for v in layout.versions(settings.warehouse_path, dataset.name)}
    if set(on_disk) == {row.version for row in dataset.versions}:
        return
    lock(session, dataset)
    rows = {row.version: row for row in dataset.versions}
    for name, row in rows.items():
        if name not in on_disk:
            dataset.versions.remove(row)
    for name, version in on_disk.items():
        if name not in rows:
            _record_version(session, dataset, version)
    session.flush()
    session.refresh(dataset)


def list_datasets(session: Session, settings: Settings) -> list[Dataset]:
    datasets = list(session.scalars(select(Dataset).order_by(Dataset.name)))
    for dataset in datasets:
        sync(session, settings, dataset)
    return datasets


def stewarded_datasets(session: Session, settings: Settings, actor: Actor) -> list[Dataset]:
    """The datasets the actor may steward (`may_steward`): a steward of one organisation sees
    neither the policy nor the versions of another's, as the routes naming a dataset refuse."""
    return [d for d in list_datasets(session, settings) if may_steward(actor, d)]


def describe(dataset: Dataset) -> dict[str, Any]:
    """A dataset and its versions, as the API returns them."""
    return {
        "name": dataset.name,
        "title": dataset.title,
        "description": dataset.description,
        "owner_org": dataset.owner_org,
        "threshold": dataset.threshold,
        "error_tolerance": dataset.error_tolerance or 0,
        "pull_source": dataset.pull_source,
        "policy": dataset.policy,
        "policy_sha256": policies.parse(dataset.policy, "dataset policy").digest,
        "created_at": dataset.created_at.isoformat(),
        "versions": [
            {
                "version": v.version,
                "resources": v.resources,
                "patients": v.patients,
                "bytes": v.bytes,
                "policy_sha256": v.policy_hash,
                "created_at": v.created_at.isoformat(),
                "created_by": v.created_by,
                # rows written before opted-out counts became the DPO's alone hold one
                "summary": {k: x for k, x in (v.summary or {}).items() if k != "dropped_optout"},
            }
            for v in dataset.versions
        ],
    }


def manifest(settings: Settings, name: str, version: str | None = None) -> dict[str, Any]:
    found = _version(settings, name, version).manifest
    # Versions written before opted-out counts became the DPO's alone still hold one.
    return {k: v for k, v in found.items() if k != "dropped_optout"}


def _version(settings: Settings, name: str, version: str | None) -> layout.DatasetVersion:
    try:
        return layout.resolve(settings.warehouse_path, name, version)
    except ValueError as error:
        raise NotFound(str(error), code="not_found", where="version") from None


def drop(
    db_session: Session, settings: Settings, actor: Actor, name: str, version: str | None = None
) -> list[str]:
    """Drop one version, or the whole dataset when `version` is None; returns what went."""
    dataset = require_dataset(db_session, name)
    _check(actor, dataset)
    folder = layout.dataset_dir(settings.warehouse_path, name)
    trash = folder / "trash"
    dropped: list[str] = []
    with publish.dataset_lock(folder):
        published = layout.versions(settings.warehouse_path, name)
        targets = [v for v in published if version is None or v.version == version]
        if version is not None and not targets:
            raise NotFound(
                f"dataset {name!r} has no version {version!r}", code="not_found", where="version"
            )
        trash.mkdir(exist_ok=True)
        for each in targets:  # one rename makes each version vanish at once
            each.path.rename(trash / f"{each.version}-{secrets.token_hex(4)}")
            dropped.append(each.version)
    shutil.rmtree(trash, ignore_errors=True)
    for row in list(dataset.versions):
        if row.version in dropped:
            dataset.versions.remove(row)
    audit.record(
        db_session,
        actor=actor.label,
        action="dataset.drop",
        object_type="dataset",
        object_id=name,
        details={"versions": dropped, "whole_dataset": version is None},
    )
    if version is None:
        db_session.delete(dataset)
        shutil.rmtree(folder, ignore_errors=True)
    db_session.flush()
    return dropped


def catalogue(
    settings: Settings, name: str, version: str | None = None, detail: bool = False
) -> dict[str, Any]:
    """A version's catalogue: the public part, or everything (`detail`) for members."""
    found = _version(settings, name, version)
    data = json.loads((found.path / "catalogue.json").read_text())
    shown = (
        catalogue_module.member(data, settings.rounding_base)
        if detail
        else catalogue_module.public(data)
    )
    return {"dataset": name, "version": found.version, **shown}


def public_catalogue(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every dataset with a published version: its public summary."""
    out = []
    for dataset in list_datasets(session, settings):
        if not dataset.versions:
            continue
        summary = catalogue(settings, dataset.name)
        out.append(
            {
                "title": dataset.title,
                "description": dataset.description,
                "owner_org": dataset.owner_org,
                **summary,
            }
        )
    return out
