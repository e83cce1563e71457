"""Staging parts: each worker appends rows per resource type to its own Parquet files.

A worker's part of a type (`parts/<Type>/w<n>.parquet`) is written in the published tables'
format, so that finalise can publish it as it is: only a type with duplicates or with rows of
a patient found opted out late is rewritten. The input order of its rows, which decides which
duplicate wins, goes to a file of its own (`order/<Type>/w<n>.parquet`, row for row).
"""

from __future__ import annotations

from array import array
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# A published table's columns (layout.KEY_COLUMNS).
TABLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("patient", pa.string()),
        ("effective", pa.string()),
        ("code", pa.string()),
        ("resource", pa.string()),
    ]
)
ORDER_SCHEMA = pa.schema([("_o", pa.int64())])  # input order: the last duplicate wins
# A staged resource row: the table's columns, then its input order.
PART_SCHEMA = pa.schema([*TABLE_SCHEMA, *ORDER_SCHEMA])
REFS_SCHEMA = pa.schema(
    [
        ("type", pa.string()),
        ("target", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("entry", pa.int64()),
        ("source_type", pa.string()),
        ("_task", pa.int64()),
        ("_chunk", pa.int64()),
    ]
)
OPTOUT_SCHEMA = pa.schema([("optout_key", pa.string()), ("patient", pa.string())])
# Resources left for the second pass: their source as read, and where it was (an NDJSON
# line, or a Bundle entry).
DEFERRED_SCHEMA = pa.schema(
    [
        ("_task", pa.int64()),
        ("line", pa.int64()),
        ("entry", pa.int64()),
        ("_o", pa.int64()),
        ("raw", pa.binary()),
    ]
)
# The identifiers of the resources a conditional reference may name from another file: the
# keyed hash of each `Type?identifier=...` text that names one, and its pseudonym.
IDKEYS_SCHEMA = pa.schema(
    [("conditional_key", pa.string()), ("type", pa.string()), ("pseudonym", pa.string())]
)
# Staging columns whose values repeat from row to row.
REPEATED = frozenset({"patient", "type", "file", "source_type"})
# How the parts of a resource table are written: as published. zstd at level 1 costs a tenth
# more time than LZ4 and gives files half the size; statistics for the key columns only (a
# resource text's minimum is no use to anyone); no dictionary for the ids or the texts, which
# are unique (trying costs a hash per value).
TABLE_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "write_statistics": ["id", "patient", "effective", "code"],
    "use_dictionary": ["patient", "code"],
}
FLUSH_ROWS = 4096
FLUSH_BYTES = 8 * 1024 * 1024


class _Table:
    """Rows kept as tuples and turned into columns once per batch (one pass, no per-row zip)."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        self.rows: list[tuple] = []
        self.bytes = 0
        self.writer: pq.ParquetWriter | None = None

    def add(self, row: tuple, size: int = 0) -> None:
        rows = self.rows
        rows.append(row)
        self.bytes += size
        if len(rows) >= FLUSH_ROWS or self.bytes >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._pending():
            return
        self.write(self._columns())

    def write(self, columns: list) -> None:
        """Write one batch of columns of the table's schema to its part file."""
        batch = pa.RecordBatch.from_arrays(columns, schema=self.schema)
        if self.writer is None:
            # Read once, by finalise: no column statistics, and dictionaries only for the
            # columns whose values repeat.
            self.writer = _open(
                self.path,
                self.schema,
                compression="lz4",
                write_statistics=False,
                use_dictionary=[n for n in self.schema.names if n in REPEATED],
            )
        self.writer.write_batch(batch)

    def _pending(self) -> int:
        return len(self.rows)

    def _columns(self) -> list[pa.Array]:
        """The pending rows as columns; the table is empty afterwards."""
        columns = zip(*self.rows, strict=True)  # rows of one width; columns of the schema's
        arrays = [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)]
        self.rows = []
        self.bytes = 0
        return arrays

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


def _open(path: Path, schema: pa.Schema, **options) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(path, schema, **options)


class _Resources(_Table):
    """Resource rows kept as columns, their JSON texts in one buffer, never Python strings.

    Each resource appends its id, patient, effective date, code and input order to one list per
    column (no row tuple to build, keep and take apart: strings in lists are not tracked by the
    garbage collector) and its text, JSON bytes, to the buffer; at each flush the buffer and its
    offsets become the `resource` column as they are (orjson writes valid UTF-8).
    """

    def __init__(self, path: Path, order_path: Path):
        super().__init__(path, PART_SCHEMA)
        self.order_path = order_path
        self.order_writer: pq.ParquetWriter | None = None
        self._reset()

    def _reset(self) -> None:
        self.ids: list = []
        self.patients: list = []
        self.effective: list = []
        self.codes: list = []
        self.order = array("q")
        self.text = bytearray()
        self.offsets = array("i", [0])

    def append(self, source_id, patient, effective, code, order: int, data: bytes) -> None:
        text = self.text
        text += data
        self.offsets.append(len(text))
        ids = self.ids
        ids.append(source_id)
        self.patients.append(patient)
        self.effective.append(effective)
        self.codes.append(code)
        self.order.append(order)
        if len(ids) >= FLUSH_ROWS or len(text) >= FLUSH_BYTES:
            self.flush()

    def write(self, columns: list) -> None:
        """Write one batch of staged rows (PART_SCHEMA's columns): the table's columns to the
        part, the input order to its own file."""
        if self.writer is None:
            self.writer = _open(self.path, TABLE_SCHEMA, **TABLE_OPTIONS)
            self.order_writer = _open(self.order_path, ORDER_SCHEMA, compression="lz4")
        self.writer.write_batch(pa.RecordBatch.from_arrays(columns[:-1], schema=TABLE_SCHEMA))
        self.order_writer.write_batch(pa.RecordBatch.from_arrays(columns[-1:], schema=ORDER_SCHEMA))

    def close(self) -> None:
        _Table.close(self)  # (compiled: no super() in a cdef class method)
        if self.order_writer is not None:
            self.order_writer.close()

    def _pending(self) -> int:
        return len(self.ids)

    def _columns(self) -> list[pa.Array]:
        count = len(self.ids)
        columns = [
            pa.array(self.ids, pa.string()),
            pa.array(self.patients, pa.string()),
            pa.array(self.effective, pa.string()),
            pa.array(self.codes, pa.string()),
            pa.StringArray.from_buffers(count, pa.py_buffer(self.offsets), pa.py_buffer(self.text)),
            pa.array(self.order, pa.int64()),
        ]
        self._reset()
        return columns


class PartWriter:
    """One worker's staging output: parts/<Type>/w<n>.parquet with order/<Type>/w<n>.parquet,
    refs/w<n>, optout/w<n>, deferred/w<n>, idkeys/w<n>."""

    def __init__(self, staging: Path, worker: int):
        self.staging = staging
        self.worker = worker
        self.tables: dict[str, _Resources] = {}
        self.refs = _Table(staging / "refs" / f"w{worker}.parquet", REFS_SCHEMA)
        self.optout = _Table(staging / "optout" / f"w{worker}.parquet", OPTOUT_SCHEMA)
        self.deferred = _Table(staging / "deferred" / f"w{worker}.parquet", DEFERRED_SCHEMA)
        self.idkeys = _Table(staging / "idkeys" / f"w{worker}.parquet", IDKEYS_SCHEMA)

    def resource(
        self, type_name: str, source_id, patient, effective, code, order: int, data: bytes
    ) -> None:
        """Stage a resource: its key columns, its input order and its JSON text."""
        self._table(type_name).append(source_id, patient, effective, code, order, data)

    def batch(self, type_name: str, columns: list) -> None:
        """Write a batch of a type's rows staged elsewhere (the native path's columns)."""
        self._table(type_name).write(columns)

    def _table(self, type_name: str) -> _Resources:
        table = self.tables.get(type_name)
        if table is None:
            name = f"w{self.worker}.parquet"
            table = _Resources(
                self.staging / "parts" / type_name / name,
                self.staging / "order" / type_name / name,
            )
            self.tables[type_name] = table
        return table

    def close(self) -> None:
        for table in self.tables.values():
            table.close()
        self.refs.close()
        self.optout.close()
        self.deferred.close()
        self.idkeys.close()
