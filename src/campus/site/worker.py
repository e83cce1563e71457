"""The job worker, composed by the site: the analysis queue, and when it is empty the idle
tasks that capabilities declare (`idle=` in `campus.site.capabilities`): scheduled pulls,
event reminders, mail delivery. `campus worker` runs it; the demo runs it as a thread of the
app (`in_process_worker`)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from campus.commandline import database
from campus.errors import CampusError
from campus.settings import get_settings
from campus.site import registry
from campus.site.capabilities import CAPABILITIES


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run at most one job, then exit.")] = False,
    engine: Annotated[
        str | None,
        typer.Option(help="duckdb or spark (else CAMPUS_ANALYSIS_ENGINE, else duckdb)."),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="Spark master URL, spark://host:7077 (else CAMPUS_SPARK_URL, else local)."
        ),
    ] = None,
) -> None:
    """Run queued analysis jobs until stopped (SIGTERM or Ctrl-C finish the current job)."""
    from campus.analysis import engines, jobs  # here: `campus --help` stays fast

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    try:
        chosen = engines.engine_name(engine or settings.analysis_engine)
    except CampusError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    if spark_master and chosen != "spark":
        typer.secho("error: --spark-master needs --engine spark", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    settings = settings.model_copy(
        update={"analysis_engine": chosen, "spark_url": spark_master or settings.spark_url}
    )
    db = database()
    if once:
        done = jobs.work_once(db, settings)
        typer.echo(f"ran job {done}" if done else "no job waiting")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo("worker started; stop with Ctrl-C")
    jobs.work(db, settings, stop=stop, on_idle=registry.idle_round(CAPABILITIES))
    typer.echo("worker stopped")
