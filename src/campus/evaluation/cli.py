"""`campus eval ...`: benchmarks, model submissions, the evaluation worker, leaderboards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from campus.commandline import database, fail
from campus.errors import CampusError
from campus.settings import get_settings

app = typer.Typer(
    help="Evaluate ONNX models on real data they never see (benchmarks, submissions).",
    no_args_is_help=True,
)


def _actor(session, email: str):
    from campus.auth import service as auth

    account = auth.find_account(session, email)
    if account is None:
        raise fail(f"no account {email}")
    return auth.actor_for(account, "cli")


def _file(path: Path) -> bytes:
    if not path.is_file():
        raise fail(f"no file {path}")
    return path.read_bytes()


@app.command("benchmark")
def benchmark(
    project_id: str,
    approval_id: str,
    path: Path,
    as_email: Annotated[str, typer.Option("--as", help="The team member defining it.")],
) -> None:
    """Define a benchmark (YAML or JSON file) within an approval of a project."""
    from campus.evaluation import service

    try:
        with database().session() as session:
            row = service.create_benchmark(
                session,
                get_settings(),
                _actor(session, as_email),
                project_id=project_id,
                approval_id=approval_id,
                text=_file(path),
            )
            benchmark_id = row.id
    except CampusError as error:
        raise fail(error.message + (f" ({error.where})" if error.where else "")) from None
    typer.echo(f"benchmark {benchmark_id}")


@app.command("features")
def dummy_features(benchmark_id: str, out: Path) -> None:
    """Write the dummy twin's feature table (synthetic records) to a CSV file."""
    from campus.evaluation import service

    try:
        with database().session() as session:
            text = service.dummy_feature_table(
                get_settings(), service.get_benchmark(session, benchmark_id)
            )
    except CampusError as error:
        raise fail(error.message) from None
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")


@app.command("submit")
def submit(
    benchmark_id: str,
    model: Path,
    card: Annotated[Path, typer.Option(help="The model card, a JSON file.")],
    family: Annotated[str, typer.Option(help="The model family (the evaluation cap's unit).")],
    threshold: Annotated[float, typer.Option(help="Decision threshold in (0, 1).")],
    as_email: Annotated[str, typer.Option("--as", help="The submitter.")],
    federated: Annotated[
        str | None,
        typer.Option(help="A federated dataset the benchmark's approval names: run at its nodes."),
    ] = None,
) -> None:
    """Submit an ONNX model: checked, scored on the dummy twin, queued for the real data (or
    sent to the nodes of a federated dataset)."""
    from campus.evaluation import service

    try:
        card_data = json.loads(_file(card))
    except ValueError:
        raise fail(f"{card} is not a JSON object") from None
    if not isinstance(card_data, dict):
        raise fail(f"{card} is not a JSON object")
    try:
        with database().session() as session:
            row = service.submit(
                session,
                get_settings(),
                _actor(session, as_email),
                service.get_benchmark(session, benchmark_id),
                model=_file(model),
                card=card_data,
                family=family,
                threshold=threshold,
                federated=federated,
            )
            submission_id = row.id
    except CampusError as error:
        raise fail(error.message + (f" ({error.where})" if error.where else "")) from None
    where = f" at the nodes of {federated}" if federated else ""
    typer.echo(f"queued submission {submission_id}{where}")


@app.command("demo-models")
def demo_models(features_csv: Path, out: Path) -> None:
    """Train three demo models of different quality on a dummy-twin feature table (the CSV
    of `campus eval features`) and write them as ONNX with their model cards."""
    from campus.evaluation.demo_models import demo_models as train

    try:
        models = train(_file(features_csv).decode("utf-8"))
    except ValueError as error:
        raise fail(f"{features_csv}: {error}") from None
    out.mkdir(parents=True, exist_ok=True)
    for model in models:
        (out / f"{model.name}.onnx").write_bytes(model.onnx)
        card = json.dumps(model.card, indent=2, ensure_ascii=False)
        (out / f"{model.name}.card.json").write_text(card + "\n", encoding="utf-8")
        typer.echo(f"wrote {out / model.name}.onnx ({model.card['name']})")


@app.command("work")
def work(once: Annotated[bool, typer.Option(help="Run at most one submission.")] = False) -> None:
    """Run queued submissions on the real data (each in a limited child process)."""
    from campus.evaluation import service

    db, settings = database(), get_settings()
    while True:
        done = service.work_once(db, settings)
        if done is None:
            typer.echo("no submission waiting")
            break
        typer.echo(f"ran submission {done}")
        if once:
            break


@app.command("leaderboard")
def leaderboard(benchmark_id: str) -> None:
    """Print a benchmark's released metrics as JSON."""
    from campus.evaluation import service

    try:
        with database().session() as session:
            board = service.leaderboard(session, service.get_benchmark(session, benchmark_id))
    except CampusError as error:
        raise fail(error.message) from None
    typer.echo(json.dumps(board, indent=2, ensure_ascii=False))
