"""What the structural checks know about FHIR R4: resource types, id, reference and date syntax."""

from __future__ import annotations

import datetime as dt
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
ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
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
_DATE = re.compile(
    r"^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
)
REFERENCE_TYPE_ID = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$")
ABSOLUTE_REFERENCE = re.compile(
    r"^https?://\S+/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$"
)
CONDITIONAL_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)\?identifier=([^&]*)$")


def is_bare_reference(text: str) -> bool:
    """Whether a text reads as a literal reference: `Type/id` of a known R4 type."""
    match = REFERENCE_TYPE_ID.match(text)
    return match is not None and match.group(1) in RESOURCE_TYPES


@lru_cache(maxsize=4096)
def is_date_key(key: str) -> bool:
    """Whether an element of this name holds a date, dateTime or instant in R4."""
    return key in DATE_KEYS or key.endswith(DATE_SUFFIXES)


def valid_date(text: str) -> bool:
    """FHIR date / dateTime / instant syntax, with a real calendar day (year 0001 to 9999)."""
    return _day(text) is not False


def _day(text: str) -> dt.date | bool | None:
    """The calendar day of a valid FHIR date with a day, None for a valid year or year-month,
    False for a text that is no valid date (FHIR has no year 0000)."""
    match = _DATE.match(text)
    if not match or match.group(1) == "0000":
        return False
    if match.group(5):
        try:
            return dt.date(int(match.group(1)), int(match.group(3)), int(match.group(5)))
        except ValueError:
            return False
    return None


def _moved(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days`, held at the first or last day of the calendar (0001-01-01,
    9999-12-31) where it would leave it: a "no end" sentinel such as 9999-12-31 stays one."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def shift_date(text: str, days: int) -> str:
    """The same (valid) date moved by `days`, keeping its precision, time and offset."""
    if days == 0:
        return text
    if len(text) >= 10:
        return _moved(dt.date.fromisoformat(text[:10]), days).isoformat() + text[10:]
    if len(text) == 7:
        return _moved(dt.date(int(text[:4]), int(text[5:7]), 15), days).isoformat()[:7]
    return _moved(dt.date(int(text[:4]), 7, 1), days).isoformat()[:4]


def checked_shift(text: str, days: int) -> str | None:
    """`text` moved by `days` as `shift_date` moves it, or None when it is no valid date: one
    match for both, the walk's path for each date text it meets first with an offset."""
    day = _day(text)
    if day is False:
        return None
    if days == 0:
        return text
    if day is None:
        return shift_date(text, days)
    return _moved(day, days).isoformat() + text[10:]
