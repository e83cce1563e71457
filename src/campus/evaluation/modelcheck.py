"""Checks on a submitted ONNX model before anything runs it.

A model is a graph of standard operators: the ONNX checker must accept it, every node
(subgraphs and functions included) must belong to an allowed operator domain within its
opset range, it must hold no external data (a path onnxruntime would open), stay under the
benchmark's size and node limits, and take exactly one float32 input of shape
[N, number of features]. Standard operators compute on tensors: none reads a file, opens a
socket or runs a process, which is why no custom operator is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import TensorProto, checker, defs

from campus.errors import BadRequest
from campus.i18n import N_

# Operator domain -> (lowest, highest) opset accepted. "" is the default ai.onnx domain.
ALLOWED_DOMAINS: dict[str, tuple[int, int]] = {
    "": (7, defs.onnx_opset_version()),
    "ai.onnx": (7, defs.onnx_opset_version()),
    "ai.onnx.ml": (1, 5),
}
SCORE_TYPES = (TensorProto.FLOAT, TensorProto.DOUBLE)


@dataclass(frozen=True)
class Checked:
    model: onnx.ModelProto
    input_name: str
    output_name: str
    nodes: int


def _refuse(message: str, code: str, where: str = "model", **values: object) -> BadRequest:
    return BadRequest(message, code=code, where=where, values=values)


def _nodes(graph: onnx.GraphProto):
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _nodes(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for sub in attribute.graphs:
                    yield from _nodes(sub)


def _external(graph: onnx.GraphProto) -> bool:
    tensors = list(graph.initializer) + [s.values for s in graph.sparse_initializer]
    for node in _nodes(graph):
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                tensors.append(attribute.t)
            elif attribute.type == onnx.AttributeProto.TENSORS:
                tensors.extend(attribute.tensors)
    return any(t.data_location == TensorProto.EXTERNAL or t.external_data for t in tensors)


def _dims(value: onnx.ValueInfoProto) -> list[int | None]:
    shape = value.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]


def check(
    data: bytes, *, features: int, max_bytes: int, max_nodes: int, output: str | None = None
) -> Checked:
    """The parsed model if every check passes; BadRequest names the first that fails."""
    if len(data) > max_bytes:
        raise _refuse(
            N_("the model is {size} bytes; this benchmark accepts at most {limit}"),
            "model_too_large",
            size=len(data),
            limit=max_bytes,
        )
    try:
        model = onnx.load_model_from_string(data)
    except Exception:  # protobuf raises several kinds on garbage
        raise _refuse(
            N_("the file is not an ONNX model (it cannot be parsed)"), "model_invalid"
        ) from None
    try:
        checker.check_model(model, full_check=False)
    except (checker.ValidationError, Exception) as error:
        # The checker's own words (English, from onnx) are quoted as they are.
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else "invalid"
        raise _refuse(
            N_("the ONNX checker refuses the model: {reason}"), "model_invalid", reason=first
        ) from None
    if _external(model.graph):
        raise _refuse(
            N_("the model refers to external data files; embed every tensor"),
            "model_external_data",
        )
    for opset in model.opset_import:
        allowed = ALLOWED_DOMAINS.get(opset.domain)
        if allowed is None:
            raise _refuse(
                N_(
                    "operator domain '{domain}' is not allowed (custom operators are refused; "
                    "allowed: ai.onnx, ai.onnx.ml)"
                ),
                "custom_operator",
                "model.opset_import",
                domain=opset.domain,
            )
        if not allowed[0] <= opset.version <= allowed[1]:
            raise _refuse(
                N_("opset {version} of domain '{domain}' is outside {low} to {high}"),
                "opset_not_allowed",
                "model.opset_import",
                version=opset.version,
                domain=opset.domain or "ai.onnx",
                low=allowed[0],
                high=allowed[1],
            )
    if model.functions:
        raise _refuse(
            N_("model-local functions are not accepted"), "custom_operator", "model.functions"
        )
    count = 0
    for node in _nodes(model.graph):
        count += 1
        if node.domain not in ALLOWED_DOMAINS:
            raise _refuse(
                N_(
                    "node '{node}' uses operator '{operator}' of domain '{domain}': custom "
                    "operators are refused"
                ),
                "custom_operator",
                f"model.graph.node[{node.name or node.op_type}]",
                node=node.name or node.op_type,
                operator=node.op_type,
                domain=node.domain,
            )
    if count > max_nodes:
        raise _refuse(
            N_("the model has {count} nodes; at most {limit}"),
            "model_too_large",
            count=count,
            limit=max_nodes,
        )
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise _refuse(
            N_("the model must take exactly one input (the feature table), not {count}"),
            "input_mismatch",
            "model.graph.input",
            count=len(inputs),
        )
    entry = inputs[0]
    elem = entry.type.tensor_type.elem_type
    where = f"model.graph.input[{entry.name}]"
    if elem != TensorProto.FLOAT:
        raise _refuse(
            N_("input '{name}' must be float32, not {type}"),
            "input_mismatch",
            where,
            name=entry.name,
            type=TensorProto.DataType.Name(elem),
        )
    dims = _dims(entry)
    if len(dims) != 2 or dims[1] != features or (dims[0] is not None and dims[0] > 0):
        shown = ", ".join("N" if d is None else str(d) for d in dims)
        raise _refuse(
            N_(
                "input '{name}' has shape [{shape}]; the benchmark's feature table is "
                "[N, {features}] (a dynamic first dimension, {features} features)"
            ),
            "input_mismatch",
            where,
            name=entry.name,
            shape=shown,
            features=features,
        )
    outputs = {o.name: o for o in model.graph.output}
    name = output or next(
        (o.name for o in model.graph.output if o.type.tensor_type.elem_type in SCORE_TYPES), None
    )
    if name is None or name not in outputs:
        raise _refuse(
            N_("no float output named '{name}' for the scores (outputs: {outputs})")
            if output
            else N_("no float output for the scores (outputs: {outputs})"),
            "output_mismatch",
            "model.graph.output",
            name=output or "",
            outputs=", ".join(outputs),
        )
    if outputs[name].type.tensor_type.elem_type not in SCORE_TYPES:
        raise _refuse(
            N_("output '{name}' is not a float tensor"),
            "output_mismatch",
            "model.graph.output",
            name=name,
        )
    return Checked(model=model, input_name=entry.name, output_name=name, nodes=count)
