"""The phases of a consultation, derived from its dates (stored in UTC) and an early close."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Protocol

from campus.i18n import N_


class Phase(StrEnum):
    UPCOMING = "upcoming"
    INFORMATION = "information"
    CONTRIBUTIONS = "contributions"
    VOTING = "voting"
    RESULTS = "results"


PHASE_LABELS = {
    Phase.UPCOMING: N_("Upcoming"),
    Phase.INFORMATION: N_("Information"),
    Phase.CONTRIBUTIONS: N_("Contributions"),
    Phase.VOTING: N_("Voting"),
    Phase.RESULTS: N_("Results"),
}
ORDER = list(Phase)


class Dated(Protocol):
    opens_at: dt.datetime
    contributions_at: dt.datetime
    voting_at: dt.datetime
    results_at: dt.datetime
    closed_at: dt.datetime | None


def phase_of(consultation: Dated, now: dt.datetime) -> Phase:
    """The phase at `now`; a consultation closed early is in its results from the close."""
    if consultation.closed_at is not None and now >= consultation.closed_at:
        return Phase.RESULTS
    if now >= consultation.results_at:
        return Phase.RESULTS
    if now >= consultation.voting_at:
        return Phase.VOTING
    if now >= consultation.contributions_at:
        return Phase.CONTRIBUTIONS
    if now >= consultation.opens_at:
        return Phase.INFORMATION
    return Phase.UPCOMING


def voting_ends(consultation: Dated) -> dt.datetime:
    """When voting closes: the results date, or the early close if sooner."""
    if consultation.closed_at is not None and consultation.closed_at < consultation.results_at:
        return consultation.closed_at
    return consultation.results_at
