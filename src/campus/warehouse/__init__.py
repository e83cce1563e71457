"""The health-data warehouse: FHIR R4 ingest, pseudonymisation, dataset versions, catalogue."""
