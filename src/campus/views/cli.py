"""`campus view`: validate, show the SQL of, and run SQL on FHIR views."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from campus.errors import CampusError

app = typer.Typer(help="SQL on FHIR v2 views: validate, compile, run.", no_args_is_help=True)


def _fail(error: CampusError) -> typer.Exit:
    where = f" (at {error.where})" if error.where not in (None, "", "$") else ""
    typer.secho(f"error: {error.message}{where}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


STRICT_HELP = "Refuse paths into elements FHIR R4 does not define (else a warning)."
PLAIN_HELP = "Compile without the engine's fast path (the same rows, slower: to compare)."


def _warn(warnings: list[dict[str, str]]) -> None:
    """Each path that is always empty, on standard error: the rows still go out."""
    for warning in warnings:
        typer.secho(
            f"warning: {warning['message']} (at {warning['where']})",
            fg=typer.colors.YELLOW,
            err=True,
        )


@app.command("validate")
def validate(
    view: Annotated[Path, typer.Argument(help="ViewDefinition JSON file.")],
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Check a view (structure, FHIRPath, column types, elements) without running it."""
    from campus.views import service

    try:
        described = service.describe(service.read_view_file(view), strict=strict)
    except CampusError as error:
        raise _fail(error) from None
    _warn(described["warnings"])
    columns = ", ".join(f"{c['name']} ({c['type']})" for c in described["columns"])
    typer.echo(f"valid view on {described['resource']}: {columns}")


@app.command("sql")
def sql(
    view: Annotated[Path, typer.Argument(help="ViewDefinition JSON file.")],
    dialect: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    table: Annotated[
        str | None, typer.Option(help="SQL table expression with a `resource` column.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Print the SQL a view compiles to."""
    from campus.views import service

    try:
        described = service.describe(service.read_view_file(view), dialect, table, strict=strict)
    except CampusError as error:
        raise _fail(error) from None
    _warn(described["warnings"])
    typer.echo(described["sql"])


@app.command("library")
def library() -> None:
    """List the example views shipped with Campus."""
    from campus.views import service

    for name, view in service.library().items():
        typer.echo(f"{name}\t{view['resource']}\t{view.get('title', '')}")


@app.command("run")
def run(
    view: Annotated[Path, typer.Argument(help="ViewDefinition JSON file.")],
    more_inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="More FHIR files after --input.", show_default=False),
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Warehouse dataset to read.")] = None,
    version: Annotated[
        str | None, typer.Option(help="Dataset version (the latest when absent).")
    ] = None,
    dummy: Annotated[bool, typer.Option("--dummy", help="Read the dataset's dummy twin.")] = False,
    input_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--input", help="Raw FHIR files (NDJSON or Bundles): nothing pseudonymised or stored."
        ),
    ] = None,
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet or ndjson.")] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="Output file (standard output when absent).")
    ] = None,
    spark_url: Annotated[
        str | None, typer.Option(help="Spark master URL (else CAMPUS_SPARK_URL, else local).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
    plain: Annotated[bool, typer.Option("--plain", help=PLAIN_HELP)] = False,
) -> None:
    """Run a view on a dataset version or on raw FHIR files, streaming the rows out."""
    from campus.errors import BadRequest
    from campus.settings import get_settings
    from campus.views import service
    from campus.views.sources import dataset_source, file_source

    try:
        files = list(input_files or []) + list(more_inputs or [])
        if more_inputs and not input_files:
            raise BadRequest("extra arguments after the view: give FHIR files with --input")
        if bool(files) == bool(dataset):
            raise BadRequest("give either --dataset NAME or --input FILE...", where="source")
        if dataset and not dummy:
            raise BadRequest(
                "runs on real data go through analysis jobs within an approved project; "
                "use --dummy to run on the dataset's dummy twin",
                code="real_data_needs_a_job",
                where="dummy",
            )
        definition = service.read_view_file(view)
        if dataset:
            source = dataset_source(get_settings().warehouse_path, dataset, version, dummy=True)
        else:
            source = file_source(files)
        if output is None:
            result = service.run_to_stream(
                definition,
                source,
                sys.stdout.buffer,
                engine=engine,
                fmt=fmt,
                spark_url=spark_url,
                strict=strict,
                plain=plain,
            )
            sys.stdout.buffer.flush()
        else:
            result = service.run(
                definition,
                source,
                engine=engine,
                fmt=fmt,
                output=output,
                spark_url=spark_url,
                strict=strict,
                plain=plain,
            )
            typer.echo(f"{result.rows} rows written to {output}", err=True)
    except CampusError as error:
        raise _fail(error) from None
    _warn(result.warnings)
