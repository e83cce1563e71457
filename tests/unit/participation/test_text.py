import pytest

from campus.errors import BadRequest, TooLarge
from campus.participation import text


def test_scripts_handlers_and_javascript_links_are_removed():
    cleaned = text.rich(
        '<p onclick="x()">Hello <script>alert(1)</script><a href="javascript:alert(1)">a</a>'
        '<a href="https://example.org">site</a><img src=x onerror=alert(1)></p>',
        field="body",
        minimum=1,
        maximum=100,
    )
    assert "script" not in cleaned and "onclick" not in cleaned and "onerror" not in cleaned
    assert "javascript:" not in cleaned and "<img" not in cleaned
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">site</a>' in cleaned


def test_plain_text_becomes_escaped_paragraphs():
    cleaned = text.rich("first & one\nline two\n\nsecond", field="body", minimum=1, maximum=100)
    assert cleaned == "<p>first &amp; one<br>line two</p><p>second</p>"


def test_lengths_count_visible_text_and_name_the_field():
    with pytest.raises(BadRequest) as short:
        text.rich("<p><strong></strong>ab</p>", field="body", minimum=5, maximum=100)
    assert short.value.where == "body" and "(il en a 2)" in short.value.message  # French by default
    with pytest.raises(TooLarge):
        text.rich("x" * 301, field="body", minimum=1, maximum=100)


def test_titles_are_one_line_plain_text_without_controls():
    assert text.plain(
        "  A\u0000 title\t with\u200b gaps ", field="title", minimum=1, maximum=50
    ) == ("A title with gaps")
    with pytest.raises(BadRequest) as error:
        text.plain("abc", field="title", minimum=5, maximum=50)
    assert error.value.where == "title"


def test_excerpt_cuts_on_visible_text():
    assert text.excerpt("<p>" + "word " * 100 + "</p>", 20).endswith("…")
    assert len(text.excerpt("<p>" + "word " * 100 + "</p>", 20)) == 20


def test_a_lone_less_than_sign_stays_plain_text():
    cleaned = text.rich("a < b\nand c > d", field="body", minimum=1, maximum=100)
    assert cleaned == "<p>a &lt; b<br>and c &gt; d</p>"
