"""The catalogue never gives back a masked count: through a sample size or through a share."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from campus.warehouse import catalogue


def _table(folder, type_name: str, resources: list[dict], effective="2020-03-01") -> None:
    rows = {
        "id": [r["id"] for r in resources],
        "patient": [r.get("patient") for r in resources],
        "effective": [effective for _ in resources],
        "code": ["http://loinc.org|8302-2" for _ in resources],
        "resource": [json.dumps({k: v for k, v in r.items() if k != "patient"}) for r in resources],
    }
    pq.write_table(pa.table(rows), folder / f"{type_name}.parquet")


def _compute(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    # 3 Observations: a count under the threshold of 10.
    _table(
        real, "Observation", [{"id": f"o{i}", "status": "final"} for i in range(3)], "1999-01-01"
    )
    # 40 Conditions, 2 of them with a note and 3 of them with a patient.
    conditions = [
        {"id": f"c{i}", "status": "active", **({"note": "x"} if i < 2 else {})} for i in range(40)
    ]
    for condition in conditions[:3]:
        condition["patient"] = "p"
    _table(real, "Condition", conditions)
    con = duckdb.connect()
    try:
        return catalogue.compute(con, real, threshold=10)
    finally:
        con.close()


def test_a_type_under_the_threshold_shows_no_sample_size_nor_shares(tmp_path):
    observations = _compute(tmp_path)["types"]["Observation"]
    assert observations["count"] == "<10"
    assert observations["completeness_sample"] == "<10"
    assert observations["completeness"] == {}
    assert observations["with_patient"] is None


def test_the_dates_of_a_type_under_the_threshold_are_shown_nowhere(tmp_path):
    computed = _compute(tmp_path)
    observations = computed["types"]["Observation"]
    assert observations["first"] is None and observations["last"] is None
    assert computed["first"] == "2020-03"  # the 3 Observations of 1999 do not set it


def test_an_element_on_fewer_resources_than_the_threshold_shows_no_share(tmp_path):
    conditions = _compute(tmp_path)["types"]["Condition"]
    assert conditions["count"] == 40 and conditions["completeness_sample"] == 40
    assert conditions["completeness"] == {"note": "<10", "status": 1.0}
    assert conditions["with_patient"] == "<10"


def test_catalogues_written_with_exact_shares_are_masked_when_members_read_them():
    written = {
        "threshold": 10,
        "patients": 40,
        "first": None,
        "last": None,
        "types": {
            "Observation": {
                "count": "<10",
                "patients": "<10",
                "with_patient": 0.667,
                "completeness": {"status": 1.0, "note": 0.333},
                "completeness_sample": 3,
                "top_codes": {},
            },
            "Condition": {
                "count": 40,
                "patients": "<10",
                "with_patient": 0.075,
                "completeness": {"status": 1.0, "note": 0.05},
                "completeness_sample": 40,
                "top_codes": {},
            },
        },
    }
    shown = catalogue.member(written)["types"]
    assert shown["Observation"]["completeness_sample"] == "<10"
    assert shown["Observation"]["completeness"] == {}
    assert shown["Observation"]["with_patient"] is None
    assert shown["Condition"]["completeness"] == {"status": 1.0, "note": "<10"}
    assert shown["Condition"]["with_patient"] == "<10"
