"""Bad views fail before anything runs, saying what is wrong and where (a JSON path)."""

import pytest

from campus.errors import BadRequest, TooLarge
from campus.views import service


def view(**changes):
    base = {
        "resourceType": "ViewDefinition",
        "resource": "Patient",
        "select": [{"column": [{"name": "id", "path": "getResourceKey()", "type": "id"}]}],
    }
    base.update(changes)
    return base


def column(**fields):
    return view(select=[{"column": [{"name": "c", "path": "id", **fields}]}])


def where_of(bad) -> tuple[str, str]:
    with pytest.raises(BadRequest) as caught:
        service.validate(bad)
    return caught.value.where, caught.value.message


def test_a_valid_view_lists_its_columns():
    described = service.describe(view())
    assert described["columns"] == [{"name": "id", "type": "id", "collection": False}]
    assert described["sql"].startswith("SELECT ")


@pytest.mark.parametrize(
    ("bad", "where", "words"),
    [
        ({}, "$", "needs a resource"),
        (view(resource="Patients"), "$.resource", "not a FHIR resource type"),
        (view(colour="blue"), "$.colour", "unknown element 'colour'"),
        (
            view(select=[{"column": [{"name": "c", "path": "id", "typ": "id"}]}]),
            "$.select[0].column[0].typ",
            "unknown element",
        ),
        (column(type="varchar"), "$.select[0].column[0].type", "unknown column type"),
        (column(collection="yes"), "$.select[0].column[0].collection", "true or false"),
        (
            view(select=[{"column": [{"name": "1c", "path": "id"}]}]),
            "$.select[0].column[0].name",
            "must start with a letter",
        ),
        (
            view(select=[{"column": [{"name": "c", "path": "name.("}]}]),
            "$.select[0].column[0].path",
            "character 6",
        ),
        (
            view(select=[{"forEach": 1, "column": [{"name": "c", "path": "id"}]}]),
            "$.select[0].forEach",
            "must be a FHIRPath expression",
        ),
        (
            view(select=[{"column": [{"name": "c", "path": "name.where(use = %nope)"}]}]),
            "$.select[0].column[0].path",
            "undefined constant %nope",
        ),
        (
            view(select=[{"column": [{"name": "c", "path": "name.descendants()"}]}]),
            "$.select[0].column[0].path",
            "descendants() is not supported",
        ),
        (
            view(select=[{"column": [{"name": "c", "path": "birthDate.ofType(date).year"}]}]),
            "$.select[0].column[0].path",
            "a date has no element 'year'",
        ),
        (
            view(select=[{"column": [{"name": "c", "path": "'a' + 1"}]}]),
            "$.select[0].column[0].path",
            "mixes text and integer",
        ),
        (
            column(path="id = 'x'", type="integer"),
            "$.select[0].column[0].type",
            "declared integer but its path gives a boolean",
        ),
        (view(where=[{"path": "'text'"}]), "$.where[0].path", "not a boolean"),
        (view(constant=[{"name": "k"}]), "$.constant[0]", "exactly one value[x]"),
        (
            view(
                select=[
                    {
                        "unionAll": [
                            {"column": [{"name": "a", "path": "id"}]},
                            {"column": [{"name": "b", "path": "id"}]},
                        ]
                    }
                ]
            ),
            "$.select[0].unionAll[1]",
            "same columns",
        ),
        (
            view(select=[{"column": [{"name": "a", "path": "id"}, {"name": "A", "path": "id"}]}]),
            "$.select[0].column[1].name",
            "used twice",
        ),
    ],
)
def test_bad_views_name_the_offending_path(bad, where, words):
    found_where, message = where_of(bad)
    assert found_where == where, message
    if words:
        assert words in message


def test_a_primitive_has_no_child_elements_when_its_type_is_known():
    """gender.given is not known to be wrong without a schema; ofType() makes it known."""
    _found_where, message = where_of(
        view(select=[{"column": [{"name": "c", "path": "gender.ofType(code).given"}]}])
    )
    assert "has no element 'given'" in message


def test_broken_json_says_line_and_column():
    with pytest.raises(BadRequest) as caught:
        service.load_json('{"resource": "Patient",\n  "select": [}')
    assert "line 2" in caught.value.message and caught.value.code == "invalid_json"


def test_enormous_views_are_refused_before_parsing():
    with pytest.raises(TooLarge):
        service.load_json("[" + "1," * 600_000 + "1]")
    many = [{"name": f"c{i}", "path": "id"} for i in range(2_100)]
    _found_where, message = where_of(view(select=[{"column": many}]))
    assert "split it" in message


def test_deep_nesting_is_refused():
    inner = {"column": [{"name": "c", "path": "id"}]}
    for _ in range(30):
        inner = {"select": [inner]}
    _found_where, message = where_of(view(select=[inner]))
    assert "nested more than" in message


def test_every_example_view_is_valid():
    library = service.library()
    assert set(library) >= {
        "patient_demographics",
        "encounters",
        "conditions",
        "observations",
        "medication_requests",
        "procedures",
        "immunizations",
    }
    for example in library.values():
        service.validate(example)
