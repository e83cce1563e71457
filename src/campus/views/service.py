"""Views (SQL on FHIR v2): validate, compile to SQL, run. The one way in for CLI, API, pages.

Stable contract for the analysis engine:

- `validate(view) -> ViewDefinition` raises `BadRequest` with `where` = the JSON path
  (structure, FHIRPath, and every path against the FHIR R4 element definitions).
- `check(view, strict=False)`: the same, but a path into an element FHIR R4 does not define is
  a warning (the specification gives it an empty result) unless `strict`; the CLI, the API and
  the pages call it this way, and return the warnings with their result.
- `compile_sql(view, tables=..., dialect=...) -> str`: one SELECT returning the view's
  columns under their declared names, over `tables[view.resource]`, a SQL table expression
  exposing a `resource` JSON text column.
- `run(view, source, engine=..., fmt=..., output=...)` streams the rows into a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth.actor import Actor
from campus.errors import BadRequest, NotFound, TooLarge
from campus.i18n import N_, gettext
from campus.views.compiler import CompiledView, compile_view
from campus.views.definition import ViewDefinition, parse_view
from campus.views.dialects import DIALECTS
from campus.views.engines import FORMATS, DuckDBEngine, Engine, SparkEngine
from campus.views.models import SavedView
from campus.views.navigation import ElementWarning, check_navigation
from campus.views.sources import Source

log = logging.getLogger(__name__)

MAX_VIEW_BYTES = 1_000_000
ENGINES = ("duckdb", "spark")
PREVIEW_ROWS = 50


def load_json(text: str | bytes, *, name: str = "the view") -> Any:
    """Parse JSON text, saying where it is broken."""
    if len(text) > MAX_VIEW_BYTES:
        raise TooLarge(
            f"{name} is larger than {MAX_VIEW_BYTES // 1000} kB", code="view_too_large", where="$"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"{name} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
            code="invalid_json",
            where="$",
        ) from None
    except (RecursionError, ValueError) as error:  # nesting too deep, a 4,300+ digit integer
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise BadRequest(
            f"{name} cannot be read: {reason}", code="invalid_json", where="$"
        ) from None


def read_view_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise NotFound(f"no such view file: {path}", code="file_not_found", where=str(path))
    if path.stat().st_size > MAX_VIEW_BYTES:
        raise TooLarge(
            f"{path.name} is larger than {MAX_VIEW_BYTES // 1000} kB",
            code="view_too_large",
            where="$",
        )
    return load_json(path.read_bytes(), name=path.name)


@dataclass(frozen=True)
class Checked:
    definition: ViewDefinition
    warnings: list[ElementWarning]


def check(view: Any, *, strict: bool = False) -> Checked:
    """Check a view completely (structure, FHIRPath, types, elements) before anything runs.

    Every path is also followed through the FHIR R4 element definitions: a path into an
    element its type does not define (`name.famly`) is always empty at run time, as the
    specification says. It is returned as a warning naming the closest element, or refused
    with BadRequest when `strict`.
    """
    definition = view if isinstance(view, ViewDefinition) else parse_view(view)
    warnings = check_navigation(definition, strict=strict)
    for dialect in DIALECTS:
        compile_view(definition, "__table", dialect)
    return Checked(definition, warnings)


def validate(view: Any, *, strict: bool = True) -> ViewDefinition:
    """A checked view; strict by default (analyses never run a path that is always empty)."""
    return check(view, strict=strict).definition


def _warnings(checked: Checked) -> list[dict[str, str]]:
    return [w.as_dict() for w in checked.warnings]


def compile_view_for(view: Any, table: str, dialect: str = "duckdb") -> CompiledView:
    if dialect not in DIALECTS:
        raise BadRequest(
            f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})", where="dialect"
        )
    definition = view if isinstance(view, ViewDefinition) else parse_view(view)
    return compile_view(definition, table, dialect)


def compile_sql(view: Any, *, tables: Mapping[str, str], dialect: str = "duckdb") -> str:
    """One SELECT giving the view's rows over `tables[resource]` (a SQL table expression).

    A view given as JSON is checked as `validate` checks it; a `ViewDefinition` was already.
    """
    definition = view if isinstance(view, ViewDefinition) else validate(view)
    table = tables.get(definition.resource)
    if table is None:
        raise BadRequest(
            f"no table given for {definition.resource}, the resource of the view",
            code="no_table",
            where="$.resource",
        )
    return compile_view_for(definition, table, dialect).sql


def open_engine(source: Source, engine: str = "duckdb", *, spark_url: str | None = None) -> Engine:
    if engine == "duckdb":
        return DuckDBEngine(source)
    if engine == "spark":
        return SparkEngine(source, url=spark_url)
    raise BadRequest(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})", where="engine")


@dataclass(frozen=True)
class RunResult:
    rows: int
    columns: list[str]
    output: Path | None
    warnings: list[dict[str, str]] = field(default_factory=list)


def _prepare(checked: Checked, engine_obj: Engine, plain: bool = False) -> CompiledView:
    definition = checked.definition
    table = engine_obj.table(definition.resource)
    return compile_view(definition, table, engine_obj.dialect, plain=plain)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", where="format")


def run(
    view: Any,
    source: Source,
    *,
    engine: str = "duckdb",
    fmt: str = "csv",
    output: Path,
    spark_url: str | None = None,
    strict: bool = False,
    plain: bool = False,
) -> RunResult:
    """Run a view and write its rows to `output` (complete, or not at all); `plain`
    compiles without the engine's fast path (the same rows, slower)."""
    _check_format(fmt)
    checked = check(view, strict=strict)
    runner = open_engine(source, engine, spark_url=spark_url)
    try:
        compiled = _prepare(checked, runner, plain)
        count = runner.write(compiled, fmt, output)
    finally:
        runner.close()
    log.info("view run: %s rows on %s (%s)", count, engine, source.label)
    return RunResult(count, [c.name for c in compiled.columns], output, _warnings(checked))


def run_to_stream(
    view: Any,
    source: Source,
    out: IO[bytes],
    *,
    engine: str = "duckdb",
    fmt: str = "csv",
    spark_url: str | None = None,
    strict: bool = False,
    plain: bool = False,
) -> RunResult:
    """Run a view and stream csv or ndjson rows to a byte stream, batch by batch."""
    _check_format(fmt)
    if fmt == "parquet":
        raise BadRequest("Parquet output needs a file: give --output", where="output")
    checked = check(view, strict=strict)
    runner = open_engine(source, engine, spark_url=spark_url)
    try:
        compiled = _prepare(checked, runner, plain)
        count = runner.stream(compiled, fmt, out)
    finally:
        runner.close()
    return RunResult(count, [c.name for c in compiled.columns], None, _warnings(checked))


def preview(
    view: Any, source: Source, *, limit: int = PREVIEW_ROWS, strict: bool = False
) -> dict[str, Any]:
    """The first rows of a view on DuckDB (the dummy twin, or files), with its warnings."""
    checked = check(view, strict=strict)
    definition = checked.definition
    runner = DuckDBEngine(source)
    try:
        compiled = compile_view(definition, runner.table(definition.resource), "duckdb")
        rows = runner.rows(compiled, limit=limit)
    finally:
        runner.close()
    return {
        "columns": [
            {"name": c.name, "type": c.fhir_type or c.type, "collection": c.collection}
            for c in compiled.columns
        ],
        "rows": rows,
        "limit": limit,
        "warnings": _warnings(checked),
    }


def describe(
    view: Any, dialect: str = "duckdb", table: str | None = None, *, strict: bool = False
) -> dict[str, Any]:
    """The view's checked columns, its warnings and its SQL over a placeholder table."""
    checked = check(view, strict=strict)
    definition = checked.definition
    compiled = compile_view_for(
        definition, table or f"{definition.resource.lower()}_table", dialect
    )
    return {
        "resource": definition.resource,
        "name": definition.name,
        "dialect": dialect,
        "columns": [
            {"name": c.name, "type": c.fhir_type or c.type, "collection": c.collection}
            for c in compiled.columns
        ],
        "sql": compiled.sql,
        "warnings": _warnings(checked),
    }


def library() -> dict[str, dict[str, Any]]:
    """The example views shipped with Campus, by file stem."""
    folder = resources.files("campus.views") / "library"
    views = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            views[entry.name[:-5]] = json.loads(entry.read_text(encoding="utf-8"))
    return views


# The library views' titles: the views carry them in English (message ids), views.po in
# French; pages and pickers show them in the reader's language.
LIBRARY_TITLES = (
    N_("Conditions"),
    N_("Encounters"),
    N_("Immunizations"),
    N_("Medication requests"),
    N_("Observations with their components"),
    N_("Patient demographics"),
    N_("Procedures"),
)


def library_title(name: str, view: Mapping[str, Any]) -> str:
    """A library view's title in the reader's language (its name when it has none)."""
    title = view.get("title") or ""
    return gettext(title) if title else name


# --- saved custom views -----------------------------------------------------------------------
# A researcher saves a view under a name; its key (the name's slug and a digest of the
# definition) is what an access request names and an analysis reads, as a library view's
# name. A key names one definition for ever: saving another definition gives another key.

DIGEST_LENGTH = 16  # hex digits of SHA-256: 64 bits, no second definition can be made to fit
SAVED_KEY = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]{0,39})-(?P<digest>[0-9a-f]{16})\Z")
MAX_TITLE = 120


def view_digest(view: Mapping[str, Any]) -> str:
    """The digest of a definition: the same JSON gives the same digest, key order aside."""
    text = json.dumps(view, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def _slug(title: str) -> str:
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", plain.lower())
    return "-".join(words)[:40].strip("-") or "vue"


def saved_key(title: str, view: Mapping[str, Any]) -> str:
    return f"{_slug(title)}-{view_digest(view)}"


def is_saved_key(name: str) -> bool:
    return bool(SAVED_KEY.match(name))


def matches_key(key: str, view: Mapping[str, Any] | None) -> bool:
    """Whether `view` is the definition saved under `key` (no database needed)."""
    found = SAVED_KEY.match(key)
    return bool(found and view is not None and found.group("digest") == view_digest(view))


def save_view(session: Session, actor: Actor, title: str, view: Any) -> SavedView:
    """Keep a checked view under a name; the same definition under the same name is the same
    saved view (saving twice changes nothing)."""
    title = " ".join(str(title or "").split())
    if not title:
        raise BadRequest(N_("give the view a name"), code="missing_field", where="name")
    if len(title) > MAX_TITLE:
        raise BadRequest(N_("the name is too long (120 characters at most)"), where="name")
    definition = validate(view)  # strict: a saved view can run on real data
    if not isinstance(view, dict):
        raise BadRequest("the view must be a JSON object", where="$")
    key = saved_key(title, view)
    existing = session.scalar(select(SavedView).where(SavedView.key == key))
    if existing is not None:
        return existing
    saved = SavedView(
        key=key,
        title=title,
        resource=definition.resource,
        definition=view,
        owner_id=actor.account_id or "system",
    )
    session.add(saved)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="view.saved",
        object_type="saved_view",
        object_id=key,
        details={"title": title, "resource": saved.resource},
    )
    return saved


def saved_view(session: Session, key: str) -> SavedView:
    found = session.scalar(select(SavedView).where(SavedView.key == key)) if key else None
    if found is None:
        raise NotFound(f"no saved view {key!r}", code="unknown_view", where="saved")
    return found


def saved_views(session: Session, owner_id: str | None) -> list[SavedView]:
    """One's saved views, newest first."""
    if not owner_id:
        return []
    query = select(SavedView).where(SavedView.owner_id == owner_id)
    return list(session.scalars(query.order_by(SavedView.created_at.desc())))


def saved_out(saved: SavedView) -> dict[str, Any]:
    return {
        "key": saved.key,
        "title": saved.title,
        "resource": saved.resource,
        "created_at": saved.created_at.isoformat(),
        "view": saved.definition,
    }
