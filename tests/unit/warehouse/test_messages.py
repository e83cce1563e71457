"""Problem messages: formatted in English from templates, shown translated on the report page."""

import re

import pytest

from campus import i18n
from campus.warehouse import messages


def _values(template: str) -> dict[str, str]:
    return {name: f"<{name}-{n}>" for n, name in enumerate(re.findall(r"\{(\w+)\}", template))}


def test_every_template_has_a_french_translation_with_the_same_values():
    french = i18n.catalogue("fr")
    assert len(messages.TEMPLATES) >= 38
    for template in messages.TEMPLATES:
        assert template in french, template
        assert sorted(_values(french[template])) == sorted(_values(template)), template


@pytest.mark.parametrize("template", messages.TEMPLATES)
def test_a_formatted_message_comes_back_in_french_with_its_values(template):
    values = _values(template)
    text = template.format(**values) if values else template
    french = i18n.catalogue("fr")[template]
    assert messages.translate(text) == (french.format(**values) if values else french)
    token = i18n.current_language.set("en")
    try:
        assert messages.translate(text) == text
    finally:
        i18n.current_language.reset(token)


def test_a_value_is_kept_as_the_parser_wrote_it_and_an_unknown_text_as_it_is():
    parser = "unexpected character: line 1 column 2 (char 1)"
    text = messages.NOT_JSON.format(error=parser)
    assert messages.translate(text) == f"JSON non valide\u00a0: {parser}"
    strict = "Input should be a valid string"  # the R4 models' own words, in strict mode
    assert messages.translate(strict) == strict


def test_the_two_conflict_messages_are_told_apart_by_line_or_entry():
    line = messages.CONFLICT_AT_LINE.format(
        type_name="Patient", count=2, file="a.ndjson", line=7, entry=None
    )
    entry = messages.CONFLICT_AT_ENTRY.format(
        type_name="Patient", count=2, file="b.json", line=None, entry=3
    )
    assert "(a.ndjson ligne 7)" in messages.translate(line)
    assert "(b.json entrée 3)" in messages.translate(entry)
