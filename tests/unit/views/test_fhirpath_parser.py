import pytest

from campus.views.fhirpath import FhirPathSyntaxError, ast, parse


def test_operators_bind_by_fhirpath_precedence():
    tree = parse("a = 1 and b or c")
    assert isinstance(tree, ast.Binary) and tree.op == "or"
    assert tree.left.op == "and" and tree.left.left.op == "="


def test_paths_functions_indexers_constants_and_literals_parse():
    tree = parse("name[%i].where(use = 'official').family.first()")
    assert isinstance(tree, ast.Call) and tree.name == "first"
    member = tree.target
    assert isinstance(member, ast.Member) and member.name == "family"
    assert parse("@2020-01-02T10:00:00Z").type == "dateTime"
    assert parse("@T12:30").type == "time"
    assert parse("1.50").value == parse("1.5").value and parse("1.50").text == "1.50"
    assert parse("`div`").name == "div"
    assert parse("'it\\'s'").value == "it's"
    assert parse("{}").type == "empty"


@pytest.mark.parametrize(
    ("text", "position"),
    [("@@", 0), ("name.", 5), ("name.where(use = ", 17), ("a +* b", 3), ("(a", 2), ("", 0)],
)
def test_syntax_errors_name_the_character(text, position):
    with pytest.raises(FhirPathSyntaxError) as caught:
        parse(text)
    assert caught.value.pos == position


def test_quantities_are_refused_rather_than_misread():
    with pytest.raises(FhirPathSyntaxError, match="quantity"):
        parse("value > 5 'mg'")


def test_absurdly_long_or_deep_expressions_are_refused():
    with pytest.raises(FhirPathSyntaxError, match="longer"):
        parse("a." * 6000 + "b")
    with pytest.raises(FhirPathSyntaxError, match="deeply"):
        parse("(" * 200 + "a" + ")" * 200)
