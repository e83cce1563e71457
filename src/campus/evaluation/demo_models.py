"""Three demo models of different quality, trained on a benchmark's dummy-twin feature table
(the CSV of `campus eval features`) and written as ONNX by this repository alone, for the
leaderboard's demonstrations: `campus eval demo-models FEATURES.csv OUT/`.

The issue asked for scikit-learn and skl2onnx; neither is a dependency of Campus, and a
logistic regression needs neither: it is fitted here with numpy (Newton steps with a small
ridge penalty, on standardised features) and written with onnx.helper as standard operators
only (ai.onnx opset 17), so that it passes the model check like any submission:

    z = (x - mean) / std;  z = 0 where x is missing (NaN: the mean);  p = sigmoid(z . w + b)

- `full`: every feature of the table;
- `one-feature`: the single feature that weighs most in `full`, refitted alone (weaker);
- `base-rate`: the dummy twin's prevalence for everyone (a constant predictor: AUROC 0.5,
  its calibration slope undefined, shown as such).
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


@dataclass(frozen=True)
class DemoModel:
    name: str
    onnx: bytes
    card: dict[str, str]


def read_table(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(feature names, features as float64 with NaN for blanks, labels) of a features CSV."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][-1:] != ["label"] or len(rows) < 3:
        raise ValueError("a feature table CSV with a header ending in 'label' and rows")
    names = rows[0][:-1]
    values = np.array(
        [[float(v) if v != "" else math.nan for v in row[:-1]] for row in rows[1:]],
        dtype=np.float64,
    )
    labels = np.array([int(row[-1]) for row in rows[1:]], dtype=np.float64)
    return names, values, labels


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no value at all
        mean = np.nan_to_num(np.nanmean(x, axis=0))
        std = np.nan_to_num(np.nanstd(x, axis=0), nan=1.0)
    std[std == 0] = 1.0
    z = np.nan_to_num((x - mean) / std)
    return z, mean, std


def fit_logistic(z: np.ndarray, y: np.ndarray, *, ridge: float = 1e-2, steps: int = 30):
    """Weights and bias of a ridge-penalised logistic regression (Newton's method)."""
    design = np.column_stack([z, np.ones(len(z))])
    beta = np.zeros(design.shape[1])
    penalty = np.diag([ridge] * z.shape[1] + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(design @ beta)))
        gradient = design.T @ (y - p) - penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(beta)), gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def to_onnx(mean: np.ndarray, std: np.ndarray, weights: np.ndarray, bias: float) -> bytes:
    """The standardise-impute-logistic graph above, input `features` [N, len(mean)] float32,
    output `score` [N, 1]."""

    def const(name: str, value) -> TensorProto:
        return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)

    width = len(mean)
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "std"], ["scaled"]),
        helper.make_node("IsNaN", ["scaled"], ["missing"]),
        helper.make_node("Where", ["missing", "zero", "scaled"], ["z"]),
        helper.make_node("MatMul", ["z", "w"], ["zw"]),
        helper.make_node("Add", ["zw", "b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["score"]),
    ]
    graph = helper.make_graph(
        nodes,
        "campus-demo",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        initializer=[
            const("mean", mean),
            const("std", std),
            const("zero", 0.0),
            const("w", np.asarray(weights).reshape(width, 1)),
            const("b", [bias]),
        ],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="campus-demo"
    )
    model.ir_version = 8
    return model.SerializeToString()


def demo_models(text: str, training: str | None = None) -> list[DemoModel]:
    """The three demo models trained on a feature table (CSV text): the dummy twin's by
    default, or a developer's own table with the same columns, named by `training`."""
    names, x, y = read_table(text)
    z, mean, std = _standardise(x)
    full_w, full_b = fit_logistic(z, y)
    strongest = int(np.argmax(np.abs(full_w)))
    one_w, one_b = fit_logistic(z[:, [strongest]], y)
    only = np.zeros(len(names))
    only[strongest] = one_w[0]
    prevalence = min(max(float(y.mean()), 1e-3), 1 - 1e-3)
    base_b = math.log(prevalence / (1 - prevalence))
    training = training or f"the benchmark's dummy twin ({len(y)} synthetic records)"

    def card(name: str, use: str) -> dict[str, str]:
        return {
            "name": name,
            "version": "1.0",
            "intended_use": use,
            "training_data": training,
            "regulatory_status": "demonstration only; not a medical device",
        }

    return [
        DemoModel(
            "full",
            to_onnx(mean, std, full_w, full_b),
            card("Logistic, all features", "demonstration of a reasonable model"),
        ),
        DemoModel(
            "one-feature",
            to_onnx(mean, std, only, one_b),
            card(f"Logistic, {names[strongest]} alone", "demonstration of a weaker model"),
        ),
        DemoModel(
            "base-rate",
            to_onnx(mean, std, np.zeros(len(names)), base_b),
            card("Base rate", "demonstration of a constant predictor"),
        ),
    ]
