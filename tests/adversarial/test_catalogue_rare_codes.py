"""The catalogue, open to every member without an approval, reveals no more than the dummy
twin: a code seen fewer times than the threshold is not listed (not even as `<10`), the
counts of the codes listed are rounded, and dates are months seen threshold times, never
the day of one record."""

from __future__ import annotations

import json
from urllib.parse import quote

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from campus.warehouse import catalogue, layout
from tests.helpers import make_account
from tests.unit.warehouse.samples import bundle, observation, patient

RARE = "RARE-42"  # 3 Observations: under the threshold of 10
FREQUENT = "8302-2"  # 12 Observations
RARE_DAY = "2019-07-14"


def _nir(i: int) -> str:
    body = f"1840576451{i:03d}"
    return body + f"{97 - int(body) % 97:02d}"


def _hospital() -> dict:
    resources = []
    for i in range(12):
        pid = f"pat-{i}"
        resources.append(patient(pid, nir=_nir(i), mrn=f"MRN-{i:04d}"))
        resources.append(observation(f"obs-{i}", f"urn:uuid:{pid}"))
    for i in range(3):
        resources.append(
            observation(
                f"rare-{i}",
                f"urn:uuid:pat-{i}",
                code={"coding": [{"system": "http://loinc.org", "code": RARE}]},
                effectiveDateTime=f"{RARE_DAY}T08:00:00+02:00",
            )
        )
    return bundle(resources)


@pytest.fixture
def published(client, db, settings):
    make_account(db, "steward@example.org", "data_steward")
    client.login("steward@example.org")
    upload = client.post(
        "/api/v1/datasets/hopital/upload",
        params={"on_error": "skip"},
        content=json.dumps(_hospital()).encode(),
        headers={"content-type": "application/octet-stream", "x-filename": quote("h.json")},
    )
    assert upload.status_code == 201, upload.text
    client.delete("/api/v1/session")
    make_account(db, "member@example.org", "member")  # a member, no project, no approval
    client.login("member@example.org")
    return layout.resolve(settings.warehouse_path, "hopital")


def test_a_member_sees_no_rare_code_and_rounded_counts(client, published):
    detail = client.get("/api/v1/catalogue/hopital")
    assert detail.status_code == 200
    assert RARE not in detail.text and "<10" not in json.dumps(
        detail.json()["types"]["Observation"]["top_codes"]
    )
    loinc = detail.json()["types"]["Observation"]["top_codes"]["http://loinc.org"]
    assert loinc == [{"code": FREQUENT, "count": 10}]  # 12 rounded to the base of 5
    page = client.get("/catalogue/hopital")
    assert page.status_code == 200 and RARE not in page.text and FREQUENT in page.text


def test_the_catalogue_lists_no_code_the_dummy_twin_would_not_draw(client, published):
    twin = client.get("/api/v1/datasets/hopital/dummy/Observation", params={"limit": 1000})
    assert twin.status_code == 200
    drawn = {json.dumps(row) for row in twin.json()["rows"]}
    assert not any(RARE in row for row in drawn)
    listed = client.get("/api/v1/catalogue/hopital").json()["types"]["Observation"]["top_codes"]
    assert {c["code"] for codes in listed.values() for c in codes} == {FREQUENT}


def test_no_date_of_one_record_is_shown(client, published):
    """Dates are shifted per patient on ingest; whatever is left shows as a month at most."""
    detail = client.get("/api/v1/catalogue/hopital").json()
    public = client.get("/api/v1/catalogue").json()[0]
    shown = [detail["first"], detail["last"], public["first"], public["last"]]
    shown += [t[k] for t in detail["types"].values() for k in ("first", "last")]
    assert all(d is None or len(d) == 7 for d in shown), shown


def _computed(tmp_path, days: list[str], codes: list[str]) -> dict:
    """The catalogue `compute` writes at publish time, for one table of Observations."""
    real = tmp_path / "real"
    real.mkdir()
    pq.write_table(
        pa.table(
            {
                "id": [f"o{i}" for i in range(len(days))],
                "patient": ["p"] * len(days),
                "effective": days,
                "code": [f"http://loinc.org|{c}" for c in codes],
                "resource": [json.dumps({"resourceType": "Observation"})] * len(days),
            }
        ),
        real / "Observation.parquet",
    )
    con = duckdb.connect()
    try:
        return catalogue.compute(con, real, threshold=10)
    finally:
        con.close()


def test_the_period_is_made_of_months_seen_threshold_times(tmp_path):
    """12 records in March 2020, 3 in July 2019 and 1 in May 2021: the period is March 2020
    alone, not the day or the month of the odd ones out."""
    days = [f"2020-03-0{1 + i % 9}" for i in range(12)] + [RARE_DAY] * 3 + ["2021-05-02"]
    computed = _computed(tmp_path, days, [FREQUENT] * len(days))
    observations = computed["types"]["Observation"]
    assert observations["first"] == observations["last"] == computed["first"] == "2020-03"


def test_the_catalogue_file_itself_holds_no_rare_code(tmp_path):
    """Rare codes are left out when the file is written, not only when it is read: three
    frequent codes and twelve seen 9 times each, the file lists the three alone."""
    codes = [f"F{i}" for i in range(3) for _ in range(10 + i)]
    codes += [f"R{i:02d}" for i in range(12) for _ in range(9)]
    computed = _computed(tmp_path, ["2020-03-01"] * len(codes), codes)
    listed = computed["types"]["Observation"]["top_codes"]["http://loinc.org"]
    assert [c["code"] for c in listed] == ["F2", "F1", "F0"]
    assert [c["count"] for c in listed] == [12, 11, 10]


def test_a_catalogue_written_before_the_rule_is_read_under_it(client, published):
    """Versions published earlier keep their catalogue.json (with `<10` codes, exact counts
    and days): members read them under today's rule."""
    path = published.path / "catalogue.json"
    written = json.loads(path.read_text())
    observations = written["types"]["Observation"]
    observations["top_codes"] = {
        "http://loinc.org": [
            {"code": FREQUENT, "count": 12},
            {"code": RARE, "count": "<10"},
            {"code": "LOW-1", "count": 9},
        ],
        "urn:only-rare": [{"code": "X", "count": "<10"}],
    }
    observations["first"], written["first"] = RARE_DAY, RARE_DAY
    path.write_text(json.dumps(written))
    detail = client.get("/api/v1/catalogue/hopital").json()
    assert detail["types"]["Observation"]["top_codes"] == {
        "http://loinc.org": [{"code": FREQUENT, "count": 10}]
    }
    assert detail["first"] == detail["types"]["Observation"]["first"] == RARE_DAY[:7]
