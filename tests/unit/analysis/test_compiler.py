"""The analysis compiler and result checks over plain DuckDB tables (no warehouse needed)."""

import typing

import duckdb
import pytest

from campus.analysis import definition, results
from campus.analysis.compiler import NODES, UnknownNode, compile_analysis
from campus.errors import BadRequest

COLUMNS = {
    "patients": ["patient", "gender", "birth_date", "deceased"],
    "conditions": ["patient", "code", "onset"],
}


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE pt (patient VARCHAR, gender VARCHAR, birth_date VARCHAR, deceased VARCHAR)"
    )
    con.execute("CREATE TABLE co (patient VARCHAR, code VARCHAR, onset VARCHAR)")
    rows = []
    for i in range(60):
        gender = "female" if i % 2 else "male"
        born = f"{1940 + i % 40}-0{1 + i % 9}"
        died = f"2019-0{1 + i % 9}-15" if i % 3 == 0 else None
        rows.append((f"p{i}", gender, born, died))
    rows.append(("p-rare", "other", "1970-01", None))
    con.executemany("INSERT INTO pt VALUES (?, ?, ?, ?)", rows)
    cond = [(f"p{i}", "stroke", f"2015-0{1 + i % 9}-0{1 + i % 7}") for i in range(0, 60)]
    cond += [(f"p{i}", "stroke", "2016-01-01") for i in range(0, 60, 5)]  # second strokes
    cond += [(f"p{i}", "diabetes", "2010-01-01") for i in range(0, 20)]
    cond.append(("p-rare", "stroke", "2015-05-05"))
    con.executemany("INSERT INTO co VALUES (?, ?, ?)", cond)
    return con


def _analysis(**overrides):
    data = {
        "title": "test",
        "dataset": "ds",
        "views": {
            "patients": {"library": "patients", "patient": "patient"},
            "conditions": {"library": "conditions", "patient": "patient"},
        },
        "cohort": {
            "view": "patients",
            "index_date": {"view": "conditions", "column": "onset"},
            "birth_date": "birth_date",
            "include": [{"view": "conditions", "column": "code", "op": "eq", "value": "stroke"}],
        },
        "outputs": [{"type": "counts", "name": "by_gender", "group_by": ["gender"]}],
    }
    data.update(overrides)
    return definition.parse(data)


def _run(con, analysis, threshold=10, base=5):
    compiled = compile_analysis(
        analysis, {"patients": "SELECT * FROM pt", "conditions": "SELECT * FROM co"}, COLUMNS
    )
    return results.run(con, compiled, results.Controls(threshold=threshold, base=base))


def test_counts_by_group_are_suppressed_rounded_and_protected_by_secondary_suppression(con):
    out = _run(con, _analysis())
    table = out["tables"][0]
    rows = {r[0]: r[1] for r in table["rows"]}
    assert rows["other"] is None  # 1 person: primary suppression
    assert rows["male"] is None or rows["female"] is None  # secondary: total minus the rest
    assert rows["*"] == 60  # 61 rounded to base 5
    assert out["cohort"] == 60


def test_rates_age_bands_and_exclusions(con):
    analysis = _analysis(
        cohort={
            "view": "patients",
            "index_date": {"view": "conditions", "column": "onset"},
            "birth_date": "birth_date",
            "include": [{"view": "conditions", "column": "code", "op": "eq", "value": "stroke"}],
            "exclude": [{"column": "gender", "op": "eq", "value": "other"}],
        },
        outputs=[
            {
                "type": "counts",
                "name": "deaths",
                "group_by": ["gender"],
                "event": [{"column": "deceased", "op": "not_null"}],
            },
            {
                "type": "crosstab",
                "name": "age",
                "rows": "gender",
                "columns": {"column": "age_at_index", "width": 20},
            },
            {
                "type": "distribution",
                "name": "ages",
                "column": "age_at_index",
                "histogram": {"edges": [40, 60, 80]},
            },
        ],
    )
    out = _run(con, analysis, base=1)
    rate = out["tables"][0]
    assert rate["columns"] == ["gender", "count", "events", "rate"]
    total = next(r for r in rate["rows"] if r[0] == "*")
    assert total[1] == 60 and total[2] == 20 and total[3] == pytest.approx(1 / 3, abs=1e-3)
    crosstab = out["tables"][1]
    assert {r[1] for r in crosstab["rows"]} >= {"40–60", "60–80", "*"}
    quantiles, histogram = out["tables"][2], out["tables"][3]
    assert quantiles["rows"][0][0] == 60 and len(quantiles["rows"][0][1]) == 3
    assert [r[0] for r in histogram["rows"]][:4] == ["<40", "40–60", "60–80", "≥80"]


def test_time_to_event_gives_a_survival_curve_without_small_risk_sets(con):
    analysis = _analysis(
        outputs=[
            {
                "type": "time_to_event",
                "name": "survival",
                "event": {"view": "patients", "column": "deceased"},
                "censor": "2020-12-31",
                "interval_days": 365,
            }
        ]
    )
    table = _run(con, analysis)["tables"][0]
    survival = [r[-1] for r in table["rows"]]
    assert survival == sorted(survival, reverse=True) and survival[-1] < 1
    assert all(r[1] >= 10 for r in table["rows"])


def test_unknown_columns_are_named_with_their_path():
    analysis = _analysis(outputs=[{"type": "counts", "name": "x", "group_by": ["sex"]}])
    with pytest.raises(BadRequest) as caught:
        compile_analysis(analysis, {"patients": "", "conditions": ""}, COLUMNS)
    assert caught.value.where == "outputs[0].group_by[0]"
    assert "'sex'" in caught.value.message and "gender" in caught.value.message


def test_every_output_type_has_one_compile_function_and_its_check():
    (union, *_rest) = typing.get_args(definition.AnyOutput)
    assert set(NODES) == set(typing.get_args(union))


class Funnel(definition.Output):
    """An output type added to definitions and forgotten in the compiler."""

    type: typing.Literal["funnel"] = "funnel"


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_an_output_type_the_compiler_has_no_function_for_is_an_error_naming_it(dialect):
    analysis = _analysis()
    analysis.outputs.append(Funnel(name="steps"))
    views = {"patients": "SELECT * FROM pt", "conditions": "SELECT * FROM co"}
    with pytest.raises(UnknownNode, match=r"^outputs\[1\]: .* no function for Funnel nodes"):
        compile_analysis(analysis, views, COLUMNS, dialect)


def test_grouping_by_an_identifier_is_refused_as_row_level():
    analysis = _analysis(outputs=[{"type": "counts", "name": "x", "group_by": ["patient"]}])
    with pytest.raises(BadRequest) as caught:
        compile_analysis(analysis, {"patients": "", "conditions": ""}, COLUMNS)
    assert caught.value.code == "row_level_output"


def test_one_person_per_group_is_withheld_as_row_level(con):
    analysis = _analysis(outputs=[{"type": "counts", "name": "x", "group_by": ["birth_date"]}])
    con.execute("UPDATE pt SET birth_date = patient || '-x'")
    table = _run(con, analysis)["tables"][0]
    assert table["rows"] == [] and table["disclosure"]["withheld"]
    assert "row-level" in table["disclosure"]["notes"][0]


def test_an_empty_cohort_is_a_result_withheld_like_a_tiny_one(con):
    """Zero people and one person give the same outputs: nothing tells them apart."""

    def cohort_of(code):
        return _analysis(
            cohort={
                "view": "patients",
                "include": [{"view": "conditions", "column": "code", "op": "eq", "value": code}],
            },
            outputs=[
                {"type": "counts", "name": "by_gender", "group_by": ["gender"]},
                {"type": "distribution", "name": "d", "column": "birth_date"},
            ],
        )

    con.execute("INSERT INTO co VALUES ('p1', 'rare', '2015-01-01')")
    empty, one = _run(con, cohort_of("nothing")), _run(con, cohort_of("rare"))
    assert empty == one
    assert empty["cohort"] is None and all(t["rows"] == [] for t in empty["tables"])
    assert [t["columns"] for t in empty["tables"]] == [["gender", "count"], ["count", "quantiles"]]


@pytest.mark.parametrize(
    "text, where",
    [
        ("{not json", "line 1, column 2"),
        ("title: [unclosed", "line 1"),
        ("title: x\ndataset: d\nviews: {}\ncohort: {view: a}\noutputs: []", "views"),
        (
            "title: x\ndataset: d\nviews: {a: {library: a}}\ncohort: {view: a}\n"
            "outputs: [{type: distribution, name: q, column: c, quantiles: [0, 1]}]",
            "outputs[0].quantiles",
        ),
        (
            "title: x\ndataset: d\nviews: {a: {library: a}}\ncohort: {view: a}\n"
            "outputs: [{type: listing, name: q}]",
            "outputs[0]",
        ),
    ],
)
def test_malformed_definitions_are_refused_with_where(text, where):
    with pytest.raises(BadRequest) as caught:
        definition.parse(text)
    assert caught.value.where.startswith(where)


def test_a_patient_with_two_rows_in_the_cohort_view_is_counted_once_from_the_smallest_values():
    """Which row stands for a patient does not depend on the files' order (nor the engine)."""
    con = duckdb.connect(config={"threads": 1})
    con.execute(
        "CREATE TABLE pt (patient VARCHAR, gender VARCHAR, birth_date VARCHAR, deceased VARCHAR)"
    )
    con.execute("CREATE TABLE co (patient VARCHAR, code VARCHAR, onset VARCHAR)")
    rows = [(f"p{i}", gender, "1970-01", None) for i in range(12) for gender in ("male", "female")]
    con.executemany("INSERT INTO pt VALUES (?, ?, ?, ?)", rows)
    analysis = _analysis(cohort={"view": "patients", "index_date": "2020-01-01"})
    table = _run(con, analysis, threshold=2, base=1)["tables"][0]
    assert {r[0]: r[1] for r in table["rows"]} == {"female": 12, "*": 12}
