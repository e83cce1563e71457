"""FHIR date syntax and the date shift, up to the edges of the calendar."""

import datetime as dt
import json
import random
import re
from types import SimpleNamespace

import pytest

from campus.warehouse import fhir, policy
from campus.warehouse.pseudonymise import Pseudonymiser
from tests.unit.warehouse.samples import write_ndjson
from tests.unit.warehouse.test_compiled import _pure
from tests.unit.warehouse.test_ingest_files import PKEY, rows, run


@pytest.mark.parametrize(
    ("text", "days", "shifted"),
    [
        ("2020-02-28", 2, "2020-03-01"),
        ("2020-02-28T10:00:00+01:00", -60, "2019-12-30T10:00:00+01:00"),
        ("2020-02", 30, "2020-03"),
        ("2020", 200, "2021"),
        # Held at the calendar's last or first day: a "no end" sentinel stays one.
        ("9999-12-31", 30, "9999-12-31"),
        ("9999-12-31T23:59:59Z", 1, "9999-12-31T23:59:59Z"),
        ("9999-12", 40, "9999-12"),
        ("9999", 200, "9999"),
        ("0001-01-01", -1, "0001-01-01"),
        ("0001", -300, "0001"),
        ("9999-12-31", -1, "9999-12-30"),
    ],
)
def test_a_shift_keeps_the_precision_and_stops_at_the_calendars_edges(text, days, shifted):
    assert fhir.shift_date(text, days) == shifted
    assert fhir.checked_shift(text, days) == shifted


@pytest.mark.parametrize(
    "text",
    ["0000", "0000-01", "0000-01-01", "2021-02-29", "2020-13", "٢٠٢٠-01-01", "2020-1-1", ""],
)
def test_year_zero_impossible_days_and_other_digits_are_not_fhir_dates(text):
    assert not fhir.valid_date(text)
    assert fhir.checked_shift(text, 10) is None


def test_dates_at_the_edge_of_the_calendar_land_instead_of_failing_the_ingest(tmp_path):
    path = write_ndjson(
        tmp_path / "in.ndjson",
        [
            {"resourceType": "Patient", "id": "p1", "birthDate": "0001-01-01"},
            {
                "resourceType": "Encounter",
                "id": "e1",
                "subject": {"reference": "Patient/p1"},
                "period": {"start": "0001-01-01", "end": "9999-12-31"},
            },
            {"resourceType": "Observation", "id": "o1", "effectiveDateTime": "0000-01-01"},
        ],
    )
    report = run(tmp_path, [path])
    assert report.status == "published"
    assert report.landed == {"Patient": 1, "Encounter": 1}
    [problem] = report.problems
    assert (problem.line, problem.path) == (3, "effectiveDateTime")
    [encounter] = rows(tmp_path, "Encounter")
    days = Pseudonymiser(PKEY, policy.default()).shift_days(encounter["patient"])
    period = json.loads(encounter["resource"])["period"]
    # Whatever the patient's offset, one end of the period is at an edge of the calendar.
    assert period == {
        "start": fhir.shift_date("0001-01-01", days),
        "end": fhir.shift_date("9999-12-31", days),
    }
    assert "0001-01-01" in period.values() or "9999-12-31" in period.values()


# The specification the hand-written reader of `fhir` must match: R4's regular expression for
# date, dateTime and instant (anchored at the very end: no trailing newline), a real calendar
# day, and the shift of `datetime.date` held at the calendar's edges.
_R4_DATE = re.compile(
    r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?"
    r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)


def _moved(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def _specified_shift(text: str, days: int) -> str | None:
    match = _R4_DATE.fullmatch(text)
    if not match or match.group(1) == "0000":
        return None
    year = int(match.group(1))
    if match.group(5):
        try:
            day = dt.date(year, int(match.group(3)), int(match.group(5)))
        except ValueError:
            return None
        return _moved(day, days).isoformat() + text[10:]
    if match.group(3):
        return _moved(dt.date(year, int(match.group(3)), 15), days).isoformat()[:7]
    return _moved(dt.date(year, 7, 1), days).isoformat()[:4]


def _texts(rng: random.Random) -> list[str]:
    texts = []
    for year in (1, 4, 100, 1900, 1999, 2000, 2024, 9999):
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        texts.extend(dt.date.fromordinal(n).isoformat() for n in range(first, last + 1))
    templates = [
        "2020",
        "2020-02",
        "2020-02-29",
        "2020-02-29T23:59:60Z",
        "2020-02-29T00:00:00.123456789+14:00",
        "2020-02-29T12:30:00-13:59",
        "0001-01-01T00:00:00.1Z",
    ]
    alphabet = "0123456789-T:.Z+ \n٢x"
    for template in templates:
        texts.append(template)
        for position in range(len(template)):  # each character replaced, dropped, doubled
            for char in alphabet:
                texts.append(template[:position] + char + template[position + 1 :])
            texts.append(template[:position] + template[position + 1 :])
            texts.append(template[:position] + template[position] + template[position:])
        texts.append(template + "\n")
    for _ in range(20_000):
        size = rng.randrange(0, 36)
        texts.append("".join(rng.choice(alphabet[:15]) for _ in range(size)))
    return texts


def _native_reader():
    """The native path's date reader (native/textwalk.hpp), where it is built."""
    from campus.warehouse import worker

    if worker.NativeWalk is None:
        pytest.skip("the native path is not built")
    from campus.warehouse import textwalk

    return SimpleNamespace(
        checked_shift=textwalk.checked_shift,
        valid_date=lambda text: textwalk.checked_shift(text, 0) is not None,
    )


@pytest.mark.parametrize("compiled", [True, False, "native"], ids=["compiled", "pure", "native"])
def test_the_date_reader_follows_the_r4_grammar_and_the_calendar(compiled):
    module = _native_reader() if compiled == "native" else None
    module = module or (fhir if compiled else _pure("campus.warehouse.fhir"))
    rng = random.Random(20261205)
    offsets = [0, 1, -1, 3650, -3650, 10**6, -(10**6), 3_000_000, -3_000_000]
    checked = valid = 0
    for text in _texts(rng):
        for days in (rng.choice(offsets), rng.randrange(-4000, 4000)):
            assert module.checked_shift(text, days) == _specified_shift(text, days), (text, days)
            checked += 1
        valid += module.valid_date(text)
    assert checked > 50_000 and valid > 3_000
