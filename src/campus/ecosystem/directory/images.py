"""Checks on an uploaded logo's bytes beyond its first ones: a PNG, JPEG or WebP must be one
whole image and nothing else (no HTML, script or other file appended or tucked inside), of
reasonable dimensions.

No image library is needed: the three containers are walked by their structure.
"""

from __future__ import annotations

import re
import struct
import zlib

MAX_SIDE = 4096
# Markup a browser, or a user opening the file elsewhere, could run. XMP metadata
# (`<?xpacket`, `<x:xmpmeta`) is not among them.
MARKUP = re.compile(
    rb"<\s*(?:script|html|svg|iframe|body|object|embed|!doctype)\b|javascript:", re.IGNORECASE
)


def problem(content: bytes, kind: str) -> str | None:
    """Why these bytes are not one clean image of `kind` (a MIME type), or None."""
    check = {"image/png": _png, "image/jpeg": _jpeg, "image/webp": _webp}[kind]
    try:
        found = check(content)
    except (struct.error, IndexError, ValueError):
        return "truncated or malformed image"
    if found is None and MARKUP.search(content):
        return "markup inside the image"
    return found


def _side(width: int, height: int) -> str | None:
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return f"dimensions out of range ({width}x{height}, {MAX_SIDE} at most)"
    return None


def _png(content: bytes) -> str | None:
    at = 8
    first = True
    while True:
        length, kind = struct.unpack(">I4s", content[at : at + 8])
        data = content[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", content[at + 8 + length : at + 12 + length])
        if len(data) != length or not kind.isalpha():
            return "malformed chunk"
        if zlib.crc32(kind + data) != crc:
            return "chunk checksum mismatch"
        if first:
            if kind != b"IHDR" or length != 13:
                return "the image header is missing"
            width, height = struct.unpack(">II", data[:8])
            if (wrong := _side(width, height)) is not None:
                return wrong
            first = False
        at += 12 + length
        if kind == b"IEND":
            return None if at == len(content) else "data after the end of the image"


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(content: bytes) -> str | None:
    if not content.endswith(b"\xff\xd9"):
        return "data after the end of the image"
    at = 2
    sized = False
    while True:
        if content[at] != 0xFF:
            return "malformed segment"
        marker = content[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return None if at + 2 == len(content) and sized else "the image header is missing"
        (length,) = struct.unpack(">H", content[at + 2 : at + 4])
        if length < 2 or at + 2 + length > len(content):
            return "malformed segment"
        if marker in _SOF:
            height, width = struct.unpack(">HH", content[at + 5 : at + 9])
            if (wrong := _side(width, height)) is not None:
                return wrong
            sized = True
        if marker == 0xDA:
            # Entropy-coded data up to the end of image: checked for markup by the caller.
            return None if sized else "the image header is missing"
        at += 2 + length


def _webp(content: bytes) -> str | None:
    (size,) = struct.unpack("<I", content[4:8])
    if size + 8 != len(content):
        return "data after the end of the image"
    if content[12:16] not in (b"VP8 ", b"VP8L", b"VP8X"):
        return "the image header is missing"
    return None
