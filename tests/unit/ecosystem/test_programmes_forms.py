import pytest

from campus.ecosystem.programmes import forms
from campus.errors import BadRequest

FIELDS = forms.clean_fields(
    [
        {"key": "pitch", "label": "Pitch", "type": "long_text", "required": True},
        {"key": "team", "label": "Team", "type": "number", "min": 1, "max": 100},
        {"key": "stage", "label": "Stage", "type": "choice", "choices": ["seed", "A"]},
        {"key": "site", "label": "Site", "type": "text", "max_length": 10},
    ]
)
CRITERIA = forms.clean_criteria(
    [{"key": "impact", "label": "Impact", "weight": 3}, {"key": "team", "label": "Team"}]
)


def test_definitions_are_normalised_with_defaults():
    assert FIELDS[0]["max_length"] == forms.TEXT_LIMITS["long_text"]
    assert FIELDS[1]["min"] == 1.0 and FIELDS[1]["required"] is False
    assert CRITERIA[1]["weight"] == 1.0


def test_answers_are_cleaned_and_numbers_parsed_in_french_style():
    answers = forms.clean_answers(
        FIELDS, {"pitch": "  <b>Projet</b>\x00 ", "team": "12,0", "stage": "seed", "site": ""}
    )
    assert answers == {"pitch": "<b>Projet</b>", "team": 12, "stage": "seed"}


@pytest.mark.parametrize(
    "answers, where",
    [
        ({"pitch": "   "}, "answers.pitch"),
        ({"pitch": "x", "team": True}, "answers.team"),
        ({"pitch": "x", "team": "1e999"}, "answers.team"),
        ({"pitch": "x", "team": 101}, "answers.team"),
        ({"pitch": "x", "site": "x" * 11}, "answers.site"),
        ({"pitch": "x", "stage": "B"}, "answers.stage"),
        ({"pitch": "x", "<script>": "y"}, "answers.<script>"),
    ],
)
def test_bad_answers_name_the_question(answers, where):
    with pytest.raises(BadRequest) as refused:
        forms.clean_answers(FIELDS, answers)
    assert refused.value.where == where


def test_scores_cover_every_criterion_with_whole_numbers_from_0_to_5():
    assert forms.clean_scores(CRITERIA, {"impact": "4", "team": 0}) == {"impact": 4, "team": 0}
    for bad in ({"impact": 4}, {"impact": 4.5, "team": 1}, {"impact": -1, "team": 1}):
        with pytest.raises(BadRequest):
            forms.clean_scores(CRITERIA, bad)


def test_the_weighted_mean_uses_the_weights():
    assert forms.weighted(CRITERIA, {"impact": 5, "team": 1}) == 4.0
    assert forms.weighted(CRITERIA, {}) is None


def test_duplicate_keys_and_empty_choice_lists_are_refused():
    with pytest.raises(BadRequest) as refused:
        forms.clean_fields(
            [
                {"key": "a", "label": "A", "type": "text"},
                {"key": "a", "label": "B", "type": "text"},
            ]
        )
    assert refused.value.where == "form_fields[1].key"
    with pytest.raises(BadRequest):
        forms.clean_fields([{"key": "a", "label": "A", "type": "choice", "choices": []}])
