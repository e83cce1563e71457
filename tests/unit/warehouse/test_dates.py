"""FHIR date syntax and the date shift, up to the edges of the calendar."""

import json

import pytest

from campus.warehouse import fhir, policy
from campus.warehouse.pseudonymise import Pseudonymiser
from tests.unit.warehouse.samples import write_ndjson
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
