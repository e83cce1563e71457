"""HTML pages of consultations: list, detail, proposals and comments, supports, moderation,
results with charts, the charter and citizen sign-up. Pages with data are twins
(`campus.web.twins.twin`, their JSON under /api/v1); forms go through
`campus.web.forms.form_route`, which rolls a refusal back and shows the form again."""

# The modules register their routes on one router, in this order (a fixed path before the
# path with a parameter that would take it).
from campus.participation.pages import charter, consultations, outcomes, proposals  # noqa: F401
from campus.participation.pages._shared import router

__all__ = ["router"]
