"""Federated logistic regression (the idea of DataSHIELD's `ds.glm`), declared, no code.

A federated job whose one output is `type: logistic_regression` fits
logit P(event) = b0 + b1·x1 + ... by Newton-Raphson run at the centre. At each iteration the
centre signs one task per node carrying the current coefficients; each node computes, on its
real cohort with the same engine as any task (DuckDB, its opt-outs applied), only the sums
that the step needs: the score (gradient of the log-likelihood), the information matrix
(minus its Hessian), the deviance and its number of rows. The centre adds them up, takes the
step, and issues the next round until the step is under the tolerance.

```yaml
outputs:
  - type: logistic_regression
    name: married
    event: [{column: marital_status, op: eq, value: M}]   # the outcome: criteria, as a rate's
    covariates: [age_at_index, {column: gender, levels: [female]}]   # levels: 0/1 indicators
    tolerance: 1.0e-8        # stop when no coefficient moves more (default)
    max_iterations: 25
```

**The minimum-cell rule, at each node, on each contribution**: a node sends nothing but
`{"withheld": true}` when its complete cases number fewer than its disclosure threshold, or
its events or non-events do, or either level (0 or 1) of a binary covariate does (a declared
level or a 0/1 column), or when it has fewer than 1/0.37 rows per coefficient (DataSHIELD's
`nfilter.glm`). With one patient, or one woman, the score and information at the first
coefficients are that person's values (tests/integration/federation/test_regression.py).
The flag says which rule held, never the count.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from campus.analysis import definition as analysis_definition
from campus.analysis.compiler import COHORT, literal
from campus.analysis.definition import Analysis, Criterion, Strict
from campus.analysis.disclosure import round_to
from campus.errors import BadRequest, CampusError
from campus.federation import statistics
from campus.i18n import N_

KIND = "logistic_regression"
INTERCEPT = "(intercept)"
COLUMNS = ["term", "coefficient", "standard_error", "ci_low", "ci_high", "odds_ratio"]
ROWS_PER_PARAMETER = 1 / 0.37  # DataSHIELD's nfilter.glm: parameters at most 0.37 n
Z95 = 1.959963984540054
MAX_VALUE = 1e15


class Covariate(Strict):
    """A numeric column of the cohort view, or with `levels` one 0/1 indicator per level
    (any other value is the reference)."""

    column: str
    levels: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=20
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> Covariate:
        analysis_definition._name(self.column, "column")
        if self.levels is not None and len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be distinct")
        return self


class LogisticRegression(Strict):
    type: Literal["logistic_regression"]
    name: str
    event: list[Criterion] = Field(min_length=1, max_length=20)
    covariates: list[Covariate] = Field(default_factory=list, max_length=20)
    tolerance: float = Field(default=1e-8, gt=0, le=1e-3)
    max_iterations: int = Field(default=25, ge=1, le=100)

    @field_validator("name")
    @classmethod
    def _output_name(cls, value: str) -> str:
        return analysis_definition._name(value, "output name")

    def terms(self) -> list[str]:
        out = [INTERCEPT]
        for covariate in self.covariates:
            levels = covariate.levels
            out += (
                [covariate.column]
                if levels is None
                else [f"{covariate.column}={v}" for v in levels]
            )
        return out


# --- the definition ---------------------------------------------------------------------------


def _load(text: str | bytes | dict[str, Any]) -> Any:
    """The definition as data, or None when it cannot be read (the analysis parser then says
    why, with where)."""
    if isinstance(text, dict):
        return text
    if len(text) > analysis_definition.MAX_DEFINITION_BYTES:
        return None
    try:
        return yaml.safe_load(text)
    except Exception:  # any unreadable text is reported by the parser, with where
        return None


def split(
    text: str | bytes | dict[str, Any],
) -> tuple[str | bytes | dict[str, Any], LogisticRegression | None]:
    """(what the analysis checks read, the model): a definition without a logistic regression
    comes back as it is; with one, the model and its stand-in for the analysis checks (the
    outcome's criteria as a rate's, each covariate as a distribution's column), so that the
    views, columns, scope and approved elements are checked as for any job."""
    data = _load(text)
    outputs = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(outputs, list) or not any(
        isinstance(o, dict) and o.get("type") == KIND for o in outputs
    ):
        return text, None
    if len(outputs) > 1:
        raise BadRequest(
            "outputs: a logistic regression is a job of its own; ask the other outputs in "
            "another job",
            code="definition_invalid",
            where="outputs[1]" if outputs[0].get("type") == KIND else "outputs[0]",
        )
    if data.get("privacy") is not None:
        raise BadRequest(
            "privacy: differential privacy does not cover a logistic regression; remove privacy",
            code="dp_unsupported",
            where="privacy",
        )
    try:
        model = LogisticRegression.model_validate(outputs[0])
    except ValidationError as error:
        first = error.errors()[0]
        where = "outputs[0]." + analysis_definition._path(first.get("loc", ()))
        where = where.rstrip(".")
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise BadRequest(f"{where}: {message}", code="definition_invalid", where=where) from None
    stand_in = [
        {
            "type": "counts",
            "name": model.name,
            "event": [c.model_dump(mode="json", exclude_none=True) for c in model.event],
        },
        *(
            {"type": "distribution", "name": f"covariate_{j}", "column": c.column, "quantiles": []}
            for j, c in enumerate(model.covariates)
        ),
    ]
    return dict(data) | {"outputs": stand_in}, model


def _relocate(text: str) -> str:
    """A stand-in output's path as the user wrote it: outputs[j+1] is covariates[j]."""
    return re.sub(
        r"outputs\[(\d+)\]",
        lambda m: (
            m.group(0) if m.group(1) == "0" else f"outputs[0].covariates[{int(m.group(1)) - 1}]"
        ),
        text,
    )


@contextlib.contextmanager
def located() -> Iterator[None]:
    """Refusals of the stand-in's checks, with the paths of the regression as written."""
    try:
        yield
    except CampusError as error:
        if isinstance(error.where, str):
            error.where = _relocate(error.where)
        error.message = _relocate(error.message)
        error.args = (error.message,)
        raise


def parse(text: str | bytes | dict[str, Any]) -> tuple[Analysis, LogisticRegression | None]:
    """The analysis (the stand-in for a regression) and the model, if any."""
    checked, model = split(text)
    if model is None:
        return analysis_definition.parse(checked), None
    with located():
        return analysis_definition.parse(checked), model


def model_of(definition: dict[str, Any]) -> LogisticRegression | None:
    """The model of a stored federated job's definition, if it is a regression."""
    outputs = definition.get("outputs") or []
    if outputs and outputs[0].get("type") == KIND:
        return LogisticRegression.model_validate(outputs[0])
    return None


def stored(analysis: Analysis, model: LogisticRegression) -> dict[str, Any]:
    """The definition as kept and signed: the checked analysis with the model as output."""
    return analysis.model_dump(mode="json", exclude_none=True) | {
        "outputs": [model.model_dump(mode="json", exclude_none=True)]
    }


# --- at the node ------------------------------------------------------------------------------


def contribution(
    analysis: Analysis,
    model: LogisticRegression,
    coefficients: list[float],
    *,
    warehouse: Path,
    optout_keys: set[str],
    threshold: int,
) -> dict[str, Any]:
    """This node's score, information, deviance and n at `coefficients`, or `{"withheld":
    true}` when a cell is under the threshold (nothing else leaves then)."""
    width = len(model.terms())
    if len(coefficients) != width:
        raise ValueError(f"{width} coefficients expected")
    with statistics.cohort(analysis, warehouse=warehouse, optout_keys=optout_keys) as (
        backend,
        compiler,
    ):
        outcome = " AND ".join(compiler._condition(c, "c") for c in model.event)
        xs: list[str] = []
        present: list[str] = []
        binary: list[bool] = []  # declared indicators are binary whatever the data
        for covariate in model.covariates:
            column = compiler._cohort_column(covariate.column)
            if covariate.levels is None:
                xs.append(f"TRY_CAST({column} AS DOUBLE)")
                present.append(f"{xs[-1]} IS NOT NULL")
                binary.append(False)
                continue
            present.append(f"{column} IS NOT NULL")
            for level in covariate.levels:
                xs.append(
                    f"CASE WHEN CAST({column} AS VARCHAR) = {literal(level)} THEN 1.0 ELSE 0.0 END"
                )
                binary.append(True)
        columns = ["1.0 AS x0", *(f"{x} AS x{j + 1}" for j, x in enumerate(xs))]
        rows = f"SELECT CASE WHEN coalesce({outcome}, FALSE) THEN 1.0 ELSE 0.0 END AS y, " + (
            ", ".join(columns) + f" FROM {COHORT} c WHERE {' AND '.join(present) or 'TRUE'}"
        )
        eta = " + ".join(f"CAST({b!r} AS DOUBLE) * x{j}" for j, b in enumerate(coefficients))
        # p without overflow on either side; log(1 + e^eta) likewise.
        p = "CASE WHEN eta >= 0 THEN 1 / (1 + exp(-eta)) ELSE exp(eta) / (1 + exp(eta)) END"
        softplus = "(greatest(eta, 0) + ln(1 + exp(-abs(eta))))"
        cells = [f"sum(x{j + 1})" for j in range(width - 1)]
        others = [f"count(*) FILTER (WHERE x{j + 1} NOT IN (0, 1))" for j in range(width - 1)]
        score = [f"sum((y - p) * x{j})" for j in range(width)]
        info = [f"sum(p * (1 - p) * x{j} * x{k})" for j in range(width) for k in range(j, width)]
        (found,) = backend.rows(
            f"WITH d AS ({rows}), e AS (SELECT *, {eta} AS eta FROM d), "
            f"f AS (SELECT *, {p} AS p FROM e) SELECT "
            + ", ".join(
                [
                    "count(*)",
                    "coalesce(sum(y), 0)",
                    *cells,
                    *others,
                    *score,
                    *info,
                    f"-2 * sum(y * eta - {softplus})",
                ]
            )
            + " FROM f"
        )
    n, events = int(found[0]), int(found[1])
    ones = [float(v or 0) for v in found[2 : 2 + width - 1]]
    not_binary = found[2 + width - 1 : 2 + 2 * (width - 1)]
    small = [n, events, n - events]
    for j, is_binary in enumerate(binary):
        if is_binary or (not not_binary[j] and n):
            small += [int(ones[j]), n - int(ones[j])]
    if min(small) < threshold or n < ROWS_PER_PARAMETER * width:
        return {"withheld": True}
    values = [float(v or 0) for v in found[2 + 2 * (width - 1) :]]
    gradient, flat, deviance = values[:width], values[width:-1], values[-1]
    hessian = [[0.0] * width for _ in range(width)]
    cursor = 0
    for j in range(width):
        for k in range(j, width):
            hessian[j][k] = hessian[k][j] = flat[cursor]
            cursor += 1
    return {"n": n, "deviance": deviance, "gradient": gradient, "hessian": hessian}


# --- at the centre ----------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > MAX_VALUE
    ):
        raise BadRequest(f"{where}: a finite number", code="bad_answer", where=where)
    return float(value)


def check_answer(model: LogisticRegression, answer: Any) -> dict[str, Any]:
    """A node's contribution reduced to exactly n, deviance, gradient and Hessian of the
    model's size (or the withheld flag), or BadRequest saying where."""
    if answer == {"withheld": True}:
        return answer
    width = len(model.terms())
    if not isinstance(answer, dict) or set(answer) != {"n", "deviance", "gradient", "hessian"}:
        raise BadRequest(
            "answer: send exactly n, deviance, gradient and hessian (or withheld)",
            code="bad_answer",
            where="answer",
        )
    n = answer["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise BadRequest("answer.n: a positive integer", code="bad_answer", where="answer.n")
    gradient, hessian = answer["gradient"], answer["hessian"]
    if not isinstance(gradient, list) or len(gradient) != width:
        raise BadRequest(
            f"answer.gradient: {width} numbers", code="bad_answer", where="answer.gradient"
        )
    if not isinstance(hessian, list) or len(hessian) != width:
        raise BadRequest(
            f"answer.hessian: {width} rows of {width} numbers",
            code="bad_answer",
            where="answer.hessian",
        )
    for i, row in enumerate(hessian):
        if not isinstance(row, list) or len(row) != width:
            raise BadRequest(
                f"answer.hessian[{i}]: {width} numbers",
                code="bad_answer",
                where=f"answer.hessian[{i}]",
            )
    return {
        "n": n,
        "deviance": _number(answer["deviance"], "answer.deviance"),
        "gradient": [_number(v, f"answer.gradient[{i}]") for i, v in enumerate(gradient)],
        "hessian": [
            [_number(v, f"answer.hessian[{i}][{j}]") for j, v in enumerate(row)]
            for i, row in enumerate(hessian)
        ],
    }


def newton(
    coefficients: list[float], answers: list[dict[str, Any]]
) -> tuple[list[float], float, list[list[float]]] | None:
    """One Newton-Raphson step from the summed score and information: (the new coefficients,
    the largest change, the covariance at `coefficients`), or None when the information is
    singular (a covariate constant, or collinear with others)."""
    score = np.sum([a["gradient"] for a in answers], axis=0)
    information = np.sum([a["hessian"] for a in answers], axis=0)
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(covariance)) or np.linalg.cond(information) > 1e12:
        return None
    step = covariance @ score
    beta = np.asarray(coefficients) + step
    return [float(b) for b in beta], float(np.max(np.abs(step))), covariance.tolist()


def _round(value: float, digits: int = 8) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def result(
    model: LogisticRegression,
    coefficients: list[float],
    covariance: list[list[float]],
    *,
    n: int,
    iterations: int,
    threshold: int,
    base: int,
) -> dict[str, Any]:
    """The released shape: per term the coefficient, its standard error, the 95% Wald
    interval and the odds ratio; n rounded."""
    rows = []
    for j, term in enumerate(model.terms()):
        b, se = coefficients[j], math.sqrt(max(covariance[j][j], 0.0))
        odds = math.exp(b) if abs(b) < 700 else math.inf
        rows.append(
            [
                term,
                _round(b),
                _round(se),
                _round(b - Z95 * se),
                _round(b + Z95 * se),
                float(f"{odds:.8g}") if math.isfinite(odds) else None,
            ]
        )
    note = (
        f"logistic regression by Newton-Raphson over the nodes' scores and information "
        f"matrices, converged in {iterations} iteration(s); every node had at least "
        f"{threshold} rows, events, non-events and rows of each level of a binary covariate; "
        "n rounded"
    )
    return {
        "cohort": round_to(n, base),
        "iterations": iterations,
        "converged": True,
        "pooled": True,
        "tables": [
            {
                "name": model.name,
                "kind": KIND,
                "columns": COLUMNS,
                "rows": rows,
                "disclosure": {
                    "threshold": threshold,
                    "rounding_base": base,
                    "withheld": False,
                    "notes": [note],
                },
            }
        ],
    }


WITHHELD = N_("withheld: a node's contribution is under its minimum cell size")
SINGULAR = N_("withheld: the information matrix is singular (a covariate constant or collinear)")
DIVERGED = N_("withheld: no convergence within max_iterations (separation, or too few iterations)")


def withheld(model: LogisticRegression, why: str, *, threshold: int, base: int) -> dict[str, Any]:
    """A result with nothing published, and why (for the output checkers)."""
    return {
        "cohort": None,
        "converged": False,
        "pooled": True,
        "tables": [
            {
                "name": model.name,
                "kind": KIND,
                "columns": COLUMNS,
                "rows": [],
                "disclosure": {
                    "threshold": threshold,
                    "rounding_base": base,
                    "withheld": True,
                    "notes": [why],
                },
            }
        ],
    }


def next_payload(payload: dict[str, Any], coefficients: list[float]) -> dict:
    """The next round's task for a node: the same signed fields, new coefficients."""
    rest = {k: v for k, v in payload.items() if k != "task"}
    return rest | {
        "round": int(payload.get("round", 0)) + 1,
        "coefficients": coefficients,
        "issued_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def pinned_version(folder: Path, job: str, dataset: str, found: str | None) -> str | None:
    """The dataset version a node reads for every round of one job: the first round's (one
    file per job and dataset, so that two nodes sharing a var folder keep their own)."""
    safe = re.fullmatch(r"[A-Za-z0-9_-]{1,64}", job) and re.fullmatch(r"[a-z0-9-]{1,64}", dataset)
    if not safe:
        return found
    path = folder / f"{job}.{dataset}.json"
    if path.is_file():
        return json.loads(path.read_text())["version"]
    if found is not None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(json.dumps({"version": found}))
    return found
