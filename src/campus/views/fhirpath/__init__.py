"""FHIRPath for SQL on FHIR views: the parser; the compiler turns its trees into SQL."""

from campus.views.fhirpath.parser import FhirPathSyntaxError, parse

__all__ = ["FhirPathSyntaxError", "parse"]
