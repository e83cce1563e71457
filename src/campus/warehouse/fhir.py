"""What the structural checks know about FHIR R4: resource types, id, reference and date syntax."""

from __future__ import annotations

import re
from functools import lru_cache

RESOURCE_TYPES = frozenset(
    [
        "Account",
        "ActivityDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceDefinition",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "EffectEvidenceSynthesis",
        "Encounter",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "InsurancePlan",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionOrder",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RequestGroup",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "RiskEvidenceSynthesis",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "Substance",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestReport",
        "TestScript",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    ]
)
ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}\Z")
BUNDLE_TYPES = frozenset({"transaction", "batch", "collection"})
# Elements whose FHIR type is date, dateTime or instant, by name: with the suffixes below,
# every such element name of the R4 resources and data types. Two names are not dates
# everywhere: `value` (a date only in ImmunizationRecommendation...dateCriterion, which the
# default policy names) and `when`, a date in Signature but a list of codes in Timing.repeat
# (CODE_LISTS: its list items are not dates).
DATE_KEYS = frozenset(
    {
        "date",
        "issued",
        "start",
        "end",
        "created",
        "recorded",
        "authoredOn",
        "lastUpdated",
        "started",
        "sent",
        "received",
        "timestamp",
        "lastModified",
        "occurrence",
        "whenHandedOver",
        "whenPrepared",
        "dateAsserted",
        "availabilityStartTime",
        "authored",
        "creation",
        "dateAccessed",
        "dateTime",
        "dateWritten",
        "detected",
        "effectiveTime",
        "event",
        "expiry",
        "ifModifiedSince",
        "lastOccurrence",
        "lastPerformed",
        "nextScheduled",
        "onset",
        "receivedTime",
        "recordedOn",
        "time",
        "useBy",
        "validTo",
        "when",
    }
)
CODE_LISTS = frozenset({"when"})
# Elements whose FHIR type is Reference (or CodeableReference), by name, in the R4 resources
# and data types, leaving out the names that are texts, uris or canonicals elsewhere (`source`,
# `profile`, `type`...). A text there that reads `Type/id` is a Reference sent without its
# object: refused, since its source id would land as it is.
REFERENCE_KEYS = frozenset(
    """
abnormalCodedValueSet about account actor additionalContext additive additiveReference
addresses administeredBy allergyIntolerance answerReference appointment asserter assessment
assessor assigner associatedMedication attachedDocument authenticator author authorReference
authorizingPrescription baseCitation basedOn beneficiary candidate careManager careTeam
chargeItemReference citeAsReference claim claimResponse clinicalTrial codeReference
collector communicationRequest comorbidity complicationDetail consent contact contract
contraindication contributor costCenter coverage coverageArea criticalCodedValueSet
crossReference custodian defaultValueCodeableReference defaultValueReference
definitionReference deliverFrom deliverTo destination details detectedIssue device
diagnosisReference diseaseStatus diseaseSymptomProcedure document domain effect encounter
enrollment enterer entity entityReference entry entryReference episodeOfCare
evaluatedResource evaluationMessage eventHistory exposure exposureAlternative expressedBy
facility fixedCodeableReference fixedReference focus focusReference for formOf
generalPractitioner goal hasMember healthcareService holder imagingStudy immunizationEvent
implicated impurity inResponseTo indicationReference individual information
informationSource instance insurance insurer intended intendedEffect interpreter item
itemReference knownAllergen legallyBindingReference locationReference managingEntity
managingOrganization manipulated manufacturerReference masterFile medicationReference member
nameReference normalCodedValueSet observationRequirement observationResultRequirement
observed observer onBehalfOf orderer organization origin originalPrescription
outcomeReference outputParameters ownedBy owner packageFor parentDevice participant
participatingOrganization party patient patternCodeableReference patternReference payee
paymentIssuer payor performingOrganization person pointer policyHolder population
practitioner prescriber prescription principalInvestigator priorPrescription priorRequest
problem procedureReference producedFrom product productReference prognosisReference
providedBy provider reasonReference recipient recorder ref referenceDocument
referenceSeqPointer referencedItem referral referralRequest referrer regulator
regulatoryAuthority related relevantHistory report reportedReference reporter request
requestProvider requester requestingOrganization requestor responsibleParty
resultingCondition resultsInterpreter schedule securityContext sender service
serviceProvider slot sourceDocument sourcePatientInfo sourceReference specimen
specimenRequirement sponsor statusReasonReference study subject subjectMedicalHistory
subjectReference subjectResults submitter subscriber subscription substance
substanceDefinitionReference substanceReference supplier supportingImmunization
supportingInfo supportingPatientInformation symptomConditionEffect targetReference team
testScript therapy timingReference topicReference typeReference udi undesirableEffect
usedReference validCodedValueSet valueCodeableReference valueReference variableDefinition
variantPointer verifiedWith what who
    """.split()  # noqa: SIM905 (a word list reads better than 234 quoted names)
)
DATE_SUFFIXES = ("DateTime", "Date", "Instant")
ABSOLUTE_REFERENCE = re.compile(
    r"^https?://\S+/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?\Z"
)
CONDITIONAL_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)\?identifier=([^&]*)\Z")


def is_bare_reference(text: str) -> bool:
    """Whether a text reads as a literal reference: `Type/id` of a known R4 type."""
    parts = relative_reference(text)
    return parts is not None and parts[0] in RESOURCE_TYPES


def relative_reference(text: str) -> tuple[str, str] | None:
    """(type, id) of a relative reference `Type/id` or `Type/id/_history/version`, else None.

    Read by hand (compiled: a C loop) rather than by a regular expression: most references are
    relative, and the walk reads every one. The grammar: a type of an upper-case letter and
    one or more letters, an id of 1 to 64 letters, digits, `-` and `.`."""
    size = len(text)
    slash = 1
    if size < 4 or not ("A" <= text[0] <= "Z"):
        return None
    while slash < size:
        char = text[slash]
        if char == "/":
            break
        if not ("A" <= char <= "Z" or "a" <= char <= "z"):
            return None
        slash += 1
    if slash < 2 or slash == size:
        return None
    end = slash + 1
    while end < size:
        char = text[end]
        if char == "/":
            break
        if not ("A" <= char <= "Z" or "a" <= char <= "z" or "0" <= char <= "9" or char in "-."):
            return None
        end += 1
    if end == slash + 1 or end - slash - 1 > 64:
        return None
    if end < size:  # a version: /_history/ and a text without a slash
        if not text.startswith("/_history/", end) or size == end + 10:
            return None
        if text.find("/", end + 10) >= 0:
            return None
    return text[:slash], text[slash + 1 : end]


@lru_cache(maxsize=4096)
def is_date_key(key: str) -> bool:
    """Whether an element of this name holds a date, dateTime or instant in R4."""
    return key in DATE_KEYS or key.endswith(DATE_SUFFIXES)


def valid_date(text: str) -> bool:
    """FHIR date / dateTime / instant syntax, with a real calendar day (year 0001 to 9999)."""
    return checked_shift(text, 0) is not None


def shift_date(text: str, days: int) -> str:
    """The same (valid) date moved by `days`, keeping its precision, time and offset."""
    shifted = checked_shift(text, days)
    if shifted is None:
        raise ValueError(f"not a FHIR date: {text!r}")
    return shifted


# The dates are read by hand, one character at a time, rather than by a regular expression
# and `datetime`: compiled (fhir.pxd), this is C integer work, a tenth of the cost, and the
# walk meets several dates in every resource. The grammar is R4's:
# YYYY(-MM(-DD(Thh:mm:ss(.s{1,9})?(Z|(+|-)hh:mm))?)?)?, ASCII digits only, no year 0000, a
# real calendar day, offsets from -13:59 to +14:00.
# Days from 1970-01-01 (H. Hinnant's civil calendar algorithms) of the calendar's edges.
_FIRST_DAY = -719162  # 0001-01-01
_LAST_DAY = 2932896  # 9999-12-31


def checked_shift(text: str, days: int) -> str | None:
    """`text` moved by `days` (0 to only check it), keeping its precision, time and offset, or
    None when it is no valid FHIR date. A year moves as its 1st of July, a year-month as its
    15th; a date that would leave the calendar (0001-01-01 to 9999-12-31) is held at its edge,
    so that a "no end" sentinel such as 9999-12-31 stays one."""
    size = len(text)
    if size < 4:
        return None
    year = _digits(text, 0, 4)
    if year <= 0:  # not four digits (-1), or year 0000
        return None
    if size == 4:
        return text if days == 0 else _format(_moved(year, 7, 1, days), 4)
    if size < 7 or text[4] != "-":
        return None
    month = _digits(text, 5, 2)
    if month < 1 or month > 12:
        return None
    if size == 7:
        return text if days == 0 else _format(_moved(year, month, 15, days), 7)
    if size < 10 or text[7] != "-":
        return None
    day = _digits(text, 8, 2)
    if day < 1 or day > _month_days(year, month):
        return None
    if size > 10 and not _valid_time(text):
        return None
    if days == 0:
        return text
    return _format(_moved(year, month, day, days), 10) + text[10:]


def _digits(text: str, start: int, count: int) -> int:
    """The number written in text[start:start + count] (ASCII digits), or -1."""
    value = 0
    for index in range(start, start + count):
        char = text[index]
        if char < "0" or char > "9":
            return -1
        value = value * 10 + (ord(char) - 48)
    return value


def _valid_time(text: str) -> bool:
    """Whether text[10:] is `Thh:mm:ss`, an optional fraction of 1 to 9 digits, and `Z` or an
    offset: the time of a dateTime or instant (a time without its offset is no FHIR time)."""
    size = len(text)
    if size < 20 or text[10] != "T" or text[13] != ":" or text[16] != ":":
        return False
    hour, minute, second = _digits(text, 11, 2), _digits(text, 14, 2), _digits(text, 17, 2)
    if hour < 0 or hour > 23 or minute < 0 or minute > 59 or second < 0 or second > 60:
        return False
    index = 19
    char = text[index]
    if char == ".":
        index += 1
        while index < size:
            char = text[index]
            if char < "0" or char > "9":
                break
            index += 1
        if index == 20 or index > 29 or index == size:  # 1 to 9 digits, then the offset
            return False
        char = text[index]
    if char == "Z":
        return index + 1 == size
    if (char != "+" and char != "-") or size != index + 6 or text[index + 3] != ":":
        return False
    hour, minute = _digits(text, index + 1, 2), _digits(text, index + 4, 2)
    if hour == 14:
        return minute == 0
    return 0 <= hour <= 13 and 0 <= minute <= 59


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _moved(year: int, month: int, day: int, days: int) -> int:
    """The day `days` after year-month-day, held between the calendar's edges, as
    year * 10000 + month * 100 + day."""
    # Days from 1970-01-01, in eras of 400 years starting on a 1st of March.
    y = year - 1 if month <= 2 else year
    era = y // 400
    of_era = y - era * 400
    of_year = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    number = era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468
    number = min(max(number + days, _FIRST_DAY), _LAST_DAY)
    # And back to the civil calendar.
    number += 719468
    era = number // 146097
    of_era = number - era * 146097
    y = (of_era - of_era // 1460 + of_era // 36524 - of_era // 146096) // 365
    of_year = of_era - (365 * y + y // 4 - y // 100)
    shifted = (5 * of_year + 2) // 153
    day = of_year - (153 * shifted + 2) // 5 + 1
    month = shifted + 3 if shifted < 10 else shifted - 9
    year = y + era * 400 + (1 if month <= 2 else 0)
    return year * 10000 + month * 100 + day


def _format(packed: int, size: int) -> str:
    """The first `size` characters (4, 7 or 10) of a packed day written YYYY-MM-DD."""
    year, month, day = packed // 10000, packed // 100 % 100, packed % 100
    if size == 4:
        return f"{year:04d}"
    if size == 7:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"
