"""Analyses on views: definitions, jobs and worker, disclosure control, privacy, release."""
