"""Calendar text from rows never cleaned (imports, older rows): nothing escapes its property."""

import datetime as dt

from campus.ecosystem.events import ics
from campus.ecosystem.events.models import Event

START = dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC)


def _event(**changes) -> Event:
    values = {
        "id": "abc",
        "title": "T",
        "description": "",
        "starts_at": START,
        "ends_at": START + dt.timedelta(hours=1),
        "room": "Salle 1",
        "online_url": "",
        "status": "published",
        "sequence": 0,
    }
    values.update(changes)
    return Event(**values)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_control_characters_are_dropped_from_calendar_text():
    assert ics.escape_text("a\x00b\x1bc\x7fd\te") == "abcd\te"


def test_raw_line_breaks_of_every_kind_stay_inside_their_property():
    hostile = "x\r\nEND:VEVENT\rBEGIN:VEVENT\nSUMMARY:y\x0bz\x0cw\u2028v\u2029u\x85t"
    text = ics.calendar(
        [_event(title=hostile, room=hostile, description=hostile)],
        base_url="https://campus.example",
        name=hostile,
        stamp=START,
    )
    body = text.replace("\r\n", "")
    for char in "\r\n\x0b\x0c\u2028\u2029\x85":
        assert char not in body
    lines = _lines(text)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    names = [line.split(":", 1)[0] for line in lines]
    assert names.count("SUMMARY") == 1 and names.count("LOCATION") == 1
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
