"""Reading datasets and versions: lists, descriptions, manifests, dropping a version, and the
catalogue (public or for stewards)."""

from __future__ import annotations

import json
import secrets
import shutil
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.errors import NotFound
from campus.settings import Settings
from campus.warehouse import catalogue as catalogue_module
from campus.warehouse import layout, publish
from campus.warehouse import policy as policies
from campus.warehouse.datasets import check_steward, may_steward, require_dataset
from campus.warehouse.ingesting import sync
from campus.warehouse.models import Dataset


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
    found = version_of(settings, name, version).manifest
    # Versions written before opted-out counts became the DPO's alone still hold one.
    return {k: v for k, v in found.items() if k != "dropped_optout"}


def version_of(settings: Settings, name: str, version: str | None) -> layout.DatasetVersion:
    try:
        return layout.resolve(settings.warehouse_path, name, version)
    except ValueError as error:
        raise NotFound(str(error), code="not_found", where="version") from None


def drop(
    db_session: Session, settings: Settings, actor: Actor, name: str, version: str | None = None
) -> list[str]:
    """Drop one version, or the whole dataset when `version` is None; returns what went."""
    dataset = require_dataset(db_session, name)
    check_steward(actor, dataset)
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
    found = version_of(settings, name, version)
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
