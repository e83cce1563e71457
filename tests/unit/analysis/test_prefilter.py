import duckdb

from campus.analysis import definition
from campus.analysis.prefilter import prefilters

VIEWS = {
    "patients": {
        "resource": "Patient",
        "select": [{"column": [{"name": "patient_id", "path": "id"}]}],
    },
    "conditions": {
        "resource": "Condition",
        "select": [
            {
                "column": [
                    {"name": "patient_id", "path": "subject.getReferenceKey()"},
                    {"name": "code", "path": "code.coding.first().code"},
                    {"name": "tagged", "path": "'x-' + code.coding.first().code"},
                ]
            }
        ],
    },
}


def _analysis(include, outputs=None):
    return definition.parse(
        {
            "title": "t",
            "dataset": "d",
            "views": {"patients": {"library": "p"}, "conditions": {"library": "c"}},
            "cohort": {"view": "patients", "include": include},
            "outputs": outputs or [{"type": "counts", "name": "n"}],
        }
    )


def test_a_plain_criterion_gives_a_necessary_condition_that_keeps_every_matching_row():
    found = prefilters(
        _analysis([{"view": "conditions", "column": "code", "value": "I63.9"}]), VIEWS
    )
    condition = found["conditions"]
    con = duckdb.connect()
    con.execute("CREATE TABLE r (resource VARCHAR)")
    con.executemany(
        "INSERT INTO r VALUES (?)",
        [('{"code":{"coding":[{"code":"I63.9"}]}}',), ('{"code":{"coding":[{"code":"E11"}]}}',)],
    )
    kept = con.execute(f"SELECT resource FROM r WHERE {condition}").fetchall()
    assert kept == [('{"code":{"coding":[{"code":"I63.9"}]}}',)]


def test_no_shortcut_for_computed_columns_unsafe_text_or_unfiltered_uses():
    computed = _analysis([{"view": "conditions", "column": "tagged", "value": "x-I63"}])
    assert prefilters(computed, VIEWS) == {}
    quoted = _analysis([{"view": "conditions", "column": "code", "value": "a'b"}])
    assert prefilters(quoted, VIEWS) == {}
    also_unfiltered = _analysis(
        [{"view": "conditions", "column": "code", "value": "I63"}],
        [
            {
                "type": "counts",
                "name": "n",
                "event": [{"view": "conditions", "column": "code", "op": "not_null"}],
            }
        ],
    )
    assert prefilters(also_unfiltered, VIEWS) == {}
