"""Organisations, people, memberships, invitations and the member directory."""
