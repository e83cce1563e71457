"""A benchmark's definition: the task, the cohort and label, the feature table, the rules.

```yaml
title: Type 2 diabetes within 12 months
dataset: hopital-synthea
views:                                   # SQL-on-FHIR views, as in an analysis
  patients: {library: patient_demographics}
  conditions: {library: conditions}
cohort:                                  # an analysis cohort; the index date is required
  view: patients
  index_date: 2020-01-01
  birth_date: birth_date
label:                                   # 1 when every criterion holds, else 0
  - {view: conditions, column: code, op: in, value: ["44054006"],
     date_column: onset, within_days: [1, 365]}
features:                                # the model's input, in this order (float32)
  - {name: age, column: age_at_index}
  - {name: female, column: gender, op: eq, value: female}
  - {name: hypertension, criterion: {view: conditions, column: code, op: eq,
                                     value: "38341003", date_column: onset,
                                     within_days: [-3650, 0]}}
subgroups:                               # metrics by group, each over min_subgroup people
  - {name: sex, column: gender}
  - {name: age_band, column: age_at_index, width: 20}
min_subgroup: 20
```
The cohort, the label criteria and the features are checked by the analysis compiler's
rules (known views and columns, approved views and elements), so a benchmark reads no more
of the data than an analysis in the same approval could.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from campus.analysis import definition as analysis_definition
from campus.analysis.definition import Cohort, Criterion, Group, ViewRef
from campus.errors import BadRequest

MAX_FEATURES = 512
MAX_MODEL_BYTES = 100 * 1024 * 1024  # the ceiling a benchmark may set
MAX_TIME_LIMIT = 600
MAX_MEMORY_MB = 8192


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Feature(Strict):
    """One input column: a numeric cohort column, an indicator, or a criterion (1 or 0)."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    column: str | None = None
    op: str | None = None
    value: Any = None
    criterion: Criterion | None = None
    description: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _one(self) -> Feature:
        if (self.column is None) == (self.criterion is None):
            raise ValueError("give exactly one of 'column' or 'criterion'")
        if self.op is not None and self.column is None:
            raise ValueError("'op' applies to 'column'")
        return self

    def as_criterion(self) -> Criterion | None:
        """The criterion this feature tests (an indicator on a cohort column, or another view)."""
        if self.criterion is not None:
            return self.criterion
        if self.op is not None:
            return Criterion(column=self.column or "", op=self.op, value=self.value)  # type: ignore[arg-type]
        return None


class Subgroup(Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    column: str
    width: float | None = Field(default=None, gt=0, le=1e9)


class Limits(Strict):
    """What a submitted model may be and use; the runner enforces the time and memory."""

    # The API takes a model in a JSON body, which the web layer caps at 10 MB (base64: 4/3).
    max_model_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=MAX_MODEL_BYTES)
    time_limit_seconds: float = Field(default=60, gt=0, le=MAX_TIME_LIMIT)
    memory_mb: int = Field(default=2048, ge=256, le=MAX_MEMORY_MB)
    max_nodes: int = Field(default=20000, ge=1, le=1_000_000)


class BenchmarkDefinition(Strict):
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=5000)
    dataset: str = Field(min_length=1, max_length=64)
    version: str | None = Field(default=None, max_length=20)
    views: dict[str, ViewRef] = Field(min_length=1, max_length=20)
    cohort: Cohort
    label: list[Criterion] = Field(min_length=1, max_length=10)
    label_description: str = Field(default="", max_length=1000)
    features: list[Feature] = Field(min_length=1, max_length=MAX_FEATURES)
    subgroups: list[Subgroup] = Field(default_factory=list, max_length=10)
    min_subgroup: int = Field(default=20, ge=5, le=100000)
    bins: int = Field(default=20, ge=5, le=100)
    evaluations_per_family: int = Field(default=5, ge=1, le=50)
    limits: Limits = Field(default_factory=Limits)

    @model_validator(mode="after")
    def _shape(self) -> BenchmarkDefinition:
        if self.cohort.index_date is None:
            raise ValueError("cohort.index_date is required: a benchmark predicts at a date")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("feature names must be distinct")
        groups = [g.name for g in self.subgroups]
        if len(set(groups)) != len(groups):
            raise ValueError("subgroup names must be distinct")
        return self

    def analysis(self) -> analysis_definition.Analysis:
        """The same views, cohort and criteria as an analysis, so that the analysis rules
        (names, columns, scope, approved elements) check them; its outputs are never run."""
        outputs: list[dict[str, Any]] = [
            {"type": "counts", "name": "label", "event": [c.model_dump() for c in self.label]}
        ]
        for i, feature in enumerate(self.features):
            criterion = feature.as_criterion()
            if criterion is not None:
                outputs.append(
                    {"type": "counts", "name": f"f{i}", "event": [criterion.model_dump()]}
                )
            else:
                outputs.append({"type": "distribution", "name": f"f{i}", "column": feature.column})
        for i, group in enumerate(self.subgroups):
            outputs.append(
                {"type": "counts", "name": f"g{i}", "group_by": [group_of(group).model_dump()]}
            )
        return analysis_definition.parse(
            {
                "title": self.title,
                "dataset": self.dataset,
                **({"version": self.version} if self.version else {}),
                "views": {k: v.model_dump(exclude_none=True) for k, v in self.views.items()},
                "cohort": self.cohort.model_dump(exclude_none=True),
                "outputs": outputs,
            }
        )

    def schema(self) -> dict[str, Any]:
        """The feature table's documented schema: what the model receives."""
        return {
            "input": {"name": "features", "type": "float32", "shape": ["N", len(self.features)]},
            "columns": [
                {"index": i, "name": f.name, "description": f.description or _describe(f)}
                for i, f in enumerate(self.features)
            ],
            "output": "a score in [0, 1] per row (shape [N], [N, 1], or [N, 2] whose column 1 "
            "is the probability of the outcome)",
            "missing": "NaN when a numeric column has no value",
        }


def group_of(subgroup: Subgroup) -> Group:
    return Group(column=subgroup.column, width=subgroup.width)


def _describe(feature: Feature) -> str:
    criterion = feature.as_criterion()
    if criterion is None:
        return f"the value of {feature.column}"
    where = f" in view {criterion.view}" if criterion.view else ""
    days = (
        f" within {list(criterion.within_days)} days of the index date"
        if criterion.within_days
        else ""
    )
    return f"1 if {criterion.column} {criterion.op} {criterion.value!r}{where}{days}, else 0"


def parse(text: str | bytes | dict[str, Any]) -> BenchmarkDefinition:
    """Read a benchmark from JSON or YAML (or a dict); BadRequest says what and where."""
    data: Any = text
    if not isinstance(text, dict):
        if len(text) > analysis_definition.MAX_DEFINITION_BYTES:
            raise BadRequest("the benchmark definition is too large", code="definition_too_large")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            raise BadRequest(
                f"the benchmark is not valid YAML or JSON: {getattr(error, 'problem', error)}",
                code="definition_malformed",
                where=where,
            ) from None
    if not isinstance(data, dict):
        raise BadRequest(
            "the benchmark must be a mapping with title, dataset, views, cohort, label and "
            "features",
            code="definition_malformed",
        )
    try:
        benchmark = BenchmarkDefinition.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise BadRequest(
            f"{where or 'benchmark'}: {message}", code="definition_invalid", where=where or None
        ) from None
    benchmark.analysis()  # the analysis rules apply to its parts too
    return benchmark


def digest(benchmark: BenchmarkDefinition) -> str:
    canonical = json.dumps(benchmark.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
