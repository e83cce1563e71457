"""Words shown for the codes that campus-life pages display (kinds, statuses, reasons):
English message ids, translated when shown."""

from __future__ import annotations

from campus.i18n import N_, gettext

LABELS = {
    # rooms
    "office": N_("office"),
    "open_space": N_("open space"),
    "meeting_room": N_("meeting room"),
    "auditorium": N_("auditorium"),
    "lab": N_("lab"),
    "equipment": N_("equipment"),
    # bookings, residencies, sponsorships
    "confirmed": N_("confirmed"),
    "pending": N_("pending"),
    "cancelled": N_("cancelled"),
    "refused": N_("refused"),
    "active": N_("active"),
    "ended": N_("ended"),
    # the sides of a sponsorship
    "sponsor": N_("sponsor"),
    "staff": N_("campus staff"),
    # exit reasons
    "end_of_contract": N_("end of contract"),
    "growth": N_("growth"),
    "relocation": N_("relocation"),
    "acquisition": N_("acquisition"),
    "closure": N_("closure"),
    "other": N_("other"),
    # admissions
    "open": N_("open"),
    "closed": N_("closed"),
    "upcoming": N_("upcoming"),
    "submitted": N_("submitted"),
    "selected": N_("selected"),
    "rejected": N_("rejected"),
    # organisations
    "startup": N_("startup"),
    "company": N_("company"),
    "research_lab": N_("research lab"),
    "hospital": N_("hospital"),
    "clinic": N_("clinic"),
    "public_agency": N_("public agency"),
    "founding_member": N_("founding member"),
}


# The form fields a refusal's `where` names, by the words of their labels.
FIELDS = {
    "title": N_("Title"),
    "opens_at": N_("Opens (Paris time)"),
    "closes_at": N_("Closes (Paris time)"),
    "application_id": N_("Application"),
    "status": N_("Status"),
    "starts_on": N_("Start"),
    "ends_on": N_("End"),
    "contract_ref": N_("Contract reference"),
    "monthly_fee": N_("Monthly fee (EUR)"),
    "spaces": N_("Space"),
    "room": N_("Space"),
    "desks": N_("Desks (open space)"),
    "exited_on": N_("Exit date"),
    "reason": N_("Reason"),
    "note": N_("Note"),
    "startup_id": N_("Startup"),
    "sponsor_id": N_("Sponsor"),
    "mentor_name": N_("Mentor"),
    "objectives": N_("Objectives (one a line)"),
    "held_on": N_("Date"),
    "topics": N_("Topics"),
    "next_steps": N_("Next steps"),
    "rating": N_("Your rating (1 to 5)"),
    "comment": N_("Comment"),
    "introductions": N_("Introductions made"),
    "contracts": N_("Contracts signed"),
    "starts_at": N_("Start (Paris time)"),
    "ends_at": N_("End (Paris time)"),
    "people": N_("People"),
    "organisation_id": N_("For the organisation"),
    "repeat": N_("Repeat"),
    "count": N_("Occurrences"),
    "code": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "capacity": N_("Capacity (desks or seats)"),
    "equipment": N_("Equipment (comma separated)"),
    "max_minutes": N_("Longest booking (minutes)"),
    "partner_price_cents": N_("Partners' price an hour (cents)"),
    "floor_id": N_("Floor"),
    "building": N_("Building"),
    "level": N_("Level"),
    "opens": N_("Opens"),
    "closes": N_("Closes"),
}


def field_name(where: object) -> str:
    """The form field a refusal's `where` names: `spaces[0].desks` is the field `desks`."""
    last = str(where or "").rsplit(".", 1)[-1]
    return last.split("[", 1)[0]


def field(where: object) -> str:
    """The label of the field a refusal names, in the visitor's language ('' for none)."""
    name = field_name(where)
    return gettext(FIELDS[name]) if name in FIELDS else ""


def label(code: str) -> str:
    """The word for a code, in the visitor's language (the code itself when unknown)."""
    return gettext(LABELS.get(code, code))


# What every campus-life page takes: the words for codes and for the fields of a refusal.
WORDS = {"label": label, "field": field, "field_name": field_name}
