"""Every message of the evaluation package has its French translation, those written over
several lines included (the project's catalogue test reads one-line messages only), with
the same values in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from campus import i18n

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "campus" / "evaluation"


def _messages() -> set[str]:
    found = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("N_", "_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_evaluation_message_is_translated_with_the_same_values():
    french = i18n.catalogue("fr")
    messages = _messages()
    assert len(messages) > 40
    missing = sorted(m for m in messages if m not in french)
    assert missing == []
    values = re.compile(r"\{(\w*)\}")
    differ = [m for m in messages if sorted(values.findall(m)) != sorted(values.findall(french[m]))]
    assert differ == []
