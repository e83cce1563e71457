"""ofType() on an element that is not a choice filters its values (name.ofType(HumanName))."""

import io
import json

from campus.views import service
from campus.views.sources import file_source

VIEW = {
    "resourceType": "ViewDefinition",
    "resource": "Patient",
    "select": [
        {
            "column": [
                {"name": "id", "path": "id"},
                {"name": "family", "path": "name.ofType(HumanName).family", "collection": True},
                {"name": "first", "path": "name.ofType(HumanName).first().family"},
                {"name": "city", "path": "name.ofType(Address).city", "collection": True},
                {"name": "dead", "path": "deceased.ofType(boolean)"},
            ]
        }
    ],
}
PATIENTS = [
    {
        "resourceType": "Patient",
        "id": "a",
        "deceasedBoolean": False,
        "name": [{"family": "Dupont"}, {"family": "Durand"}],
    },
    {"resourceType": "Patient", "id": "b"},
]


def rows(tmp_path, view):
    path = tmp_path / "patients.ndjson"
    path.write_text("".join(json.dumps(p) + "\n" for p in PATIENTS))
    out = io.BytesIO()
    result = service.run_to_stream(view, file_source([path]), out, fmt="ndjson")
    return result, [json.loads(line) for line in out.getvalue().splitlines()]


def test_of_type_of_the_element_type_reads_the_element_itself(tmp_path):
    result, found = rows(tmp_path, VIEW)
    assert found == [
        {"id": "a", "family": ["Dupont", "Durand"], "first": "Dupont", "city": [], "dead": False},
        {"id": "b", "family": [], "first": None, "city": [], "dead": None},
    ]
    # The type the element cannot have gives nothing, and is said.
    assert [w["where"] for w in result.warnings] == ["$.select[0].column[3].path"]
