"""The hand-written reader of relative references (`fhir.relative_reference`) against the
regular expression it replaces, kept here as its specification."""

import random
import re
from types import SimpleNamespace

import pytest

from campus.warehouse import fhir
from tests.unit.warehouse.test_compiled import _pure

_RELATIVE = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?")


def _specified(text: str) -> tuple[str, str] | None:
    match = _RELATIVE.fullmatch(text)
    return (match.group(1), match.group(2)) if match else None


def _texts(rng: random.Random) -> list[str]:
    templates = [
        "Patient/123",
        "Patient/a-b.c",
        "Observation/" + "x" * 64,
        "Observation/" + "x" * 65,
        "Patient/1/_history/2",
        "Patient/1/_history/",
        "Patient/1/_history/2/3",
        "Pa/1",
        "P/1",
        "patient/1",
        "Patient//1",
        "Patient/",
        "/1",
        "Patient/1\n",
        "Patient/é",
        "Patient/١",
    ]
    alphabet = "Pa1/-._hZz \nx"
    texts = []
    for template in templates:
        texts.append(template)
        for position in range(min(len(template), 24)):
            for char in alphabet:
                texts.append(template[:position] + char + template[position + 1 :])
            texts.append(template[:position] + template[position + 1 :])
    for _ in range(20_000):
        size = rng.randrange(0, 20)
        texts.append("".join(rng.choice(alphabet) for _ in range(size)))
    return texts


def _native_reader():
    """The native path's reference reader (native/textwalk.hpp), where it is built."""
    from campus.warehouse import worker

    if worker.NativeWalk is None:
        pytest.skip("the native path is not built")
    from campus.warehouse import textwalk

    def bare(text: str) -> bool:
        parts = textwalk.relative_reference(text)
        return parts is not None and parts[0] in fhir.RESOURCE_TYPES

    return SimpleNamespace(relative_reference=textwalk.relative_reference, is_bare_reference=bare)


@pytest.mark.parametrize("compiled", [True, False, "native"], ids=["compiled", "pure", "native"])
def test_relative_references_follow_the_specified_grammar(compiled):
    module = _native_reader() if compiled == "native" else None
    module = module or (fhir if compiled else _pure("campus.warehouse.fhir"))
    found = 0
    for text in _texts(random.Random(7)):
        expected = _specified(text)
        assert module.relative_reference(text) == expected, text
        assert module.is_bare_reference(text) == (
            expected is not None and expected[0] in fhir.RESOURCE_TYPES
        )
        found += expected is not None
    assert found > 500
