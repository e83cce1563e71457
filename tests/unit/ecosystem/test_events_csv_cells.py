"""Spreadsheet formula injection: every cell a spreadsheet could read as a formula is quoted."""

import pytest

from campus.ecosystem.events.stats import _cell


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "\n=1",
        " =1+1",
        "  @x",
        "\uff1d1+1",
        "\uff0b1",
    ],
)
def test_a_formula_lead_is_neutralised(value):
    assert _cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ana Lima", "ana@example.org", "", "Jean-Luc", "1 = 1"])
def test_plain_text_is_kept(value):
    assert _cell(value) == value
