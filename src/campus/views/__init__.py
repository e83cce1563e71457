"""SQL on FHIR v2 views: the ViewDefinition model, FHIRPath -> SQL, DuckDB and Spark engines."""
