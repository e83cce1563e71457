"""The shared vocabularies of profiles: themes and skills (expertise, needs, competences).

Profiles store codes; labels come in French and English, so that matching works on codes
and search finds a profile by the label in either language.
"""

from __future__ import annotations

from campus.errors import BadRequest
from campus.i18n import N_, current_language

THEMES: dict[str, tuple[str, str]] = {
    "ai": ("intelligence artificielle", "artificial intelligence"),
    "oncology": ("oncologie", "oncology"),
    "cardiology": ("cardiologie", "cardiology"),
    "diabetes": ("diabète", "diabetes"),
    "mental_health": ("santé mentale", "mental health"),
    "neurology": ("neurologie", "neurology"),
    "rare_diseases": ("maladies rares", "rare diseases"),
    "telemedicine": ("télémédecine", "telemedicine"),
    "medical_imaging": ("imagerie médicale", "medical imaging"),
    "genomics": ("génomique", "genomics"),
    "prevention": ("prévention", "prevention"),
    "ageing": ("vieillissement", "ageing"),
    "paediatrics": ("pédiatrie", "paediatrics"),
    "public_health": ("santé publique", "public health"),
    "medical_devices": ("dispositifs médicaux", "medical devices"),
    "health_data": ("données de santé", "health data"),
    "cybersecurity": ("cybersécurité", "cybersecurity"),
    "hospital_logistics": ("logistique hospitalière", "hospital logistics"),
}

SKILLS: dict[str, tuple[str, str]] = {
    "machine_learning": ("apprentissage automatique", "machine learning"),
    "data_engineering": ("ingénierie des données", "data engineering"),
    "fhir_interop": ("interopérabilité FHIR", "FHIR interoperability"),
    "clinical_trials": ("essais cliniques", "clinical trials"),
    "clinical_validation": ("validation clinique", "clinical validation"),
    "regulatory_affairs": ("affaires réglementaires", "regulatory affairs"),
    "ce_marking": ("marquage CE", "CE marking"),
    "gdpr_compliance": ("conformité RGPD", "GDPR compliance"),
    "hds_hosting": ("hébergement HDS", "health data hosting (HDS)"),
    "cybersecurity": ("cybersécurité", "cybersecurity"),
    "health_economics": ("économie de la santé", "health economics"),
    "market_access": ("accès au marché", "market access"),
    "reimbursement": ("remboursement", "reimbursement"),
    "fundraising": ("levée de fonds", "fundraising"),
    "ux_design": ("design UX", "UX design"),
    "software_engineering": ("génie logiciel", "software engineering"),
    "biostatistics": ("biostatistique", "biostatistics"),
    "epidemiology": ("épidémiologie", "epidemiology"),
    "medical_imaging": ("imagerie médicale", "medical imaging"),
    "genomics": ("génomique", "genomics"),
    "patient_recruitment": ("recrutement de patients", "patient recruitment"),
    "care_pathways": ("parcours de soins", "care pathways"),
    "procurement": ("achats hospitaliers", "hospital procurement"),
    "industrialisation": ("industrialisation", "industrialisation"),
    "ethics": ("éthique", "ethics"),
    "teaching": ("formation", "teaching"),
}

KIND_LABELS: dict[str, tuple[str, str]] = {
    "startup": ("start-up", "startup"),
    "company": ("entreprise", "company"),
    "research_lab": ("laboratoire de recherche", "research lab"),
    "hospital": ("hôpital", "hospital"),
    "clinic": ("clinique", "clinic"),
    "public_agency": ("agence publique", "public agency"),
    "founding_member": ("membre fondateur", "founding member"),
}


def label(vocabulary: dict[str, tuple[str, str]], code: str) -> str:
    """The label of a code in the current language (the code itself when unknown)."""
    labels = vocabulary.get(code)
    if labels is None:
        return code
    return labels[1] if current_language.get() == "en" else labels[0]


def check_codes(
    vocabulary: dict[str, tuple[str, str]], codes: list[str] | None, where: str
) -> list[str]:
    """Validate a list of codes against a vocabulary; deduplicated, in the given order."""
    cleaned: list[str] = []
    for index, code in enumerate(codes or []):
        code = str(code).strip()
        if code not in vocabulary:
            raise BadRequest(
                N_("unknown code in a list: use one of the listed values"),
                code="unknown_code",
                where=f"{where}[{index}]: {code[:60]!r} (one of {', '.join(sorted(vocabulary))})",
            )
        if code not in cleaned:
            cleaned.append(code)
    if len(cleaned) > 12:
        raise BadRequest(N_("at most 12 values per list"), code="too_many", where=where)
    return cleaned


def both_labels(vocabulary: dict[str, tuple[str, str]], codes: list[str]) -> list[str]:
    """French and English labels of codes, for the search text."""
    return [text for code in codes for text in vocabulary.get(code, (code, code))]
