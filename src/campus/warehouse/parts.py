"""Staging parts: each worker appends rows per resource type to its own Parquet files."""

from __future__ import annotations

from array import array
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("patient", pa.string()),
        ("effective", pa.string()),
        ("code", pa.string()),
        ("resource", pa.string()),
        ("_o", pa.int64()),  # input order: the last duplicate wins
    ]
)
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
        if not self.rows:
            return
        batch = pa.RecordBatch.from_arrays(self._columns(), schema=self.schema)
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(self.path, self.schema, compression="lz4")
        self.writer.write_batch(batch)
        self.rows = []
        self.bytes = 0

    def _columns(self) -> list[pa.Array]:
        columns = zip(*self.rows, strict=True)  # rows of one width; columns of the schema's
        return [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)]

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


class _Resources(_Table):
    """Resource rows whose JSON texts go to one buffer, never made Python strings.

    A row is (id, patient, effective, code, order) and its text the resource as JSON bytes; at
    each flush the buffer and its offsets become the `resource` column as they are (orjson
    writes valid UTF-8), and the rows keep no reference to the texts meanwhile.
    """

    def __init__(self, path: Path):
        super().__init__(path, PART_SCHEMA)
        self.text = bytearray()
        self.offsets = array("i", [0])

    def append(self, row: tuple, data: bytes) -> None:
        text = self.text
        text += data
        self.offsets.append(len(text))
        rows = self.rows
        rows.append(row)
        if len(rows) >= FLUSH_ROWS or len(text) >= FLUSH_BYTES:
            self.flush()

    def _columns(self) -> list[pa.Array]:
        ids, patients, effective, codes, order = zip(*self.rows, strict=True)
        text = pa.StringArray.from_buffers(
            len(self.rows), pa.py_buffer(self.offsets), pa.py_buffer(self.text)
        )
        self.text = bytearray()
        self.offsets = array("i", [0])
        return [
            pa.array(ids, pa.string()),
            pa.array(patients, pa.string()),
            pa.array(effective, pa.string()),
            pa.array(codes, pa.string()),
            text,
            pa.array(order, pa.int64()),
        ]


class PartWriter:
    """One worker's staging output: parts/<Type>/w<n>.parquet, refs/w<n>, optout/w<n>."""

    def __init__(self, staging: Path, worker: int):
        self.staging = staging
        self.worker = worker
        self.tables: dict[str, _Resources] = {}
        self.refs = _Table(staging / "refs" / f"w{worker}.parquet", REFS_SCHEMA)
        self.optout = _Table(staging / "optout" / f"w{worker}.parquet", OPTOUT_SCHEMA)

    def resource(self, type_name: str, row: tuple, data: bytes) -> None:
        """Stage a resource: row (id, patient, effective, code, order), data its JSON."""
        table = self.tables.get(type_name)
        if table is None:
            table = _Resources(self.staging / "parts" / type_name / f"w{self.worker}.parquet")
            self.tables[type_name] = table
        table.append(row, data)

    def close(self) -> None:
        for table in self.tables.values():
            table.close()
        self.refs.close()
        self.optout.close()
