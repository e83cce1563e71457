"""A person's home ("Mon campus"): what each capability has waiting for them.

A capability that shows something there declares a function `(session, actor) ->
HomeSection | None` as `home=("module:function",)` in its registry entry; the site's home page
calls each in the registry's order and shows the sections they return (None: nothing of this
kind for this person, e.g. not an ethics reviewer). A section's items are the person's own:
what they registered for, sent, must review or check; never other people's data they could
not already open from the section's page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Items shown per section; the section's page lists them all.
SHOWN = 5


@dataclass(frozen=True)
class HomeItem:
    title: str
    href: str
    detail: str = ""  # already in the reader's language
    at: dt.datetime | None = None


@dataclass(frozen=True)
class HomeSection:
    key: str  # stable identifier, e.g. "events"
    title: str  # in the reader's language
    href: str  # the page listing every item
    empty: str  # what the section says when it has no item
    total: int = 0
    items: list[HomeItem] = field(default_factory=list)


def section(key: str, title: str, href: str, empty: str, items: list[HomeItem]) -> HomeSection:
    """A section showing the first SHOWN items and counting them all."""
    return HomeSection(key, title, href, empty, len(items), items[:SHOWN])
