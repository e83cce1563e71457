"""Residency: hosting applications and admissions, residencies, entries and exits, waiting
list, sponsorship (parrainage)."""
