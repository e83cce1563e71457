import pytest
from pydantic import SecretStr

from campus.errors import BadRequest
from campus.optout import service as optout
from campus.settings import Settings
from tests.unit.warehouse.samples import INS_SYSTEM, NIR, NIR_BODY


def _settings(key: str) -> Settings:
    return Settings(optout_key=SecretStr(key))


def test_a_nir_with_its_check_key_is_normalised_without_spaces_or_key():
    spaced = " ".join([NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]])
    assert optout.normalise_identifier("nir", spaced) == "nir:" + NIR_BODY


def test_a_wrong_check_key_is_refused_with_a_clear_message():
    wrong = NIR_BODY + f"{(int(NIR[13:]) % 97) + 1:02d}"
    with pytest.raises(BadRequest, match="check key"):
        optout.normalise_identifier("nir", wrong)


@pytest.mark.parametrize("department, substitute", [("2A", "19"), ("2B", "18")])
def test_corsican_departments_are_checked_with_their_numeric_substitute(department, substitute):
    body = f"28405{department}451089"
    key = 97 - int(body.replace(department, substitute)) % 97
    assert optout.normalise_identifier("nir", f"{body}{key:02d}") == f"nir:{body}"
    with pytest.raises(BadRequest):
        optout.normalise_identifier("nir", f"{body}{(key % 97) + 1:02d}")


@pytest.mark.parametrize("value", ["", "123", "9840576451089XX", "1840576451089"])
def test_malformed_nirs_are_refused(value):
    with pytest.raises(BadRequest):
        optout.normalise_identifier("nir", value)


def test_hospital_identifiers_need_a_system_and_a_value():
    assert optout.normalise_identifier("system", " urn:oid:1.2 | 42 ") == "urn:oid:1.2|42"
    for bad in ("42", "|42", "urn:oid:1.2|"):
        with pytest.raises(BadRequest, match="system\\|value"):
            optout.normalise_identifier("system", bad)
    with pytest.raises(BadRequest, match="unknown identifier kind"):
        optout.normalise_identifier("email", "a@b.c")


def test_the_key_is_a_keyed_hash_that_changes_with_the_secret():
    text = optout.normalise_identifier("nir", NIR)
    one = optout.optout_key(_settings("k" * 40), text)
    assert one == optout.optout_key(_settings("k" * 40), text)
    assert one != optout.optout_key(_settings("j" * 40), text)
    assert NIR_BODY not in one and len(one) == 64


def test_a_fhir_identifier_matches_both_as_nir_and_as_system_value():
    texts = optout.identifier_texts(INS_SYSTEM, NIR)
    assert texts == [f"{INS_SYSTEM}|{NIR}", "nir:" + NIR_BODY]
    assert optout.identifier_texts("urn:x", "") == []
