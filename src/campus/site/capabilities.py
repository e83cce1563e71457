"""Every capability of the site, declared once (how: see `campus.site.registry`).

The order is the order of mounting (routes, CLI help) and, apart from `demo_after`, of the
demo loaders. Add a capability by adding its entry; no other file lists it.
"""

from __future__ import annotations

from campus.site.registry import Capability, check, command, sub_app

CAPABILITIES: list[Capability] = [
    Capability(
        "shell",
        api=("campus.site.shell:api",),
        pages=("campus.site.shell:pages",),
        models=("campus.db.versions",),
    ),
    Capability(
        "auth",
        api=("campus.auth.api:router",),
        pages=("campus.auth.pages:router", "campus.auth.oidc_pages:router"),
        models=("campus.auth.models", "campus.auth.oidc_models"),
        cli=(
            command("purge", "campus.auth.cli:purge"),
            sub_app("account", "campus.site.personal_data:app"),
        ),
        idle=("campus.auth.mail:deliver_pending",),
    ),
    Capability(
        "audit",
        api=("campus.audit.api:router",),
        pages=("campus.audit.pages:router",),
        models=("campus.audit.models",),
        personal_data=("campus.audit.personal_data:PART",),
    ),
    Capability(
        "directory",
        api=("campus.ecosystem.directory.api:router",),
        pages=("campus.ecosystem.directory.pages:router",),
        models=("campus.ecosystem.directory.models",),
        cli=(sub_app("org", "campus.ecosystem.cli:org_app"),),
        demo=("campus.ecosystem.demo_data:load",),
        personal_data=("campus.ecosystem.directory.personal_data:PART",),
    ),
    Capability(
        "matchmaking",
        api=("campus.ecosystem.matchmaking.api:router",),
        pages=("campus.ecosystem.matchmaking.pages:router",),
        models=("campus.ecosystem.matchmaking.models",),
        personal_data=("campus.ecosystem.matchmaking.personal_data:PART",),
        home=("campus.ecosystem.matchmaking.home:introductions",),
    ),
    Capability(
        "impact",
        api=("campus.ecosystem.impact.api:router",),
        pages=("campus.ecosystem.impact.pages:router",),
        models=("campus.ecosystem.impact.models",),
    ),
    Capability(
        "events",
        api=("campus.ecosystem.events.api:router",),
        pages=("campus.ecosystem.events.pages:router",),
        models=("campus.ecosystem.events.models",),
        cli=(sub_app("event", "campus.ecosystem.events.cli:event_app"),),
        demo=("campus.ecosystem.events.demo:load",),
        demo_after=("directory",),
        personal_data=("campus.ecosystem.events.personal_data:PART",),
        home=("campus.ecosystem.events.home:my_events",),
        idle=("campus.ecosystem.events.reminders:send_due_in",),
    ),
    Capability(
        "programmes",
        api=("campus.ecosystem.programmes.api:router",),
        pages=("campus.ecosystem.programmes.pages:router",),
        models=("campus.ecosystem.programmes.models",),
        demo=("campus.ecosystem.programmes.demo:load",),
        demo_after=("directory",),
        personal_data=("campus.ecosystem.programmes.personal_data:PART",),
        home=("campus.ecosystem.programmes.home:applications",),
    ),
    Capability(
        "trainings",
        api=("campus.ecosystem.trainings.api:router",),
        pages=("campus.ecosystem.trainings.pages:router",),
        models=("campus.ecosystem.trainings.models",),
    ),
    Capability(
        "residency",
        api=("campus.residency.api:router",),
        pages=("campus.residency.pages:router",),
        models=("campus.residency.models",),
        cli=(sub_app("residency", "campus.residency.cli:app"),),
        demo=("campus.residency.demo:load",),
        demo_after=("directory", "programmes", "spaces"),
        personal_data=("campus.residency.personal_data:PART",),
    ),
    Capability(
        "spaces",
        api=("campus.spaces.api:router",),
        pages=("campus.spaces.pages:router",),
        models=("campus.spaces.models",),
        cli=(sub_app("spaces", "campus.spaces.cli:app"),),
        personal_data=("campus.spaces.personal_data:PART",),
    ),
    Capability(
        "participation",
        api=("campus.participation.api:router",),
        pages=("campus.participation.pages:router",),
        models=("campus.participation.models",),
        cli=(sub_app("consultation", "campus.participation.cli:consultation_app"),),
        demo=("campus.participation.demo:load",),
        personal_data=("campus.participation.personal_data:PART",),
    ),
    Capability(
        # Objections to data reuse: filed through governance's pages, honoured by the
        # warehouse, analyses and nodes; its own package so none of them imports governance.
        "optout",
        models=("campus.optout.models",),
    ),
    Capability(
        "governance",
        api=("campus.governance.api:router",),
        pages=("campus.governance.public_pages:router", "campus.governance.pages:router"),
        models=("campus.governance.models",),
        demo=("campus.governance.demo:load",),
        # Its demo project asks for the warehouse's demo dataset (hopital-synthea).
        demo_after=("warehouse",),
        personal_data=("campus.governance.personal_data:PART",),
        home=("campus.governance.home:reviews_to_do",),
    ),
    Capability(
        "analysis",
        api=("campus.analysis.api:router",),
        pages=("campus.analysis.pages:router",),
        models=("campus.analysis.models",),
        cli=(
            sub_app("project", "campus.analysis.cli:project_app"),
            sub_app("job", "campus.analysis.cli:job_app"),
            command("worker", "campus.site.worker:worker"),
        ),
        personal_data=("campus.analysis.personal_data:PART",),
        home=("campus.analysis.home:my_jobs", "campus.analysis.home:checks_to_do"),
        register=("campus.analysis.register:public_jobs",),
        project_jobs=("campus.analysis.service:project_jobs",),
        # Its demo job runs in governance's demo project, once that is approved.
        demo=("campus.analysis.demo:load",),
        demo_after=("governance",),
    ),
    Capability(
        "evaluation",
        api=("campus.evaluation.api:router",),
        pages=("campus.evaluation.pages:router",),
        models=("campus.evaluation.models",),
        cli=(sub_app("eval", "campus.evaluation.cli:app"),),
        personal_data=("campus.evaluation.personal_data:PART",),
        demo=("campus.evaluation.demo:load",),
        demo_after=("governance",),
        task_kinds=("campus.evaluation.federated:KIND",),
    ),
    Capability(
        "federation",
        api=("campus.federation.api:router",),
        pages=("campus.federation.pages:router",),
        models=("campus.federation.models",),
        register=("campus.federation.service:public_jobs",),
        demo=("campus.federation.demo:load",),
        demo_after=("warehouse",),
        cli=(
            sub_app("federation", "campus.federation.cli:federation_app"),
            sub_app("node", "campus.federation.cli:node_app"),
        ),
    ),
    Capability(
        "views",
        api=("campus.views.api:router",),
        pages=("campus.views.pages:router",),
        models=("campus.views.models",),
        cli=(sub_app("view", "campus.views.cli:app"),),
        demo=("campus.views.demo:load",),
    ),
    Capability(
        "warehouse",
        api=("campus.warehouse.api:router",),
        pages=("campus.warehouse.pages:router",),
        models=("campus.warehouse.models",),
        cli=(
            command("ingest", "campus.warehouse.cli:ingest"),
            sub_app("dataset", "campus.warehouse.cli:dataset_app"),
            sub_app("optout", "campus.warehouse.cli:optout_app"),
            sub_app("pull", "campus.warehouse.cli:pull_app"),
        ),
        demo=("campus.warehouse.demo:load",),
        idle=("campus.warehouse.bulk.schedule:idle",),
    ),
    Capability(
        "ops",
        pages=("campus.ops.web:router",),
        cli=(
            command("doctor", "campus.ops.cli:doctor"),
            command("metrics", "campus.ops.cli:metrics"),
            command("backup", "campus.ops.cli:backup"),
            command("restore", "campus.ops.cli:restore"),
        ),
    ),
]

check(CAPABILITIES)
