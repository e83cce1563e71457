"""Programme applications: one's organisations' own and those one must review, on a person's
home page (see campus.web.home)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.ecosystem.directory.models import Organisation
from campus.ecosystem.programmes import service
from campus.i18n import gettext as _
from campus.web.home import HomeItem, HomeSection, section


def applications(session: Session, actor: Actor) -> HomeSection | None:
    """Applications to review (not yet scored) first, then one's organisations' applications;
    None for someone with neither."""
    if not actor.authenticated:
        return None
    to_review = [
        (application, _("To review"))
        for review, application in service.reviews_of_actor(session, actor)
        if review.submitted_at is None
    ]
    own = [(a, _(a.status)) for a in service.applications_of_actor(session, actor)]
    if not to_review and not own:
        return None
    items = []
    for application, detail in to_review + own:
        organisation = session.get(Organisation, application.organisation_id)
        name = organisation.name if organisation else "?"
        items.append(
            HomeItem(
                f"{application.call.title} · {name}",
                f"/programmes/applications/{application.id}",
                detail,
                application.submitted_at,
            )
        )
    return section("applications", _("Applications"), "/me/reviews", _("No application."), items)
