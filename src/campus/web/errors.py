"""Errors as a visitor sees them: the titles, the HTML error page and who wants JSON."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from campus.i18n import N_
from campus.i18n import gettext as _
from campus.web.templating import render


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


ERROR_TITLES = {
    400: N_("The request is not valid"),
    401: N_("Sign in to continue"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("The request is not valid"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
}


CONCURRENT_CHANGE = N_("this was just done by another request: reload the page to see it")
UNSTORABLE = N_("a value cannot be stored: a NUL character, or a number out of range")


def is_unique_violation(error: IntegrityError) -> bool:
    """A unique or primary key violation (PostgreSQL SQLSTATE 23505, SQLite's message)."""
    if getattr(error.orig, "sqlstate", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(error.orig)


def error_page(request: Request, status: int, message: str, where: str | None = None) -> Response:
    """The HTML twin of an error: its message and, when known, where it is (a field, an id)."""
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": _(ERROR_TITLES.get(status, "Error")),
            "message": message,
            "where": where,
        },
        status=status,
    )
