"""Data projects, access requests, ethics review and approvals: the way in to governance's
rules, which live in one module per concern (CLI, API, pages and other capabilities call
them through this module):

- `campus.governance.projects`: projects, their teams, the separation of duties;
- `campus.governance.requests`: access requests, drafted, edited and submitted to reviewers;
- `campus.governance.reviews`: questions, answers and decisions of the ethics review;
- `campus.governance.approvals`: approvals suspended, revoked, and checked before every use;
- `campus.governance.fields`: the checks of what people type.

Request states: draft -> submitted -> in_review -> approved | refused | changes_requested;
a request with changes requested is edited and submitted again. Reviewers (a configurable
number) are ethics reviewers who belong to none of the requesting organisations and are not
on the project team. When every reviewer has decided, the request is refused if one
refused, sent back if one asked for changes, and approved otherwise; an approval carries
the scope (datasets, views, elements) and an expiry, and can be suspended or revoked.
"""

from __future__ import annotations

from campus.governance.approvals import (
    APPROVAL_STATES,
    approval_state,
    can_manage_approval,
    get_approval,
    project_approvals,
    set_approval_status,
    usable_approval,
)
from campus.governance.fields import NAME
from campus.governance.projects import (
    INDEPENDENT_ROLES,
    MEMBER_ROLES,
    PROJECT_ID,
    ProjectIn,
    add_member,
    create_project,
    get_project,
    independent_roles,
    is_member,
    list_projects,
    member_ids,
    members,
    require_independent,
    require_team,
)
from campus.governance.requests import (
    EDITABLE,
    create_request,
    eligible_reviewers,
    get_request,
    project_requests,
    requesting_organisations,
    submit_request,
    update_request,
)
from campus.governance.reviews import DECISIONS, ask_or_answer, decide, messages, reviews

__all__ = [
    "APPROVAL_STATES",
    "DECISIONS",
    "EDITABLE",
    "INDEPENDENT_ROLES",
    "MEMBER_ROLES",
    "NAME",
    "PROJECT_ID",
    "ProjectIn",
    "add_member",
    "approval_state",
    "ask_or_answer",
    "can_manage_approval",
    "create_project",
    "create_request",
    "decide",
    "eligible_reviewers",
    "get_approval",
    "get_project",
    "get_request",
    "independent_roles",
    "is_member",
    "list_projects",
    "member_ids",
    "members",
    "messages",
    "project_approvals",
    "project_requests",
    "requesting_organisations",
    "require_independent",
    "require_team",
    "reviews",
    "set_approval_status",
    "submit_request",
    "update_request",
    "usable_approval",
]
