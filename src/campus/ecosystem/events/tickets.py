"""Signed check-in tickets: the token in an attendee's QR code, and the QR image itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
from functools import lru_cache

import segno
from itsdangerous import BadSignature, URLSafeSerializer

from campus.errors import BadRequest
from campus.i18n import N_
from campus.settings import Settings

SALT = "campus.events.checkin"
INVALID_TICKET = N_("this ticket code is not valid")


def _serializer(settings: Settings) -> URLSafeSerializer:
    return _serializer_for(settings.secret("secret_key"))


@lru_cache(maxsize=4)
def _serializer_for(secret: str) -> URLSafeSerializer:
    # Built once per secret: a registration signs a ticket, and building one costs more
    # than signing.
    return URLSafeSerializer(secret, salt=SALT)


def issue_stamp(queued_at: dt.datetime) -> int:
    """The ticket's issue: the registration's queue time in microseconds. A new registration
    of the same account (after a cancellation) queues again, so its ticket differs and the
    earlier one no longer checks in."""
    return round(queued_at.timestamp() * 1_000_000)


def ticket_token(
    settings: Settings, *, event_id: str, registration_id: str, queued_at: dt.datetime
) -> str:
    """A token naming one registration at one event, as issued at `queued_at`, signed with
    the platform secret."""
    return _serializer(settings).dumps(
        {"e": event_id, "r": registration_id, "q": issue_stamp(queued_at)}
    )


def read_ticket(settings: Settings, token: str) -> tuple[str, str, int]:
    """The (event id, registration id, issue stamp) of a token, or BadRequest when it is
    forged or garbled."""
    token = (token or "").strip()
    if not token or len(token) > 500:
        raise BadRequest(INVALID_TICKET, code="invalid_ticket", where="token")
    try:
        payload = _serializer(settings).loads(token)
    except BadSignature:
        raise BadRequest(INVALID_TICKET, code="invalid_ticket", where="token") from None
    if (
        not isinstance(payload, dict)
        or not {"e", "r", "q"} <= payload.keys()
        or not isinstance(payload["q"], int)
    ):
        raise BadRequest(INVALID_TICKET, code="invalid_ticket", where="token")
    return str(payload["e"]), str(payload["r"]), payload["q"]


# A short code's letters: no 0/O, 1/I/L, so that it reads and types without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def short_code(settings: Settings, *, registration_id: str, queued_at: dt.datetime) -> str:
    """Six characters printed under the QR code, for the door when the camera fails: a keyed
    hash of the ticket (registration and issue), so a new ticket has a new code and nobody
    can make one up. Unique enough within one event (31^6, about 887 million codes); check-in
    refuses a code two tickets of the event share."""
    secret = settings.secret("secret_key").encode("utf-8")
    message = f"{SALT}.code|{registration_id}|{issue_stamp(queued_at)}".encode()
    number = int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")
    letters = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[index])
    return "".join(letters)


def normal_code(text: str) -> str:
    """A code as typed: capitals, without spaces or dashes."""
    return "".join(c for c in (text or "").upper() if c not in " -\t")


def looks_like_code(text: str) -> bool:
    code = normal_code(text)
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


@lru_cache(maxsize=256)
def qr_svg(token: str, *, title: str = "") -> str:
    """The token as an inline SVG QR code (no script, no external reference).

    Drawing one costs about 10 ms of CPU, and an attendee's ticket never changes: the latest
    few hundred are kept (about 15 kB each)."""
    code = segno.make(token, error="m")
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=5,
        border=4,
        xmldecl=False,
        svgns=True,
        title=title or None,
        svgclass="qr",
        lineclass=None,
        omitsize=False,
    )
    return buffer.getvalue().decode("utf-8")
