"""Errors a user may see. Services raise them; the web layer renders them (JSON under /api,
HTML elsewhere) and the CLI prints them. The status is the HTTP status they map to."""

from __future__ import annotations

from typing import Any


class CampusError(Exception):
    """A refusal with an HTTP status, a stable code and a message that says what to do."""

    status = 400

    def __init__(
        self, message: str, *, code: str | None = None, where: Any = None, status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.__class__.__name__
        self.where = where
        if status is not None:
            self.status = status

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.where is not None:
            body["where"] = self.where
        return {"error": body}


class BadRequest(CampusError):
    status = 400


class NotAuthenticated(CampusError):
    status = 401


class Forbidden(CampusError):
    status = 403


class NotFound(CampusError):
    status = 404


class Conflict(CampusError):
    status = 409


class TooLarge(CampusError):
    status = 413


class TooManyRequests(CampusError):
    status = 429
