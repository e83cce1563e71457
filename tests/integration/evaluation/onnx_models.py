"""ONNX graphs built with onnx.helper for the evaluation tests (no trained framework)."""

from __future__ import annotations

import math

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def _model(nodes, inputs, outputs, initializers=(), opset=OPSET) -> bytes:
    graph = helper.make_graph(nodes, "m", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=opset, producer_name="tests")
    model.ir_version = 8
    return model.SerializeToString()


def _input(features: int | None = 3, dtype=TensorProto.FLOAT, dims=None):
    return helper.make_tensor_value_info("features", dtype, dims or ["N", features])


def _const(name: str, values, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def logistic(weights: list[float], bias: float, features: int = 3, pad: int = 0) -> bytes:
    """p = sigmoid(x . w + b), output [N, 1]; `pad` adds an unused initializer (size tests)."""
    extra = [_const("pad", np.zeros(pad))] if pad else []
    return _model(
        [
            helper.make_node("MatMul", ["features", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["score"]),
        ],
        [_input(features)],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        [_const("w", [[w] for w in weights]), _const("b", [bias]), *extra],
    )


def reference_score(row: list[float], weights: list[float], bias: float) -> float:
    z = sum(x * w for x, w in zip(row, weights, strict=True)) + bias
    return 1 / (1 + math.exp(-z))


def custom_domain() -> bytes:
    return _model(
        [helper.make_node("Steal", ["features"], ["score"], domain="com.evil")],
        [_input()],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        opset=[*OPSET, helper.make_opsetid("com.evil", 1)],
    )


def wrong_width() -> bytes:
    return logistic([0.1, 0.2], 0.0, features=2)


def memory_bomb() -> bytes:
    """Allocates a 4 GB tensor (ConstantOfShape of 1e9 floats), then scores 0.5."""
    return _model(
        [
            helper.make_node("ConstantOfShape", ["shape"], ["big"], value=_const("v", [1.0])),
            helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
            helper.make_node("ReduceSum", ["features", "axes"], ["rowsum"], keepdims=0),
            helper.make_node("Mul", ["rowsum", "zero"], ["r0"]),
            helper.make_node("Mul", ["total", "zero"], ["t0"]),
            helper.make_node("Add", ["r0", "t0"], ["s0"]),
            helper.make_node("Add", ["s0", "half"], ["score"]),
        ],
        [_input()],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        [
            _const("shape", [1_000_000_000], np.int64),
            _const("axes", [1], np.int64),
            _const("zero", 0.0),
            _const("half", 0.5),
        ],
    )


def endless_loop() -> bytes:
    """A Loop of 2**62 iterations adding one, then scores 0.5."""
    body = helper.make_graph(
        [
            helper.make_node("Add", ["acc_in", "one_b"], ["acc_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, []),
        ],
        initializer=[_const("one_b", 1.0)],
    )
    return _model(
        [
            helper.make_node("Loop", ["trips", "cond", "start"], ["acc"], body=body),
            helper.make_node("ReduceSum", ["features", "axes"], ["rowsum"], keepdims=0),
            helper.make_node("Mul", ["rowsum", "zero"], ["r0"]),
            helper.make_node("Mul", ["acc", "zero"], ["a0"]),
            helper.make_node("Add", ["r0", "a0"], ["s0"]),
            helper.make_node("Add", ["s0", "half"], ["score"]),
        ],
        [_input()],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        [
            _const("trips", 2**62, np.int64),
            _const("cond", True, np.bool_),
            _const("start", 0.0),
            _const("axes", [1], np.int64),
            _const("zero", 0.0),
            _const("half", 0.5),
        ],
    )


def nan_above(column: int, limit: float) -> bytes:
    """0.5 for every row, NaN where feature `column` exceeds `limit` (sqrt of a negative)."""
    picker = np.zeros((3, 1), dtype=np.float32)
    picker[column, 0] = -1.0
    return _model(
        [
            helper.make_node("MatMul", ["features", "pick"], ["neg"]),
            helper.make_node("Add", ["neg", "limit"], ["room"]),
            helper.make_node("Sqrt", ["room"], ["root"]),
            helper.make_node("Mul", ["root", "zero"], ["z"]),
            helper.make_node("Add", ["z", "half"], ["score"]),
        ],
        [_input()],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        [
            _const("pick", picker),
            _const("limit", [limit]),
            _const("zero", 0.0),
            _const("half", 0.5),
        ],
    )


def single_out(column: int, value: float) -> bytes:
    """0.99 for rows whose feature `column` equals `value`, 0.1 for every other row."""
    picker = np.zeros((3, 1), dtype=np.float32)
    picker[column, 0] = 1.0
    return _model(
        [
            helper.make_node("MatMul", ["features", "pick"], ["x"]),
            helper.make_node("Equal", ["x", "target"], ["hit"]),
            helper.make_node("Where", ["hit", "high", "low"], ["score"]),
        ],
        [_input()],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        [
            _const("pick", picker),
            _const("target", [value]),
            _const("high", 0.99),
            _const("low", 0.1),
        ],
    )
