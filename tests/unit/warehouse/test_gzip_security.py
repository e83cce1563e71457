"""A gzip input cannot make the ingest spend minutes: its expansion is capped."""

from __future__ import annotations

import gzip
import json
import zlib

from campus.warehouse import sources


def _task(path) -> sources.Task:
    return sources.plan([path])[0]


def _items(path) -> list[sources.Item]:
    return list(sources.read(_task(path), 1 << 20, 1 << 20))


def test_a_compression_bomb_of_blank_lines_is_refused_after_its_first_quarter_mib(tmp_path):
    path = tmp_path / "bomb.ndjson.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with path.open("wb") as handle:
        for _ in range(100):  # 100 MB of newlines, about 100 KB on disk
            handle.write(packer.compress(b"\n" * 1_000_000))
        handle.write(packer.flush())
    assert path.stat().st_size < 200_000
    items = _items(path)
    assert "compression bomb" in (items[-1].error or "")
    # Stopped after about a quarter MiB of output, not 100 million lines.
    assert len(items) < 2 * sources.GZIP_RATIO_AFTER


def test_real_gzip_files_several_members_included_read_as_their_plain_text(tmp_path):
    lines = [json.dumps({"resourceType": "Patient", "id": f"p{n}"}) for n in range(3000)]
    text = ("\n".join(lines) + "\n").encode()
    half = len(text) // 2
    cut = text.index(b"\n", half) + 1
    path = tmp_path / "p.ndjson.gz"
    path.write_bytes(gzip.compress(text[:cut]) + gzip.compress(text[cut:]))
    items = _items(path)
    assert [item.resource["id"] for item in items] == [f"p{n}" for n in range(3000)]
    bundle = tmp_path / "b.json.gz"
    bundle.write_bytes(gzip.compress(json.dumps({"resourceType": "Patient", "id": "x"}).encode()))
    assert _items(bundle)[0].resource == {"resourceType": "Patient", "id": "x"}


def test_truncated_corrupt_or_empty_gzip_is_reported_not_read(tmp_path):
    data = gzip.compress(b'{"resourceType": "Patient", "id": "a"}\n' * 500)
    cases = {"cut": data[:-30], "corrupt": data[:20] + b"\xff" * 40 + data[60:], "empty": b""}
    for name, content in cases.items():
        path = tmp_path / f"{name}.ndjson.gz"
        path.write_bytes(content)
        errors = [item.error for item in _items(path) if item.error]
        assert errors and "gzip stream is truncated or corrupt" in errors[-1], name
