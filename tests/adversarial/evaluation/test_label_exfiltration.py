"""A submitted model sees the real features but must not get the labels out through its
outputs: only metrics leave the runner, computed from bins of at least k people, and a
subgroup under the benchmark's minimum is suppressed."""

from __future__ import annotations

import json

import numpy as np

from campus.evaluation import modelcheck, sandbox, service
from campus.evaluation.definition import BenchmarkDefinition
from campus.evaluation.features import FeatureTable
from tests.integration.evaluation import hospital, onnx_models

K = 10


def _table(labels: list[int], ages: list[float], sexes: list[str]) -> FeatureTable:
    features = np.array([[a, 0.0, 0.0] for a in ages], dtype=np.float32)
    return FeatureTable(
        dataset="d",
        version="v1",
        features=features,
        labels=np.array(labels, dtype=np.int8),
        subgroups={"sex": sexes, "age_band": ["all"] * len(ages)},
    )


def _released(table: FeatureTable, model: bytes, k: int = K, threshold: float = 0.5) -> dict:
    bench = BenchmarkDefinition.model_validate(hospital.benchmark())
    checked = modelcheck.check(model, features=3, max_bytes=10**6, max_nodes=100)
    scored = sandbox.run(
        model, table.features, output_name=checked.output_name, memory_mb=1024, seconds=5
    )
    return service.release_metrics(bench, table, scored.scores, threshold=threshold, k=k, base=5)


def test_a_model_that_singles_out_one_patient_learns_nothing_of_their_label():
    # 120 people; the target is the only one aged 101. Two worlds differ in the target's
    # label only (another person's label moves the other way, so the prevalence is equal).
    ages = [float(30 + i % 50) for i in range(120)]
    ages[7] = 101.0
    base = [1 if i % 4 == 0 else 0 for i in range(120)]
    sexes = ["female" if i % 2 else "male" for i in range(120)]
    world_a, world_b = list(base), list(base)
    world_a[7], world_a[9] = 1, 0
    world_b[7], world_b[9] = 0, 1
    model = onnx_models.single_out(0, 101.0)
    # Threshold 0.5: the target alone above it (threshold metrics withheld); 0.995: the
    # target alone in the top bins, merged with the others below the threshold.
    for threshold in (0.5, 0.995):
        released_a = _released(_table(world_a, ages, sexes), model, threshold=threshold)
        released_b = _released(_table(world_b, ages, sexes), model, threshold=threshold)
        assert json.dumps(released_a, sort_keys=True) == json.dumps(released_b, sort_keys=True)
        assert all(b["people"] >= K for b in released_a["reliability"])
    # Nothing row-level leaves: no list as long as the table, no score of the target.
    assert all(b["predicted"] < 0.2 for b in released_a["reliability"])  # not the target's
    for value in _lists(released_a):
        assert len(value) < 120


def _lists(value):
    if isinstance(value, list):
        yield value
        for item in value:
            yield from _lists(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _lists(item)


def test_a_subgroup_under_the_minimum_size_is_suppressed_without_its_name_or_size():
    ages = [float(30 + i % 50) for i in range(120)]
    labels = [1 if i % 3 == 0 else 0 for i in range(120)]
    sexes = ["female"] * 5 + ["male"] * 115  # five women: under min_subgroup (20)
    released = _released(_table(labels, ages, sexes), onnx_models.logistic([0.05, 0.0, 0.0], -2.0))
    assert "female" not in json.dumps(released["subgroups"])  # not even the value's name
    assert released["subgroups"]["sex"][service.SUPPRESSED] == {"suppressed": True}
    male = released["subgroups"]["sex"]["male"]
    assert male["suppressed"] is False and male["auroc"]["value"] is not None


def test_the_charts_drawn_from_a_release_are_the_same_whatever_one_patients_label():
    """The ROC curve and the reliability diagram are drawn from the released bins alone: in
    two worlds that differ only in the singled-out patient's label, the pages' SVG is the
    same byte for byte, and it holds no more points than released bins."""
    from campus.web.templating import env

    charts = env.get_template("evaluation/_charts.html").module.charts
    ages = [float(30 + i % 50) for i in range(120)]
    ages[7] = 101.0
    base = [1 if i % 4 == 0 else 0 for i in range(120)]
    sexes = ["female" if i % 2 else "male" for i in range(120)]
    world_a, world_b = list(base), list(base)
    world_a[7], world_a[9] = 1, 0
    world_b[7], world_b[9] = 0, 1
    model = onnx_models.single_out(0, 101.0)
    for threshold in (0.5, 0.995):
        released_a = _released(_table(world_a, ages, sexes), model, threshold=threshold)
        released_b = _released(_table(world_b, ages, sexes), model, threshold=threshold)
        drawn_a, drawn_b = str(charts(released_a)), str(charts(released_b))
        assert 'data-chart="roc"' in drawn_a and 'data-chart="reliability"' in drawn_a
        assert drawn_a == drawn_b
        assert drawn_a.count("<circle") <= len(released_a["reliability"])
