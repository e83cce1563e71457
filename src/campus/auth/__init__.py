"""Accounts, password hashing, sessions, API tokens, roles and the permission check."""
