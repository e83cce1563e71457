"""Attacks on what a federated job publishes, written as tests.

Each node's answer is built with the node's own disclosure functions (the engine's grouped
tables and Kaplan-Meier, `statistics.protect_sums`), checked by the centre and pooled, as in
a real job. The attacker is a researcher who sees released pooled results, possibly also the
released results of jobs run at one node, or who colludes with the other nodes."""

from __future__ import annotations

import math
import random

import pytest

from campus.analysis import definition, disclosure, results
from campus.analysis.compiler import Query
from campus.analysis.results import Controls
from campus.federation import pooling
from campus.federation.statistics import protect_sums

EDGES = [0, 20, 40, 60, 80, 100]
ANALYSIS = definition.parse(
    {
        "title": "t",
        "dataset": "fed",
        "views": {"patients": {"library": "patient_demographics"}},
        "cohort": {"view": "patients", "index_date": "2015-01-01", "birth_date": "birth_date"},
        "outputs": [
            {"type": "counts", "name": "by_sex", "group_by": ["gender"]},
            {
                "type": "distribution",
                "name": "age",
                "column": "age_at_index",
                "group_by": ["gender"],
                "quantiles": [0.25, 0.5, 0.75],
                "histogram": {"edges": EDGES},
            },
            {
                "type": "time_to_event",
                "name": "km",
                "event": {"view": "patients", "column": "deceased_date_time"},
                "group_by": ["gender"],
                "interval_days": 365,
            },
        ],
    }
)
CONTROLS = Controls(threshold=10, base=5)
Patient = tuple[str, float, int, bool]  # gender, age, years followed, event (else censored)


def _bin(age: float) -> str:
    labels = pooling.bin_labels(ANALYSIS.outputs[1].histogram)
    return labels[sum(age >= e for e in EDGES)]


def _grouped(name: str, kind: str, dims: tuple, keys: list[tuple], levels: dict) -> dict:
    counted: dict[tuple, int] = {}
    for key in keys:
        counted[key] = counted.get(key, 0) + 1
    rows = [(*k, n) for k, n in counted.items()]
    return results.grouped_table(Query(name, kind, "", dims, levels), rows, len(keys), CONTROLS)


def node_answer(patients: list[Patient]) -> dict:
    """What a node sends for ANALYSIS, built with the node's own protections."""
    n = len(patients)
    if n < CONTROLS.threshold:
        tables = [
            {"name": name, "kind": kind, "columns": columns, "rows": [], "withheld": True}
            for name, kind, columns in pooling.expected_tables(ANALYSIS)
        ]
        return pooling.check_answer(ANALYSIS, {"cohort": None, "tables": tables})
    labels = pooling.bin_labels(ANALYSIS.outputs[1].histogram)
    counts = _grouped("by_sex", "counts", ("gender",), [(p[0],) for p in patients], {})
    histogram = _grouped(
        "age", "histogram", ("gender", "bin"), [(p[0], _bin(p[1])) for p in patients], {1: labels}
    )
    sums: dict[str, list[float]] = {}
    for gender, age, *_ in patients:
        value = min(max(age, EDGES[0]), EDGES[-1])
        slot = sums.setdefault(gender, [0, 0.0, 0.0])
        slot[0] += 1
        slot[1] += value
        slot[2] += value * value
    summary = protect_sums([(g, *v) for g, v in sums.items()], 1, CONTROLS.threshold)
    km_rows: dict[tuple, int] = {}
    for gender, _age, years, event in patients:
        km_rows[(gender, years, event)] = km_rows.get((gender, years, event), 0) + 1
    km = results.survival_table(
        Query("km", "time_to_event", "", ("gender",)),
        [(*k, c) for k, c in km_rows.items()],
        365,
        CONTROLS,
    )
    result = {
        "cohort": disclosure.round_to(n, CONTROLS.base),
        "tables": [counts, histogram, km],
    }
    return pooling.from_result(ANALYSIS, result, {"age": summary})


def released(nodes: list[list[Patient]]) -> dict:
    answers = [node_answer(p) for p in nodes]
    return pooling.pool(ANALYSIS, answers, threshold=CONTROLS.threshold, base=CONTROLS.base)


def hospital(rng: random.Random, size: int) -> list[Patient]:
    return [
        (
            rng.choice(("female", "male")),
            round(rng.uniform(18, 90), 1),
            rng.randint(0, 6),
            rng.random() < 0.3,
        )
        for _ in range(size)
    ]


@pytest.mark.parametrize("others", [0, 12, 40])
def test_a_node_s_lone_patient_of_a_group_changes_nothing_that_is_released(others):
    """Node C has one woman (and `others` men). Whatever her exact age, follow-up and
    outcome, the pooled counts, histogram, Kaplan-Meier and every woman's figure are the
    same, so neither the pooled result nor its difference with the other nodes' own
    released results (colluding hospitals) tells anything about her; the overall mean moves
    by at most one published step. (Which age band holds a suppressed cell is visible, as
    for a local job: docs/security.md, "Existence of categories".)"""
    rng = random.Random(others)
    a, b = hospital(rng, 80), hospital(rng, 60)
    men = [("male", round(rng.uniform(18, 90), 1), rng.randint(0, 6), False)] * others
    variants = [
        [*men, ("female", age, years, event)]
        for age, years, event in ((80.5, 0, True), (88.0, 3, False), (99.5, 6, True))
    ]
    # What node C sends (which the centre's staff could read): nothing of a group of one.
    sent = [node_answer(c) for c in variants]
    for answer in sent:
        for table in answer["tables"]:
            if table["kind"] in ("summary", "risk_sets"):
                rows = [r for r in table["rows"] if r[0] == "female"]
                assert rows == [] or rows == [["female", None, None, None]], rows
    releases = [released([a, b, c]) for c in variants]
    first = releases[0]
    for other in releases[1:]:
        assert other["cohort"] == first["cohort"]
        for ours, theirs in zip(first["tables"], other["tables"], strict=True):
            if ours["kind"] != "summary":
                assert ours == theirs, ours["name"]
                continue
            for row, moved in zip(ours["rows"], theirs["rows"], strict=True):
                assert row[:2] == moved[:2]
                if row[0] != disclosure.ALL:
                    assert row == moved
                elif row[2] is not None:
                    assert abs(row[2] - moved[2]) <= pooling.step(100 / row[1]) + 1e-9


def test_a_node_of_one_patient_withholds_the_whole_pooled_result():
    rng = random.Random(1)
    a, b = hospital(rng, 80), hospital(rng, 60)
    pooled = released([a, b, [("female", 61.0, 2, True)]])
    assert pooled["cohort"] is None
    assert all(t["rows"] == [] and t["disclosure"]["withheld"] for t in pooled["tables"])


def _difference_attack(pooled_with: dict, pooled_without: dict, n: int) -> tuple[float, float]:
    """The person left out, from two releases' overall mean and standard deviation, for an
    attacker who even knows the exact cohort size n: n·m₁ - (n-1)·m₂, and √(Σx²₁ - Σx²₂)."""
    summary = next(t for t in pooled_with["tables"] if t["kind"] == "summary")
    other = next(t for t in pooled_without["tables"] if t["kind"] == "summary")
    (_, _, m1, s1), (_, _, m2, s2) = (
        next(r for r in t["rows"] if r[0] == disclosure.ALL) for t in (summary, other)
    )
    from_means = n * m1 - (n - 1) * m2
    squares = ((n - 1) * s1 * s1 + n * m1 * m1) - ((n - 2) * s2 * s2 + (n - 1) * m2 * m2)
    return from_means, math.sqrt(max(squares, 0.0))


def test_two_jobs_whose_cohorts_differ_by_one_person_do_not_give_away_her_age():
    """The differencing attack on means: run the job, then again with an inclusion
    criterion that drops one known person. Exact means would give her age to a fraction of
    a year; the published steps (one person's largest influence) leave only 'above the
    mean' or not."""
    errors = []
    for seed in range(40):
        rng = random.Random(seed)
        nodes = [hospital(rng, 40 + 20 * i) for i in range(3)]
        target = ("female", round(rng.uniform(70, 95), 1), 2, False)
        n = sum(map(len, nodes)) + 1
        with_her = released([nodes[0], nodes[1], [*nodes[2], target]])
        without = released(nodes)
        guess_mean, guess_squares = _difference_attack(with_her, without, n)
        errors.append(min(abs(guess_mean - target[1]), abs(guess_squares - target[1])))
    assert min(errors) > 5, sorted(errors)[:5]
