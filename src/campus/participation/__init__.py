"""Citizen consultation: consultations, proposals, comments, supports, moderation, results,
and the citizen sign-up that is the platform's entry point for patients and citizens."""
