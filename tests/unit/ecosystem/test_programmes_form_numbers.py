"""Numbers in application forms and scoring grids: every bad one is a 400 naming its place."""

import math

import pytest

from campus.ecosystem.programmes import forms
from campus.errors import BadRequest

FIELDS = forms.clean_fields([{"key": "team", "label": "Team", "type": "number"}])
CRITERIA = forms.clean_criteria([{"key": "impact", "label": "Impact"}])


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (10**400, "out_of_range", "this number is too large to be stored"),
        (-(10**400), "out_of_range", "this negative number is too large to be stored"),
        (math.inf, "out_of_range", "this number is too large to be stored"),
        ("1e400", "out_of_range", "this number is too large to be stored"),
        (math.nan, "invalid_type", "this value must be a number"),
        ("nan", "invalid_type", "this value must be a number"),
    ],
    ids=["huge-int", "huge-negative-int", "infinity", "infinity-as-text", "nan", "nan-as-text"],
)
def test_an_answer_beyond_a_float_is_refused_naming_the_question(value, code, message):
    with pytest.raises(BadRequest) as refused:
        forms.clean_answers(FIELDS, {"team": value})
    assert (refused.value.where, refused.value.code) == ("answers.team", code)
    assert refused.value.message == message


def test_a_huge_integer_in_a_field_bound_or_a_weight_is_refused_naming_it():
    with pytest.raises(BadRequest) as bound:
        forms.clean_fields([{"key": "n", "label": "N", "type": "number", "max": 10**400}])
    assert bound.value.where == "form_fields[0].max" and bound.value.code == "out_of_range"
    with pytest.raises(BadRequest) as weight:
        forms.clean_criteria([{"key": "k", "label": "K", "weight": 10**400}])
    assert weight.value.where == "criteria[0].weight" and weight.value.code == "out_of_range"


def test_a_large_but_finite_integer_answer_is_kept():
    assert forms.clean_answers(FIELDS, {"team": 10**300}) == {"team": int(float(10**300))}


@pytest.mark.parametrize(
    "score", ["²", "9" * 5000, "-1", "4.0"], ids=["sup2", "long", "neg", "dot"]
)
def test_a_score_typed_as_odd_text_is_refused_naming_the_criterion(score):
    with pytest.raises(BadRequest) as refused:
        forms.clean_scores(CRITERIA, {"impact": score})
    assert refused.value.where == "scores.impact"


def test_a_score_typed_as_digits_is_read():
    assert forms.clean_scores(CRITERIA, {"impact": " 4 "}) == {"impact": 4}
