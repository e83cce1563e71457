"""Evaluation benchmark: one ONNX model scored on 1M feature rows by the evaluation runner
(child process with limits, then binned metrics with 200 bootstrap draws) vs a plain
onnxruntime call on the same numpy array in this process, in the same run.

The model is a logistic regression over 3 features built with onnx.helper. The baseline
creates an InferenceSession (one thread, as the runner does) and runs it; the runner's time
includes starting its child, writing and reading the arrays, and the metrics. Reports the
median of `BENCH_EV_REPEAT` runs of each and the ratio (the goal is at most 1.5x).

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


def _campus(model: bytes, features: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(whole evaluation, of which the metrics) in seconds."""
    start = time.perf_counter()
    scored = sandbox.run(model, features, output_name="score", memory_mb=4096, seconds=120)
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
    runs = [_campus(model, features, labels) for _ in range(REPEAT)]
    campus = statistics.median(r[0] for r in runs)
    in_metrics = statistics.median(r[1] for r in runs)
    print(f"rows: {ROWS}, median of {REPEAT} runs each")
    print(f"plain onnxruntime (in process):    {plain:.3f} s")
    print(f"campus evaluation (child+metrics): {campus:.3f} s, of which metrics {in_metrics:.3f} s")
    print(f"ratio: {campus / plain:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
