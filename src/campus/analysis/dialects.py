"""The SQL an analysis needs that DuckDB and Spark SQL spell differently.

The compiler writes every node (cohort, criteria, index date, counts, quantiles, histograms,
cross-tabs, time to event) once and asks its dialect for these pieces only, so that both
engines compute the same aggregates; disclosure control then runs once, above the engines,
on the rows either returns (`campus.analysis.results`).
"""

from __future__ import annotations


class AnalysisDialect:
    name = "duckdb"
    text = "VARCHAR"

    def ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def days_between(self, start: str, end: str) -> str:
        return f"date_diff('day', {start}, {end})"

    def months_between(self, start: str, end: str) -> str:
        """Month boundaries crossed (the day of the month is not looked at)."""
        return f"date_diff('month', {start}, {end})"

    def int_div(self, left: str, right: str) -> str:
        """Integer division truncated towards zero."""
        return f"({left} // {right})"

    def number_label(self, value: str) -> str:
        """A number as C's %g writes it (6 significant digits, no trailing zeros)."""
        return f"printf('%g', {value})"

    def year_month(self, date: str) -> str:
        return f"strftime({date}, '%Y-%m')"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"starts_with({text}, {prefix})"

    def sorted_values(self, value: str) -> str:
        """The group's values as one ascending list."""
        return f"list({value} ORDER BY {value})"

    def materialise(self, name: str, select: str) -> str:
        """A statement computing `select` once into a table the next queries read."""
        return f"CREATE OR REPLACE TEMP TABLE {name} AS {select}"


class SparkAnalysisDialect(AnalysisDialect):
    name = "spark"
    text = "STRING"

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def string(self, value: str) -> str:
        # Spark reads backslash escapes in literals, and joins adjacent ones: escape both.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def days_between(self, start: str, end: str) -> str:
        return f"datediff({end}, {start})"

    def months_between(self, start: str, end: str) -> str:
        return f"((year({end}) - year({start})) * 12 + month({end}) - month({start}))"

    def int_div(self, left: str, right: str) -> str:
        return f"({left} div {right})"

    def number_label(self, value: str) -> str:
        # %g for the values bands have (|x| < 1e6, at most 6 significant digits).
        fixed = f"CAST(CAST(round({value}, 6) AS DECIMAL(38, 6)) AS STRING)"
        return f"regexp_replace(regexp_replace({fixed}, '0+$', ''), '[.]$', '')"

    def year_month(self, date: str) -> str:
        return f"date_format({date}, 'yyyy-MM')"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"startswith({text}, {prefix})"

    def sorted_values(self, value: str) -> str:
        return f"sort_array(collect_list({value}))"

    def materialise(self, name: str, select: str) -> str:
        return f"CACHE TABLE {name} AS {select}"


DIALECTS: dict[str, AnalysisDialect] = {
    "duckdb": AnalysisDialect(),
    "spark": SparkAnalysisDialect(),
}
