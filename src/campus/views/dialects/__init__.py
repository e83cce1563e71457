"""SQL dialects of the view compiler: DuckDB (embedded default) and Spark SQL."""

from __future__ import annotations

from campus.views.dialects.base import Dialect
from campus.views.dialects.duckdb import DuckDBDialect
from campus.views.dialects.spark import SparkDialect

DIALECTS: dict[str, type[Dialect]] = {"duckdb": DuckDBDialect, "spark": SparkDialect}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown SQL dialect {name!r} (known: {', '.join(DIALECTS)})") from None
