"""Ingest with the database around it: the version's files published, then its row recorded;
`sync` reconciles the rows with the files on disk, which are the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.db.engine import Database, lock
from campus.errors import BadRequest
from campus.optout import service as optout
from campus.settings import Settings
from campus.warehouse import ingest as engine
from campus.warehouse import layout
from campus.warehouse import policy as policies
from campus.warehouse.datasets import (
    NO_BASE_VERSION,
    AlreadyExists,
    check_name,
    check_steward,
    create_dataset,
    get_dataset,
    require_dataset,
    set_policy,
)
from campus.warehouse.models import Dataset, DatasetVersionRow


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
            check_steward(actor, dataset)
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
