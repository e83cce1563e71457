import copy

import pytest

from campus.errors import BadRequest
from campus.warehouse import policy as policies
from campus.warehouse.pseudonymise import Pseudonymiser, ResourceProblem, Target
from tests.unit.warehouse.samples import observation, patient

KEY = b"k" * 32


def _resolve(reference):
    return Target("Patient", "pat-1") if reference == "urn:uuid:pat-1" else None


def _apply(resource, policy=None, patient_pseudonym="p", key=KEY):
    pseudonymiser = Pseudonymiser(key, policy or policies.default())
    seen = []
    pseudonymiser.apply(
        resource, patient_pseudonym, _resolve, lambda t, local, rewritten: seen.append(t)
    )
    return resource, seen, pseudonymiser


def test_default_policy_removes_direct_identifiers_and_keeps_clinical_facts():
    out, _, pz = _apply(patient(), patient_pseudonym=None)
    assert "name" not in out and "telecom" not in out and "text" not in out
    assert all("value" not in identifier for identifier in out["identifier"])
    assert {i["system"] for i in out["identifier"]} >= {"urn:oid:1.2.250.1.213.1.4.8"}
    assert out["address"] == [{"postalCode": "76"}]
    assert out["birthDate"] == "1984-05"
    assert out["gender"] == "female"
    assert out["id"] == pz.pseudonym("Patient", "pat-1") and len(out["id"]) == 32


def test_references_and_dates_are_rewritten_consistently():
    out, seen, pz = _apply(observation("obs-1", "urn:uuid:pat-1", "Encounter/enc-9"))
    assert out["subject"]["reference"] == "Patient/" + pz.pseudonym("Patient", "pat-1")
    assert out["encounter"]["reference"] == "Encounter/" + pz.pseudonym("Encounter", "enc-9")
    assert Target("Encounter", "enc-9") in seen
    assert "note" not in out
    days = pz.shift_days("p")
    assert days != 0 and abs(days) <= 365
    assert out["effectiveDateTime"] != "2020-03-01T10:05:00+01:00"
    assert out["effectiveDateTime"].endswith("T10:05:00+01:00")
    second, _, _ = _apply(observation("obs-2", "urn:uuid:pat-1"))
    assert second["effectiveDateTime"] == out["effectiveDateTime"]  # same patient, same offset


def test_the_offset_differs_between_patients_and_keys_and_can_be_turned_off():
    pz = Pseudonymiser(KEY, policies.default())
    offsets = {pz.shift_days(f"patient-{n}") for n in range(50)}
    assert len(offsets) > 20
    assert Pseudonymiser(b"x" * 32, policies.default()).pseudonym("Patient", "a") != pz.pseudonym(
        "Patient", "a"
    )
    out, _, _ = _apply(
        observation("o", "urn:uuid:pat-1"), policies.default().with_date_shift(False)
    )
    assert out["effectiveDateTime"] == "2020-03-01T10:05:00+01:00"


def test_reference_display_is_removed_because_it_often_holds_a_name():
    resource = observation("o", "urn:uuid:pat-1")
    resource["performer"] = [{"reference": "urn:uuid:pat-1", "display": "Dr Secret"}]
    out, _, _ = _apply(resource)
    assert "display" not in out["performer"][0]


@pytest.mark.parametrize(
    "change, path",
    [
        ({"effectiveDateTime": "2020-02-30"}, "effectiveDateTime"),
        ({"effectiveDateTime": 20200101}, "effectiveDateTime"),
        ({"subject": {"reference": "not a reference"}}, "subject.reference"),
        ({"subject": {"reference": "urn:uuid:nowhere"}}, "subject.reference"),
        ({"subject": {"reference": 42}}, "subject.reference"),
        (
            {"component": [{"extension": [{"valueDateTime": "yesterday"}]}]},
            "component.[0].extension.[0].valueDateTime",
        ),
    ],
)
def test_structural_problems_name_the_element_path(change, path):
    resource = observation("o", "urn:uuid:pat-1")
    resource.update(change)
    with pytest.raises(ResourceProblem) as raised:
        _apply(resource)
    assert raised.value.where == path


def test_deeply_nested_objects_are_refused_not_recursed_forever():
    resource = observation("o", "urn:uuid:pat-1")
    node = resource
    for _ in range(500):
        node["extension"] = [{"url": "x"}]
        node = node["extension"][0]
    with pytest.raises(ResourceProblem, match="nested"):
        _apply(resource)


def test_contained_resources_follow_their_own_type_rules_and_keep_local_ids():
    resource = observation("o", "urn:uuid:pat-1")
    resource["contained"] = [copy.deepcopy(patient("1"))]
    resource["subject"] = {"reference": "#1"}
    out, _, _ = _apply(resource)
    assert out["subject"]["reference"] == "#1"
    assert out["contained"][0]["id"] == "1" and "name" not in out["contained"][0]


def test_a_custom_policy_can_hash_keep_or_generalise_paths():
    custom = policies.parse(
        {
            "name": "study",
            "dateShift": {"enabled": True, "maxDays": 30},
            "rules": [
                {"path": "Patient.identifier.value", "action": "cryptoHash"},
                {"path": "Patient.birthDate", "action": "keep"},
            ],
        }
    )
    out, _, pz = _apply(patient(), custom, patient_pseudonym="p")
    assert out["birthDate"] == "1984-05-17"
    assert out["identifier"][1]["value"] == pz.hash_value("MRN-0001")
    assert out["name"][0]["family"] == "Dupont-Secret"  # this custom policy keeps names


@pytest.mark.parametrize(
    "data, where",
    [
        ([], "policy"),
        ({"rules": [{"path": "Patient.name", "action": "scramble"}]}, "rules[0]"),
        ({"rules": [{"path": "Nope.name", "action": "redact"}]}, "rules[0]"),
        ({"rules": [{"path": "Patient.id", "action": "keep"}]}, "rules[0]"),
        ({"dateShift": {"enabled": True, "maxDays": 0}}, "dateShift.maxDays"),
        ({"colour": "blue"}, "policy"),
    ],
)
def test_bad_policies_are_refused_naming_the_element(data, where):
    with pytest.raises(BadRequest) as raised:
        policies.parse(data)
    assert raised.value.where == where


def test_the_policy_digest_changes_with_any_rule():
    base = policies.default()
    assert base.digest == policies.default().digest
    assert base.with_date_shift(False).digest != base.digest


@pytest.mark.parametrize("key", [b"", b"k" * 32, b"p" * 40, b"x" * 64, bytes(range(100))])
def test_the_keyed_hash_is_hmac_sha256(key):
    import hmac

    pz = Pseudonymiser(key, policies.default())
    for message in (b"", b"Patient/pat-1", b"value|" + b"\xc3\xa9" * 80):
        assert pz._hmac(message) == hmac.digest(key, message, "sha256")
    assert pz.pseudonym("Patient", "a") == hmac.digest(key, b"Patient/a", "sha256")[:16].hex()


@pytest.mark.parametrize("url", [["a"], {"b": 1}, 3, None])
def test_an_extension_whose_url_is_not_a_text_is_matched_by_no_rule_and_does_not_crash(url):
    maiden = {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"}
    resource = patient()
    resource["extension"] = [{**maiden, "valueString": "Durand"}, {"url": url, "valueCode": "x"}]
    out, _, _ = _apply(resource)
    assert out["extension"] == [{"url": url, "valueCode": "x"}]
