"""One ingest of the whole shared Synthea sample, shared by the tests of this folder."""

from __future__ import annotations

import pytest

from campus.governance.optout import key_with
from campus.warehouse import ingest, layout, policy

PKEY, OKEY = b"p" * 40, b"o" * 40
OPTED_OUT = "Abram_Lemke_6c5d9ca9-54d7-42f5-bfae-a7c19cd217f2.json"
OPTED_OUT_SSN = "http://hl7.org/fhir/sid/us-ssn|999-18-8203"


@pytest.fixture(scope="session")
def synthea(shared_dir, tmp_path_factory):
    """(report, version) of the Synthea sample, with one patient on the opt-out registry."""
    root = tmp_path_factory.mktemp("warehouse")
    report = ingest.run(
        root,
        "synthea",
        [shared_dir / "data" / "synthea-r4" / "bundles"],
        policy=policy.default(),
        pseudonym_key=PKEY,
        optout_secret=OKEY,
        registry={key_with(OKEY, OPTED_OUT_SSN)},
        actor="account:tester",
    )
    return report, layout.resolve(root, "synthea")
