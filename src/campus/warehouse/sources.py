"""Input files: discovery, tasks (a file, or a byte range of a large NDJSON file), readers.

Readers yield `Item`s: a parsed resource with its location, or a problem found before any
resource could be read (bad JSON, truncated gzip, oversized line). Memory stays bounded: NDJSON
is read a line at a time with a length limit; a JSON file is read whole up to a size limit.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from campus.errors import BadRequest
from campus.warehouse import messages

NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
JSON_SUFFIXES = (".json", ".json.gz")
CHUNK_BYTES = 48 * 1024 * 1024
# A gzip file may expand at most this many times its size (FHIR NDJSON: about 15) and to at
# most this many bytes: a "compression bomb" (blank lines expand a thousandfold) is refused
# after its first quarter MiB rather than read for minutes.
GZIP_MAX_RATIO = 100
GZIP_MAX_BYTES = 64 * 1024**3
GZIP_RATIO_AFTER = 256 * 1024  # the ratio is judged once this much has come out
GZIP_READ_BYTES = 16 * 1024
# A UTF-8 byte order mark: JSON must not start with one (RFC 8259), but parsers may ignore it,
# and files saved by some Windows tools do.
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Task:
    """A unit of work: a whole file, or the lines starting in [start, end) of a plain NDJSON."""

    index: int
    path: str
    label: str
    ndjson: bool
    start: int = 0
    end: int = -1
    size: int = 0
    chunk: int = 0  # the chunk's rank in its file (line numbers are fixed up afterwards)


class Item:
    """One read outcome: a resource, or a problem (`error`) at a location.

    A plain class, not a dataclass: one is made per resource read, and compiled (sources.pxd)
    it is an extension type whose construction costs no Python-level `__init__`.
    """

    def __init__(
        self,
        line: int | None,
        entry: int | None,
        resource: Any = None,
        error: str | None = None,
        bundle: Any = None,
        blank: bool = False,
        raw: bytes | None = None,
    ):
        self.line = line
        self.entry = entry
        self.resource = resource
        self.error = error
        self.bundle = bundle  # the Bundle object a resource came from (reference resolution)
        self.blank = blank  # an empty NDJSON line: counted, nothing to land
        self.raw = raw  # an NDJSON resource's line as read (kept if the resource is deferred)

    def __repr__(self) -> str:
        return f"Item(line={self.line!r}, entry={self.entry!r}, error={self.error!r})"


def discover(paths: list[Path]) -> list[Path]:
    """The input files under the given files and folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.name.lower().endswith(NDJSON_SUFFIXES + JSON_SUFFIXES)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise BadRequest(f"no such file or folder: {path}", code="no_input", where=str(path))
    if not found:
        raise BadRequest(
            "no input file found: give .json, .ndjson or .jsonl files (optionally .gz) or "
            "folders holding them",
            code="no_input",
        )
    return found


def is_ndjson(name: str) -> bool:
    return name.lower().endswith(NDJSON_SUFFIXES)


def plan(files: list[Path], labels: list[str] | None = None) -> list[Task]:
    """Tasks for the files: large plain NDJSON files are split into byte ranges."""
    tasks: list[Task] = []
    for position, path in enumerate(files):
        label = labels[position] if labels else path.name
        size = path.stat().st_size
        ndjson = is_ndjson(label)
        if ndjson and not label.lower().endswith(".gz") and size > CHUNK_BYTES:
            for rank, start in enumerate(range(0, size, CHUNK_BYTES)):
                end = min(start + CHUNK_BYTES, size)
                tasks.append(
                    Task(len(tasks), str(path), label, True, start, end, end - start, rank)
                )
        else:
            tasks.append(Task(len(tasks), str(path), label, ndjson, 0, -1, size, 0))
    return tasks


def is_gzip(task: Task) -> bool:
    return task.label.lower().endswith(".gz") or task.path.endswith(".gz")


class GzipExpansion(ValueError):
    """A gzip file that expands beyond GZIP_MAX_RATIO or GZIP_MAX_BYTES."""


class _CappedGzip(io.RawIOBase):
    """A gzip file's decompressed bytes, counted against the compressed bytes consumed, a
    chunk at a time (not a line): past the caps it raises GzipExpansion. Several gzip
    members one after the other are read as one stream, as `gzip.open` does; the decompressor
    checks each member's CRC and length."""

    def __init__(self, path: str):
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._input = b""
        self._read = 0  # compressed bytes read from the file
        self._started = False  # a member has begun (an empty file is no gzip stream)
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        while True:
            if not self._input:
                self._input = self._file.read(GZIP_READ_BYTES)
                self._read += len(self._input)
                if not self._input:
                    if self._started and not self._inflate.eof:
                        raise EOFError("the gzip stream ended before its end marker")
                    if not self._started:
                        raise gzip.BadGzipFile("empty file: not a gzip stream")
                    return 0
            if self._inflate.eof:  # a further member starts
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = True
            data = self._inflate.decompress(self._input, size)
            self._input = self._inflate.unconsumed_tail or self._inflate.unused_data
            if data:
                break
        buffer[: len(data)] = data
        self.out += len(data)
        consumed = max(1, self._read - len(self._input))
        if self.out > GZIP_MAX_BYTES or (
            self.out > GZIP_RATIO_AFTER and self.out > GZIP_MAX_RATIO * consumed
        ):
            raise GzipExpansion(
                messages.GZIP_EXPANDS.format(ratio=GZIP_MAX_RATIO, limit=GZIP_MAX_BYTES)
            )
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def _open(task: Task) -> BinaryIO:
    if is_gzip(task):
        return io.BufferedReader(_CappedGzip(task.path), 1 << 16)  # type: ignore[return-value]
    return open(task.path, "rb")


def read(
    task: Task, max_resource_bytes: int, max_json_bytes: int, parse: bool = True
) -> Iterator[Item]:
    """The items of a task, in order. With `parse` false, an NDJSON line comes unparsed (its
    `raw` text, `resource` None): the caller parses it when it needs the objects."""
    if task.ndjson:
        yield from _read_ndjson(task, max_resource_bytes, parse)
    else:
        yield from _read_json(task, max_json_bytes)


GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def _read_ndjson(task: Task, limit: int, parse: bool = True) -> Iterator[Item]:
    line = 0
    with _open(task) as handle:
        try:
            # The position is counted, not asked: `tell()` costs a system call a line.
            position = 0
            if task.start > 0:
                handle.seek(task.start - 1)
                # The line that started before this range belongs to the range before.
                position = task.start - 1 + len(handle.readline())
            while task.end < 0 or position < task.end:
                raw = handle.readline(limit + 1)
                if not raw:
                    break
                position += len(raw)
                line += 1
                if len(raw) > limit and not raw.endswith(b"\n"):
                    while True:  # skip the rest of the oversized line without keeping it
                        rest = handle.readline(1 << 20)
                        position += len(rest)
                        if not rest or rest.endswith(b"\n"):
                            break
                    yield Item(line, None, error=messages.LINE_TOO_LONG.format(limit=limit))
                    continue
                if line == 1 and task.start == 0 and raw.startswith(BOM):
                    raw = raw[3:]  # a UTF-8 byte order mark, written by some Windows tools
                if raw.isspace():  # as `not raw.strip()`, without copying the line
                    yield Item(line, None, blank=True)
                    continue
                if not parse:
                    yield Item(line, None, raw=raw)
                    continue
                try:
                    yield Item(line, None, orjson.loads(raw), raw=raw)
                except orjson.JSONDecodeError as error:
                    yield Item(line, None, error=messages.NOT_JSON.format(error=error))
        except GZIP_ERRORS as error:
            yield Item(line + 1, None, error=messages.BAD_GZIP.format(error=error))
        except GzipExpansion as error:
            yield Item(line + 1, None, error=str(error))
        except OSError as error:
            yield Item(line + 1, None, error=messages.UNREADABLE.format(error=error))


def _read_json(task: Task, max_bytes: int) -> Iterator[Item]:
    try:
        with _open(task) as handle:
            raw = handle.read(max_bytes + 1)
    except GZIP_ERRORS as error:
        yield Item(None, None, error=messages.BAD_GZIP.format(error=error))
        return
    except GzipExpansion as error:
        yield Item(None, None, error=str(error))
        return
    except OSError as error:
        yield Item(None, None, error=messages.UNREADABLE.format(error=error))
        return
    if len(raw) > max_bytes:
        yield Item(
            None,
            None,
            error=messages.JSON_TOO_LARGE.format(limit=max_bytes),
        )
        return
    try:
        data = orjson.loads(raw[3:] if raw.startswith(BOM) else raw)
    except orjson.JSONDecodeError as error:
        yield Item(None, None, error=messages.NOT_JSON.format(error=error))
        return
    del raw
    if type(data) is not dict:
        yield Item(None, None, error=messages.NOT_ONE_OBJECT)
        return
    if data.get("resourceType") != "Bundle":
        yield Item(None, None, resource=data)
        return
    bundle_type = data.get("type")
    if bundle_type not in ("transaction", "batch", "collection"):
        yield Item(
            None,
            None,
            error=messages.BUNDLE_TYPE.format(bundle_type=repr(bundle_type)),
        )
        return
    entries = data.get("entry", [])
    if type(entries) is not list:
        yield Item(None, None, error=messages.ENTRY_NOT_LIST)
        return
    for index, entry in enumerate(entries):
        if type(entry) is not dict:
            yield Item(None, index, error=messages.ENTRY_NOT_OBJECT)
            continue
        resource = entry.get("resource")
        if resource is None:
            method = (
                (entry.get("request") or {}).get("method")
                if type(entry.get("request")) is dict
                else None
            )
            yield Item(
                None,
                index,
                error=messages.ENTRY_WITHOUT_RESOURCE.format(method=method or "none"),
            )
            continue
        yield Item(None, index, resource=resource, bundle=data)
