"""Every pattern that checks a name, an id or a value given by a user ends at the text's end.

With `re.match`, a pattern ending in `$` also accepts the same text followed by a newline
(`$` matches before a final newline): a project id, a column name or an e-mail address with a
newline would pass. The patterns end in `\\Z`; this test holds each to it."""

import pytest

from campus.analysis import definition as analysis_definition
from campus.analysis import prefilter, sources
from campus.auth import service as auth
from campus.ecosystem.directory import service as directory
from campus.ecosystem.events import validation as events
from campus.ecosystem.programmes import forms as programme_forms
from campus.ecosystem.programmes import service as programmes
from campus.ecosystem.trainings import service as trainings
from campus.governance import service as governance
from campus.optout import service as optout
from campus.participation import service as participation
from campus.views import definition as views
from campus.warehouse import fhir, layout

PATTERNS = [
    (auth.EMAIL_RE, "ada@example.org"),
    (views.NAME, "patient_id"),
    (governance.PROJECT_ID, "diabetes-2026"),
    (governance.NAME, "ehr_cohort"),
    (optout._NIR, "184067512312345"),
    (events.URL, "https://visio.example.org/room"),
    (trainings.SLUG, "fhir-basics"),
    (directory.PHONE_RE, "+33 1 23 45 67 89"),
    (programmes.SLUG, "accelerator-2027"),
    (programme_forms.KEY, "team_size"),
    (programme_forms.SCORE_TEXT, "12"),
    (analysis_definition.NAME, "age_band"),
    (sources.LIBRARY_NAME, "cardio-codes"),
    (prefilter.PLAIN_TEXT, "loinc|8867-4"),
    (participation.SUBJECT_ID, "consultation-12"),
    (fhir.ID, "abc-123"),
    (fhir.ABSOLUTE_REFERENCE, "https://fhir.example.org/Patient/42"),
    (layout.DATASET_NAME, "hospital-nord"),
    (layout.VERSION_NAME, "v0001"),
]


@pytest.mark.parametrize(("pattern", "valid"), PATTERNS, ids=lambda p: getattr(p, "pattern", p))
def test_a_valid_text_followed_by_a_newline_is_refused(pattern, valid):
    assert pattern.match(valid)
    assert not pattern.match(valid + "\n")
