"""The ethics reviews a person must give, on their home page (see campus.web.home)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.auth import policy
from campus.auth.actor import Actor
from campus.governance import api
from campus.i18n import gettext as _
from campus.web.home import HomeItem, HomeSection, section


def reviews_to_do(session: Session, actor: Actor) -> HomeSection | None:
    """Access requests assigned to one and not yet decided by one."""
    if not policy.get("ethics.review").allows(actor):
        return None
    items = [
        HomeItem(
            r["project_title"],
            f"/projects/{r['project_id']}/requests/{r['request_id']}",
            _(r["request_status"].replace("_", " ")),
        )
        for r in api.reviews_of(session, actor)
        if not r["my_decision"]
    ]
    return section(
        "reviews", _("Ethics reviews to give"), "/reviews", _("No review to give."), items
    )
