"""Staging parts: each worker appends rows per resource type to its own Parquet files."""

from __future__ import annotations

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
        ("_h", pa.int64()),  # content hash: identical duplicates vs conflicting ones
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
        columns = zip(*self.rows, strict=True)  # rows of one width; columns of the schema's
        batch = pa.RecordBatch.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(self.path, self.schema, compression="lz4")
        self.writer.write_batch(batch)
        self.rows = []
        self.bytes = 0

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


class PartWriter:
    """One worker's staging output: parts/<Type>/w<n>.parquet, refs/w<n>, optout/w<n>."""

    def __init__(self, staging: Path, worker: int):
        self.staging = staging
        self.worker = worker
        self.tables: dict[str, _Table] = {}
        self.refs = _Table(staging / "refs" / f"w{worker}.parquet", REFS_SCHEMA)
        self.optout = _Table(staging / "optout" / f"w{worker}.parquet", OPTOUT_SCHEMA)

    def resource(self, type_name: str, row: tuple, size: int) -> None:
        table = self.tables.get(type_name)
        if table is None:
            table = _Table(
                self.staging / "parts" / type_name / f"w{self.worker}.parquet", PART_SCHEMA
            )
            self.tables[type_name] = table
        table.add(row, size)

    def close(self) -> None:
        for table in self.tables.values():
            table.close()
        self.refs.close()
        self.optout.close()
