"""The project's privacy budget, as the capabilities that run jobs on analysis's engines
reach it: the ledger is governance's (`campus.governance.budget`), where analysis itself
imports it from; this name stays for federation's import."""

from campus.governance.budget import charge, check, remaining, spent

__all__ = ["charge", "check", "remaining", "spent"]
