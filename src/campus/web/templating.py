"""Jinja2 templates with gettext, and `render`, which every page uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from campus import i18n
from campus.auth.actor import ANONYMOUS
from campus.web.deps import CSRF_COOKIE
from campus.web.fragments import FragmentCache

TEMPLATES = Path(__file__).parent / "templates"
PARIS = ZoneInfo("Europe/Paris")

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the code: do not stat every template file on every render.
    auto_reload=False,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def _local(value: dt.datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PARIS).strftime(fmt)


def spelled_date(value: dt.datetime | None) -> str:
    """A date and time as the reader's language spells it, in Paris time: "8 déc. 2026 à
    14:00" in French, "8 Dec 2026, 14:00" in English."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    language = i18n.current_language.get()
    pattern = "d MMM y 'à' HH:mm" if language == "fr" else "d MMM y, HH:mm"
    return format_datetime(value, pattern, tzinfo=PARIS, locale=language)


def spelled_day(value: str | dt.date | None) -> str:
    """A day (a date, a datetime or their ISO text) as the reader's language spells it:
    "8 déc. 2026" in French, "8 Dec 2026" in English (Paris time for a datetime)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.astimezone(PARIS).date()
    return format_date(value, "d MMM y", locale=i18n.current_language.get())


def format_number(value: float | int | None) -> str:
    """A number as the visitor's language writes it: in French, narrow non-breaking spaces
    between thousands and a decimal comma (1\u202f234,50)."""
    if value is None:
        return ""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if i18n.current_language.get() != "fr":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def _is_current(path: str, prefixes: list[str]) -> bool:
    """Whether a menu entry leads to the page shown (or to a page below it)."""
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)


_MENUS = FragmentCache(size=1024)


def menu_path(path: str) -> str:
    """The part of a path the main menu depends on: its first two segments.

    Every menu entry links to a path of one or two segments (a test checks it), so whether an
    entry is the current page is the same for `/events/42/edit` and `/events/42`.
    """
    return "/" + "/".join(path.strip("/").split("/")[:2])


@pass_context
def main_menu(context: Context) -> Markup:
    """The rendered `_nav.html`, cached by what it depends on: the language, the page's menu
    path, and the actor's roles (names, and whether each grant is campus-wide); it reads
    nothing else of the actor. It costs a quarter of a page's rendering otherwise."""
    actor = context.get("actor") or ANONYMOUS
    path = menu_path(context.get("path") or "/")
    key = (
        context.get("lang"),
        path,
        actor.authenticated,
        frozenset((grant.role, not grant.scope_type) for grant in actor.grants),
    )
    # No data version: the menu is drawn from the templates and the roles alone.
    return _MENUS.get(
        key,
        None,
        # An autoescaped template's output is safe HTML.
        lambda: Markup(env.get_template("_nav.html").render(actor=actor, path=path)),  # noqa: S704
    )


env.globals["is_current"] = _is_current
env.globals["main_menu"] = main_menu
env.filters["local"] = _local
env.filters["number"] = format_number
env.filters["day"] = spelled_date
env.filters["isoday"] = spelled_day
env.globals["colon"] = lambda: "\u00a0: " if i18n.current_language.get() == "fr" else ": "
env.globals["pick"] = i18n.pick


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    actor = getattr(request.state, "actor", None) or ANONYMOUS
    page = {
        "request": request,
        "actor": actor,
        "lang": i18n.current_language.get(),
        "csrf_token": getattr(request.state, "csrf", "") or request.cookies.get(CSRF_COOKIE, ""),
        "path": request.url.path,
        **(context or {}),
    }
    html = env.get_template(template).render(page)
    return HTMLResponse(html, status_code=status)
