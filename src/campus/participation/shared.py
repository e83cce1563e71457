"""What the participation rules share: labels and limits."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from campus.i18n import N_

SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")
MAX_THREAD_DEPTH = 6
TITLE_MIN, TITLE_MAX = 5, 150
BODY_MIN, BODY_MAX = 20, 5000
COMMENT_MIN, COMMENT_MAX = 2, 2000
STANCES = ("for", "against", "neutral")
SUBJECT_LABELS = {"data_project": N_("Data project"), "programme": N_("Programme")}
STANCE_LABELS = {"for": N_("For"), "against": N_("Against"), "neutral": N_("Neutral")}


@dataclass
class ConsultationFields:
    title: str
    summary: str
    opens_at: dt.datetime
    contributions_at: dt.datetime
    voting_at: dt.datetime
    results_at: dt.datetime
    subject_type: str = ""
    subject_id: str = ""
    subject_title: str = ""
    supports_per_person: int = 3
    report_threshold: int = 3
    proposals_per_hour: int | None = None
