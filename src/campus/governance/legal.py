"""The French legal bases a health-data project may rest on, with their references.

A project names one by its code; the register shows its label and references. The list
follows the CNIL's framework for health research and studies (RGPD art. 6 and 9, loi n° 78-17
du 6 janvier 1978 "Informatique et Libertés", chapter on health data, art. 64 to 77):

- a research, study or evaluation that conforms to one of the CNIL's reference
  methodologies (méthodologies de référence, MR) is declared conform to it (art. 66 II and
  73) and needs no authorisation;
- otherwise it needs the CNIL's authorisation (art. 66 III), given after the opinion of the
  CESREES for a research not involving the human person, or of a CPP (comité de protection
  des personnes) for a research involving it (art. 76);
- a health data warehouse conforming to the CNIL's reference framework (référentiel
  "entrepôts de données de santé", 2021) is declared conform to it;
- outside research, the public interest in public health (RGPD art. 9.2.i) or the person's
  explicit consent (art. 9.2.a).

Labels are English message ids translated in the governance catalogue; references are
citations, the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass

from campus.errors import BadRequest
from campus.i18n import N_


@dataclass(frozen=True)
class LegalBasis:
    code: str
    label: str  # an English message id (N_), French in the catalogue
    references: str  # the articles and texts, as cited in French law
    methodology: str = ""  # the reference methodology the project declares conformity to


_RGPD_RESEARCH = "RGPD art. 6.1.e ou 6.1.f et 9.2.j"
_LIL_MR = "loi Informatique et Libertés art. 66 II et 73"

LEGAL_BASES: tuple[LegalBasis, ...] = (
    LegalBasis(
        "mr-004",
        N_(
            "Research not involving the human person, study or evaluation (reference "
            "methodology MR-004)"
        ),
        f"{_RGPD_RESEARCH} ; {_LIL_MR} ; CNIL, délibération n° 2018-155 (MR-004)",
        "MR-004",
    ),
    LegalBasis(
        "mr-003",
        N_(
            "Research involving the human person without consent, the person informed and "
            "not objecting (reference methodology MR-003)"
        ),
        f"{_RGPD_RESEARCH} ; {_LIL_MR} ; CNIL, délibération n° 2018-154 (MR-003)",
        "MR-003",
    ),
    LegalBasis(
        "mr-001",
        N_("Research involving the human person with consent (reference methodology MR-001)"),
        f"{_RGPD_RESEARCH} ; {_LIL_MR} ; CNIL, délibération n° 2018-153 (MR-001)",
        "MR-001",
    ),
    LegalBasis(
        "cnil-cesrees",
        N_(
            "CNIL authorisation after the CESREES opinion (research not involving the human "
            "person, outside a reference methodology)"
        ),
        f"{_RGPD_RESEARCH} ; loi Informatique et Libertés art. 66 III et 76",
    ),
    LegalBasis(
        "cnil-cpp",
        N_(
            "CNIL authorisation after a CPP opinion (research involving the human person, "
            "outside a reference methodology)"
        ),
        f"{_RGPD_RESEARCH} ; loi Informatique et Libertés art. 66 III et 76 ; "
        "code de la santé publique art. L. 1121-1",
    ),
    LegalBasis(
        "eds",
        N_("Health data warehouse conforming to the CNIL's reference framework"),
        "RGPD art. 6.1.e et 9.2.j ; loi Informatique et Libertés art. 66 II ; "
        "CNIL, délibération n° 2021-118 (référentiel entrepôts de données de santé)",
    ),
    LegalBasis(
        "public-health",
        N_("Public interest in the area of public health"),
        "RGPD art. 6.1.e et 9.2.i ; loi Informatique et Libertés art. 66",
    ),
    LegalBasis(
        "consent",
        N_("Explicit consent of the person"),
        "RGPD art. 6.1.a et 9.2.a",
    ),
)
BY_CODE = {basis.code: basis for basis in LEGAL_BASES}


def check(code: str) -> str:
    """The code if it names a legal basis of the list; BadRequest (400) otherwise."""
    code = (code or "").strip()
    if code not in BY_CODE:
        raise BadRequest(
            N_(
                "choose the legal basis from the list (the API lists the codes at GET "
                "/api/v1/legal-bases)"
            ),
            code="unknown_legal_basis",
            where="legal_basis",
        )
    return code


def describe(code: str) -> dict[str, str]:
    """The code with its label (the English id) and references; an older free-text basis
    is shown as it was written."""
    basis = BY_CODE.get(code)
    if basis is None:
        return {"code": "", "label": code, "references": "", "methodology": ""}
    return {
        "code": basis.code,
        "label": basis.label,
        "references": basis.references,
        "methodology": basis.methodology,
    }
