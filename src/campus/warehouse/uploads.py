"""Receive an upload: stream the request body to a temporary file, never whole in memory."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from campus.errors import BadRequest, TooLarge
from campus.settings import Settings
from campus.warehouse.sources import JSON_SUFFIXES, NDJSON_SUFFIXES

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 200


def clean_filename(filename: str) -> str:
    """The base name of an uploaded file, checked for an accepted extension."""
    name = _SAFE.sub("_", Path(filename or "").name)
    # The longest suffix first: "x.ndjson.gz" ends with ".gz" forms before ".json" forms.
    suffixes = sorted(NDJSON_SUFFIXES + JSON_SUFFIXES, key=len, reverse=True)
    suffix = next((s for s in suffixes if name.lower().endswith(s)), None)
    if suffix is not None and len(name) > _MAX_NAME:
        # Shortened before its format, which the ingest reads from the name.
        name = name[: _MAX_NAME - len(suffix)] + name[-len(suffix) :]
    if suffix is None:
        raise BadRequest(
            "name the file with its format: .json (a resource or a Bundle), .ndjson or "
            ".jsonl (Bulk Data), optionally followed by .gz",
            code="bad_filename",
            where="filename",
        )
    return name


def _too_large(settings: Settings) -> TooLarge:
    return TooLarge(
        f"the upload exceeds {settings.max_upload_bytes} bytes: split it into several files",
        code="too_large",
    )


def check_declared(settings: Settings, content_length: str | None) -> None:
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > settings.max_upload_bytes:
        raise _too_large(settings)


def _target(settings: Settings, name: str) -> tuple[int, Path]:
    folder = settings.var_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=folder, prefix="upload-", suffix="-" + name)
    return fd, Path(path)


async def receive(settings: Settings, chunks: AsyncIterator[bytes], name: str) -> Path:
    """Write the chunks to a new temporary file; the caller deletes it."""
    fd, path = _target(settings, name)
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                total += len(chunk)
                if total > settings.max_upload_bytes:
                    raise _too_large(settings)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if total == 0:
        path.unlink(missing_ok=True)
        raise BadRequest("the upload is empty", code="empty_upload", where="body")
    return path


async def receive_file(settings: Settings, upload, name: str) -> Path:
    """The same for a multipart form file (Starlette UploadFile)."""

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(1 << 20):
            yield chunk

    return await receive(settings, chunks(), name)
