"""CSV formula neutralisation in every export: a cell a spreadsheet would run as a formula
(`=`, `+`, `-`, `@`, also after leading blanks, their full-width and small forms, a leading
tab or carriage return) is written as text, whichever export writes it: analysis outputs,
view exports (file and stream), consultation results, event attendees, the impact
dashboard. A static check fails when a CSV is written anywhere without the rule.

The checks here use their own definition of a live formula, not `campus.exports`, so that
a broken rule there cannot pass its own test."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from campus import exports
from campus.analysis.models import Job
from campus.db.base import utcnow
from campus.ecosystem.impact import dashboard
from campus.participation import service as participation
from campus.settings import Settings
from tests.adversarial import governance_world
from tests.helpers import CampusClient
from tests.integration.participation.helpers import body, citizen, make_consultation, set_phase

make_account = governance_world.make_account
people = governance_world.people  # fixtures
approved = governance_world.approved

SRC = Path(exports.__file__).resolve().parent
FORMULA_STARTS = set("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
PAYLOADS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1;1)",
    "\t=1+1",
    "\r=1+1",
    '  =HYPERLINK("http://x")',
    "\u00a0+1",
    "\u3000@SUM(1)",
    "\uff1d1+1",  # ＝
    "  \uff0b1",  # ＋ after spaces
    "\uff0d1",  # －
    "\uff20SUM(1)",  # ＠
    "\ufe661",  # ﹦
]
SAFE = ["Alice", "a=b", "1-2", "", "  plain", "e-mail@example.org"]


def live_formula(cell: str) -> bool:
    """What a spreadsheet could run: a leading tab or CR, or a formula start after blanks
    (a plain number such as -1 is a number)."""
    if re.fullmatch(r"-?\d+(\.\d+)?", cell):
        return False
    return cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in FORMULA_STARTS


def assert_no_live_formula(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    live = [cell for row in rows for cell in row if live_formula(cell)]
    assert not live, f"live formulas in the export: {live!r}"
    return rows


def cells(rows: list[list[str]]) -> set[str]:
    return {cell for row in rows for cell in row}


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_formula_start_is_written_as_text(payload):
    assert live_formula(payload)
    assert exports.safe_cell(payload) == "'" + payload
    assert not live_formula(exports.safe_cell(payload))
    batch = exports.safe_batch(pa.record_batch([pa.array([payload, "ok", None])], names=["c"]))
    assert batch.column(0).to_pylist() == ["'" + payload, "ok", None]


@pytest.mark.parametrize("text", SAFE)
def test_ordinary_text_and_numbers_are_left_alone(text):
    assert exports.safe_cell(text) == text
    assert exports.safe_cell(-3) == -3 and exports.safe_cell(2.5) == 2.5


def test_no_csv_is_written_anywhere_without_the_rule():
    """Every CSV writer of the product is campus.exports' (a new export must use it)."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|CSVWriter\(|FORMAT csv|\.write_csv\(")
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "exports.py":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            # Arrow's writer is fine when the batches it writes are `exports.safe_batch`'s.
            nearby = " ".join(lines[number - 1 : number + 3])
            if writers.search(line) and "exports." not in nearby:
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not found, "CSV written without campus.exports:\n" + "\n".join(found)


# --- each export, through the entry point its users take --------------------------------------


def test_released_analysis_outputs_download_without_live_formulas(client, db, approved):
    with db.session() as session:
        job = Job(
            project_id=approved.project_id,
            approval_id=approved.approval_id,
            author_id=approved.researcher,
            title="t",
            definition={},
            dataset=governance_world.DATASET,
            status="succeeded",
            finished_at=utcnow(),
            result={
                "tables": [
                    {
                        "name": "=table",
                        "columns": ["  @group", "n"],
                        "rows": [[payload, 10] for payload in PAYLOADS],
                    }
                ]
            },
            release_status="released",
            released_at=utcnow(),
        )
        session.add(job)
        session.flush()
        job_id = job.id
    response = client.get(f"/api/v1/jobs/{job_id}/outputs.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/")
    rows = assert_no_live_formula(response.text)
    assert {"'" + p for p in PAYLOADS} <= cells(rows)


def test_view_exports_to_a_file_and_to_a_stream_hold_no_live_formula(tmp_path):
    patients = [
        {"resourceType": "Patient", "id": f"p{i}", "name": [{"family": payload}]}
        for i, payload in enumerate(PAYLOADS)
    ]
    source = tmp_path / "patients.ndjson"
    source.write_text("\n".join(json.dumps(p) for p in patients) + "\n")
    view = tmp_path / "names.json"
    view.write_text(
        json.dumps(
            {
                "resourceType": "ViewDefinition",
                "resource": "Patient",
                "status": "active",
                "select": [
                    {
                        "column": [
                            {"name": "id", "path": "getResourceKey()"},
                            {"name": "family", "path": "name.family.first()"},
                        ]
                    }
                ],
            }
        )
    )
    from campus.cli import app

    out = tmp_path / "names.csv"
    written = CliRunner().invoke(
        app,
        ["view", "run", str(view), "--input", str(source), "--format", "csv", "--output", str(out)],
    )
    assert written.exit_code == 0, written.output
    rows = assert_no_live_formula(out.read_bytes().decode("utf-8"))
    assert {"'" + p for p in PAYLOADS} <= cells(rows)
    streamed = CliRunner().invoke(
        app, ["view", "run", str(view), "--input", str(source), "--format", "csv"]
    )
    assert streamed.exit_code == 0, streamed.output
    rows = assert_no_live_formula(streamed.stdout)
    assert {"'" + p for p in PAYLOADS} <= cells(rows)


def test_consultation_results_hold_no_live_formula(client, db):
    cid = make_consultation(db)
    author = citizen(db, "author@example.org")
    accepted = []
    with db.session() as session:
        consultation = participation.get_consultation(session, cid)
        for payload in ["=cmd|' /C calc'!A0", "  \uff1dHYPERLINK(1)", "@SUM(1)", "-2+3 idea"]:
            participation.create_proposal(
                session,
                Settings(env="test"),
                author,
                consultation,
                title=payload + " for the campus",
                body=body(),
            )
            accepted.append(payload)
    set_phase(db, cid, "results")
    client.login("staff@example.org")
    exported = client.get(f"/api/v1/consultations/{cid}/results.csv")
    assert exported.status_code == 200
    rows = assert_no_live_formula(exported.text)
    titles = [row[1] for row in rows[1:]]
    assert len(titles) == len(accepted) and all(t.startswith("'") for t in titles)


def test_event_attendees_hold_no_live_formula(app, db, client):
    make_account(db, "events@example.org", "staff")
    staff = CampusClient(app)
    staff.login("events@example.org")
    later = (utcnow() + dt.timedelta(days=3)).date().isoformat()
    created = staff.post(
        "/api/v1/events",
        json={
            "title": "Atelier",
            "starts_at": f"{later}T09:00:00+00:00",
            "ends_at": f"{later}T11:00:00+00:00",
            "room": "Salle Curie",
            "capacity": 10,
        },
    )
    assert created.status_code == 201, created.text
    event = created.json()["id"]
    assert staff.post(f"/api/v1/events/{event}/publish").status_code == 200
    names = ["=HYPERLINK(1)", "\uff20SUM(1)", "+33 6 12 34 56 78"]
    for i, name in enumerate(names):
        make_account(db, f"a{i}@example.org", "member", name=name)
        client.delete("/api/v1/session")
        client.login(f"a{i}@example.org")
        assert client.post(f"/api/v1/events/{event}/registration").status_code in (200, 201)
    exported = staff.get(f"/api/v1/events/{event}/attendees.csv")
    assert exported.status_code == 200
    rows = assert_no_live_formula(exported.text)
    assert {"'" + n for n in names} <= cells(rows)


def test_the_impact_dashboard_export_holds_no_live_formula():
    data = {
        "year": 2026,
        "members_by_kind": [{"kind": "=startup", "organisations": 3, "people": -1}],
        "by_month": [{"month": "2026-01", "@fundraising": 2}],
        "totals": {"\uff1damount": {"EUR": 10}, "contracts": 1},
    }
    rows = assert_no_live_formula(dashboard.as_csv(data))
    assert {"'=startup", "'@fundraising", "-1"} <= cells(rows)
