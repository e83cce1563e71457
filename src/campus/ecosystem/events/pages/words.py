"""What the events pages say for codes, months and days, in the reader's language."""

from __future__ import annotations

import datetime as dt

from campus.db.base import utcnow
from campus.ecosystem.events.models import KINDS, THEMES
from campus.i18n import N_
from campus.text import PARIS

MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
KIND_LABELS = {
    "conference": N_("Conference"),
    "workshop": N_("Workshop"),
    "meetup": N_("Meetup"),
    "webinar": N_("Webinar"),
    "training": N_("Training session"),
}
THEME_LABELS = {
    "health_data": N_("Health data"),
    "ai": N_("Artificial intelligence"),
    "interoperability": N_("Interoperability"),
    "regulation": N_("Regulation"),
    "cybersecurity": N_("Cybersecurity"),
    "entrepreneurship": N_("Entrepreneurship"),
    "clinical_research": N_("Clinical research"),
    "patients": N_("Patients"),
}
assert set(KIND_LABELS) == set(KINDS) and set(THEME_LABELS) == set(THEMES)
NOTICES = {
    "registered": N_("Your registration is recorded."),
    "unregistered": N_("Your registration is cancelled."),
    "published": N_("The event is published."),
    "cancelled": N_("The event is cancelled; registered people are notified by mail."),
}
LABELS = {"kinds": KIND_LABELS, "themes": THEME_LABELS}


def paris_now() -> dt.datetime:
    return utcnow().astimezone(PARIS)
