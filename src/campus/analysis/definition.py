"""The declarative analysis: views, a cohort, and aggregate outputs (JSON or YAML).

```yaml
title: Stroke patients by sex
dataset: hopital-synthea
views:
  patients: {library: patient_demographics}   # patient key column: patient_id (default)
  strokes: {library: conditions}
cohort:
  view: patients
  index_date: {view: strokes, column: onset, first: true}   # or a column / ISO date
  birth_date: birth_date                                     # derives age_at_index
  include: [{view: strokes, column: code, op: in, value: ["230690007"]}]
  exclude: [{column: gender, op: is_null}]
outputs:
  - {type: counts, name: by_sex, group_by: [gender]}
  - {type: distribution, name: age, column: age_at_index, quantiles: [0.25, 0.5, 0.75]}
  - {type: crosstab, name: sex_by_age, rows: gender, columns: {column: age_at_index, width: 20}}
  - {type: time_to_event, name: survival, event: {view: patients, column: deceased_date_time},
     censor: "2024-12-31"}
```
Only aggregates can be asked for: every output type is a grouped count or a summary.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from campus.errors import BadRequest

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
MAX_DEFINITION_BYTES = 256 * 1024
Scalar = str | int | float | bool
Op = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "between",
    "is_null",
    "not_null",
    "starts_with",
]


OTHER = "other"  # the group of values outside a group's declared levels
MAX_DEPTH = 64  # nesting of a definition (inline ViewDefinitions included)
MAX_INT = 2**63 - 1  # integers in criteria fit DuckDB's BIGINT


class Strict(BaseModel):
    # No NaN or infinity anywhere: a width, an edge or a value must be a real number.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ValueError(f"{what} {value!r} must be letters, digits and '_' (not first digit)")
    return value


class ViewRef(Strict):
    """A view the analysis reads: a library view by name, a saved view by its key (with, once
    submitted, the definition saved under it), or an inline ViewDefinition."""

    library: str | None = None
    saved: str | None = None
    view: dict[str, Any] | None = None
    patient: str = "patient_id"

    @model_validator(mode="after")
    def _one_source(self) -> ViewRef:
        # A saved view may carry its definition (checked against its key); a library one
        # never does.
        sources = [self.library, self.saved if self.saved is not None else self.view]
        if sum(s is not None for s in sources) != 1:
            raise ValueError(
                "give exactly one of 'library' (a library view name), 'saved' (a saved view's "
                "key) or 'view'"
            )
        if self.saved is not None and not re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", self.saved):
            raise ValueError(f"saved view key {self.saved!r} is not valid")
        if self.library is not None and not re.match(r"^[a-z0-9][a-z0-9_-]{0,62}$", self.library):
            raise ValueError(f"library view name {self.library!r} is not valid")
        _name(self.patient, "patient column")
        return self


class Criterion(Strict):
    """A typed predicate on a column of the cohort view, or of another view (then: exists)."""

    column: str
    op: Op = "eq"
    value: Scalar | list[Scalar] | None = None
    view: str | None = None
    within_days: tuple[int, int] | None = Field(
        default=None, description="Only rows of `view` dated within [from, to] days of index."
    )
    date_column: str | None = None

    @field_validator("value")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        kinds = {_kind(v) for v in values if v is not None}
        if len(kinds) > 1:
            raise ValueError(
                f"the values must all be of one type, not a mix of {', '.join(sorted(kinds))}"
            )
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_INT:
                raise ValueError(f"integer values must lie within ±{MAX_INT}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Criterion:
        _name(self.column, "column")
        if self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(f"op {self.op} takes no value")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"op {self.op} needs a non-empty list as value")
        elif self.op == "between":
            if not isinstance(self.value, list) or len(self.value) != 2:
                raise ValueError("op between needs a list of two values [low, high]")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs one value")
        if self.within_days is not None:
            if self.view is None or self.date_column is None:
                raise ValueError("within_days needs 'view' and its 'date_column'")
            if self.within_days[0] > self.within_days[1]:
                raise ValueError("within_days must be [from, to] with from <= to")
            if max(abs(d) for d in self.within_days) > 36500:
                raise ValueError("within_days must lie within ±36500 days")
        return self


class IndexDate(Strict):
    """The index date: a date column of a view (first or last dated row per patient)."""

    column: str
    view: str | None = None
    first: bool = True


class Cohort(Strict):
    view: str
    index_date: IndexDate | str | None = None
    include: list[Criterion] = Field(default_factory=list)
    exclude: list[Criterion] = Field(default_factory=list)
    birth_date: str | None = Field(
        default=None, description="Column of the cohort view; derives `age_at_index`."
    )

    @field_validator("index_date", mode="before")
    @classmethod
    def _index(cls, value: Any) -> Any:
        if isinstance(value, str) and not _is_iso_date(value):
            return {"column": value}
        return value


class Group(Strict):
    """A group-by column, optionally banded (numbers by width, dates by year or month)."""

    column: str
    width: float | None = Field(default=None, gt=0, le=1e9)
    part: Literal["year", "month"] | None = None
    levels: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The groups to publish, declared: any other value counts as 'other' "
        "(needed under differential privacy, so that no label comes from the data).",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> Group:
        _name(self.column, "column")
        if self.width is not None and self.part is not None:
            raise ValueError("give 'width' or 'part', not both")
        if self.levels is not None and len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be distinct")
        if self.levels is not None and OTHER in self.levels:
            raise ValueError(f"{OTHER!r} is the group of undeclared values: do not list it")
        return self


class Output(Strict):
    name: str

    @field_validator("name")
    @classmethod
    def _output_name(cls, value: str) -> str:
        return _name(value, "output name")


class Counts(Output):
    """Counts by group; with `event`, the rate of cohort members meeting the event criteria."""

    type: Literal["counts"]
    group_by: list[Group] = Field(default_factory=list, max_length=3)
    event: list[Criterion] | None = None


class Histogram(Strict):
    edges: list[Annotated[float, Field(ge=-1e12, le=1e12)]] = Field(min_length=2, max_length=101)

    @field_validator("edges")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("histogram edges must increase strictly")
        return value


class Distribution(Output):
    """Quantiles (strictly between 0 and 1: never a minimum or maximum) and a histogram."""

    type: Literal["distribution"]
    column: str
    group_by: list[Group] = Field(default_factory=list, max_length=1)
    quantiles: list[float] = Field(default_factory=lambda: [0.25, 0.5, 0.75], max_length=19)
    histogram: Histogram | None = None

    @field_validator("quantiles")
    @classmethod
    def _inner(cls, value: list[float]) -> list[float]:
        for q in value:
            if not 0.05 <= q <= 0.95:
                raise ValueError(
                    "quantiles must lie between 0.05 and 0.95: extremes reveal single people"
                )
        return value


class Crosstab(Output):
    type: Literal["crosstab"]
    rows: Group
    columns: Group


class Event(Strict):
    """When the event happens: the first date in `column` of `view` after the index date."""

    view: str
    column: str
    where: list[Criterion] = Field(default_factory=list)


class TimeToEvent(Output):
    """A Kaplan-Meier curve from index date to event, censored at `censor` or the horizon."""

    type: Literal["time_to_event"]
    event: Event
    censor: str | None = Field(
        default=None, description="An ISO date (end of follow-up) or a date column."
    )
    group_by: list[Group] = Field(default_factory=list, max_length=1)
    interval_days: int = Field(default=30, ge=1, le=3650)
    horizon_days: int = Field(default=1825, ge=1, le=36500)


AnyOutput = Annotated[Counts | Distribution | Crosstab | TimeToEvent, Field(discriminator="type")]


class Privacy(Strict):
    """Optional differential privacy on counts: the epsilon this job spends in all."""

    epsilon: float = Field(gt=0, le=10)
    mechanism: Literal["laplace", "gaussian"] = "laplace"


class Analysis(Strict):
    title: str = Field(min_length=1, max_length=200)
    dataset: str
    version: str | None = None
    views: dict[str, ViewRef] = Field(min_length=1, max_length=20)
    cohort: Cohort
    outputs: list[AnyOutput] = Field(min_length=1, max_length=30)
    privacy: Privacy | None = None

    @field_validator("views")
    @classmethod
    def _view_names(cls, value: dict[str, ViewRef]) -> dict[str, ViewRef]:
        for name in value:
            _name(name, "view name")
        return value

    @model_validator(mode="after")
    def _references(self) -> Analysis:
        names = [o.name for o in self.outputs]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"output names must be unique: {', '.join(duplicated)}")
        return self


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "booleans"
    return "numbers" if isinstance(value, int | float) else "texts"


def _check_depth(data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH, saying where (iteratively: no recursion)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(
                f"the analysis is nested more than {MAX_DEPTH} levels deep",
                code="definition_malformed",
                where=where or "analysis",
            )
        if isinstance(node, dict):
            stack.extend(
                (v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in node.items()
            )
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(node))


def _is_iso_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse(text: str | bytes | dict[str, Any], fmt: str = "auto") -> Analysis:
    """Read an analysis from JSON or YAML text (or a dict); BadRequest says what and where."""
    if isinstance(text, dict):
        data: Any = text
    else:
        if len(text) > MAX_DEFINITION_BYTES:
            raise BadRequest(
                f"the analysis file is larger than {MAX_DEFINITION_BYTES // 1024} KiB",
                code="definition_too_large",
            )
        raw = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
        try:
            if fmt == "json" or (fmt == "auto" and raw.lstrip().startswith("{")):
                data = json.loads(raw)
            else:
                data = yaml.safe_load(raw)
        except json.JSONDecodeError as error:
            raise BadRequest(
                f"the analysis is not valid JSON: {error.msg}",
                code="definition_malformed",
                where=f"line {error.lineno}, column {error.colno}",
            ) from None
        except (RecursionError, MemoryError):
            raise BadRequest(
                f"the analysis is nested more than {MAX_DEPTH} levels deep",
                code="definition_malformed",
                where="analysis",
            ) from None
        except ValueError as error:  # e.g. an integer of more than 4300 digits
            raise BadRequest(
                f"the analysis holds a value that cannot be read: {error}",
                code="definition_malformed",
                where="analysis",
            ) from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            raise BadRequest(
                f"the analysis is not valid YAML: {getattr(error, 'problem', None) or error}",
                code="definition_malformed",
                where=where,
            ) from None
    if not isinstance(data, dict):
        raise BadRequest(
            "the analysis must be a mapping with title, dataset, views, cohort and outputs",
            code="definition_malformed",
        )
    _check_depth(data)
    try:
        return Analysis.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = _path(first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        more = len(error.errors()) - 1
        raise BadRequest(
            f"{where or 'analysis'}: {message}"
            + (f" (and {more} more problem(s))" if more else ""),
            code="definition_invalid",
            where=where,
        ) from None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("counts", "distribution", "crosstab", "time_to_event", "str", "IndexDate"):
            continue  # discriminator / union tags
        else:
            out += ("." if out else "") + str(part)
    return out
