"""The ingest's problem messages: English templates, translated where a page shows them.

Every problem an ingest reports is formatted from one of these templates (`{name}` marks a
value). The report's JSON, the CLI and the logs carry the English text; the report page shows
`translate(text)`: the template the text was formatted from, translated, with the same values
(a value such as a JSON parser's own message stays as the parser wrote it). A text that no
template matches (the R4 models' messages in strict mode) is shown as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from campus.i18n import N_, gettext

# Reading files
LINE_TOO_LONG = N_("line longer than {limit} bytes: not read")
NOT_JSON = N_("not valid JSON: {error}")
BAD_GZIP = N_("the gzip stream is truncated or corrupt: {error}")
GZIP_EXPANDS = N_(
    "the gzip file expands more than {ratio} times its size or beyond {limit} bytes (a"
    " compression bomb?): not read further; send it uncompressed or in smaller files"
)
UNREADABLE = N_("cannot read the file: {error}")
JSON_TOO_LARGE = N_(
    "a JSON file is read whole and may not exceed {limit} bytes: split it or send Bulk Data NDJSON"
)
NOT_ONE_OBJECT = N_("the file must hold one JSON object (a resource or a Bundle)")
BUNDLE_TYPE = N_(
    "Bundle type {bundle_type} is not accepted: send a transaction, batch or collection Bundle"
)
ENTRY_NOT_LIST = N_("Bundle.entry must be a list")
ENTRY_NOT_OBJECT = N_("a Bundle entry must be an object")
ENTRY_WITHOUT_RESOURCE = N_("entry without a resource (request {method}): nothing to land")

# A Bulk Data server's own error files (`campus pull`)
SERVER_ERROR = N_("the hospital's server could not export a resource: {diagnostics}")
HOST_NOT_ALLOWED = N_(
    "the server {host} is at {address}, an internal address (loopback, private network or "
    "link-local): a pull may reach it only when the setting {setting} names it"
)

# A dataset's schedule of pulls (`bulk.schedule.check`)
SCHEDULE_NOT_OBJECT = N_(
    "a schedule is an object: daily_at (HH:MM) with a timezone, or every_hours"
)
SCHEDULE_ONE_KIND = N_("a schedule is either daily_at (HH:MM, with a timezone) or every_hours")
SCHEDULE_BAD_TIME = N_("daily_at is a time HH:MM, e.g. 02:30")
SCHEDULE_BAD_ZONE = N_("{zone} is not a time zone (e.g. Europe/Paris)")
SCHEDULE_BAD_HOURS = N_("every_hours is a whole number of hours from 1 to {limit}")

# Structural checks of a resource
NOT_AN_OBJECT = N_("a resource must be a JSON object")
NO_RESOURCE_TYPE = N_("resourceType is missing or not a text")
UNKNOWN_TYPE = N_("unknown R4 resource type {type_name}")
NESTED_BUNDLE = N_("a Bundle inside a Bundle or in NDJSON is not accepted")
NO_ID = N_("the resource has no id (and no urn:uuid fullUrl)")
BAD_ID = N_("id must be 1-64 letters, digits, '-' or '.'")
IDENTIFIER_NOT_LIST = N_("identifier must be a list of Identifier objects")

# The walk (references, dates, nesting, policy actions)
UNKNOWN_REFERENCE_TYPE = N_("reference to an unknown resource type {type_name}")
UNRESOLVED_CONDITIONAL = N_(
    "unresolved conditional reference: no resource of this ingest matches it"
)
UNRESOLVED_FULL_URL = N_("unresolved full URL reference: no resource of this file matches it")
BAD_REFERENCE = N_(
    "a reference must be Type/id, an absolute URL, urn:uuid:, Type?identifier= or #id"
)
CONTAINED_NOT_LIST = N_("contained must be a list of resources")
TOO_DEEP = N_("elements are nested more than {depth} levels deep")
REFERENCE_NOT_TEXT = N_("a reference must be a text")
LIST_IN_LIST = N_("a list may not hold a list")
CODING_NOT_OBJECT = N_("a Coding must be an object")
CONTAINED_NOT_RESOURCE = N_("a contained resource must be an object with a resourceType")
UNKNOWN_CONTAINED_TYPE = N_("unknown contained resource type {type_name}")
BUNDLE_IN_RESOURCE = N_("a Bundle inside a resource is not accepted")
HASH_NOT_TEXT = N_("cryptoHash applies to text values only")
DATE_NOT_TEXT = N_("a date must be a text, not {kind}")
BAD_DATE = N_("not a valid FHIR date, dateTime or instant")
REFERENCE_NOT_OBJECT = N_('a reference must be an object: {"reference": "Type/id"}')
GENERALIZE_NOT_TEXT = N_("generalize applies to text values only")

# Strict mode (the R4 models)
STRICT_UNKNOWN_NESTED_TYPE = N_(
    "strict R4 validation: a resource inside this one has an unknown resourceType"
)
STRICT_FAILED = N_("strict R4 validation could not check this resource ({kind})")

# The whole version (duplicates, references)
CONFLICT_AT_LINE = N_(
    "this {type_name} was sent {count} times with different content: upserted, the copy read "
    "last ({file} line {line}) was kept"
)
CONFLICT_AT_ENTRY = N_(
    "this {type_name} was sent {count} times with different content: upserted, the copy read "
    "last ({file} entry {entry}) was kept"
)
MORE_CONFLICTS = N_(
    "{count} more {type_name} id(s) were sent several times with different content: upserted, "
    "the last one read kept"
)
UNRESOLVED_REFERENCE = N_(
    "unresolved reference to a {type_name} that is not in this dataset version"
)

TEMPLATES = tuple(
    value for name, value in sorted(globals().items()) if name.isupper() and type(value) is str
)
_FIELD = re.compile(r"\\\{(\w+)\\\}")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each template as a pattern that captures its values, longest first."""
    return tuple(
        (re.compile(_FIELD.sub(r"(?P<\1>.*?)", re.escape(template)), re.DOTALL), template)
        for template in sorted(TEMPLATES, key=len, reverse=True)
    )


def template_of(text: str) -> str:
    """The template `text` was formatted from (no value of the input), or a fixed word for a
    text no template matches (the R4 models' messages, which may quote the input)."""
    for pattern, template in _patterns():
        if pattern.fullmatch(text) is not None:
            return template
    return OTHER_REASON


OTHER_REASON = "strict R4 validation or another check (see the report)"


def translate(text: str) -> str:
    """`text` in the current language: its template translated, with the same values."""
    for pattern, template in _patterns():
        found = pattern.fullmatch(text)
        if found is not None:
            values = found.groupdict()
            # A template without values may hold literal braces (a JSON example).
            return gettext(template).format(**values) if values else gettext(template)
    return text
