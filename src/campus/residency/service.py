"""Residency, the one way in for the CLI, the API, the pages and the demo: hosting rounds and
admissions, residencies with renewals and exits, the waiting list, the public list of hosted
structures, the staff figures, and sponsorship (parrainage). The work is split by concern:

- `rules`: staff alone manage; an amount in euros read as typed (no SQL);
- `rounds`: the hosting programme's calls, their form and grid, a round's applications;
- `admissions`: admit a selected application with its spaces (all or nothing), record a
  residency made before Campus, the waiting list;
- `residencies`: read a residency, add spaces, renew, record an exit;
- `figures`: the public hosted structures, entries and exits, the staff dashboard;
- `sponsorship`: pairs, their objectives, meetings, outcomes and ratings.

Spaces (rooms, desks, allocations) are the spaces capability's, reached through its service.
This module names what callers use from each.
"""

from __future__ import annotations

from campus.residency.admissions import (
    AdmissionInput,
    admit,
    register_residency,
    waiting_list,
    waitlist,
)
from campus.residency.figures import (
    dashboard,
    dashboard_csv_rows,
    entries_and_exits,
    hosted_structures,
)
from campus.residency.residencies import (
    EXIT_REASONS,
    allocate_more,
    get_residency,
    list_residencies,
    record_exit,
    renew,
    residency_dict,
    residency_view,
)
from campus.residency.rounds import (
    HOSTING_CRITERIA,
    HOSTING_FIELDS,
    HOSTING_SLUG,
    hosting_programme,
    open_round,
    round_view,
    rounds,
)
from campus.residency.sponsorship import (
    create_sponsorship,
    end_sponsorship,
    get_sponsorship,
    list_sponsorships,
    log_meeting,
    pairing_choices,
    rate_sponsorship,
    set_objectives,
    side_of,
    sponsorship_dict,
    sponsorship_figures,
    sponsorship_view,
)

__all__ = [
    "EXIT_REASONS",
    "HOSTING_CRITERIA",
    "HOSTING_FIELDS",
    "HOSTING_SLUG",
    "AdmissionInput",
    "admit",
    "allocate_more",
    "create_sponsorship",
    "dashboard",
    "dashboard_csv_rows",
    "end_sponsorship",
    "entries_and_exits",
    "get_residency",
    "get_sponsorship",
    "hosted_structures",
    "hosting_programme",
    "list_residencies",
    "list_sponsorships",
    "log_meeting",
    "open_round",
    "pairing_choices",
    "rate_sponsorship",
    "record_exit",
    "register_residency",
    "renew",
    "residency_dict",
    "residency_view",
    "round_view",
    "rounds",
    "set_objectives",
    "side_of",
    "sponsorship_dict",
    "sponsorship_figures",
    "sponsorship_view",
    "waiting_list",
    "waitlist",
]
