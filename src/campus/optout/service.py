"""The opt-out registry: patients who object to the reuse of their data.

The registry never stores an identifier: only its keyed hash (HMAC-SHA256 with
`settings.secret("optout_key")`) of the normalised identifier. The warehouse computes the same
hash for every identifier of every patient it ingests, drops the patients found here before
writing, and keeps the mapping hash -> patient pseudonym (`optout_keys.parquet`) so that an
objection filed after ingest is honoured at once.

Identifiers come in two kinds:

- `nir`: a French NIR / INS (13 characters + 2-digit check key, spaces allowed; Corsica
  departments 2A / 2B), normalised to `nir:<13 characters>`;
- `system`: a hospital identifier given as `system|value`, normalised to `system|value`
  with surrounding blanks removed.

Receipts. Every filing gets its own receipt (`OPT-` and 16 hexadecimal digits, 64 random
bits), whether or not the identifier had objected before. With it, and nothing else, its
holder checks that the objection is registered (`status`) and withdraws it (`withdraw`).
A receipt speaks only of its own filing: the objection stands while one of its receipts is
not withdrawn, so withdrawing one receipt never undoes a filing made by somebody else with
another receipt, and no answer about a receipt depends on other filings (no oracle). A
withdrawn receipt keeps its dates and kind, never the identifier's hash. Checks and
withdrawals are throttled like filings (their own counters).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.db.base import utcnow
from campus.errors import BadRequest, TooManyRequests
from campus.i18n import N_
from campus.optout.config import optout_settings
from campus.optout.models import OptOut, OptOutReceipt, OptOutThrottle, OptOutWithdrawal
from campus.settings import Settings

Kind = Literal["nir", "system"]
KINDS: tuple[str, ...] = ("nir", "system")
# FHIR identifier systems that carry a NIR / INS (INS-NIR, INS-NIA, test NIR, NIR).
NIR_SYSTEMS = frozenset(
    {
        "urn:oid:1.2.250.1.213.1.4.8",
        "urn:oid:1.2.250.1.213.1.4.9",
        "urn:oid:1.2.250.1.213.1.4.10",
        "urn:oid:1.2.250.1.213.1.4.11",
        "urn:oid:1.2.250.1.213.1.4.2",
    }
)
_NIR = re.compile(r"^([1-478])(\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})\Z")
_MAX_VALUE = 512


@dataclass(frozen=True)
class Receipt:
    """What the person (or the DPO acting for them) keeps: a receipt number and a date."""

    receipt: str
    kind: str
    created_at: dt.datetime
    already_registered: bool


def normalise_identifier(kind: str, value: str) -> str:
    """The canonical text of an identifier; BadRequest says what is wrong with it."""
    if kind not in KINDS:
        raise BadRequest(
            N_("unknown identifier kind: use nir (NIR/INS) or system (hospital identifier)"),
            code="bad_identifier",
            where="kind",
        )
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(N_("the identifier is empty"), code="bad_identifier", where="value")
    if len(value) > _MAX_VALUE:
        raise BadRequest(
            N_("the identifier is longer than 512 characters"),  # _MAX_VALUE
            code="bad_identifier",
            where="value",
        )
    if kind == "nir":
        return "nir:" + _valid_nir(value)
    system, sep, local = value.strip().partition("|")
    if not sep or not system.strip() or not local.strip():
        raise BadRequest(
            N_(
                "a hospital identifier must be written system|value, e.g. "
                "urn:oid:1.2.3|123456 (both parts non-empty)"
            ),
            code="bad_identifier",
            where="value",
        )
    return f"{system.strip()}|{local.strip()}"


def _valid_nir(value: str) -> str:
    compact = re.sub(r"[\s.\-]", "", value).upper()
    match = _NIR.match(compact)
    if not match:
        raise BadRequest(
            N_(
                "a NIR/INS has 15 characters: 13 (sex, year, month, department - 2A/2B for "
                "Corsica -, commune, order) and a 2-digit key"
            ),
            code="bad_identifier",
            where="value",
        )
    body, key = compact[:13], int(compact[13:])
    numeric = body.replace("2A", "19").replace("2B", "18")
    expected = 97 - int(numeric) % 97
    if key != expected:
        raise BadRequest(
            N_("the NIR/INS check key does not match its 13 first characters: check for a typo"),
            code="bad_identifier",
            where="value",
        )
    return body


def optout_key(settings: Settings, normalised: str) -> str:
    """The keyed hash stored in the registry (and in each version's optout_keys.parquet)."""
    return key_with(settings.secret("optout_key").encode(), normalised)


def key_with(secret: bytes, normalised: str) -> str:
    """`optout_key` with the secret already fetched (for worker processes)."""
    return hmac.new(secret, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def identifier_texts(system: object, value: object) -> list[str]:
    """The normalised texts under which a FHIR Identifier may be registered (none if unusable)."""
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_VALUE:
        return []
    texts = []
    if isinstance(system, str) and system.strip():
        texts.append(f"{system.strip()}|{value.strip()}")
        if system.strip() in NIR_SYSTEMS:
            with contextlib.suppress(BadRequest):
                texts.append("nir:" + _valid_nir(value))
    return texts


def identifier_keys(secret: bytes, system: object, value: object) -> list[str]:
    """The keyed hashes under which a FHIR Identifier may be registered, in the order of
    `identifier_texts` (what the registry and each version's optout_keys.parquet hold)."""
    return [key_with(secret, text) for text in identifier_texts(system, value)]


def _receipt_number() -> str:
    return "OPT-" + secrets.token_hex(8).upper()


def add(session: Session, settings: Settings, kind: str, value: str, actor: str) -> Receipt:
    """Register an objection (idempotent); the identifier itself is never stored or logged.

    Every filing gets a fresh receipt, whether or not the objection existed: the public
    answer must not reveal that a known identifier had already objected.
    `already_registered` is for the DPO's own tools, never shown on the public form.
    """
    key = optout_key(settings, normalise_identifier(kind, value))
    entry = _locked_entry(session, key)  # a withdrawal meanwhile waits, then sees this receipt
    already = entry is not None
    if entry is None:
        entry = OptOut(key=key, kind=kind, receipt=_receipt_number(), created_by=actor)
        try:
            with session.begin_nested():
                session.add(entry)
        except IntegrityError:  # filed at the same moment by another request
            entry = session.get(OptOut, key)
            assert entry is not None
            already = True
    receipt = OptOutReceipt(receipt=entry.receipt if not already else _receipt_number(), key=key)
    session.add(receipt)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="optout.add",  # the same for a first filing and a repeat: nothing to learn
        object_type="optout",
        object_id=receipt.receipt,
        details={"kind": kind},
    )
    return Receipt(receipt.receipt, entry.kind, receipt.created_at, already)


GLOBAL_BUCKET = "global"
# What a throttle counts: filings, and receipt checks and withdrawals (their own counters).
FILING, RECEIPT_USE = "filing", "receipt"
_GLOBAL = {FILING: GLOBAL_BUCKET, RECEIPT_USE: "global-receipt"}
_MESSAGES = {
    FILING: (
        N_("too many objections were filed from this address: try again later"),
        N_("the opt-out form is receiving too many requests: try again later"),
    ),
    RECEIPT_USE: (
        N_("too many receipts were checked from this address: try again later"),
        N_("the receipt check is receiving too many requests: try again later"),
    ),
}


def admit(
    session: Session,
    settings: Settings,
    address: str,
    now: dt.datetime | None = None,
    *,
    purpose: str = FILING,
):
    """Count one filing (or, `purpose=RECEIPT_USE`, one receipt check or withdrawal) from
    `address`; TooManyRequests (429) when the address, or everyone, has used its limit in
    the current window.

    Called in the filing's own transaction: a refused or failed filing counts nothing.
    Rows are locked address first, then global, in every transaction (no deadlock).
    """
    config = optout_settings()
    window = int((now or utcnow()).timestamp()) // (config.optout_window_minutes * 60)
    prefix = "throttle" if purpose == FILING else f"throttle-{purpose}"
    address_key = key_with(settings.secret("optout_key").encode(), f"{prefix}|{address}")
    per_address, in_all = _MESSAGES[purpose]
    global_bucket = _GLOBAL[purpose]
    for bucket, limit, message in (
        (address_key, config.optout_per_address, per_address),
        (global_bucket, config.optout_per_window, in_all),
    ):
        row = _locked_bucket(session, bucket, window)
        if row.period != window:
            if bucket == global_bucket:  # once per window: forget the addresses of the past
                session.execute(
                    delete(OptOutThrottle).where(
                        OptOutThrottle.period < window,
                        OptOutThrottle.bucket.not_in(tuple(_GLOBAL.values())),
                    )
                )
            row.period, row.count = window, 0
        if row.count >= limit:
            raise TooManyRequests(message, code="optout_throttled")
        row.count += 1
    session.flush()


def _locked_bucket(session: Session, bucket: str, window: int) -> OptOutThrottle:
    query = select(OptOutThrottle).where(OptOutThrottle.bucket == bucket).with_for_update()
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():
                session.add(OptOutThrottle(bucket=bucket, period=window, count=0))
        except IntegrityError:  # created at the same moment by another request
            pass
        row = session.scalar(query.execution_options(populate_existing=True))
        assert row is not None
    return row


def _locked_entry(session: Session, key: str) -> OptOut | None:
    query = select(OptOut).where(OptOut.key == key).with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))


_RECEIPT = re.compile(r"^OPT-[0-9A-F]{16}\Z")


@dataclass(frozen=True)
class ReceiptStatus:
    """What a receipt tells its holder: its own filing's state, and nothing else.

    `state` is `registered`, `withdrawn` or `unknown` (no filing gave this receipt)."""

    receipt: str
    state: str
    kind: str | None = None
    filed_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None

    def public(self) -> dict[str, str | None]:
        """The JSON of the API, the page and the CLI (dates as days)."""
        return {
            "receipt": self.receipt,
            "state": self.state,
            "kind": self.kind,
            "filed_on": self.filed_at.date().isoformat() if self.filed_at else None,
            "withdrawn_on": self.withdrawn_at.date().isoformat() if self.withdrawn_at else None,
        }


def normalise_receipt(value: str) -> str:
    """`OPT-` and 16 hexadecimal digits, as printed (blanks and case forgiven)."""
    text = re.sub(r"\s", "", value or "").upper()
    if not _RECEIPT.match(text):
        raise BadRequest(
            N_("a receipt is written OPT- followed by 16 letters and digits, as given at filing"),
            code="bad_receipt",
            where="receipt",
        )
    return text


def status(session: Session, receipt: str) -> ReceiptStatus:
    """The state of one receipt's objection (BadRequest for a malformed receipt)."""
    receipt = normalise_receipt(receipt)
    row = session.get(OptOutReceipt, receipt)
    if row is not None:
        entry = session.get(OptOut, row.key)
        return ReceiptStatus(receipt, "registered", entry.kind if entry else None, row.created_at)
    gone = session.get(OptOutWithdrawal, receipt)
    if gone is not None:
        return ReceiptStatus(receipt, "withdrawn", gone.kind, gone.filed_at, gone.withdrawn_at)
    return ReceiptStatus(receipt, "unknown")


def withdraw(session: Session, receipt: str, actor: str) -> ReceiptStatus:
    """Withdraw the objection filed with this receipt (idempotent). The identifier leaves
    the registry when none of its receipts remains; other receipts are not touched, and the
    answer is the same either way."""
    receipt = normalise_receipt(receipt)
    row = session.get(OptOutReceipt, receipt)
    if row is None:
        return status(session, receipt)
    entry = _locked_entry(session, row.key)  # filings and withdrawals of this key in turn
    row = session.get(OptOutReceipt, receipt, populate_existing=True)
    if row is None:  # withdrawn meanwhile by the same holder
        return status(session, receipt)
    kind = entry.kind if entry else "nir"
    session.add(OptOutWithdrawal(receipt=receipt, kind=kind, filed_at=row.created_at))
    session.delete(row)
    session.flush()
    others = session.scalar(
        select(func.count()).select_from(OptOutReceipt).where(OptOutReceipt.key == row.key)
    )
    if entry is not None and not others:
        session.delete(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="optout.withdraw",  # the same whether the identifier stays registered or not
        object_type="optout",
        object_id=receipt,
        details={"kind": kind},
    )
    return status(session, receipt)


def by_receipt(
    session: Session,
    settings: Settings,
    address: str,
    receipt: str,
    withdrawn_by: str | None = None,
) -> ReceiptStatus:
    """What the public form and API do with a receipt: count the use against `address`'s
    throttle, then give its state, or withdraw it first when `withdrawn_by` names who."""
    admit(session, settings, address, purpose=RECEIPT_USE)
    if withdrawn_by is None:
        return status(session, receipt)
    return withdraw(session, receipt, withdrawn_by)


def is_registered(session: Session, settings: Settings, kind: str, value: str) -> bool:
    """Whether this identifier is in the registry."""
    key = optout_key(settings, normalise_identifier(kind, value))
    return session.get(OptOut, key) is not None


def all_keys(session: Session) -> set[str]:
    """Every registered hash (what ingest and jobs filter on)."""
    return set(session.scalars(select(OptOut.key)))


def entries(session: Session, limit: int = 200, offset: int = 0) -> list[OptOut]:
    """Registered objections, newest first (hashes and receipts only)."""
    query = select(OptOut).order_by(OptOut.created_at.desc(), OptOut.receipt)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OptOut)) or 0
