"""Organisations, people, memberships, invitations, logos and the directory search: the only
way in for CLI, API and pages. Validation lives here, so every entry point refuses the same
bad input. The parts live in their own modules; this module names them all in one place."""

from __future__ import annotations

from campus.ecosystem.directory.fields import (
    INVITATION_DAYS,
    INVITATION_SALT,
    LOGO_MAX_BYTES,
    MAX_HEADCOUNT,
    PER_PAGE_MAX,
    PHONE_RE,
    RICH_ATTRIBUTES,
    RICH_TAGS,
    SLUG_RE,
    can_read_members_only,
    may_edit,
    sanitise_rich_text,
    slugify,
)
from campus.ecosystem.directory.finding import (
    DirectoryPage,
    search_directory,
)
from campus.ecosystem.directory.invitations import (
    accept_invitation,
    invite,
    open_invitations,
    read_invitation,
    revoke_invitation,
)
from campus.ecosystem.directory.memberships import (
    add_member,
    members_of,
    remove_member,
    set_member_role,
)
from campus.ecosystem.directory.organisations import (
    LOGO_TYPES,
    ORG_FIELDS,
    create_organisation,
    get_organisation,
    logo_file,
    logos_dir,
    organisation_search_text,
    organisation_view,
    organisations_of_account,
    save_logo,
    sniff_image,
    update_organisation,
)
from campus.ecosystem.directory.people import (
    PERSON_FIELDS,
    ensure_person,
    get_person,
    person_of_account,
    person_search_text,
    person_view,
    refresh_person_search,
    update_person,
)

__all__ = [
    "INVITATION_DAYS",
    "INVITATION_SALT",
    "LOGO_MAX_BYTES",
    "LOGO_TYPES",
    "MAX_HEADCOUNT",
    "ORG_FIELDS",
    "PERSON_FIELDS",
    "PER_PAGE_MAX",
    "PHONE_RE",
    "RICH_ATTRIBUTES",
    "RICH_TAGS",
    "SLUG_RE",
    "DirectoryPage",
    "accept_invitation",
    "add_member",
    "can_read_members_only",
    "create_organisation",
    "ensure_person",
    "get_organisation",
    "get_person",
    "invite",
    "logo_file",
    "logos_dir",
    "may_edit",
    "members_of",
    "open_invitations",
    "organisation_search_text",
    "organisation_view",
    "organisations_of_account",
    "person_of_account",
    "person_search_text",
    "person_view",
    "read_invitation",
    "refresh_person_search",
    "remove_member",
    "revoke_invitation",
    "sanitise_rich_text",
    "save_logo",
    "search_directory",
    "set_member_role",
    "slugify",
    "sniff_image",
    "update_organisation",
    "update_person",
]
