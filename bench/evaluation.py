"""Evaluation benchmark: one ONNX model scored on 1M feature rows by the evaluation runner
(a process with limits, then binned metrics with 200 bootstrap draws) vs a plain
onnxruntime call on the same numpy array in this process, in the same run.

The model is a logistic regression over 3 features built with onnx.helper. The baseline
creates an InferenceSession (one thread, as the runner does) and runs it. Campus is timed
two ways in the same run: a new Python process a run (`sandbox.run(fresh=True)`, the way
before the long-lived runner) and a process forked by the long-lived runner (the default;
its one start is timed apart). Each includes writing and reading the arrays and the
metrics. Reports the median of `BENCH_EV_REPEAT` runs of each and the ratios (the issue's
goal is at most 1.5x the plain call).

Environment: BENCH_EV_ROWS (1000000), BENCH_EV_REPEAT (3).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from campus.evaluation import metrics, sandbox

ROWS = int(os.environ.get("BENCH_EV_ROWS", "1000000"))
REPEAT = int(os.environ.get("BENCH_EV_REPEAT", "3"))


def _model() -> bytes:
    weights = numpy_helper.from_array(np.array([[0.04], [0.1], [1.2]], dtype=np.float32), "w")
    bias = numpy_helper.from_array(np.array([-3.5], dtype=np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["score"]),
        ],
        "bench",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        initializer=[weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _plain(model: bytes, features: np.ndarray) -> float:
    start = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    session.run(["score"], {"features": features})
    return time.perf_counter() - start


def _plain_with_metrics(
    model: bytes, features: np.ndarray, labels: np.ndarray, *, plain_metrics: bool = False
) -> tuple[float, float]:
    """The plain call and the same binned metrics in this process: (whole, of which metrics)."""
    start = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    scores = session.run(["score"], {"features": features})[0][:, 0].astype(np.float64)
    scoring = time.perf_counter()
    # plain_metrics: the rules' paths (bins by searchsorted, the bootstrap a draw at a time)
    bins = metrics.binned(scores, labels, bins=20, threshold=0.3, k=10, plain=plain_metrics)
    metrics.evaluate(bins, base=5, plain=plain_metrics)
    end = time.perf_counter()
    return end - start, end - scoring


def _campus(
    model: bytes, features: np.ndarray, labels: np.ndarray, *, fresh: bool
) -> tuple[float, float]:
    """(whole evaluation, of which the metrics) in seconds."""
    start = time.perf_counter()
    scored = sandbox.run(
        model, features, output_name="score", memory_mb=4096, seconds=120, fresh=fresh
    )
    scoring = time.perf_counter()
    bins = metrics.binned(scored.scores, labels, bins=20, threshold=0.3, k=10)
    metrics.evaluate(bins, base=5)
    end = time.perf_counter()
    return end - start, end - scoring


def main() -> None:
    rng = np.random.default_rng(0)
    features = np.column_stack(
        [rng.integers(18, 95, ROWS), rng.integers(0, 2, ROWS), rng.random(ROWS) < 0.3]
    ).astype(np.float32)
    labels = (rng.random(ROWS) < 0.1).astype(np.int8)
    model = _model()
    plain = statistics.median(_plain(model, features) for _ in range(REPEAT))
    with_metrics = [_plain_with_metrics(model, features, labels) for _ in range(REPEAT)]
    rules = [
        _plain_with_metrics(model, features, labels, plain_metrics=True) for _ in range(REPEAT)
    ]
    fresh_runs = [_campus(model, features, labels, fresh=True) for _ in range(REPEAT)]
    started = time.perf_counter()
    sandbox.RUNNERS.run_start()
    runner_start = time.perf_counter() - started
    forked_runs = [_campus(model, features, labels, fresh=False) for _ in range(REPEAT)]
    fresh = statistics.median(r[0] for r in fresh_runs)
    forked = statistics.median(r[0] for r in forked_runs)
    in_metrics = statistics.median(r[1] for r in forked_runs + fresh_runs)
    print(f"rows: {ROWS}, median of {REPEAT} runs each")
    plain_metrics = statistics.median(r[0] for r in with_metrics)
    print(f"plain onnxruntime (in process):        {plain:.3f} s (no metrics)")
    print(f"plain + the same metrics in process:   {plain_metrics:.3f} s")
    print(
        f"  metrics: vectorised {statistics.median(r[1] for r in with_metrics):.3f} s, "
        f"a draw at a time (the rules' path, before) {statistics.median(r[1] for r in rules):.3f} s"
    )
    print(f"campus, a new process a run (before):  {fresh:.3f} s ({fresh / plain:.1f}x plain)")
    print(f"campus, long-lived runner (after):     {forked:.3f} s ({forked / plain:.1f}x plain)")
    print(f"  runner's one start:                  {runner_start:.3f} s")
    print(f"  of each run, metrics (bins+bootstrap): {in_metrics:.3f} s")
    scoring = (forked - in_metrics, fresh - in_metrics)
    print(f"  scoring alone, runner: {scoring[0]:.3f} s, new process: {scoring[1]:.3f} s")
    print(f"speed-up of the runner: {fresh / forked:.2f}x (issue's goal: <= 1.5x plain)")
    print(
        f"like with like (runner vs plain + the same metrics): {forked / plain_metrics:.2f}x, "
        f"new process: {fresh / plain_metrics:.2f}x"
    )


if __name__ == "__main__":
    main()
