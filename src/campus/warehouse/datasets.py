"""Datasets: who stewards them, their names, policies, error tolerance and Bulk Data source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.auth.roles import Role
from campus.db.engine import Database
from campus.errors import BadRequest, Forbidden, NotFound
from campus.i18n import N_
from campus.warehouse import layout
from campus.warehouse import policy as policies
from campus.warehouse.models import Dataset


def may_steward(actor: Actor, dataset: Dataset | None) -> bool:
    """Staff, a global data steward, or a data steward of the dataset's owner organisation."""
    if actor.via == "system" or actor.is_staff:
        return True
    if dataset is None or not dataset.owner_org:
        return actor.has_role(Role.DATA_STEWARD)
    return actor.has_role(Role.DATA_STEWARD, "organisation", dataset.owner_org)


def check_steward(actor: Actor, dataset: Dataset | None) -> None:
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
    check_steward(actor, dataset)
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
    check_steward(actor, dataset)
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
    check_steward(actor, dataset)
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
