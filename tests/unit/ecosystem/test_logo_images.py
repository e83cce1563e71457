"""A logo must be one whole PNG, JPEG or WebP image: no polyglot, no appended file."""

import struct
import zlib

import pytest

from campus.ecosystem.directory import images


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 1, height: int = 1, *, extra: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x00" * width)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def jpeg(width: int = 1, height: int = 1, *, comment: bytes = b"") -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    com = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment if comment else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + com + sof + sos + b"\x12\x34" + b"\xff\xd9"


def webp(*, extra: bytes = b"") -> bytes:
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body + extra


def test_whole_images_pass():
    assert images.problem(png(), "image/png") is None
    assert images.problem(jpeg(), "image/jpeg") is None
    assert images.problem(webp(), "image/webp") is None


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (png() + b"<script>alert(1)</script>", "image/png"),
        (png(extra=_chunk(b"tEXt", b"c\x00<html><script>alert(1)</script>")), "image/png"),
        (jpeg() + b"<html><script>alert(1)</script></html>", "image/jpeg"),
        (jpeg(comment=b"<svg onload=alert(1)>"), "image/jpeg"),
        (jpeg(comment=b"*/=1;<script>alert(1)</script>/*"), "image/jpeg"),
        (webp(extra=b"<script>alert(1)</script>"), "image/webp"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
        (b"\x89PNG\r\n\x1a\n<html><body><script>alert(1)</script>", "image/png"),
        (b"\xff\xd8\xff<html><script>alert(1)</script>", "image/jpeg"),
        (png()[:-6], "image/png"),
        (png(100_000, 100_000), "image/png"),
        (jpeg(60_000, 60_000), "image/jpeg"),
        (png().replace(b"IDAT", b"IDAU"), "image/png"),
    ],
)
def test_polyglots_damaged_files_and_pixel_bombs_are_refused(content, kind):
    assert images.problem(content, kind) is not None
