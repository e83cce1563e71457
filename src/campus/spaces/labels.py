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


def label(code: str) -> str:
    """The word for a code, in the visitor's language (the code itself when unknown)."""
    return gettext(LABELS.get(code, code))
