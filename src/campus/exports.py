"""CSV exports that a spreadsheet will not run: one rule for every CSV the product writes.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell as a formula when its text
starts with `=`, `+`, `-` or `@`, also after leading blanks, and some versions also with
the full-width forms `＝＋－＠` (and the small forms `﹦﹢﹣﹫`); a cell starting with a tab
or a carriage return may be read as the start of one. Such a text cell is written with a
leading apostrophe, which spreadsheets show as text and never evaluate (OWASP's advice).
Numbers are left as they are: a negative number is a number, not a formula.

Every CSV export goes through `safe_cell`, `writer` or `safe_batch`: analysis outputs,
view exports, consultation results, event attendees, the impact dashboard.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

# A text is dangerous when it starts with a tab or a carriage return, or when its first
# character after blanks (any Unicode whitespace, the no-break and ideographic spaces
# included) is one that starts a formula.
# The same pattern runs in Python and in Arrow (RE2), whose `\s` is ASCII only: the blanks
# are listed.
_FORMULA_CHARS = "=+\\-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b"
_BLANKS = " \t\n\r\f\v\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
DANGEROUS = re.compile(f"^(?:[\t\r]|[{_BLANKS}]*[{_FORMULA_CHARS}])")


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could run this text as a formula."""
    return DANGEROUS.match(text) is not None


def safe_cell(value: Any) -> Any:
    """A cell value a spreadsheet shows as text: dangerous texts get a leading apostrophe."""
    if isinstance(value, str) and is_dangerous(value):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose every cell goes through `safe_cell`."""

    def __init__(self, out: IO[str], **options: Any):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: IO[str], **options: Any) -> SafeWriter:
    """A CSV writer (same options as `csv.writer`) that neutralises formulas."""
    return SafeWriter(out, **options)


def safe_batch(batch: Any) -> Any:
    """An Arrow record batch whose text columns are neutralised like `safe_cell`
    (for exports written by Arrow's own CSV writer)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            flagged = pc.fill_null(pc.match_substring_regex(column, DANGEROUS.pattern), False)
            if pc.any(flagged).as_py():
                quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, "")
                column = pc.if_else(flagged, quoted, column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)
