"""FHIR resource type names (R4 and R5) a view may name, and the primitive column types."""

from __future__ import annotations

RESOURCE_TYPES = frozenset(
    """
    Account ActivityDefinition ActorDefinition AdministrableProductDefinition AdverseEvent
    AllergyIntolerance Appointment AppointmentResponse ArtifactAssessment AuditEvent Basic
    Binary BiologicallyDerivedProduct BiologicallyDerivedProductDispense BodyStructure Bundle
    CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Citation
    Claim ClaimResponse ClinicalImpression ClinicalUseDefinition CodeSystem Communication
    CommunicationRequest CompartmentDefinition Composition ConceptMap Condition
    ConditionDefinition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceAssociation DeviceDefinition
    DeviceDispense DeviceMetric DeviceRequest DeviceUsage DeviceUseStatement DiagnosticReport
    DocumentManifest DocumentReference EffectEvidenceSynthesis Encounter EncounterHistory
    Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
    EvidenceReport EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory
    Flag FormularyItem GenomicStudy Goal GraphDefinition Group GuidanceResponse
    HealthcareService ImagingSelection ImagingStudy Immunization ImmunizationEvaluation
    ImmunizationRecommendation ImplementationGuide Ingredient InsurancePlan InventoryItem
    InventoryReport Invoice Library Linkage List Location ManufacturedItemDefinition Measure
    MeasureReport Media Medication MedicationAdministration MedicationDispense
    MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductDefinition
    MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
    MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
    MedicinalProductUndesirableEffect MessageDefinition MessageHeader MolecularSequence
    NamingSystem NutritionIntake NutritionOrder NutritionProduct Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation PackagedProductDefinition Parameters Patient PaymentNotice
    PaymentReconciliation Permission Person PlanDefinition Practitioner PractitionerRole
    Procedure Provenance Questionnaire QuestionnaireResponse RegulatedAuthorization
    RelatedPerson RequestGroup RequestOrchestration Requirements ResearchDefinition
    ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment RiskEvidenceSynthesis
    Schedule SearchParameter ServiceRequest Slot Specimen SpecimenDefinition StructureDefinition
    StructureMap Subscription SubscriptionStatus SubscriptionTopic Substance
    SubstanceDefinition SubstanceNucleicAcid SubstancePolymer SubstanceProtein
    SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification SupplyDelivery
    SupplyRequest Task TerminologyCapabilities TestPlan TestReport TestScript Transport ValueSet
    VerificationResult VisionPrescription
    """.split()  # noqa: SIM905
)

# FHIR primitive types -> the FHIRPath system type a column of that type holds.
PRIMITIVE_TYPES: dict[str, str] = {
    "base64Binary": "string",
    "boolean": "boolean",
    "canonical": "string",
    "code": "string",
    "date": "date",
    "dateTime": "dateTime",
    "decimal": "decimal",
    "id": "string",
    "instant": "dateTime",
    "integer": "integer",
    "integer64": "integer",
    "markdown": "string",
    "oid": "string",
    "positiveInt": "integer",
    "string": "string",
    "time": "time",
    "unsignedInt": "integer",
    "uri": "string",
    "url": "string",
    "uuid": "string",
    "xhtml": "string",
}

# FHIR complex types that may follow ofType() on a choice element.
COMPLEX_TYPES = frozenset(
    """
    Address Age Annotation Attachment CodeableConcept CodeableReference Coding ContactDetail
    ContactPoint Count Distance Duration Expression HumanName Identifier Meta Money Period
    Quantity Range Ratio RatioRange Reference SampledData Signature Timing TriggerDefinition
    UsageContext Dosage Extension Narrative Availability ExtendedContactDetail DataRequirement
    ParameterDefinition RelatedArtifact Contributor MonetaryComponent VirtualServiceDetail
    """.split()  # noqa: SIM905
)
