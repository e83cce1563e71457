import pytest

from campus.auth.passwords import WeakPassword, hash_password, verify_password


def test_passwords_are_hashed_with_argon2id_and_verified():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong horse battery")


def test_missing_account_never_verifies():
    assert not verify_password(None, "anything at all")


def test_short_passwords_are_refused():
    with pytest.raises(WeakPassword):
        hash_password("short")
