"""A call's application form and scoring grid: their definitions, and checks on what is typed.

A form is a list of fields `{key, label, type, required, choices, max_length, min, max}` with
type one of text, long_text, number, choice. A grid is a list of criteria `{key, label,
weight}`; reviewers give each criterion a whole score from 0 to 5.
"""

from __future__ import annotations

import math
import re
from typing import Any

from campus.errors import BadRequest
from campus.i18n import N_
from campus.text import clean_text

FIELD_TYPES = ("text", "long_text", "number", "choice")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
MAX_FIELDS = 30
MAX_CRITERIA = 20
MAX_CHOICES = 50
TEXT_LIMITS = {"text": 300, "long_text": 10000}
SCORE_MIN, SCORE_MAX = 0, 5
# A score typed as text: ASCII digits only ("²".isdigit() is true but int("²") fails), and few
# of them (int() refuses strings of more than 4,300 digits).
SCORE_TEXT = re.compile(r"^[0-9]{1,3}\Z")


def _key(value: Any, where: str, seen: set[str]) -> str:
    if not isinstance(value, str) or not KEY.match(value):
        raise BadRequest(
            N_("a key is 1 to 40 lowercase letters, digits or underscores, starting with a letter"),
            code="invalid_key",
            where=where,
        )
    if value in seen:
        raise BadRequest(N_("this key is used twice"), code="duplicate_key", where=where)
    seen.add(value)
    return value


def _number(value: Any, where: str) -> float:
    """A finite number as a float. NaN is refused as not a number, and a number beyond what a
    float holds (an infinity, or an integer such as 10**400) as out of range, naming `where`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(N_("this value must be a number"), code="invalid_type", where=where)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float: math.isfinite(int) raises the same
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        raise BadRequest(N_("this value must be a number"), code="invalid_type", where=where)
    if math.isinf(number):
        raise BadRequest(
            N_("this number is too large to be stored")
            if number > 0
            else N_("this negative number is too large to be stored"),
            code="out_of_range",
            where=where,
        )
    return number


def clean_fields(fields: Any) -> list[dict]:
    """Check a form definition; returns it normalised (every key present)."""
    if not isinstance(fields, list):
        raise BadRequest(N_("form fields must be a list"), code="invalid_type", where="form_fields")
    if len(fields) > MAX_FIELDS:
        raise BadRequest(N_("a form has 30 fields at most"), code="too_many", where="form_fields")
    seen: set[str] = set()
    cleaned = []
    for index, field in enumerate(fields):
        where = f"form_fields[{index}]"
        if not isinstance(field, dict):
            raise BadRequest(N_("each field must be an object"), code="invalid_type", where=where)
        kind = field.get("type")
        if kind not in FIELD_TYPES:
            raise BadRequest(
                N_("field type must be text, long_text, number or choice"),
                code="invalid_type",
                where=f"{where}.type",
            )
        item: dict[str, Any] = {
            "key": _key(field.get("key"), f"{where}.key", seen),
            "label": clean_text(
                field.get("label"), f"{where}.label", max_length=200, required=True
            ),
            "type": kind,
            "required": bool(field.get("required", False)),
        }
        if kind in TEXT_LIMITS:
            limit = field.get("max_length", TEXT_LIMITS[kind])
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10000:
                raise BadRequest(
                    N_("max_length must be a whole number from 1 to 10000"),
                    where=f"{where}.max_length",
                )
            item["max_length"] = limit
        elif kind == "number":
            for bound in ("min", "max"):
                if field.get(bound) is not None:
                    item[bound] = _number(field[bound], f"{where}.{bound}")
            if "min" in item and "max" in item and item["min"] > item["max"]:
                raise BadRequest(N_("min must not exceed max"), where=f"{where}.min")
        else:
            choices = field.get("choices")
            if not isinstance(choices, list) or not 1 <= len(choices) <= MAX_CHOICES:
                raise BadRequest(
                    N_("a choice field lists 1 to 50 choices"), where=f"{where}.choices"
                )
            item["choices"] = [
                clean_text(c, f"{where}.choices[{i}]", max_length=200, required=True)
                for i, c in enumerate(choices)
            ]
            if len(set(item["choices"])) != len(item["choices"]):
                raise BadRequest(N_("a choice is listed twice"), where=f"{where}.choices")
        cleaned.append(item)
    return cleaned


def clean_criteria(criteria: Any) -> list[dict]:
    """Check a scoring grid: 1 to 20 criteria with positive weights."""
    if not isinstance(criteria, list) or not 1 <= len(criteria) <= MAX_CRITERIA:
        raise BadRequest(
            N_("a scoring grid has 1 to 20 criteria"), code="invalid_criteria", where="criteria"
        )
    seen: set[str] = set()
    cleaned = []
    for index, criterion in enumerate(criteria):
        where = f"criteria[{index}]"
        if not isinstance(criterion, dict):
            raise BadRequest(N_("each criterion must be an object"), where=where)
        weight = _number(criterion.get("weight", 1), f"{where}.weight")
        if not 0 < weight <= 100:
            raise BadRequest(
                N_("a weight is above 0 and at most 100"),
                code="invalid_weight",
                where=f"{where}.weight",
            )
        cleaned.append(
            {
                "key": _key(criterion.get("key"), f"{where}.key", seen),
                "label": clean_text(
                    criterion.get("label"), f"{where}.label", max_length=200, required=True
                ),
                "weight": weight,
            }
        )
    return cleaned


def clean_answers(fields: list[dict], answers: Any) -> dict[str, Any]:
    """Check answers against a form: known keys only, required ones present, right types."""
    if not isinstance(answers, dict):
        raise BadRequest(N_("answers must be an object"), code="invalid_type", where="answers")
    known = {f["key"] for f in fields}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise BadRequest(
            N_("this question is not part of the form"),
            code="unknown_field",
            where=f"answers.{unknown[0]}"[:200],
        )
    cleaned: dict[str, Any] = {}
    for field in fields:
        key, where = field["key"], f"answers.{field['key']}"
        value = answers.get(key)
        if isinstance(value, str) and not value.strip():
            value = None
        if value is None:
            if field["required"]:
                raise BadRequest(N_("this question needs an answer"), code="required", where=where)
            continue
        if field["type"] in TEXT_LIMITS:
            if not isinstance(value, str):
                raise BadRequest(N_("this answer must be text"), code="invalid_type", where=where)
            cleaned[key] = clean_text(value, where, max_length=field["max_length"])
        elif field["type"] == "number":
            if isinstance(value, str):
                try:
                    value = float(value.replace(",", ".").replace("\u202f", "").replace(" ", ""))
                except ValueError:
                    raise BadRequest(
                        N_("this answer must be a number"), code="invalid_type", where=where
                    ) from None
            number = _number(value, where)
            if "min" in field and number < field["min"]:
                raise BadRequest(N_("this number is too small"), code="too_small", where=where)
            if "max" in field and number > field["max"]:
                raise BadRequest(N_("this number is too large"), code="too_large", where=where)
            cleaned[key] = int(number) if number.is_integer() else number
        else:
            if value not in field["choices"]:
                raise BadRequest(
                    N_("this answer is not one of the choices"), code="invalid_choice", where=where
                )
            cleaned[key] = value
    return cleaned


def clean_scores(criteria: list[dict], scores: Any) -> dict[str, int]:
    """Every criterion of the grid gets a whole score from 0 to 5; nothing else."""
    if not isinstance(scores, dict):
        raise BadRequest(N_("scores must be an object"), code="invalid_type", where="scores")
    keys = {c["key"] for c in criteria}
    unknown = sorted(set(scores) - keys)
    if unknown:
        raise BadRequest(
            N_("this criterion is not part of the grid"),
            code="unknown_criterion",
            where=f"scores.{unknown[0]}"[:200],
        )
    cleaned: dict[str, int] = {}
    for criterion in criteria:
        where = f"scores.{criterion['key']}"
        value = scores.get(criterion["key"])
        if isinstance(value, str) and SCORE_TEXT.match(value.strip()):
            value = int(value.strip())
        if value is None or value == "":
            raise BadRequest(N_("every criterion needs a score"), code="required", where=where)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(N_("a score is a whole number from 0 to 5"), where=where)
        if not SCORE_MIN <= value <= SCORE_MAX:
            raise BadRequest(
                N_("a score is a whole number from 0 to 5"), code="out_of_range", where=where
            )
        cleaned[criterion["key"]] = value
    return cleaned


def weighted(criteria: list[dict], scores: dict[str, int]) -> float | None:
    """The weighted mean of one review's scores, on the 0–5 scale."""
    total = sum(c["weight"] for c in criteria if c["key"] in scores)
    if not total:
        return None
    return round(
        sum(scores[c["key"]] * c["weight"] for c in criteria if c["key"] in scores) / total, 2
    )
