"""The policy reaches data wherever it sits: resources inside resources, identifiers and
addresses at any depth, logical references, and every element R4 types as a date."""

import orjson
import pytest

from campus.warehouse import fhir
from campus.warehouse import policy as policies
from campus.warehouse.pseudonymise import Pseudonymiser, ResourceProblem
from tests.unit.warehouse.samples import INS_SYSTEM, NIR, observation, patient

KEY = b"k" * 32
SECRETS = ("Dupont-Secret", "Jeanne", NIR, "MRN-0001", "12 rue des Secrets", "Rouen", "+33 6")


def _apply(resource, patient_pseudonym="p"):
    pseudonymiser = Pseudonymiser(KEY, policies.default())
    pseudonymiser.apply(
        resource, patient_pseudonym, lambda r: None, lambda t, local, rewritten: None
    )
    return resource


def _leaks(resource) -> list[str]:
    text = orjson.dumps(resource).decode()
    return [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize(
    "carrier",
    [
        lambda p: {"resourceType": "Parameters", "id": "x", "parameter": [{"resource": p}]},
        lambda p: observation("o1", "Patient/pat-1", contained=[p]),
        lambda p: observation("o1", "Patient/pat-1", component=[{"extra": p}]),
        lambda p: observation("o1", "Patient/pat-1", code={"coding": [{"code": "x", "p": p}]}),
    ],
    ids=["parameters", "contained", "unknown-element", "inside-a-coding"],
)
def test_a_patient_inside_another_resource_loses_its_name_wherever_it_is(carrier):
    out = _apply(carrier(patient()))
    assert _leaks(out) == []
    assert "1984-05-17" not in orjson.dumps(out).decode()  # birthDate generalised


def test_a_bundle_inside_a_resource_or_contained_as_an_object_is_refused():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient()}]}
    with pytest.raises(ResourceProblem, match="Bundle inside a resource") as error:
        _apply(observation("o1", "Patient/pat-1", contained=[bundle]))
    assert error.value.where == "contained.[0]"
    with pytest.raises(ResourceProblem, match="contained must be a list") as error:
        _apply(observation("o1", "Patient/pat-1", contained=patient()))
    assert error.value.where == "contained"


def test_a_logical_reference_loses_its_identifier_value_and_its_display():
    subject = {"identifier": {"system": INS_SYSTEM, "value": NIR}, "display": "Jeanne Dupont"}
    resource = observation("o1", "Patient/pat-1")
    resource["subject"] = subject
    out = _apply(resource)
    assert out["subject"] == {"identifier": {"system": INS_SYSTEM}}


def test_identifiers_telecom_and_addresses_are_removed_at_any_depth():
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "AMB"},
        "hospitalization": {"preAdmissionIdentifier": {"system": "s", "value": "MRN-0001"}},
        "location": [
            {
                "location": {"reference": "Location/l1"},
                "extension": [
                    {"url": "u", "valueAddress": {"line": ["12 rue des Secrets"], "city": "Rouen"}}
                ],
            }
        ],
    }
    organisation = {
        "resourceType": "Organization",
        "id": "org",
        "name": "CHU de Normandie",
        "contact": [
            {
                "name": {"family": "Dupont-Secret"},
                "telecom": [{"value": "+33 6 1"}],
                "address": {"line": ["12 rue des Secrets"], "postalCode": "76000"},
            }
        ],
    }
    coverage = {
        "resourceType": "Coverage",
        "id": "c",
        "status": "active",
        "subscriberId": "MRN-0001",
        "beneficiary": {"reference": "Patient/pat-1"},
    }
    for resource in (encounter, organisation, coverage):
        assert _leaks(_apply(resource)) == []
    assert organisation["name"] == "CHU de Normandie"
    assert organisation["contact"][0]["address"] == {"postalCode": "76"}


def test_every_element_r4_types_as_a_date_is_checked_and_shifted():
    consent = {
        "resourceType": "Consent",
        "id": "c",
        "status": "active",
        "dateTime": "2020-03-01T10:00:00Z",
        "patient": {"reference": "Patient/pat-1"},
    }
    out = _apply(consent)
    assert out["dateTime"] != "2020-03-01T10:00:00Z"
    answer = {
        "resourceType": "QuestionnaireResponse",
        "id": "q",
        "status": "completed",
        "authored": "not a date",
    }
    with pytest.raises(ResourceProblem, match="not a valid FHIR date") as error:
        _apply(answer)
    assert error.value.where == "authored"
    # Timing.repeat.when lists codes, not dates; Signature.when is a date.
    timing = {"repeat": {"when": ["MORN", "EVE"]}, "event": ["2020-03-01"]}
    request = {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "intent": "order",
        "dosageInstruction": [{"timing": timing}],
    }
    out = _apply(request)
    assert out["dosageInstruction"][0]["timing"]["repeat"]["when"] == ["MORN", "EVE"]
    assert out["dosageInstruction"][0]["timing"]["event"] != ["2020-03-01"]
    assert fhir.is_date_key("receivedTime") and fhir.is_date_key("lastOccurrence")


def test_a_year_only_birth_date_stays_a_year():
    assert _apply({**patient(), "birthDate": "1980"}, None)["birthDate"] == "1980"


@pytest.mark.parametrize(
    "field, value, where",
    [
        ("subject", "Patient/pat-1", "subject"),
        ("basedOn", ["ServiceRequest/sr-1"], "basedOn.[0]"),
        ("performer", [{"actor": "Practitioner/dr-1"}], "performer.[0].actor"),
    ],
)
def test_a_reference_sent_as_a_text_is_refused_not_landed_with_its_source_id(field, value, where):
    with pytest.raises(ResourceProblem, match="a reference must be an object") as error:
        _apply({**observation("o1", "Patient/pat-1"), field: value})
    assert error.value.where == where


def test_texts_that_only_look_like_references_elsewhere_are_kept():
    resource = observation("o1", "Patient/pat-1")
    resource["meta"] = {"source": "urn:uuid:1234", "profile": ["StructureDefinition/bp"]}
    resource["valueString"] = "Patient/pat-1 was seen"
    out = _apply(resource)
    assert out["meta"]["profile"] == ["StructureDefinition/bp"]
