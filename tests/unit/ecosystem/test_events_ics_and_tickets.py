import datetime as dt

import pytest
from pydantic import SecretStr

from campus.ecosystem.events import ics, tickets
from campus.ecosystem.events.models import Event
from campus.errors import BadRequest
from campus.settings import Settings


def _settings(tmp_path, key: str = "k" * 48) -> Settings:
    return Settings(env="test", var_dir=tmp_path, secret_key=SecretStr(key)).resolve()


def test_text_escaping_follows_rfc5545():
    assert ics.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_folding_keeps_75_octets_and_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_a_cancelled_event_is_marked_cancelled_in_utc():
    start = dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC)
    event = Event(
        id="abc",
        title="T",
        description="",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        room="Salle 1",
        online_url="",
        status="cancelled",
        sequence=2,
    )
    text = ics.calendar([event], base_url="https://campus.example", stamp=start)
    assert "DTSTART:20270301T093000Z\r\n" in text
    assert "STATUS:CANCELLED\r\n" in text and "SEQUENCE:2\r\n" in text
    assert "UID:event-abc@campus\r\n" in text


def test_tickets_roundtrip_and_refuse_another_key_or_garbage(tmp_path):
    settings = _settings(tmp_path)
    queued = dt.datetime(2027, 3, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)
    token = tickets.ticket_token(settings, event_id="e1", registration_id="r1", queued_at=queued)
    assert tickets.read_ticket(settings, token) == ("e1", "r1", tickets.issue_stamp(queued))
    other = _settings(tmp_path / "o", "z" * 48)
    with pytest.raises(BadRequest):
        tickets.read_ticket(other, token)
    for garbage in ["", "x" * 600, "not-a-token"]:
        with pytest.raises(BadRequest):
            tickets.read_ticket(settings, garbage)


def test_the_qr_code_is_a_plain_svg_without_script():
    svg = tickets.qr_svg("token-value", title="Billet <b>")
    assert svg.startswith("<svg") and "<script" not in svg
    assert "Billet &lt;b&gt;" in svg
