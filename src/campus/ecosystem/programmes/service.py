"""Programmes: calls, applications by organisations, reviews, decisions and the cohort.

Rules held here, whoever calls: only an organisation's admins apply for it, while the call is
open, once per call; a reviewer of an organisation's own application is refused (conflict of
interest); a reviewer sees other reviewers' scores only after submitting their own; staff
decide, and the organisation's admins are told by mail.

The rules live in one module per step (calls, applications, reviews, decisions); this module
names what pages, the API, the CLI and other capabilities call.
"""

from campus.ecosystem.programmes.applications import (  # noqa: F401
    applications_of_actor,
    applications_of_call,
    apply,
    get_application,
    is_org_admin,
)
from campus.ecosystem.programmes.calls import (  # noqa: F401
    SLUG,
    CallInput,
    ProgrammeInput,
    call_state,
    create_call,
    create_programme,
    get_call,
    get_programme,
    list_programmes,
    mail_account,
    staff_only,
)
from campus.ecosystem.programmes.decisions import (  # noqa: F401
    cohort,
    decide,
)
from campus.ecosystem.programmes.reviews import (  # noqa: F401
    application_view,
    assign_reviewer,
    average_scores,
    has_conflict,
    review_of,
    reviews_of_actor,
    sees_scores,
    submit_review,
)
