"""One data function, two renderings: its JSON under /api/v1 and an HTML page from the same
result, as Datasette serves a view's `.json` and its HTML from one function.

    @twin(
        api, pages, "/organisations/{org_id}",
        template="ecosystem/org_profile.html",
        summary="An organisation's profile",
        context=lambda data, actor: {"org": data, "can_edit": may_edit(actor, data["id"])},
    )
    def organisation(org_id: str, actor: Actor = allow("public.read"),
                     session: Session = db_session) -> dict:
        return profile(session, actor, org_id)

mounts `GET /api/v1/organisations/{org_id}`, returning the function's result, and
`GET /organisations/{org_id}`, rendering the template with `data` (the same result) and the
page-only extras that `context` returns. `context` names what it needs among `data`,
`request` and the data function's own parameters (`actor`, `session`, path and query
values); beside an async data function it may be async. Path, query parameters and the
permission are the data function's: both renderings ask for the same. A data function
returns what the API returns (a `response_model` given here must keep every field: the twin
test compares the page's data with the JSON).

The decorated function keeps its page as `function.twin_page` (a `TwinPage`), so that a form
posted from the page renders it again from the same data function when it is refused
(`campus.web.forms.form_route(..., page=function)`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from fastapi import APIRouter, Request
from starlette.routing import Match

from campus.web.pages_registry import page
from campus.web.templating import render

API_PREFIX = "/api/v1"

# Page path -> API path of every page built by `twin` (read by the twin test).
TWIN_PAGES: dict[str, str] = {}


def resolved_signature(function: Callable, *, with_request: bool) -> inspect.Signature:
    """The function's signature with its annotations resolved (the wrapper lives in another
    module, where FastAPI could not resolve them), with `request` first when asked."""
    hints = get_type_hints(function)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(function).parameters.values()
        if p.name != "request"
    ]
    if with_request:
        request = inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
        )
        parameters.insert(0, request)
    return inspect.Signature(parameters)


def _before_what_would_shadow_it(router: APIRouter) -> None:
    """Move the route just added before the first earlier one that would answer its path
    (a twin declared in pages.py adds `/events/calendar` after api.py's `/events/{id}`)."""
    route = router.routes[-1]
    sample = re.sub(r"{[^}]*}", "x", getattr(route, "path", ""))
    scope = {"type": "http", "path": sample, "method": "GET", "root_path": ""}
    for index, earlier in enumerate(router.routes[:-1]):
        if earlier.matches(scope)[0] != Match.NONE:
            router.routes.insert(index, router.routes.pop())
            return


def call_with(function: Callable, available: dict[str, Any]) -> Any:
    """Call `function` with the values it names among `available`."""
    wanted = inspect.signature(function).parameters
    return function(**{name: available[name] for name in wanted if name in available})


@dataclass(frozen=True)
class TwinPage:
    """A twin's page: its path, data function, template and page-only extras. `shown` is
    what the template renders (`data` and the extras), from the values the page's
    parameters name among `available`. The names each function takes are read once here,
    not at every request."""

    path: str
    function: Callable
    template: str
    context: Callable[..., dict[str, Any]] | None = None
    is_async: bool = field(init=False)
    parameters: tuple[str, ...] = field(init=False)
    context_parameters: tuple[str, ...] = field(init=False)
    context_is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        context = self.context
        setattr_ = object.__setattr__
        setattr_(self, "is_async", inspect.iscoroutinefunction(self.function))
        setattr_(self, "parameters", tuple(inspect.signature(self.function).parameters))
        setattr_(self, "context_is_async", inspect.iscoroutinefunction(context))
        names = tuple(inspect.signature(context).parameters) if context else ()
        setattr_(self, "context_parameters", names)

    def data(self, available: dict[str, Any]) -> Any:
        """The data function's result (a coroutine when it is async)."""
        return self.function(**{n: available[n] for n in self.parameters if n in available})

    def extras(self, available: dict[str, Any], data: Any) -> Any:
        """The context's extras for `data` (a coroutine when the context is async)."""
        if self.context is None:
            return {}
        named = {n: available[n] for n in self.context_parameters if n in available}
        if "data" in self.context_parameters:
            named["data"] = data
        return self.context(**named)

    def shown(self, available: dict[str, Any]) -> dict[str, Any]:
        """The page's data and extras (a plain data function and context)."""
        data = self.data(available)
        return {**self.extras(available, data), "data": data}

    async def shown_async(self, available: dict[str, Any]) -> dict[str, Any]:
        """The page's data and extras, awaiting what is async (slow extras in a thread)."""
        data = self.data(available)
        if self.is_async:
            data = await data
        extras = self.extras(available, data)
        if self.context_is_async:
            extras = await extras
        return {**extras, "data": data}


def twin(
    api: APIRouter,
    pages: APIRouter,
    path: str,
    *,
    template: str,
    summary: str,
    api_path: str | None = None,
    context: Callable[..., dict[str, Any]] | None = None,
    response_model: Any = None,
    **api_kwargs: Any,
) -> Callable[[Callable], Callable]:
    """Mount a data function as an API route and its page; see the module docstring."""
    json_path = path if api_path is None else api_path  # "" is the API router's own prefix

    def decorate(function: Callable) -> Callable:
        api.get(json_path, summary=summary, response_model=response_model, **api_kwargs)(function)
        _before_what_would_shadow_it(api)
        shown = TwinPage((pages.prefix or "") + path, function, template, context)

        takes_request = "request" in shown.parameters

        if shown.is_async:

            async def page_endpoint(request: Request, **kwargs: Any):
                return render(
                    request, template, await shown.shown_async({**kwargs, "request": request})
                )

        else:

            def page_endpoint(request: Request, **kwargs: Any):  # type: ignore[misc]
                # kwargs are the data function's own parameters: it is called with them alone
                data = function(**kwargs, request=request) if takes_request else function(**kwargs)
                extras = shown.extras({**kwargs, "request": request}, data)
                return render(request, template, {**extras, "data": data})

        page_endpoint.__signature__ = resolved_signature(function, with_request=True)  # type: ignore[attr-defined]
        page_endpoint.__name__ = f"{function.__name__}_page"
        page(pages, path, twin=API_PREFIX + (api.prefix or "") + json_path)(page_endpoint)
        TWIN_PAGES[(pages.prefix or "") + path] = API_PREFIX + (api.prefix or "") + json_path
        function.twin_page = shown  # type: ignore[attr-defined]
        return function

    return decorate
