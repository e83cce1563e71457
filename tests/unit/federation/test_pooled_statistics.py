"""Means and variances, Kaplan-Meier and quantiles pooled from nodes' sufficient statistics
(pure: no database, no network). The comparison with one site on the union of real
warehouses is in tests/integration/federation/test_pooled_processes.py."""

from __future__ import annotations

import math
import random
import statistics as stats

import pytest

from campus.analysis import definition, results
from campus.analysis.compiler import Query
from campus.analysis.results import Controls
from campus.errors import BadRequest
from campus.federation import pooling
from campus.federation.statistics import protect_sums

BASE = {
    "title": "t",
    "dataset": "fed",
    "views": {"patients": {"library": "patient_demographics"}},
    "cohort": {"view": "patients", "index_date": "2015-01-01", "birth_date": "birth_date"},
}
AGE = {
    "type": "distribution",
    "name": "age",
    "column": "age_at_index",
    "group_by": ["gender"],
    "quantiles": [0.25, 0.5, 0.75],
    "histogram": {"edges": [0, 20, 40, 60, 80, 100]},
}
KM = {
    "type": "time_to_event",
    "name": "km",
    "event": {"view": "patients", "column": "deceased_date_time"},
    "censor": "2025-01-01",
    "interval_days": 365,
}
ANALYSIS = definition.parse(BASE | {"outputs": [AGE, KM]})


def _summary_answer(values: dict[str, list[float]], threshold: int) -> dict:
    rows = [(g, len(v), sum(v), sum(x * x for x in v)) for g, v in values.items()]
    return {
        "name": "age",
        "kind": "summary",
        "columns": ["gender", "count", "sum", "sum_squares"],
        "rows": protect_sums(rows, 1, threshold),
        "withheld": False,
    }


def test_means_and_variances_pool_exactly_from_each_node_s_n_sum_and_sum_of_squares():
    rng = random.Random(7)
    nodes = [
        {g: [rng.uniform(0, 95) for _ in range(rng.randint(15, 60))] for g in ("female", "male")}
        for _ in range(3)
    ]
    parts = [_summary_answer(values, threshold=10) for values in nodes]
    rows, notes = pooling._pool_sums(parts, threshold=10, base=5, bounds=(0, 100))
    pooled = {r[0]: r[1:] for r in rows}
    for group in ("female", "male", "*"):
        union = [x for values in nodes for g, v in values.items() if group in (g, "*") for x in v]
        n, mean, sd = pooled[group]
        assert n == 5 * math.floor(len(union) / 5 + 0.5)
        # Exact sums, published to the step of one person's largest influence.
        mean_step = pooling.step(100 / len(union))
        assert mean == pytest.approx(stats.mean(union), abs=mean_step / 2 + 1e-9)
        sd_step = pooling.step(100 / math.sqrt(len(union)))
        assert sd == pytest.approx(stats.stdev(union), abs=sd_step / 2 + 1e-9)
        assert mean_step in (1, 2, 5) and sd_step in (10, 20)
    assert "clamped to [0, 100]" in notes[0]


def test_a_group_under_the_threshold_at_a_node_sends_nothing_and_hides_one_more_of_its_line():
    rows = protect_sums([("female", 4, 200.0, 10_400.0), ("male", 30, 900.0, 30_000.0)], 1, 10)
    by_group = {r[0]: r[1:] for r in rows}
    # female alone hidden: the total minus male would give her sums; so male hides too.
    assert by_group["female"] == [None, None, None] and by_group["male"] == [None, None, None]
    assert by_group["*"] == [34, 1100.0, 40_400.0]
    pooled, _notes = pooling._pool_sums(
        [{"rows": rows}, {"rows": protect_sums([("female", 40, 1.0, 1.0)], 1, 10)}],
        10,
        5,
        (0, 100),
    )
    assert {r[0]: r[1] for r in pooled}["female"] is None  # unknown at one node: unknown


def _risk_sets(events_censored: dict[int, tuple[int, int]], threshold: int, base: int) -> list:
    rows = [(t, True, e) for t, (e, _c) in events_censored.items()]
    rows += [(t, False, c) for t, (_e, c) in events_censored.items()]
    query = Query("km", "time_to_event", "", ())
    table = results.survival_table(query, rows, 365, Controls(threshold=threshold, base=base))
    return [r[:-1] for r in table["rows"]], table


def test_kaplan_meier_from_summed_risk_sets_equals_one_site_on_the_union_when_exact():
    a = {0: (3, 1), 1: (4, 2), 2: (2, 5), 3: (1, 6), 4: (0, 8)}
    b = {0: (5, 0), 1: (2, 3), 2: (6, 1), 3: (3, 4), 4: (1, 9)}
    union = {t: (a[t][0] + b[t][0], a[t][1] + b[t][1]) for t in a}
    parts = [{"rows": _risk_sets(x, threshold=3, base=1)[0]} for x in (a, b)]
    rows, _notes = pooling._pool_risk_sets(parts, threshold=3)
    single = _risk_sets(union, threshold=3, base=1)[1]["rows"]
    assert rows == single[: len(rows)] and len(rows) >= 4
    # A node's curve stops (its risk set under its threshold): the pooled curve stops there.
    short = [{"rows": parts[0]["rows"][:2]}, parts[1]]
    cut, notes = pooling._pool_risk_sets(short, threshold=3)
    assert cut == single[:2] and any("node's stops" in n for n in notes)


def test_quantiles_are_read_from_the_released_histogram_and_marked_approximate():
    labels = pooling.bin_labels(ANALYSIS.outputs[0].histogram)
    counts = dict(zip(labels, [0, 20, 40, 20, 20, 0, 0], strict=True))
    rows = [["*", b, c] for b, c in counts.items()] + [["*", "*", 100]]
    # A suppressed open bin on the left: the quantiles are read from the right side.
    rows += [["female", b, None if b == "<0" else c] for b, c in counts.items()]
    rows += [["female", "*", 100]]
    table = {"name": "age", "columns": ["gender", "bin", "count"], "rows": rows}
    out = pooling._quantiles(table, ANALYSIS.outputs[0], 10, 5, {})
    by_group = {r[0]: r[1:] for r in out["rows"]}
    # 25 of 100: 20 in 0–20, so 5 of the 40 in 20–40 -> 22.5; median 20 + 30/40 x 20 = 35.
    assert by_group["*"] == [100, [22.5, 35.0, 55.0]]  # 75th: 40 + 15/20 x 20
    assert by_group["female"] == by_group["*"]
    assert out["approximate"] is True and "approximate" in out["disclosure"]["notes"][0]
    # Within one bin width of the exact quantiles of values spread evenly in their bins.
    spread = [lo + (hi - lo) * (i + 0.5) / c for lo, hi, c in ((0, 20, 20), (20, 40, 40),
              (40, 60, 20), (60, 80, 20)) for i in range(c)]  # fmt: skip
    exact = stats.quantiles(spread, n=4, method="inclusive")
    assert all(abs(a - b) <= 20 for a, b in zip(by_group["*"][1], exact, strict=True))


def test_answers_with_per_patient_values_or_impossible_risk_sets_are_refused_whole():
    tables = pooling.expected_tables(ANALYSIS)
    assert [k for _n, k, _c in tables] == ["summary", "histogram", "risk_sets"]

    def answer(summary_row, risk_row):
        return {
            "cohort": 50,
            "tables": [
                {"name": n, "kind": k, "columns": c, "rows": [], "withheld": False}
                for n, k, c in tables
            ],
        } | {}

    good = answer(None, None)
    good["tables"][0]["rows"] = [["female", 30, 1200.5, 52000.25]]
    good["tables"][2]["rows"] = [[0, 50, 5]]
    assert pooling.check_answer(ANALYSIS, good)["tables"][0]["rows"][0][1] == 30
    for index, row, where in (
        (0, ["female", 30, [41.0, 52.5], 52000.25], "answer.tables[0].rows[0]"),
        (0, ["female", None, 1200.5, 52000.25], "answer.tables[0].rows[0]"),
        (0, ["female", 30, float("inf"), 1.0], "answer.tables[0].rows[0]"),
        (2, [0, 5, 6], "answer.tables[2].rows[0]"),
    ):
        bad = answer(None, None)
        bad["tables"][index]["rows"] = [row]
        with pytest.raises(BadRequest) as refused:
            pooling.check_answer(ANALYSIS, bad)
        assert refused.value.where == where


def test_under_differential_privacy_a_distribution_is_its_noised_histogram_only():
    private = BASE | {"privacy": {"epsilon": 1.0}}
    age = AGE | {"group_by": [{"column": "gender", "levels": ["female", "male"]}]}
    tables = pooling.expected_tables(definition.parse(private | {"outputs": [age]}))
    assert [k for _n, k, _c in tables] == ["histogram"]
    bare = {k: v for k, v in age.items() if k != "histogram"} | {"quantiles": []}
    with pytest.raises(BadRequest) as refused:
        pooling.expected_tables(definition.parse(private | {"outputs": [bare]}))
    assert refused.value.where == "outputs[0].histogram"
