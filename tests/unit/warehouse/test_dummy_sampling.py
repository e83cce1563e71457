"""The dummy twin learns from samples of large tables: its shape from a few row groups, the
Observations' value ranges from one resource in `step`, and both stay close to the whole."""

from __future__ import annotations

import random

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from campus.warehouse import dummy, publish
from campus.warehouse.dummy import SCHEMA


def _observations(path, count: int) -> None:
    rng = random.Random(5)
    rows: dict[str, list] = {name: [] for name in SCHEMA.names}
    for index in range(count):
        value = rng.uniform(0, 100)
        rows["id"].append(f"o{index}")
        rows["patient"].append(f"p{index % 500}")
        rows["effective"].append("2020-01-01")
        rows["code"].append("http://loinc.org|1")
        resource = {
            "resourceType": "Observation",
            "id": f"o{index}",
            "status": "final",
            "valueQuantity": {"value": value, "unit": "kg"},
        }
        rows["resource"].append(orjson.dumps(resource).decode())
    pq.write_table(pa.table(rows, schema=SCHEMA), path, row_group_size=4096)


def test_the_shape_sample_reads_a_few_row_groups_and_draws_distinct_resources(tmp_path):
    table = tmp_path / "Observation.parquet"
    _observations(table, 40_000)
    sample = dummy._shape_sample(table, random.Random(1), size=500)
    assert len(sample) == 500
    assert len({resource["id"] for resource in sample}) == 500
    assert all(resource["resourceType"] == "Observation" for resource in sample)
    small = tmp_path / "small.parquet"
    _observations(small, 30)
    assert len(dummy._shape_sample(small, random.Random(1), size=500)) == 30


def test_value_ranges_on_one_observation_in_step_stay_close_to_the_whole(tmp_path):
    table = tmp_path / "Observation.parquet"
    _observations(table, 40_000)
    con = publish.connect(tmp_path / "tmp")
    source = f"read_parquet('{table}')"
    whole = dummy._value_ranges(con, source, 10)
    sampled = dummy._value_ranges(con, source, 10, step=8)
    (low, high, unit), (sampled_low, sampled_high, sampled_unit) = (
        whole["http://loinc.org|1"],
        sampled["http://loinc.org|1"],
    )
    assert abs(low - 10) < 1 and abs(high - 90) < 1 and unit == "kg"
    assert abs(sampled_low - low) < 2.5 and abs(sampled_high - high) < 2.5
    assert sampled_unit == "kg"
    # One in 8: the percentiles are read on about an eighth of the values, not all of them.
    (kept,) = con.execute(f"SELECT count(*) FROM {source} WHERE hash(id) % 8 = 0").fetchone()
    assert 4_000 < kept < 6_000
