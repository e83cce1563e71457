"""Pooling of nodes' statistics, the shape an answer must have, and the node's checks of a
signed task (pure: no database, no network)."""

from __future__ import annotations

import datetime as dt

import pytest

from campus.analysis import definition
from campus.errors import BadRequest
from campus.federation import pooling, signing
from campus.federation.node import Node, Refused

ANALYSIS = definition.parse(
    {
        "title": "t",
        "dataset": "fed",
        "views": {"patients": {"library": "patient_demographics"}},
        "cohort": {"view": "patients"},
        "outputs": [{"type": "counts", "name": "by_sex", "group_by": ["gender"]}],
    }
)


def _answer(female, male, cohort=None):
    known = [v for v in (female, male) if v is not None]
    total = cohort if cohort is not None else sum(known)
    return {
        "cohort": total,
        "tables": [
            {
                "name": "by_sex",
                "kind": "counts",
                "columns": ["gender", "count"],
                "rows": [["female", female], ["male", male], ["*", total]],
                "withheld": False,
            }
        ],
    }


def test_pooled_counts_are_the_sums_of_the_nodes_counts():
    pooled = pooling.pool(ANALYSIS, [_answer(25, 35), _answer(30, 20)], threshold=10, base=5)
    rows = {r[0]: r[1] for r in pooled["tables"][0]["rows"]}
    assert rows == {"female": 55, "male": 55, "*": 110} and pooled["cohort"] == 110


def test_a_cell_suppressed_at_one_node_stays_suppressed_and_its_line_is_protected():
    # Node 2 hid "female" (and so "male", its line): the pool cannot show either.
    pooled = pooling.pool(
        ANALYSIS, [_answer(25, 35), _answer(None, None, cohort=15)], threshold=10, base=5
    )
    rows = {r[0]: r[1] for r in pooled["tables"][0]["rows"]}
    assert rows["female"] is None and rows["male"] is None and rows["*"] == 75


def test_a_pooled_cell_under_the_threshold_is_suppressed_with_another_of_its_line():
    pooled = pooling.pool(ANALYSIS, [_answer(5, 40), _answer(0, 40)], threshold=10, base=5)
    rows = {r[0]: r[1] for r in pooled["tables"][0]["rows"]}
    assert rows["female"] is None and rows["male"] is None


def test_an_answer_with_anything_but_the_declared_statistics_is_refused_whole():
    good = _answer(25, 35)
    assert pooling.check_answer(ANALYSIS, good)["cohort"] == 60
    with_rows = good | {"patients": [["rp001", "female", "1950-01"]]}
    extra_column = _answer(25, 35)
    extra_column["tables"][0]["rows"][0] = ["female", "rp001", 25]
    per_patient = _answer(25, 35)
    per_patient["tables"][0]["rows"][0] = ["female", 1.5]
    for bad, where in (
        (with_rows, "answer"),
        (extra_column, "answer.tables[0].rows[0]"),
        (per_patient, "answer.tables[0].rows[0]"),
    ):
        with pytest.raises(BadRequest) as refused:
            pooling.check_answer(ANALYSIS, bad)
        assert refused.value.where == where


def test_quantiles_without_a_histogram_to_read_them_from_are_refused_with_where():
    quantiles = ANALYSIS.model_dump(mode="json", exclude_none=True)
    quantiles["outputs"].append({"type": "distribution", "name": "age", "column": "gender"})
    with pytest.raises(BadRequest) as refused:
        pooling.expected_tables(definition.parse(quantiles))
    assert refused.value.where == "outputs[1].histogram"


def _node(tmp_path, name="chu-a", dataset="hopital-a"):
    return Node(
        settings=None,  # type: ignore[arg-type]
        db=None,  # type: ignore[arg-type]
        central="http://127.0.0.1:1",
        token="t",
        dataset=dataset,
        centre_key=signing.public_pem(tmp_path),
        name=name,
    )


def _task(tmp_path, **changes):
    payload = {
        "task": "t1",
        "node": "chu-a",
        "dataset": "hopital-a",
        "definition": {"dataset": "hopital-a"},
        "scope": {"datasets": ["hopital-a"], "views": [], "elements": []},
        "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(),
    } | changes
    return {"payload": payload, "signature": signing.sign(tmp_path, payload)}


def test_a_node_runs_only_tasks_signed_by_the_pinned_key_unexpired_and_for_itself(tmp_path):
    node = _node(tmp_path)
    assert node.verify(_task(tmp_path))["task"] == "t1"
    tampered = _task(tmp_path)
    tampered["payload"]["scope"]["views"] = ["encounters"]
    other_centre = _task(tmp_path / "other")
    refusals = {
        "bad signature": tampered,
        "bad signature: the task": other_centre,
        "expired": _task(tmp_path, expires_at="2020-01-01T00:00:00+00:00"),
        "addressed to node": _task(tmp_path, node="chu-b"),
        "not served here": _task(tmp_path, dataset="hopital-b"),
        "scope must name": _task(tmp_path, scope={"datasets": ["hopital-a", "x"]}),
    }
    for reason, task in refusals.items():
        with pytest.raises(Refused, match=reason):
            node.verify(task)


RATES = definition.parse(
    {
        "title": "t",
        "dataset": "fed",
        "views": {"patients": {"library": "patient_demographics"}},
        "cohort": {"view": "patients"},
        "outputs": [
            {
                "type": "counts",
                "name": "deaths",
                "group_by": ["gender"],
                "event": [{"column": "deceased", "op": "eq", "value": True}],
            }
        ],
    }
)


def _rates(female: tuple, male: tuple) -> dict:
    total = (female[0] + male[0], female[1] + male[1])
    rows = [["female", *female, None], ["male", *male, None], ["*", *total, None]]
    return {
        "cohort": total[0],
        "tables": [
            {
                "name": "deaths",
                "kind": "rate",
                "columns": ["gender", "count", "events", "rate"],
                "rows": [[*r[:3], r[1] and round(r[2] / r[1], 4)] for r in rows],
            }
        ],
    }


def test_rates_pool_their_numerators_and_denominators_and_protect_the_non_events_too():
    answers = [_rates((30, 10), (40, 20)), _rates((20, 10), (30, 15))]
    checked = [pooling.check_answer(RATES, a) for a in answers]
    pooled = pooling.pool(RATES, checked, threshold=10, base=5)
    rows = {r[0]: r[1:] for r in pooled["tables"][0]["rows"]}
    assert rows["female"] == [50, 20, 0.4] and rows["*"] == [120, 55, round(55 / 120, 4)]
    # 25 events among 30: five without the event is under the threshold, so the line
    # (female: without, with, all) cannot publish the events either.
    answers = [_rates((15, 15), (40, 20)), _rates((15, 10), (30, 15))]
    checked = [pooling.check_answer(RATES, a) for a in answers]
    small = pooling.pool(RATES, checked, threshold=10, base=5)
    female = {r[0]: r[1:] for r in small["tables"][0]["rows"]}["female"]
    assert female[1] is None and female[2] is None
