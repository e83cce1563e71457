"""Every permission of the platform, in one place: who may do what.

A route declares the permission it needs with `campus.web.deps.allow(name)`; a test walks
every route and fails when one declares none. A permission lists the roles that hold it;
campus staff hold every permission. `PUBLIC` permissions are open to visitors,
`AUTHENTICATED` ones to any signed-in account. A scoped permission is checked against the
scope named by the route (an organisation or project id in its path). An `anywhere`
permission counts a role wherever it is held: researchers are granted their role per project,
and a read open to every researcher (the dummy twins) takes the role in any project.
"""

from __future__ import annotations

from dataclasses import dataclass

from campus.auth.actor import Actor
from campus.auth.roles import Role

PUBLIC = "public"
AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class Permission:
    name: str
    description: str
    roles: frozenset[str]
    public: bool = False
    authenticated: bool = False
    verified_email: bool = False
    anywhere: bool = False  # a role held in any scope counts

    def allows(self, actor: Actor, scope_type: str = "", scope_id: str = "") -> bool:
        if self.public:
            return True
        if not actor.authenticated:
            return False
        if self.verified_email and not actor.email_verified:
            return False
        if self.authenticated or actor.is_staff:
            return True
        if self.anywhere:
            return any(actor.has_any_grant_of(role) for role in self.roles)
        return any(actor.has_role(role, scope_type, scope_id) for role in self.roles)


PERMISSIONS: dict[str, Permission] = {}


def define(
    name: str,
    description: str,
    *roles: str,
    verified_email: bool = False,
    anywhere: bool = False,
) -> Permission:
    if name in PERMISSIONS:
        raise ValueError(f"permission {name} defined twice")
    permission = Permission(
        name=name,
        description=description,
        roles=frozenset(r for r in roles if r not in (PUBLIC, AUTHENTICATED)),
        public=PUBLIC in roles,
        authenticated=AUTHENTICATED in roles,
        verified_email=verified_email,
        anywhere=anywhere,
    )
    PERMISSIONS[name] = permission
    return permission


def get(name: str) -> Permission:
    try:
        return PERMISSIONS[name]
    except KeyError:
        raise KeyError(f"unknown permission {name!r}: define it in campus.auth.policy") from None


R = Role

# --- platform -------------------------------------------------------------------------------
define("public.read", "Read public pages and public API resources", PUBLIC)
define("account.self", "Read and change one's own account, tokens and language", AUTHENTICATED)
define("accounts.manage", "Create accounts and grant or revoke roles", R.STAFF)
define("audit.read", "Read and verify the audit log", R.STAFF, R.DPO)

# --- ecosystem (value creation, skills) ------------------------------------------------------
define("directory.read", "Search the member directory", R.MEMBER, R.ORG_ADMIN)
define("organisation.edit", "Edit an organisation's profile and members", R.ORG_ADMIN)
define("events.register", "Register to an event, cancel a registration", AUTHENTICATED)
define("events.manage", "Create, publish and cancel events; check-in; exports", R.STAFF)
define("programmes.apply", "Apply to a programme call for one's organisation", R.ORG_ADMIN)
define("programmes.review", "Review and score applications assigned to one", R.MEMBER)
define("programmes.manage", "Create programmes, calls and decisions", R.STAFF)
define("trainings.manage", "Create and change trainings of the catalogue", R.STAFF)
define("impact.write", "Record an organisation's impact", R.ORG_ADMIN)
define("impact.validate", "Validate impact records; read the dashboard details", R.STAFF)
define("matchmaking.use", "See partner suggestions and request introductions", R.MEMBER)

# --- campus life: residency, spaces, sponsorship -------------------------------------------------
define(
    "residency.own",
    "See one's organisations' residencies and sponsorships",
    R.MEMBER,
    R.ORG_ADMIN,
    anywhere=True,
)
define(
    "residency.manage",
    "Admissions, residencies, allocations, exits, waiting list, figures",
    R.STAFF,
)
define(
    "spaces.book",
    "Book meeting rooms, the auditorium and equipment; see room schedules",
    R.MEMBER,
    R.ORG_ADMIN,
    anywhere=True,
)
define("spaces.manage", "Create buildings and rooms, set their rules, approve bookings", R.STAFF)
define(
    "sponsorship.take_part",
    "Set objectives, log meetings and rate a sponsorship one is part of",
    R.MEMBER,
    R.ORG_ADMIN,
    anywhere=True,
)
define(
    "sponsorship.manage", "Pair startups with sponsors and close pairs with their outcomes", R.STAFF
)

# --- participation -----------------------------------------------------------------------------
define(
    "consultation.contribute", "Propose, comment, vote, report", AUTHENTICATED, verified_email=True
)
define("consultation.moderate", "Hide or restore contributions", R.MODERATOR)
define("consultation.manage", "Create consultations and answer proposals", R.STAFF)

# --- data: warehouse, views, governance, analysis ----------------------------------------------
define("dataset.ingest", "Upload FHIR data into a dataset", R.DATA_STEWARD)
define("dataset.manage", "Drop dataset versions", R.DATA_STEWARD)
define(
    "catalogue.read",
    "Read dataset catalogue details",
    R.MEMBER,
    R.RESEARCHER,
    R.DATA_STEWARD,
    anywhere=True,
)
define("dummy.use", "Run views and analyses on dummy twins", R.RESEARCHER, R.MEMBER, anywhere=True)
define("projects.write", "Create data projects and access requests", R.RESEARCHER, R.MEMBER)
define("ethics.review", "Review access requests", R.ETHICS_REVIEWER)
define(
    "approvals.manage",
    "Suspend, reactivate or revoke an approval (its assigned reviewers, the DPO)",
    R.ETHICS_REVIEWER,
    R.DPO,
)
define("jobs.run", "Submit jobs on real data within an approval", R.RESEARCHER)
define("outputs.check", "Approve or reject job outputs for release", R.OUTPUT_CHECKER)
define("benchmarks.define", "Define evaluation benchmarks within an approval", R.RESEARCHER)
define(
    "models.submit",
    "Submit ONNX models to evaluation benchmarks",
    R.MEMBER,
    R.RESEARCHER,
    anywhere=True,
)
define(
    "models.steward",
    "Sign off evaluation metrics on one's dataset as its data steward",
    R.DATA_STEWARD,
    anywhere=True,
)
define("optout.manage", "Read and manage the opt-out registry", R.DPO)
define(
    "federation.manage",
    "Register hospital nodes, issue or revoke their credentials, name federated datasets",
    R.STAFF,
)
define(
    "federation.node",
    "Node endpoints (fetch tasks, post statistics), checked by a node credential",
    PUBLIC,
)
