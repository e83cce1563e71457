"""Every path of a view is checked against the FHIR R4 elements of its resource."""

import pytest

from campus.errors import BadRequest
from campus.views import schema, service
from campus.views.definition import parse_view
from campus.views.navigation import check_navigation


def view(resource="Patient", **select):
    return {"resourceType": "ViewDefinition", "resource": resource, "select": [select]}


def columns(*paths, resource="Patient", **select):
    cols = [{"name": f"c{i}", "path": p} for i, p in enumerate(paths)]
    return view(resource, column=cols, **select)


def refused(bad) -> tuple[str, str]:
    with pytest.raises(BadRequest) as caught:
        service.validate(bad)
    return caught.value.where, caught.value.message


@pytest.mark.parametrize(
    ("bad", "where", "message"),
    [
        (
            columns("id", "colour"),
            "$.select[0].column[1].path",
            "Patient has no element 'colour' (in 'colour')",
        ),
        (
            columns("Patient.colour"),
            "$.select[0].column[0].path",
            "Patient has no element 'colour'",
        ),
        (
            columns("name.famly"),
            "$.select[0].column[0].path",
            "HumanName has no element 'famly'; did you mean 'family'?",
        ),
        (
            columns("contact.name.famly"),
            "$.select[0].column[0].path",
            "HumanName has no element 'famly'; did you mean 'family'?",
        ),
        (
            columns("contact.relation", resource="Patient"),
            "$.select[0].column[0].path",
            "PatientContact has no element 'relation'; did you mean 'relationship'?",
        ),
        (
            columns("given", forEach="name.where(use = 'official')"),
            "$.select[0].column[0].path",
            # given is an element of HumanName: this one is fine, the next case is not.
            None,
        ),
        (
            columns("family", forEach="name.where(usage = 'official')"),
            "$.select[0].forEach",
            "HumanName has no element 'usage'",
        ),
        (
            columns("family", forEachOrNull="names"),
            "$.select[0].forEachOrNull",
            "Patient has no element 'names'; did you mean 'name'?",
        ),
        (
            columns("name.exists(famly = 'x')"),
            "$.select[0].column[0].path",
            "HumanName has no element 'famly'",
        ),
        (
            {**columns("id"), "where": [{"path": "deceased.ofType(boolean) or alive"}]},
            "$.where[0].path",
            "Patient has no element 'alive'",
        ),
        (
            columns("id", unionAll=[{"column": [{"name": "x", "path": "telecom.valu"}]}]),
            "$.select[0].unionAll[0].column[0].path",
            "ContactPoint has no element 'valu'; did you mean 'value'?",
        ),
        (
            columns("value.ofType(Quantity).units", resource="Observation"),
            "$.select[0].column[0].path",
            "Quantity has no element 'units'; did you mean 'unit'?",
        ),
        (
            columns("valueQuantity.units", resource="Observation"),
            "$.select[0].column[0].path",
            "Quantity has no element 'units'",
        ),
        (
            columns("value.ofType(Address)", resource="Observation"),
            "$.select[0].column[0].path",
            "value cannot be a Address",
        ),
        (
            columns("extension('http://example.org/x').value.ofType(Coding).cod"),
            "$.select[0].column[0].path",
            "Coding has no element 'cod'; did you mean 'code'?",
        ),
        (
            columns("birthDate.extension.urll"),
            "$.select[0].column[0].path",
            "Extension has no element 'urll'; did you mean 'url'?",
        ),
        (
            columns("birthDate.value"),
            "$.select[0].column[0].path",
            "a date has no element 'value'",
        ),
        (
            columns("contained.ofType(Practitioner).qualification.cod"),
            "$.select[0].column[0].path",
            "PractitionerQualification has no element 'cod'; did you mean 'code'?",
        ),
        (
            columns("Subject.getReferenceKey(Patient)", resource="Observation"),
            "$.select[0].column[0].path",
            "Observation has no element 'Subject'; did you mean 'subject'?",
        ),
        (
            columns("linkId", resource="QuestionnaireResponse", repeat=["item", "answer.items"]),
            "$.select[0].repeat[1]",
            "has no element 'items'; did you mean 'item'?",
        ),
    ],
)
def test_a_path_into_an_element_fhir_does_not_define_is_refused(bad, where, message):
    if message is None:
        service.validate(bad)
        return
    found_where, found = refused(bad)
    assert found_where == where
    assert message in found


@pytest.mark.parametrize(
    ("resource", "paths", "select"),
    [
        ("Patient", ["contact.name.family", "contact.relationship.coding.code"], {}),
        ("Patient", ["deceased.ofType(boolean)", "deceasedDateTime", "birthDate.id"], {}),
        ("Patient", ["multipleBirth.ofType(integer)", "name.given.extension.url"], {}),
        ("Patient", ["link.other.getReferenceKey(Patient)", "getResourceKey()"], {}),
        ("Patient", ["meta.lastUpdated", "text.div", "implicitRules", "modifierExtension.url"], {}),
        ("Patient", ["contained.ofType(Patient).name.family", "contained.id"], {}),
        ("Observation", ["value.ofType(Quantity).value", "valueCodeableConcept.text"], {}),
        ("Observation", ["component.value.ofType(Quantity).unit", "effective.ofType(Period)"], {}),
        ("Observation", ["code.coding.where(system = %sys).code"], {}),
        ("Observation", ["value.ofType(Range).low.value - value.ofType(Range).high.value"], {}),
        ("Observation", ["valueQuantity as Quantity", "(value as Quantity).unit"], {}),
        (
            "Observation",
            ["$this.code.text", "%rowIndex", "interpretation.text"],
            {"forEach": "component"},
        ),
        ("Coverage", ["class.value", "class.type.text"], {}),
        (
            "QuestionnaireResponse",
            ["linkId", "answer.value.ofType(string)"],
            {"repeat": ["item", "answer.item"]},
        ),
        ("Bundle", ["resource.ofType(Patient).gender", "resource.whatever"], {"forEach": "entry"}),
    ],
)
def test_paths_fhir_defines_pass(resource, paths, select):
    definition = {
        **columns(*paths, resource=resource, **select),
        "constant": [{"name": "sys", "valueString": "http://loinc.org"}],
    }
    service.validate(definition)


def test_after_a_result_of_unknown_type_the_rest_is_not_judged():
    # count() gives an integer, not a FHIR element: the compiler, not this check, refuses it.
    check_navigation(parse_view(columns("name.count().whatever", "%sys.whatever")))


@pytest.mark.parametrize("resource", ["DeviceUsage", "Evidence"])
def test_a_resource_the_r4_models_lack_or_rewrote_is_not_judged(resource):
    # DeviceUsage is R5 only; R4B rewrote Evidence: their R4 elements are not in the models.
    service.validate(columns("anything.at.all", resource=resource))


def test_unknown_elements_are_warnings_unless_strict_each_with_its_place_and_suggestion():
    bad = columns("id", "name.famly", "colour")
    checked = service.check(bad)
    assert [(w.where, w.message) for w in checked.warnings] == [
        (
            "$.select[0].column[1].path",
            "HumanName has no element 'famly'; did you mean 'family'? (in 'name.famly')",
        ),
        ("$.select[0].column[2].path", "Patient has no element 'colour' (in 'colour')"),
    ]
    assert checked.definition.resource == "Patient"
    with pytest.raises(BadRequest, match="did you mean 'family'"):
        service.check(bad, strict=True)


def test_an_element_the_resource_lacks_in_a_repeat_is_one_warning_not_a_refusal():
    # The suite's repeat case: the specification gives the empty result at run time.
    bad = columns("linkId", resource="QuestionnaireResponse", repeat=["item", "answer.items"])
    warnings = service.check(bad).warnings
    assert [w.where for w in warnings] == ["$.select[0].repeat[1]"]
    assert "did you mean 'item'?" in warnings[0].message
    with pytest.raises(BadRequest):
        service.check(bad, strict=True)


def test_a_valid_view_has_no_warnings():
    assert service.check(service.library()["encounters"]).warnings == []


def test_compile_sql_checks_a_view_given_as_json():
    with pytest.raises(BadRequest, match="no element 'colour'"):
        service.compile_sql(columns("colour"), tables={"Patient": "patients"})


@pytest.mark.parametrize("name", sorted(service.library()))
def test_every_library_view_passes_the_check(name):
    service.validate(service.library()[name])


def test_the_element_index_reads_the_fhir_models():
    observation = schema.elements("Observation")
    assert observation is not None
    assert observation["value"].choice and "Quantity" in observation["value"].types
    assert observation["valueQuantity"].types == ("Quantity",)
    assert observation["component"].is_list
    assert observation["component"].types == ("ObservationComponent",)
    assert not observation["subject"].is_list
    patient = schema.elements("Patient")
    assert patient is not None
    assert patient["contained"].types == ("Resource",) and patient["contained"].is_list
    assert patient["birthDate"].types == ("date",)
    assert patient["active"].types == ("boolean",)
    assert {"id", "meta", "implicitRules", "language", "text", "extension"} <= set(patient)
    assert set(schema.elements("date") or ()) == {"id", "extension"}
    assert schema.elements("Coverage")["class"].types == ("CoverageClass",)  # type: ignore[index]
    assert schema.elements("Resource") is None
    assert schema.elements("NoSuchType") is None
