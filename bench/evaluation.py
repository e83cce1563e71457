"""Evaluation benchmark: one ONNX model scored on 1M feature rows by the evaluation runner
(a process with limits, then binned metrics with 200 bootstrap draws) vs a plain
onnxruntime call on the same numpy array in this process, in the same run.

The model is a logistic regression over 3 features built with onnx.helper. Each round times,
one after the other on the same array (so that the machine's load weighs on all three alike):

- the plain call: an InferenceSession with one thread (as the runner's) and its run, the
  issue's baseline; it computes no metrics;
- the plain call followed by the same binned metrics in this process (like with like);
- Campus, as the worker evaluates: `sandbox.run` (the long-lived runner forks the run's
  limited process, which scores the table) and then `metrics.binned` and `metrics.evaluate`,
  on the table as `features.build` makes it (`sandbox.table`, in shared memory: the child
  maps its file); and the same with the table as a plain numpy array, which the run writes
  into its folder first (a caller's own array).

The array is the same for all: the shared table (numpy reads it as any array).

It reports the median of `BENCH_EV_REPEAT` rounds of each, the ratios of those medians and
the median of each round's ratio, the runner's one start, and the load average before and
after: the machine may be shared, and a loaded machine slows the three alike only roughly.
It also reports CPU time, which the load disturbs less: for Campus, this process's, the
run's process's (as it reports it) and the runner's average a run (from /proc, Linux).

Environment: BENCH_EV_ROWS (1000000), BENCH_EV_REPEAT (7).
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
REPEAT = int(os.environ.get("BENCH_EV_REPEAT", "7"))
BINS, THRESHOLD, K, BASE = 20, 0.3, 10, 5


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


def _plain_scores(model: bytes, features: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    return session.run(["score"], {"features": features})[0]


def _metrics(scores: np.ndarray, labels: np.ndarray) -> dict:
    bins = metrics.binned(scores, labels, bins=BINS, threshold=THRESHOLD, k=K)
    return metrics.evaluate(bins, base=BASE)


def _round(
    model: bytes, features: np.ndarray, copy: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """One round: seconds of each way, and of the runner's run its metrics."""
    start, cpu = time.perf_counter(), time.process_time()
    _plain_scores(model, features)
    plain, plain_cpu = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), time.process_time()
    in_process = _metrics(_plain_scores(model, features)[:, 0], labels)
    plain_metrics, plain_metrics_cpu = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), time.process_time()
    scored = sandbox.run(model, features, output_name="score", memory_mb=4096, seconds=120)
    scoring = time.perf_counter()
    campus = _metrics(scored.scores, labels)
    end, campus_cpu = time.perf_counter(), time.process_time() - cpu + (scored.cpu_seconds or 0)

    copied = time.perf_counter()
    scored = sandbox.run(model, copy, output_name="score", memory_mb=4096, seconds=120)
    written = _metrics(scored.scores, labels)
    copied_end = time.perf_counter()
    if not campus == written == in_process:
        raise AssertionError("the runner's metrics differ from the in-process ones")
    return {
        "plain_cpu": plain_cpu,
        "plain_metrics_cpu": plain_metrics_cpu,
        "campus_cpu": campus_cpu,
        "plain": plain,
        "plain_metrics": plain_metrics,
        "campus": end - start,
        "campus_scoring": scoring - start,
        "campus_metrics": end - scoring,
        "campus_copy": copied_end - copied,
    }


def _cpu_of(pid: int) -> float:
    """CPU seconds of a process so far (user and system, in clock ticks: 10 ms steps)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    rng = np.random.default_rng(0)
    copy = np.column_stack(
        [rng.integers(18, 95, ROWS), rng.integers(0, 2, ROWS), rng.random(ROWS) < 0.3]
    ).astype(np.float32)
    features = sandbox.table(ROWS, 3)
    features[...] = copy
    labels = (rng.random(ROWS) < 0.1).astype(np.int8)
    model = _model()
    load_before = os.getloadavg()
    started = time.perf_counter()
    sandbox.RUNNERS.run_start()
    runner_start = time.perf_counter() - started
    _round(model, features, copy, labels)  # warm-up: first pages, first session
    (runner,) = sandbox.RUNNERS.idle
    runner_cpu = _cpu_of(runner.process.pid)
    rounds = [_round(model, features, copy, labels) for _ in range(REPEAT)]
    # The runner's own work (answering, forking the next run's process), two runs a round.
    runner_cpu = (_cpu_of(runner.process.pid) - runner_cpu) / (2 * REPEAT)
    for r in rounds:
        r["campus_cpu"] += runner_cpu
    load_after = os.getloadavg()

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def ratio(a: str, b: str) -> str:
        each = statistics.median(r[a] / r[b] for r in rounds)
        return f"{median(a) / median(b):.2f}x (median of the rounds' ratios {each:.2f}x)"

    print(f"rows: {ROWS}, median of {REPEAT} rounds (after one warm-up round)")
    print(f"load average before: {' '.join(f'{v:.1f}' for v in load_before)}, ", end="")
    print(f"after: {' '.join(f'{v:.1f}' for v in load_after)} ({os.cpu_count()} cores)")
    print(f"plain onnxruntime call, 1 thread (no metrics): {median('plain'):.4f} s")
    print(f"plain call + the same metrics, in process:     {median('plain_metrics'):.4f} s")
    print(f"Campus, long-lived runner + metrics:           {median('campus'):.4f} s")
    print(f"  the same, the table a plain array (written): {median('campus_copy'):.4f} s")
    print(f"  of which scoring through the runner {median('campus_scoring'):.4f} s, ", end="")
    print(f"metrics {median('campus_metrics'):.4f} s; runner's one start {runner_start:.3f} s")
    print(f"Campus / plain call:            {ratio('campus', 'plain')} (issue's goal <= 1.5x)")
    print(f"Campus / plain call + metrics:  {ratio('campus', 'plain_metrics')}")
    print(f"runner's scoring / plain call:  {ratio('campus_scoring', 'plain')}")
    print(f"table written / plain + metrics: {ratio('campus_copy', 'plain_metrics')}")
    print(
        f"CPU time: plain call {median('plain_cpu'):.4f} s, + metrics "
        f"{median('plain_metrics_cpu'):.4f} s, Campus {median('campus_cpu'):.4f} s "
        f"(this process, the run's process as it says, the runner's {runner_cpu:.4f} s a run)"
    )
    print(f"  CPU, Campus / plain call:           {ratio('campus_cpu', 'plain_cpu')}")
    print(f"  CPU, Campus / plain call + metrics: {ratio('campus_cpu', 'plain_metrics_cpu')}")
    if sandbox._shared(features) is None:
        print("(no room in shared memory: the table was a plain array in both)")


if __name__ == "__main__":
    main()
