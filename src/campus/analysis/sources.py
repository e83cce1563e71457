"""Where an analysis reads from: library views, their columns and compiled SQL, and tables.

On real data, table expressions come only from the datasets in the approval's scope and
leave out every patient whose opt-out key is now in the registry (even if the objection
came after the version was ingested).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.orm import Session

from campus.analysis.definition import Analysis, ViewRef
from campus.errors import BadRequest, Forbidden, NotFound
from campus.warehouse import layout

LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")


def library_dir() -> Path:
    import campus.views

    return Path(campus.views.__file__).parent / "library"


def library_names() -> list[str]:
    folder = library_dir()
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def library_view(name: str) -> dict[str, Any]:
    """A ViewDefinition of the library, by name."""
    if not LIBRARY_NAME.match(name):
        raise BadRequest(f"library view name {name!r} is not valid", code="unknown_view")
    path = library_dir() / f"{name}.json"
    if not path.is_file():
        raise NotFound(
            f"no library view {name!r} (available: {', '.join(library_names()) or 'none'})",
            code="unknown_view",
        )
    return json.loads(path.read_text(encoding="utf-8"))


def view_of(ref: ViewRef) -> dict[str, Any]:
    if ref.library:
        return library_view(ref.library)
    if ref.saved is not None and ref.view is None:
        raise BadRequest(
            f"saved view {ref.saved!r} is read from the campus: run the analysis on the campus",
            code="unknown_view",
        )
    return dict(ref.view or {})


def resolve_saved(session: Session, analysis: Analysis) -> Analysis:
    """The analysis with each saved view's definition as saved, whatever came with it."""
    from campus.views import service as views

    if not any(ref.saved for ref in analysis.views.values()):
        return analysis
    resolved = {}
    for name, ref in analysis.views.items():
        if ref.saved is not None:
            try:
                saved = views.saved_view(session, ref.saved)
            except NotFound as error:
                raise NotFound(error.message, code=error.code, where=f"views.{name}") from None
            ref = ViewRef(saved=ref.saved, view=saved.definition, patient=ref.patient)
        resolved[name] = ref
    return analysis.model_copy(update={"views": resolved})


def columns_of(view: dict[str, Any], where: str) -> list[str]:
    """The output columns of a ViewDefinition (checked by campus.views)."""
    from campus.views.definition import parse_view

    try:
        return parse_view(view).column_names()
    except BadRequest as error:
        raise BadRequest(
            f"{where}: {error.message}", code=error.code, where=f"{where}.{error.where or ''}"
        ) from None


def _has_union(select: Any) -> bool:
    if isinstance(select, dict):
        return "unionAll" in select or any(_has_union(v) for v in select.values())
    if isinstance(select, list):
        return any(_has_union(v) for v in select)
    return False


def _trim_select(select: dict[str, Any], used: set[str]) -> dict[str, Any]:
    out = dict(select)
    if "column" in select:
        kept = [c for c in select["column"] if c.get("name") in used]
        # A select keeps one column at least; its rows (forEach...) are unchanged.
        out["column"] = kept or select["column"][:1]
    if "select" in select:
        out["select"] = [_trim_select(s, used) for s in select["select"]]
    return out


def trimmed(view: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """The view with only the columns an analysis uses: the same rows, less JSON to parse.

    Views with unionAll are left whole (every branch must keep the same columns).
    """
    if not used or _has_union(view.get("select", [])):
        return view
    return {**view, "select": [_trim_select(s, used) for s in view.get("select", [])]}


def compile_views(
    analysis: Analysis,
    tables: Mapping[str, str],
    used: Mapping[str, set[str]] | None = None,
    dialect: str = "duckdb",
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """SQL and columns of every view the analysis declares, over the given tables."""
    from campus.analysis.prefilter import prefilters
    from campus.views.service import compile_sql

    sql, columns = {}, {}
    views = {name: view_of(ref) for name, ref in analysis.views.items()}
    shortcuts = prefilters(analysis, views)
    for name in analysis.views:
        view = views[name]
        columns[name] = columns_of(view, f"views.{name}")
        if used is not None:
            view = trimmed(view, set(used.get(name, ())))
        resource = view.get("resource")
        if resource not in tables:
            raise BadRequest(
                f"views.{name}: dataset {analysis.dataset} has no {resource} table",
                code="missing_table",
                where=f"views.{name}",
            )
        source = dict(tables)
        if name in shortcuts:
            source[resource] = f"(SELECT * FROM {tables[resource]} WHERE {shortcuts[name]})"
        sql[name] = compile_sql(view, tables=source, dialect=dialect)
    return sql, columns


def check_scope(analysis: Analysis, datasets: Iterable[str], views: Iterable[str]) -> None:
    """Refuse an analysis that names a dataset or view outside an approval's scope."""
    datasets, views = set(datasets), set(views)
    if analysis.dataset not in datasets:
        raise Forbidden(
            f"dataset {analysis.dataset!r} is outside the approval's scope "
            f"(approved: {', '.join(sorted(datasets))})",
            code="out_of_scope",
            where="dataset",
        )
    from campus.views.service import matches_key

    for name, ref in analysis.views.items():
        named = ref.library or ref.saved
        if named is None:
            raise Forbidden(
                f"views.{name}: inline views run on dummy data only; on real data use library "
                "or saved views named in the approval",
                code="out_of_scope",
                where=f"views.{name}",
            )
        if ref.saved is not None and not matches_key(ref.saved, ref.view):
            # A key names one definition: any other is not what the reviewers approved.
            raise Forbidden(
                f"views.{name}: this definition is not the one saved as {ref.saved!r}",
                code="out_of_scope",
                where=f"views.{name}",
            )
        if named not in views:
            raise Forbidden(
                f"views.{name}: view {named!r} is outside the approval's scope "
                f"(approved: {', '.join(sorted(views))})",
                code="out_of_scope",
                where=f"views.{name}",
            )


def resolve_version(root: Path, dataset: str, version: str | None) -> layout.DatasetVersion:
    try:
        return layout.resolve(root, dataset, version)
    except ValueError as error:
        raise NotFound(str(error), code="unknown_dataset", where="dataset") from None


def table_expressions(
    connection: duckdb.DuckDBPyConnection,
    found: layout.DatasetVersion,
    kind: layout.Kind,
    optout_keys: set[str] | None = None,
) -> dict[str, str]:
    """Resource type -> DuckDB table expression; on real data, opted-out patients are removed."""
    from campus.analysis.engines import DuckDBBackend

    return DuckDBBackend(connection).expressions(found, kind, optout_keys)
