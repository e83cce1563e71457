"""`campus project ...` and `campus job ...` (`campus worker` is the site's: campus.site.worker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from campus.commandline import database, fail
from campus.errors import CampusError
from campus.settings import get_settings

project_app = typer.Typer(help="Data projects, their requests and approvals.", no_args_is_help=True)
job_app = typer.Typer(
    help="Analyses: dummy runs, jobs on real data, released outputs.", no_args_is_help=True
)


def _read(path: Path) -> str:
    if not path.is_file():
        raise fail(f"no file {path}")
    return path.read_text(encoding="utf-8")


@project_app.command("list")
def project_list(q: Annotated[str, typer.Option(help="Search text.")] = "") -> None:
    """List projects as the public register shows them."""
    from campus.governance import register

    with database().session() as session:
        for entry in register.listing(session, q):
            decisions = ", ".join(d["status"] for d in entry["decisions"]) or "no request"
            typer.echo(f"{entry['id']}\t{entry['title']}\t{decisions}")


@project_app.command("show")
def project_show(project_id: str) -> None:
    """One project of the public register, as JSON."""
    from campus.governance import register, service

    try:
        with database().session() as session:
            entry = register.entry(session, service.get_project(session, project_id))
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(json.dumps(entry, indent=2, ensure_ascii=False))


@job_app.command("dummy")
def job_dummy(path: Path) -> None:
    """Run an analysis file (YAML or JSON) at once on the dummy twin; print its outputs."""
    from campus.analysis import service

    try:
        result = service.run_dummy(get_settings(), _read(path))
    except CampusError as error:
        where = f" ({error.where})" if error.where else ""
        raise fail(error.message + where) from None
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


@job_app.command("submit")
def job_submit(
    project_id: str,
    approval_id: str,
    path: Path,
    as_email: Annotated[str, typer.Option("--as", help="The team member submitting the job.")],
) -> None:
    """Queue an analysis on real data within an approval (run by `campus worker`)."""
    from campus.analysis import service
    from campus.auth import service as auth

    settings = get_settings()
    try:
        with database().session() as session:
            account = auth.find_account(session, as_email)
            if account is None:
                raise fail(f"no account {as_email}")
            actor = auth.actor_for(account, "cli")
            job = service.submit_job(
                session,
                settings,
                actor,
                project_id=project_id,
                approval_id=approval_id,
                text=_read(path),
            )
            job_id = job.id
    except CampusError as error:
        where = f" ({error.where})" if error.where else ""
        raise fail(error.message + where) from None
    typer.echo(f"queued job {job_id}")


@job_app.command("status")
def job_status(job_id: str) -> None:
    """A job's status and log (never its outputs before release)."""
    from campus.analysis import jobs, service

    try:
        with database().session() as session:
            job = service.get_job(session, job_id)
            typer.echo(f"{job.id}\t{job.status}\trelease: {job.release_status or '-'}")
            if job.error:
                typer.echo(f"error: {job.error}")
            for line in jobs.logs(session, job.id):
                typer.echo(f"{line.at:%Y-%m-%d %H:%M:%S}\t{line.level}\t{line.message}")
    except CampusError as error:
        raise fail(error.message) from None


@job_app.command("outputs")
def job_outputs(
    job_id: str, fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json"
) -> None:
    """Print a job's released outputs; refused before two output checkers released them."""
    from campus.analysis import service

    try:
        with database().session() as session:
            result = service.released_result(service.get_job(session, job_id))
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(service.to_csv(result) if fmt == "csv" else json.dumps(result, indent=2))
