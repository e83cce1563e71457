"""Request validation problems (FastAPI/pydantic) in Campus's words: one message per kind of
problem, English in the API (message ids are English) and translated on pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from campus.i18n import N_

# pydantic error type -> message, formatted with the error's context (max_length, ge...).
MESSAGES: dict[str, str] = {
    "missing": N_("this field is required"),
    "string_type": N_("must be a text"),
    "string_too_short": N_("at least {min_length} characters"),
    "string_too_long": N_("at most {max_length} characters"),
    "too_short": N_("at least {min_length} items"),
    "too_long": N_("at most {max_length} items"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "greater_than": N_("must be more than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "bool_parsing": N_("must be true or false"),
    "bool_type": N_("must be true or false"),
    "date_parsing": N_("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": N_("must be a date (YYYY-MM-DD)"),
    "datetime_parsing": N_("must be a date and time (YYYY-MM-DDTHH:MM)"),
    "datetime_from_date_parsing": N_("must be a date and time (YYYY-MM-DDTHH:MM)"),
    "timezone_aware": N_("must give a time zone"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "url_parsing": N_("must be a web address"),
    "value_error": N_("is not valid"),
    "json_invalid": N_("the body is not valid JSON"),
    "model_attributes_type": N_("must be an object"),
    "dict_type": N_("must be an object"),
    "list_type": N_("must be a list"),
    "extra_forbidden": N_("is not an accepted field"),
}


def problems(errors: Sequence[dict[str, Any]], translate: Callable[[str], str]) -> list[dict]:
    """[{where, message}] for pydantic errors; `translate` is `gettext` on pages, the identity
    in the API. An error of a kind not listed keeps pydantic's own (English) message."""
    found = []
    for error in errors:
        location = list(error.get("loc", ()))
        if location[:1] == ["body"] and len(location) > 1:
            location = location[1:]  # the request body's fields, named as CampusErrors do
        where = ".".join(str(p) for p in location)
        template = MESSAGES.get(error.get("type", ""))
        message = error.get("msg", "")
        if template is not None:
            try:
                message = translate(template).format(**(error.get("ctx") or {}))
            except (KeyError, IndexError, ValueError):
                message = translate(template)
        found.append({"where": where, "message": message})
    return found
