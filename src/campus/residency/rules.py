"""What every part of residency asks first: staff alone manage residencies, admissions and
pairs; an amount in euros as typed (spaces, commas, narrow no-break spaces) in cents."""

from __future__ import annotations

from typing import Any

from campus.auth.actor import Actor
from campus.errors import BadRequest, Forbidden
from campus.i18n import N_


def staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden(N_("only campus staff manage residencies"), code="forbidden")


def euros_to_cents(value: Any, where: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise BadRequest(N_("this field is required"), code="required", where=where)
    text = str(value).replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        euros = float(text)
    except ValueError:
        raise BadRequest(
            N_("give an amount in euros"), code="invalid_amount", where=where
        ) from None
    if not 0 <= euros <= 1_000_000:
        raise BadRequest(N_("this amount is out of range"), code="invalid_amount", where=where)
    return round(euros * 100)
