"""Checking and withdrawing an objection with its receipt, and nothing else: the receipt
speaks of its own filing only, so nobody without it learns whether a person objected (or is
in any dataset), even knowing the person's NIR; the check is throttled like the form."""

from __future__ import annotations

import re

from campus.optout import service as optout
from tests.helpers import CampusClient, audit_events

RECEIPT = re.compile(r"OPT-[0-9A-F]{16}")


def nir(body: str) -> str:
    """A NIR with its check key (13 digits + 2)."""
    return f"{body}{97 - int(body) % 97:02d}"


VICTIM_WHO_OBJECTED = nir("2840575123456")
VICTIM_WHO_DID_NOT = nir("1910269123789")


def _receipt_of(page_text: str) -> str:
    return RECEIPT.search(page_text).group(0)


def _blank(text: str) -> str:
    """An answer with its receipt numbers and dates blanked (they differ by design)."""
    text = RECEIPT.sub("OPT-X", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "DAY", text)
    return re.sub(r"\b\d{1,2} \w+ \d{4}\b", "DAY", text)  # "7 décembre 2026"


def _registered(db, settings, value: str) -> bool:
    with db.session() as session:
        return optout.is_registered(session, settings, "nir", value)


def test_a_person_checks_then_withdraws_their_objection_with_the_receipt(client, db, settings):
    filed = client.post("/opposition", data={"kind": "nir", "value": VICTIM_WHO_OBJECTED})
    assert filed.status_code == 200
    receipt = _receipt_of(filed.text)
    assert receipt not in str(filed.url) and "/opposition/suivi" in filed.text

    # Typed as people type it: lower case, with spaces.
    typed = " ".join([receipt[:8], receipt[8:]]).lower()
    checked = client.post("/opposition/suivi", data={"receipt": typed})
    assert checked.status_code == 200
    assert f"L'opposition déposée avec le récépissé {receipt} est enregistrée" in (
        checked.text.replace("&#39;", "'")
    )
    assert "Retirer mon opposition" in checked.text
    assert client.post("/api/v1/optout/check", json={"receipt": receipt}).json()["state"] == (
        "registered"
    )

    withdrawn = client.post("/opposition/retrait", data={"receipt": receipt})
    assert withdrawn.status_code == 200 and "Votre opposition est retirée" in withdrawn.text
    assert not _registered(db, settings, VICTIM_WHO_OBJECTED)
    again = client.post("/api/v1/optout/withdraw", json={"receipt": receipt}).json()
    assert again["state"] == "withdrawn" and again["filed_on"] and again["withdrawn_on"]
    later = client.post("/opposition/suivi", data={"receipt": receipt})
    assert "a été retirée" in later.text and "Retirer mon opposition" not in later.text
    # The withdrawal is audited, with the receipt and the kind only.
    withdrawals = [e for e in audit_events(db) if e.action == "optout.withdraw"]
    assert len(withdrawals) == 1 and withdrawals[0].details == {"kind": "nir"}
    assert VICTIM_WHO_OBJECTED not in str([e.details for e in audit_events(db)])


def test_knowing_a_persons_nir_without_their_receipt_reveals_nothing_and_undoes_nothing(
    app, db, settings, monkeypatch
):
    """The attack: someone who knows two people's NIRs (one objected, one did not) files
    each, checks and withdraws with the receipts they got, and tries receipts of their own.
    Every answer is the same for both people; the person who objected still objects."""
    monkeypatch.setenv("CAMPUS_OPTOUT_PER_ADDRESS", "50")
    patient = CampusClient(app, client=("198.51.100.10", 40000))
    filed = patient.post("/api/v1/optout", json={"kind": "nir", "value": VICTIM_WHO_OBJECTED})
    assert filed.status_code == 201
    attacker = CampusClient(app, client=("203.0.113.66", 40000))

    def attack(value: str) -> list[str]:
        answers = []
        filed = attacker.post("/opposition", data={"kind": "nir", "value": value})
        receipt = _receipt_of(filed.text)
        answers.append(_blank(filed.text))
        for url in ("/opposition/suivi", "/opposition/retrait", "/opposition/suivi"):
            answer = attacker.post(url, data={"receipt": receipt})
            answers.append(f"{answer.status_code} {_blank(answer.text)}")
        for url in ("/api/v1/optout/check", "/api/v1/optout/withdraw"):
            # The identifier given beside the receipt changes nothing: only the receipt counts.
            answer = attacker.post(url, json={"receipt": receipt, "kind": "nir", "value": value})
            answers.append(f"{answer.status_code} {_blank(answer.text)}")
        return answers

    assert attack(VICTIM_WHO_OBJECTED) == attack(VICTIM_WHO_DID_NOT)
    # Withdrawing the attacker's own receipt left the person's objection in force.
    assert _registered(db, settings, VICTIM_WHO_OBJECTED)
    assert not _registered(db, settings, VICTIM_WHO_DID_NOT)
    # The audit log tells the two withdrawals apart no better than the answers.
    withdrawals = [(e.action, e.details) for e in audit_events(db) if e.action.startswith("optout")]
    assert withdrawals.count(("optout.withdraw", {"kind": "nir"})) == 2

    # A guessed receipt, with or without a person's NIR beside it: "unknown", the same way.
    guesses = [
        attacker.post(
            "/api/v1/optout/check", json={"receipt": "OPT-0123456789ABCDEF", "value": value}
        ).json()
        for value in (VICTIM_WHO_OBJECTED, VICTIM_WHO_DID_NOT, "")
    ]
    assert guesses == [guesses[0]] * 3 and guesses[0]["state"] == "unknown"
    assert set(guesses[0]) == {"receipt", "state", "kind", "filed_on", "withdrawn_on"}


def test_receipt_checks_are_throttled_per_address_apart_from_filings(app, monkeypatch):
    monkeypatch.setenv("CAMPUS_OPTOUT_PER_ADDRESS", "3")
    guesser = CampusClient(app, client=("203.0.113.77", 40000))
    answers = [
        guesser.post("/api/v1/optout/check", json={"receipt": f"OPT-{i:016X}"}).status_code
        for i in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    page = guesser.post("/opposition/suivi", data={"receipt": "OPT-00000000000000FF"})
    assert page.status_code == 429
    assert "trop de récépissés ont été vérifiés depuis cette adresse" in page.text
    withdraw = guesser.post("/api/v1/optout/withdraw", json={"receipt": "OPT-00000000000000FE"})
    assert withdraw.status_code == 429  # withdrawals share the checks' counter
    # Filings keep their own counter; another address checks freely.
    filed = guesser.post("/api/v1/optout", json={"kind": "nir", "value": VICTIM_WHO_DID_NOT})
    assert filed.status_code == 201
    other = CampusClient(app, client=("198.51.100.20", 40000))
    assert other.post("/api/v1/optout/check", json={"receipt": "OPT-1" + "0" * 15}).status_code == (
        200
    )


def test_a_mistyped_receipt_or_identifier_is_refused_with_what_was_typed_kept(client):
    refused = client.post("/opposition/suivi", data={"receipt": "OPT-12"})
    assert refused.status_code == 400
    assert 'value="OPT-12"' in refused.text and 'aria-invalid="true"' in refused.text
    assert "un récépissé s'écrit «\u00a0OPT-\u00a0» suivi" in refused.text.replace("&#39;", "'")
    api = client.post("/api/v1/optout/check", json={"receipt": "nope"})
    assert api.status_code == 400 and api.json()["error"]["where"] == "receipt"
    typo = client.post("/opposition", data={"kind": "nir", "value": "2 84 05 75 123 456 99"})
    assert typo.status_code == 400
    assert 'value="2 84 05 75 123 456 99"' in typo.text
    hospital = client.post("/opposition", data={"kind": "system", "value": "no-bar"})
    assert hospital.status_code == 400
    assert 'value="system" checked' in hospital.text and 'value="no-bar"' in hospital.text
