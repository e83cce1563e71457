"""Form routes: a posted form parsed into the API's own input model, and one place for what
every form does after: on a refusal roll back, render the form again with the error and what
was typed; on success redirect (303) to the page the handler names.

    @form_route(
        pages, "/events/new", model=EventIn, template="ecosystem/event_form.html",
        context=lambda: {"audiences": AUDIENCES},
    )
    def event_create(body: EventIn, actor: Actor = allow("event.manage"),
                     session: Session = db_session) -> str:
        event = service.create_event(session, actor, body.to_input())
        return f"/events/{event.id}"

The handler takes the parsed model as `body` and returns the URL to go to (or, for an answer
that must not travel in a URL such as a receipt shown once, the response itself). A field that the
model types as a list is read with all its values; an empty field of an optional value is
None. `context` names what it needs, as for twins (`request`, the handler's parameters and
`values`, what was typed); its result is rendered with `error` (the translated message),
`where` (the field it applies to) and `values`.

A form posted from a twin's page names that page's data function instead, and a refusal
renders the page again from it: one data function serves the page, its JSON and the form.

    @form_route(pages, "/residencies/{residency_id}/renewal", model=RenewalIn, page=residency)
    def renew(body: RenewalIn, residency_id: str, actor: Actor = allow("residency.manage"),
              session: Session = db_session) -> str: ...

The data function gets the handler's values of the names it takes (path parameters, `actor`,
`session`, `request`); the page's query parameters keep their defaults, or take what
`query(values)` returns (the day of a refused booking, say; if the page refuses those, it is
shown with its defaults). The page's template and extras are the twin's; `context`, if given
beside `page`, adds to them (it may name `data`).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from anyio import from_thread
from fastapi import APIRouter, Request
from fastapi.params import Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campus.errors import CampusError
from campus.i18n import gettext as _
from campus.web import validation
from campus.web.deps import form_data
from campus.web.templating import render
from campus.web.twins import TwinPage, call_with, resolved_signature

# Form path -> the path of the twin's page it renders again when refused (read by the tests).
FORM_PAGES: dict[str, str] = {}


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin in (list, tuple, set) or annotation in (list, tuple, set)


def _is_optional(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def parse_form(model: type[BaseModel], form: FormData) -> BaseModel:
    """The model from a form's fields (pydantic's errors name the field, as in the API)."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if _is_list(field.annotation):
            if key in form:
                values[name] = [str(v) for v in form.getlist(key)]
            continue
        if key not in form:
            continue
        value = form.get(key)
        if isinstance(value, str) and value == "" and _is_optional(field.annotation):
            values[name] = None
        else:
            values[name] = value
    return model.model_validate(values)


def submitted(form: FormData) -> dict[str, Any]:
    """What was typed, to fill the form again (lists for repeated fields; no files)."""
    found: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key != "csrf_token" and values:
            found[key] = values if len(values) > 1 else values[0]
    return found


def _twin_page(path: str, page: Callable) -> TwinPage:
    twin_page = getattr(page, "twin_page", None)
    if not isinstance(twin_page, TwinPage):
        raise TypeError(f"form route {path}: page= takes a data function decorated by twin()")
    return twin_page


def _check_page_arguments(path: str, twin_page: TwinPage, given: set[str]) -> None:
    """Each parameter of the page's data function must come from the form's handler or keep
    a plain default: a dependency or a FastAPI Query() default would reach it unresolved."""
    for parameter in inspect.signature(twin_page.function).parameters.values():
        if parameter.name in given:
            continue
        if parameter.default is inspect.Parameter.empty or isinstance(
            parameter.default, (Depends, FieldInfo)
        ):
            raise TypeError(
                f"form route {path}: the page's data function needs `{parameter.name}`, "
                "which the handler does not take"
            )


def _page_again(
    twin_page: TwinPage, available: dict[str, Any], asked: dict[str, Any]
) -> dict[str, Any]:
    """The page's data and extras again, with `asked` for its query parameters, or with
    their defaults when it refuses those."""

    def read(arguments: dict[str, Any]) -> dict[str, Any]:
        if twin_page.is_async:  # on the event loop, as its page runs (the handler is in a thread)
            return from_thread.run(twin_page.shown_async, arguments)
        return twin_page.shown(arguments)

    try:
        return read({**available, **asked})
    except CampusError:
        if not asked:
            raise
        return read(available)


def form_route(
    router: APIRouter,
    path: str,
    *,
    model: type[BaseModel],
    template: str | None = None,
    context: Callable[..., dict[str, Any]] | None = None,
    page: Callable | None = None,
    query: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[Callable[..., str]], Callable]:
    """Mount a POST form handler; see the module docstring."""
    twin_page = _twin_page(path, page) if page is not None else None
    if template is None:
        if twin_page is None:
            raise TypeError(f"form route {path}: give the template, or the page= it renders")
        template = twin_page.template
    if query is not None and twin_page is None:
        raise TypeError(f"form route {path}: query= chooses the page's parameters: give page=")

    def decorate(handler: Callable[..., str]) -> Callable:
        signature = resolved_signature(handler, with_request=True)
        parameters = [p for p in signature.parameters.values() if p.name != "body"]
        if "session" not in {p.name for p in parameters}:
            raise TypeError(f"form route {path}: the handler must take `session`")
        if twin_page is not None:
            given = {p.name for p in parameters} | {"request", "values"}
            _check_page_arguments(path, twin_page, given)
            FORM_PAGES[(router.prefix or "") + path] = twin_page.path
        parameters.append(
            inspect.Parameter(
                "form", inspect.Parameter.KEYWORD_ONLY, annotation=FormData, default=form_data
            )
        )

        def refuse(
            request: Request, kwargs: dict, form: FormData, error: str, where: Any, status: int
        ):
            session: Session = kwargs["session"]
            session.rollback()  # nothing of a refused form stays
            values = submitted(form)
            available = {**kwargs, "request": request, "values": values}
            extras: dict[str, Any] = {}
            if twin_page is not None:
                extras = _page_again(twin_page, available, query(values) if query else {})
                available["data"] = extras["data"]
            if context:
                extras = {**extras, **call_with(context, available)}
            shown = {**extras, "error": error, "where": str(where or ""), "values": values}
            return render(request, template, shown, status)

        def endpoint(request: Request, form: FormData, **kwargs: Any):
            try:
                body = parse_form(model, form)
            except ValidationError as exc:
                found = validation.problems(exc.errors(), _)
                message = "; ".join(f"{p['where']}: {p['message']}" for p in found)
                where = found[0]["where"] if found else None
                return refuse(request, kwargs, form, message, where, 422)
            try:
                target = call_with(handler, {**kwargs, "request": request, "body": body})
            except CampusError as exc:
                return refuse(request, kwargs, form, exc.translated(), exc.where, exc.status)
            if isinstance(target, Response):  # a one-time answer that must not be in a URL
                return target
            return RedirectResponse(target, status_code=303)

        endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        endpoint.__name__ = f"{handler.__name__}_form"
        router.post(path, include_in_schema=False)(endpoint)
        return handler

    return decorate
