"""`campus ingest`, `campus dataset ...` and `campus optout ...` (the registry's operator side)."""

from __future__ import annotations

import getpass
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from campus.auth.actor import Actor
from campus.commandline import database, fail
from campus.errors import CampusError
from campus.settings import get_settings

dataset_app = typer.Typer(help="Dataset versions in the warehouse.", no_args_is_help=True)
optout_app = typer.Typer(help="The opt-out registry (keyed hashes only).", no_args_is_help=True)
console = Console(stderr=True)


def _actor() -> Actor:
    """The operator at the terminal: trusted like every `campus` command, named in the audit."""
    return Actor(account_id=f"cli-{getpass.getuser()}", name="cli", via="system")


def problems_table(report) -> Table:
    table = Table(title=f"{report.errors} error(s), {report.warnings} warning(s)")
    for column in ("severity", "where", "type", "id", "element", "message"):
        table.add_column(column, overflow="fold")
    for p in report.problems:
        table.add_row(
            p.severity,
            p.location,
            p.resource_type or "",
            p.resource_id or "",
            p.path or "",
            p.message,
        )
    return table


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.json, .ndjson, .gz).")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset name.")],
    on_error: Annotated[
        str,
        typer.Option(
            help="abort (default): publish nothing when a resource fails (beyond the "
            "dataset's error tolerance); skip: publish the good resources, counted and named."
        ),
    ] = "abort",
    strict: Annotated[bool, typer.Option(help="Validate each resource against R4 models.")] = False,
    policy: Annotated[Path | None, typer.Option(help="Pseudonymisation policy (YAML).")] = None,
    no_date_shift: Annotated[bool, typer.Option(help="Turn the date shift off.")] = False,
    owner_org: Annotated[str, typer.Option(help="Owner organisation id (new dataset).")] = "",
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: auto).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the full report as JSON.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Build on the dataset's latest version: the files' resources upserted by "
            "type and id onto it (a file of changes, as a pull with --since).",
        ),
    ] = False,
    delete: Annotated[
        list[str] | None,
        typer.Option(
            "--delete",
            help="TYPE/ID of a resource the new version leaves out (repeatable; "
            "with --incremental).",
        ),
    ] = None,
) -> None:
    """Ingest FHIR R4 (Bundles, Bulk NDJSON, .gz, folders) into a new dataset version."""
    from campus.warehouse import policy as policies
    from campus.warehouse import service

    settings = get_settings()
    deleted = [_type_and_id(value) for value in delete or []]
    if deleted and not incremental:
        raise fail("--delete removes resources from the version built on: add --incremental")
    try:
        base_version = service.incremental_base(settings, dataset) if incremental else None
        chosen = policies.load(policy) if policy else None
        if no_date_shift:
            chosen = (chosen or policies.default()).with_date_shift(False)
        total = sum(p.stat().st_size for p in _files(paths))
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn(
                "{task.fields[resources]:,} resources · {task.fields[rate]:,.0f}/s · "
                "{task.fields[errors]:,} errors"
            ),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, disable=as_json) as bar:
            task = bar.add_task(dataset, total=total, resources=0, rate=0.0, errors=0)
            state = {"resources": 0, "errors": 0}

            def progress(done: int, resources: int, errors: int) -> None:
                state["resources"] += resources
                state["errors"] += errors
                elapsed = bar.tasks[0].elapsed or 1e-9
                bar.update(
                    task,
                    advance=done,
                    resources=state["resources"],
                    rate=state["resources"] / elapsed,
                    errors=state["errors"],
                )

            result = service.ingest(
                database(),
                settings,
                _actor(),
                dataset,
                paths,
                on_error=on_error,  # type: ignore[arg-type]
                strict=strict,
                policy=chosen,
                owner_org=owner_org,
                workers=workers,
                progress=progress,
                base_version=base_version,
                deleted=deleted or None,
            )
    except CampusError as error:
        raise fail(error.message) from None
    if report:
        report.write_text(json.dumps(result.as_dict(), indent=2))
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        if result.problems:
            Console().print(problems_table(result))
            if result.omitted_problems:
                typer.echo(f"... and {result.omitted_problems} more (see --report)")
        rate = result.read / result.seconds if result.seconds else 0
        typer.echo(
            f"{result.status}: {dataset} {result.version or '(no new version)'} — "
            f"{result.resources:,} resources landed of {result.read:,} read, "
            f"{result.duplicates:,} duplicates upserted, "
            f"{result.errors:,} errors, {result.warnings:,} warnings, "
            f"{result.seconds:.1f} s ({rate:,.0f} resources/s)"
        )
        if result.base_version:
            typer.echo(
                f"incremental: built on {result.base_version}, {result.removed:,} resource(s) "
                "removed (named by --delete or opted out)"
            )
        typer.echo(outcome_line(result))
    raise typer.Exit(exit_code(result))


TYPE_AND_ID = re.compile(r"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})")


def _type_and_id(value: str) -> tuple[str, str]:
    """A `--delete` value as (type, id), or a one-line refusal naming it."""
    found = TYPE_AND_ID.fullmatch(value.strip())
    if found is None:
        raise fail(f"--delete {value!r}: write a resource as TYPE/ID, e.g. Observation/obs-1")
    return found.group(1), found.group(2)


# Exit codes: 0 published complete, 1 nothing published, 3 published with resources skipped.
EXIT_SKIPPED = 3


def exit_code(result) -> int:
    if result.status == "unchanged":
        return 0
    if result.status != "published":
        return 1
    return EXIT_SKIPPED if result.skipped else 0


def outcome_line(result) -> str:
    """The last line: what was published, and what was left out and why (never silent)."""
    reasons = "; ".join(f"{count:,} × {why}" for why, count in result.skipped_reasons.items())
    if result.status == "aborted":
        return (
            f"NOT PUBLISHED: {result.errors:,} resource(s) failed ({reasons}); fix the input, "
            "or publish the rest with --on-error skip"
        )
    if result.status == "unchanged":
        return f"unchanged: nothing changed on the server since {result.version}"
    if result.status != "published":
        return "NOT PUBLISHED: no resource to land"
    if result.skipped:
        return f"PUBLISHED {result.version} WITH {result.skipped:,} RESOURCE(S) SKIPPED: {reasons}"
    return f"published {result.version}: complete, no resource skipped"


def _files(paths: list[Path]) -> list[Path]:
    from campus.warehouse.sources import discover

    return discover(paths)


@dataset_app.command("list")
def dataset_list() -> None:
    """Datasets and their versions."""
    from campus.warehouse import service

    with database().session() as session:
        for dataset in service.list_datasets(session, get_settings()):
            versions = ", ".join(f"{v.version} ({v.resources:,})" for v in dataset.versions)
            typer.echo(f"{dataset.name}\t{dataset.owner_org or '-'}\t{versions or 'no version'}")


@dataset_app.command("show")
def dataset_show(
    name: str,
    version: Annotated[str | None, typer.Option(help="A version (default: latest).")] = None,
) -> None:
    """A version's manifest and catalogue, as JSON."""
    from campus.warehouse import service

    settings = get_settings()
    try:
        with database().session() as session:
            data = service.describe(service.require_dataset(session, name))
        if data["versions"]:
            data["manifest"] = service.manifest(settings, name, version)
            data["catalogue"] = service.catalogue(settings, name, version, detail=True)
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(json.dumps(data, indent=2, default=str))


@dataset_app.command("drop")
def dataset_drop(
    name: str,
    version: Annotated[str | None, typer.Option(help="One version; all when omitted.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop a version (or the whole dataset)."""
    from campus.warehouse import service

    what = f"{name} {version}" if version else f"the whole dataset {name}"
    if not yes and not typer.confirm(f"Drop {what}?"):
        raise typer.Exit(1)
    try:
        with database().session() as session:
            dropped = service.drop(session, get_settings(), _actor(), name, version)
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(f"dropped {name}: {', '.join(dropped) or 'no published version'}")


@dataset_app.command("tolerance")
def dataset_tolerance(
    name: str,
    resources: Annotated[int, typer.Argument(help="Resources an ingest may skip (0: none).")],
) -> None:
    """How many failing resources an ingest or pull of the dataset may skip and still publish
    without --on-error skip (a version that skipped some always says so)."""
    from campus.warehouse import service

    try:
        with database().session() as session:
            service.set_error_tolerance(session, _actor(), name, resources)
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(f"{name}: error tolerance {resources}")


@dataset_app.command("source")
def dataset_source(
    name: str,
    base_url: Annotated[
        str | None, typer.Option("--from", help="The FHIR server's Bulk Data base URL.")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="SMART client id.")] = None,
    key: Annotated[str | None, typer.Option(help="Key name (campus pull keygen).")] = None,
    group: Annotated[str | None, typer.Option(help="Export one Group (its id).")] = None,
    types: Annotated[str | None, typer.Option("--type", help="Types, comma-separated.")] = None,
    daily_at: Annotated[
        str | None, typer.Option(help="Pull every day at HH:MM (in --timezone).")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of --daily-at.")] = "Europe/Paris",
    every_hours: Annotated[int | None, typer.Option(help="Pull every N hours.")] = None,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="Pull only when asked.")
    ] = False,
    forget: Annotated[bool, typer.Option("--forget", help="Forget the server.")] = False,
) -> None:
    """Store the hospital's server a dataset is pulled from (`campus pull -d NAME`, the
    page's and API's pull), and when the job worker pulls it by itself. Options not given
    keep their stored value."""
    from campus.warehouse import service

    try:
        with database().session() as session:
            stored = dict(service.require_dataset(session, name).pull_source or {})
            source = None
            if not forget:
                given = {"base_url": base_url, "client_id": client_id, "key_ref": key}
                given |= {"group": group, "types": types}
                source = {**stored, **{k: v for k, v in given.items() if v is not None}}
                if no_schedule:
                    source.pop("schedule", None)
                elif daily_at is not None:
                    source["schedule"] = {"daily_at": daily_at, "timezone": timezone}
                elif every_hours is not None:
                    source["schedule"] = {"every_hours": every_hours}
                if not source.get("base_url"):
                    raise fail("give the server's base URL: --from URL")
            dataset = service.set_pull_source(session, _actor(), name, source)
            kept = dict(dataset.pull_source or {})
    except CampusError as error:
        raise fail(error.message) from None
    kept.pop("last_run", None)
    typer.echo(f"{name}: " + (json.dumps(kept, sort_keys=True) if kept else "no server"))


@optout_app.command("add")
def optout_add(
    value: Annotated[str, typer.Argument(help="NIR/INS (15 characters) or system|value.")],
    kind: Annotated[str, typer.Option(help="nir or system.")] = "nir",
) -> None:
    """Register an objection; only the identifier's keyed hash is stored."""
    from campus.optout import service as optout

    try:
        with database().session() as session:
            receipt = optout.add(session, get_settings(), kind, value, _actor().label)
    except CampusError as error:
        raise fail(error.message) from None
    state = "already registered" if receipt.already_registered else "registered"
    typer.echo(f"{state}: receipt {receipt.receipt} ({receipt.created_at:%Y-%m-%d})")


@optout_app.command("list")
def optout_list(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 100,
) -> None:
    """Registered objections: receipt, kind, date (never an identifier)."""
    from campus.optout import service as optout

    with database().session() as session:
        typer.echo(f"{optout.count(session)} objection(s)")
        for entry in optout.entries(session, limit=limit):
            typer.echo(f"{entry.receipt}\t{entry.kind}\t{entry.created_at:%Y-%m-%d %H:%M}")


pull_app = typer.Typer(
    help="Pull from a hospital's FHIR server (Bulk Data $export, SMART Backend Services).",
    invoke_without_command=True,
)


@pull_app.callback()
def pull(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Dataset name.")] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--from", help="The FHIR server's base URL (default: the dataset's)."),
    ] = None,
    group: Annotated[str | None, typer.Option(help="Export one Group (its id).")] = None,
    patient: Annotated[bool, typer.Option("--patient", help="Patient-level export.")] = False,
    types: Annotated[str | None, typer.Option("--type", help="Types, comma-separated.")] = None,
    since: Annotated[str | None, typer.Option(help="Only resources changed since.")] = None,
    type_filter: Annotated[
        list[str] | None, typer.Option("--type-filter", help="A _typeFilter (repeatable).")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="SMART client id.")] = None,
    key: Annotated[
        str | None, typer.Option(help="Private key: a key name (campus pull keygen) or a file.")
    ] = None,
    on_error: Annotated[
        str, typer.Option(help="abort (default): publish nothing when a resource fails; skip.")
    ] = "abort",
    workers: Annotated[int | None, typer.Option(help="Ingest worker processes.")] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="A whole export (default: only what changed since the last pulled version, "
            "upserted onto it).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Export from the server, download, check, and ingest into a new dataset version."""
    if ctx.invoked_subcommand is not None:
        return
    from campus.warehouse import service
    from campus.warehouse.bulk.client import Request
    from campus.warehouse.bulk.pull import pull as run_pull

    if not dataset:
        raise fail("name the dataset: --dataset NAME")
    settings = get_settings()
    db = database()
    with db.session() as session:
        found = service.get_dataset(session, dataset)
        stored = dict((found.pull_source if found is not None else None) or {})
    base_url = base_url or stored.get("base_url")
    if not base_url:
        raise fail("give the server's base URL (--from URL) or store it on the dataset")
    chosen_types = types.split(",") if types else list(stored.get("types") or [])
    request = Request(
        base_url=base_url,
        group=group if group is not None else stored.get("group") or None,
        patient=patient,
        types=[t.strip() for t in chosen_types if t.strip()],
        since=since,
        type_filters=list(type_filter or []),
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, disable=as_json) as bar:
            task = bar.add_task(f"{dataset}: export", total=None, status="kick-off")
            state = {"resources": 0, "errors": 0, "files": 0, "total": 0}

            def events(kind: str, **info) -> None:
                if kind == "progress":
                    bar.update(task, status=f"server: {info['text'] or 'in progress'}")
                elif kind == "retry":
                    bar.update(task, status=f"retrying ({info['why']}) in {info['seconds']:.1f} s")
                elif kind == "manifest":
                    state["total"] = info["files"]
                    bar.update(
                        task,
                        description=f"{dataset}: download",
                        status=f"0/{info['files']} files, {info['resources']:,} resources",
                    )
                elif kind == "bytes":
                    bar.update(task, advance=info["count"])
                elif kind == "file":
                    state["files"] += 1
                    bar.update(task, status=f"{state['files']}/{state['total']} files")
                elif kind == "ingest":
                    bar.update(task, description=f"{dataset}: ingest", completed=0, status="")

            def progress(done: int, resources: int, errors: int) -> None:
                state["resources"] += resources
                state["errors"] += errors
                bar.update(
                    task,
                    advance=done,
                    status=f"{state['resources']:,} resources · {state['errors']:,} errors",
                )

            result = run_pull(
                db,
                settings,
                _actor(),
                dataset,
                request,
                client_id=client_id if client_id is not None else stored.get("client_id", ""),
                key=key if key is not None else stored.get("key_ref", ""),
                on_error=on_error,  # type: ignore[arg-type]
                events=events,
                progress=progress,
                workers=workers,
                full=full,
            )
    except CampusError as error:
        raise fail(error.message) from None
    except KeyboardInterrupt:
        raise fail("interrupted: the export was cancelled, nothing was published") from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        if result.problems:
            Console().print(problems_table(result))
        if result.base_version:
            typer.echo(
                f"incremental: built on {result.base_version}, since {request.since}, "
                f"{result.removed:,} resource(s) removed (deleted on the server or opted out)"
            )
        typer.echo(outcome_line(result))
    raise typer.Exit(exit_code(result))


@pull_app.command("keygen")
def pull_keygen(
    name: Annotated[str, typer.Argument(help="Key name (lowercase letters, digits, - or _).")],
    alg: Annotated[str, typer.Option(help="ES384 (default) or RS384.")] = "ES384",
) -> None:
    """Write a private key for SMART Backend Services; print the public JWKS to register."""
    from campus.warehouse.bulk import pull as pulls
    from campus.warehouse.bulk import smart

    if not smart.KEY_NAME.match(name):
        raise fail("a key name is lowercase letters, digits, - or _")
    path = pulls.key_path(get_settings(), name)
    try:
        jwks = smart.keygen(path, alg)
    except CampusError as error:
        raise fail(error.message) from None
    typer.secho(f"private key written to {path} (keep it there; mode 0600)", err=True)
    typer.echo(json.dumps(jwks, indent=2))
