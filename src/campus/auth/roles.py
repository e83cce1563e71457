"""The roles of DESIGN.md. A grant is global or scoped to an organisation or a project."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    ORG_ADMIN = "org_admin"
    RESEARCHER = "researcher"
    DATA_STEWARD = "data_steward"
    ETHICS_REVIEWER = "ethics_reviewer"
    OUTPUT_CHECKER = "output_checker"
    DPO = "dpo"
    MODERATOR = "moderator"
    STAFF = "staff"


class ScopeType(StrEnum):
    GLOBAL = ""
    ORGANISATION = "organisation"
    PROJECT = "project"
    DATASET = "dataset"


ROLE_LABELS = {
    Role.MEMBER: ("membre", "member"),
    Role.ORG_ADMIN: ("administrateur de structure", "organisation admin"),
    Role.RESEARCHER: ("chercheur", "researcher"),
    Role.DATA_STEWARD: ("responsable de données", "data steward"),
    Role.ETHICS_REVIEWER: ("relecteur éthique", "ethics reviewer"),
    Role.OUTPUT_CHECKER: ("vérificateur de sorties", "output checker"),
    Role.DPO: ("délégué à la protection des données", "data protection officer"),
    Role.MODERATOR: ("modérateur", "moderator"),
    Role.STAFF: ("équipe du campus", "campus staff"),
}
