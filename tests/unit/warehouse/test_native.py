"""The native fast path (textwalk.pyx over native/textwalk.hpp) lands what the Python path lands.

The Python path (worker.Runner.process, pseudonymise._Walk, orjson) is the specification. The
native path takes an NDJSON line only when it can land it exactly as the Python path would, and
gives every other line back. These tests run a worker twice over the same lines, with and
without the native path, and require the same staged rows, bytes included, the same reference
rows and the same report: on the Synthea sample written as Bulk NDJSON, and on variants of it
that hit each rule, each check and each way JSON can be written differently.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from campus.optout.service import identifier_texts, key_with
from campus.warehouse import policy, worker
from campus.warehouse.pseudonymise import CODING_KEYS, Pseudonymiser
from campus.warehouse.sources import Task
from tests.unit.warehouse.test_compiled import _bundles

KEY = b"k" * 32
OPTOUT_SECRET = b"o" * 32
UUID = re.compile(r'"urn:uuid:([0-9a-f-]{36})"')


def _walker():
    if worker.NativeWalk is None:
        if all(Path("/usr/include", h).exists() for h in ("simdjson.h", "openssl/sha.h")):
            pytest.fail("simdjson and OpenSSL are installed but the native path is not built")
        pytest.skip("the native path is not built (no simdjson or OpenSSL headers)")
    return worker.NativeWalk(
        Pseudonymiser(KEY, policy.default()),
        False,
        worker.EFFECTIVE_PATHS,
        worker.CODE_KEYS,
        worker.PATIENT_KEYS,
        CODING_KEYS,
    )


def _lines(shared_dir: Path) -> list[bytes]:
    """The Synthea sample as Bulk NDJSON: `urn:uuid` references made `Type/id`."""
    lines = []
    for bundle in _bundles(shared_dir):
        types = {e["fullUrl"][9:]: e["resource"]["resourceType"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            text = orjson.dumps(entry["resource"]).decode()
            text = UUID.sub(
                lambda m, t=types: f'"{t.get(m.group(1), "Patient")}/{m.group(1)}"', text
            )
            lines.append(text.encode())
    return lines


NUMBERS = [
    "0", "-0", "0.0", "-0.0", "1", "-1", "1.0", "1.50", "1e2", "1E2", "1e-5", "2.5e-5", "1e-7",
    "0.1", "0.30000000000000004", "123456789.123456789", "1e15", "999999999999999.9", "1e16",
    "9007199254740993", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
    "-9223372036854775809", "1e308", "5e-324", "12345678901234567890123", "3.14159", "100",
]  # fmt: skip
STRINGS = [
    "é",
    "😀",
    "\u2028",
    "\x7f",
    'a"b',
    "a\\b",
    "\\/",
    "\t",
    "\x00",
    "\x1f",
    "\x0b",
    "Patient/1",
    "#x",
    "line\nbreak",
]
# As written in the JSON text: a surrogate pair, lone surrogates, escapes of plain characters.
ESCAPES = ["\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\u00e9", "\\u0041", "\\/", "\\u1F",
           "\\u001F"]  # fmt: skip


def _variants(line: bytes, rng: random.Random) -> list[bytes]:
    """Lines that differ from a clean one in each way the two paths could diverge."""
    resource = orjson.loads(line)
    text = line.decode()
    out: list[bytes] = []

    def add(value) -> None:
        out.append(orjson.dumps(value))

    keys = [k for k in resource if k not in ("resourceType", "id")]
    for key in keys:
        value = resource[key]
        if type(value) is str:
            add({**resource, key: value[:4] + "-13-40"})
            add({**resource, key: value + "\u00e9"})
        elif type(value) is dict:
            add({**resource, key: {**value, "reference": 12}})
            add({**resource, key: {**value, "reference": "not a reference"}})
            add({**resource, key: {**value, "reference": "urn:uuid:1234"}})
            add({**resource, key: {**value, "reference": "Nothing/1"}})
            add({**resource, key: {**value, "reference": "#contained"}})
            add({**resource, key: {**value, "display": {"text": 1}}})
            add({**resource, key: {"identifier": {"system": "s", "value": "v"}, "display": "d"}})
            add({**resource, key: [value]})
        elif type(value) is list and value:
            add({**resource, key: [value]})
            add({**resource, key: [*value[:1], None, 1, "x"]})
    for escape in ESCAPES:
        out.append(text[:-1].encode() + b',"status":"' + escape.encode() + b'"}')
    for number in NUMBERS:
        out.append(text[:-1].encode() + b',"valueQuantity":{"value":' + number.encode() + b"}}")
    for string in STRINGS:
        add({**resource, "status": string})
        add({**resource, "note": [{"text": string}], "extension": [{"url": string}]})
    # Written otherwise than orjson writes it: spaces, escapes, a repeated key, a BOM-less CRLF.
    out.append(text.replace(":", ": ", 3).encode())
    out.append(text.replace("a", "\\u0061", 2).encode())
    out.append(text.replace("/", "\\/", 2).encode())
    out.append((text[:-1] + ',"status":"x","status":"y"}').encode())
    out.append((text + "\r\n").encode())
    out.append(text[: len(text) // 2].encode())
    # Element names that need escapes when written (a quote, a backslash, a control character,
    # a long one), at the root and inside an element.
    for name in ('q\\"x', "b\\\\s", "c\\u0001", "\\u001fz", "n" * 40, "\\u00e9l\\u00e8ve"):
        out.append((text[:-1] + f',"{name}":1}}').encode())
        out.append((text[:-1] + f',"meta":{{"{name}":"v"}}}}').encode())
    # The rules and checks the walk applies.
    add({**resource, "text": {"div": "<div>x</div>"}, "note": [{"text": "n"}]})
    add({**resource, "contained": [{"resourceType": "Medication", "id": "m"}]})
    add({**resource, "extension": [{"url": "u", "valueAddress": {"line": ["x"]}}]})
    add({**resource, "identifier": {"system": "s", "value": "v"}})
    add({**resource, "identifier": [{"system": "s", "value": "v", "assigner": {"display": "a"}}]})
    add({**resource, "telecom": [{"value": "0600"}], "address": [{"postalCode": "75013"}]})
    add({**resource, "address": {"postalCode": "éé013", "city": "Paris", "line": ["1 rue"]}})
    add({**resource, "performer": [{"reference": "Practitioner/1", "display": "Dr X"}]})
    add({**resource, "performer": [{"display": "Dr X", "identifier": {"value": "1"}}]})
    add({**resource, "recorder": "Practitioner/1"})
    add({**resource, "encounter": {"reference": "Encounter/1", "type": "Encounter"}})
    add({**resource, "item": [{"sequence": 1, "servicedDate": "2020-01-0"}]})
    add({**resource, "timing": {"repeat": {"when": ["MORN"]}, "event": ["2020-01-01"]}})
    add({**resource, "component": [{"code": {"coding": [{"code": "x", "extension": []}]}}]})
    add({**resource, "code": {"coding": [{"code": 1, "userSelected": True}, {"x": None}]}})
    add({**resource, "subject": {"reference": "Group/1"}, "patient": {"reference": "Patient/9"}})
    add({**resource, "subject": {"display": "someone"}})
    # A target first met by a line the Python path takes (an exponent it writes otherwise),
    # then by a line this path takes: staged once, at the first.
    fresh = {"reference": f"Encounter/fresh-{rng.randrange(10**9)}"}
    first = orjson.dumps({**resource, "encounter": fresh})
    out.append(first[:-1] + b',"valueQuantity":{"value":1e16}}')
    add({**resource, "encounter": fresh})
    deep: dict = {"extension": []}
    for _ in range(rng.choice((30, 39, 41, 60))):
        deep = {"valueCodeableConcept": deep}
    add({**resource, "extension": [deep]})
    return out


def _run(
    path: Path, staging: Path, native: bool, registry: frozenset[str], rules: dict | None = None
) -> tuple:
    config = worker.Config(
        str(staging),
        KEY,
        OPTOUT_SECRET,
        rules or policy.default().as_dict(),
        registry,
        False,
        16 << 20,
        512 << 20,
        native,
    )
    runner = worker.Runner(config, 0)
    assert (runner.native is not None) == native
    # A task index and chunk of their own: the targets staged carry both.
    result = runner.run(Task(3, str(path), "in.ndjson", True, 0, -1, path.stat().st_size, 2))
    runner.close()
    tables = {}
    for part in sorted(staging.rglob("*.parquet")):
        if part.parts[-3] == "order":  # read with its part, below
            continue
        rows = pq.read_table(part).to_pylist()
        if part.parts[-3] == "parts":  # the native path writes its rows in batches of its own
            order = pq.read_table(staging / "order" / part.parent.name / part.name)
            for row, position in zip(rows, order.column("_o").to_pylist(), strict=True):
                row["_o"] = position
            rows.sort(key=lambda row: row["_o"])
        elif part.parts[-2] == "refs":
            rows = _first_places(rows)
        tables[str(part.relative_to(staging))] = rows
    report = [
        (p.severity, p.line, p.resource_type, p.resource_id, p.path, p.message)
        for p in result.problems
    ]
    counts = (result.landed, result.dropped_optout, result.deferred, result.errors, result.lines)
    return counts, report, tables


def _first_places(rows: list[dict]) -> list[dict]:
    """Each staged target at the first place it was seen: what finalise reports. The paths may
    stage a target again after forgetting it (their memories of targets seen are bounded
    differently), and write their rows in orders of their own."""
    first: dict[tuple, dict] = {}
    for row in sorted(rows, key=lambda row: (row["_task"], row["line"] or 0, row["entry"] or 0)):
        first.setdefault((row["type"], row["target"]), row)
    return sorted(first.values(), key=lambda row: (row["_task"], row["line"] or 0, row["target"]))


def _registry(lines: list[bytes]) -> frozenset[str]:
    """The opt-out keys of the sample's first patient: its later resources are dropped."""
    patient = next(r for r in map(orjson.loads, lines) if r["resourceType"] == "Patient")
    return frozenset(
        key_with(OPTOUT_SECRET, text)
        for identifier in patient["identifier"]
        for text in identifier_texts(identifier.get("system"), identifier.get("value"))
    )


@pytest.mark.parametrize("optout", [False, True], ids=["", "optout"])
@pytest.mark.slow  # over 5 s: make test runs it, make test-unit does not
def test_the_native_and_python_paths_land_the_same_rows_and_report_the_same(
    shared_dir, tmp_path, optout, monkeypatch
):
    _walker()
    monkeypatch.setattr(worker, "TASK_PROBLEMS", 1_000_000)  # every problem, compared
    rng = random.Random(20261206)
    lines = _lines(shared_dir)
    registry = _registry(lines) if optout else frozenset()
    cases = list(lines)
    for position, line in enumerate(lines):
        if position % 40 == 0:
            cases.extend(_variants(line, rng))
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(cases) + b"\n")
    ours = _run(path, tmp_path / "native", True, registry)
    theirs = _run(path, tmp_path / "python", False, registry)
    assert ours[0] == theirs[0]
    assert len(ours[1]) == len(theirs[1])
    for mine, expected in zip(ours[1], theirs[1], strict=True):
        assert mine == expected
    assert ours[2].keys() == theirs[2].keys()
    for name, rows in ours[2].items():
        assert rows == theirs[2][name], name
    assert len(cases) > 40_000 and sum(ours[0][0].values()) > 30_000 and len(ours[1]) > 5_000
    assert (ours[0][1] > 100) == optout  # the first patient's resources, dropped


@pytest.mark.slow  # over 5 s: make test runs it, make test-unit does not
def test_the_native_path_takes_most_of_the_sample(shared_dir):
    """Else it would be correct and useless: it gives back only what it does not handle."""
    walker = _walker()
    lines = _lines(shared_dir)
    taken = {}
    for line in lines:
        kind = orjson.loads(line)["resourceType"]
        taken.setdefault(kind, [0, 0])[walker.transform(line, 0, 0, 1 << 24) is not None] += 1
    share = sum(t for _, t in taken.values()) / len(lines)
    assert share > 0.85, taken
    assert taken["Observation"][0] == 0 and taken["Patient"][1] == 0  # patients: Python's


def test_the_native_pseudonym_is_the_python_one():
    walker = _walker()
    python = Pseudonymiser(KEY, policy.default())
    for type_name, source_id in (("Patient", "1"), ("Observation", "x" * 64), ("Encounter", "é")):
        assert walker.digest(f"{type_name}/{source_id}") == python.pseudonym(type_name, source_id)


def _mutated(line: bytes, rng: random.Random) -> bytes:
    """A line with a few bytes changed, inserted, cut or truncated: JSON's own characters, bytes
    that are not UTF-8 or start a surrogate, control characters."""
    alphabet = b'{}[]",:\\ 0123456789.eE-+tfnulr\x00\x1f\x7f\xc3\xa9\xff\xed\xa0\x80'
    data = bytearray(line)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(data) + 1)
        choice = rng.random()
        if choice < 0.4 and position < len(data):
            data[position] = rng.choice(alphabet)
        elif choice < 0.7:
            data[position:position] = bytes([rng.choice(alphabet)])
        elif choice < 0.85:
            del data[position : position + rng.randint(1, 20)]
        else:
            del data[position:]
    return bytes(data).replace(b"\n", b" ").replace(b"\r", b" ")


@pytest.mark.slow  # over 5 s: make test runs it, make test-unit does not
def test_bytes_changed_at_random_land_the_same_on_both_paths_or_go_to_python(
    shared_dir, tmp_path, monkeypatch
):
    """What the native path reads from damaged text it must read as the Python path does,
    and it must never fail on it (a crash would stop the worker)."""
    _walker()
    monkeypatch.setattr(worker, "TASK_PROBLEMS", 1_000_000)
    rng = random.Random(20261206)
    lines = _lines(shared_dir)
    cases = [_mutated(rng.choice(lines), rng) for _ in range(20_000)]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(cases) + b"\n")
    ours = _run(path, tmp_path / "native", True, frozenset())
    theirs = _run(path, tmp_path / "python", False, frozenset())
    assert ours[0] == theirs[0] and ours[1] == theirs[1]
    assert ours[2].keys() == theirs[2].keys()
    for name, rows in ours[2].items():
        assert rows == theirs[2][name], name
    assert 1_000 < sum(ours[0][0].values()) < 19_000  # some land, most are refused


def test_an_extension_removed_by_its_url_is_still_checked_and_its_references_staged(tmp_path):
    """A rule by url removes an extension after the walk has met it (as the Python path does):
    a bad date in it is still reported, its reference target still staged."""
    _walker()
    rules = policy.default().as_dict()
    rules["rules"] = [
        *rules["rules"],
        {"path": "Observation.extension", "url": "http://x/secret", "action": "redact"},
    ]
    subject = {"reference": "Patient/p1"}

    def observation(number: int, *extensions: dict) -> dict:
        return {
            "resourceType": "Observation",
            "id": f"o{number}",
            "subject": subject,
            "extension": list(extensions),
        }

    secret = {"url": "http://x/secret", "valueDateTime": "2020-13-40"}
    pointing = {"url": "http://x/secret", "valueReference": {"reference": "Encounter/e9"}}
    kept = {"url": "http://x/kept", "valueString": "v"}
    lines = [
        observation(1, secret, kept),  # the bad date: reported, though removed
        observation(2, pointing, kept),  # Encounter/e9: staged for the reference check
        observation(3, pointing),  # every extension removed: the element goes
        observation(4, kept),
        observation(5),  # an empty list: the element goes, as in Python
    ]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    ours = _run(path, tmp_path / "native", True, frozenset(), rules)
    theirs = _run(path, tmp_path / "python", False, frozenset(), rules)
    assert ours == theirs
    assert len(ours[1]) == 1 and ours[0][0] == {"Observation": 4}
    assert any(row["target"] for row in ours[2]["refs/w0.parquet"] if row["type"] == "Encounter")
