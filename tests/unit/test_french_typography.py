"""French pages follow French typography: non-breaking spaces before two-part punctuation,
decimal commas, dates spelled in French, singular for 0 and 1."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from campus import i18n
from campus.web.templating import env, format_number, spelled_date


@pytest.fixture
def french():
    token = i18n.current_language.set("fr")
    yield
    i18n.current_language.reset(token)


@pytest.fixture
def english():
    token = i18n.current_language.set("en")
    yield
    i18n.current_language.reset(token)


def test_no_french_message_lets_a_line_start_with_a_colon_or_a_question_mark():
    loose = [t for t in i18n.catalogue("fr").values() if re.search(r" [:;!?](\s|$)", t)]
    assert loose == []


def test_typography_binds_the_punctuation_to_the_word_before_it():
    assert i18n.typography("Statut : ok ; vrai ? oui !") == (
        "Statut\u00a0: ok\u202f; vrai\u202f? oui\u202f!"
    )
    assert i18n.typography("a:b http://x 10:30") == "a:b http://x 10:30"


def test_numbers_take_a_decimal_comma_in_french_only(french):
    assert format_number(1234.5) == "1\u202f234,50"
    assert format_number(1234) == "1\u202f234"
    i18n.current_language.set("en")
    assert format_number(1234.5) == "1,234.50"


def test_dates_are_spelled_in_the_readers_language(french):
    when = dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.UTC)
    assert spelled_date(when) == "8 déc. 2026 à 14:00"
    i18n.current_language.set("en")
    assert spelled_date(when) == "8 Dec 2026, 14:00"


def test_zero_and_one_take_the_singular_in_french(french):
    template = env.from_string('{{ ngettext("%(num)s neutral", "%(num)s neutral", n) }}')
    assert [template.render(n=n) for n in (0, 1, 2)] == ["0 neutre", "1 neutre", "2 neutres"]


def test_english_keeps_the_message_ids(english):
    template = env.from_string('{{ ngettext("%(num)s neutral", "%(num)s neutral", n) }}')
    assert template.render(n=2) == "2 neutral"
    assert env.from_string("{{ _('Field') }}{{ colon() }}x").render() == "Field: x"
