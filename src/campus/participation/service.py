"""Consultations, proposals and comments: the rules, for the API, the pages, the CLI and the demo.

Every state change is audited in the caller's transaction. Texts are cleaned by `text`;
phases come from `phases`. Votes are in `votes`, reports and decisions in `moderation`.

The rules live in one module per concern (shared, consultations, proposals, comments, views);
this module names what pages, the API, the CLI and other capabilities call.
"""

from campus.participation.comments import (  # noqa: F401
    add_comment,
)
from campus.participation.consultations import (  # noqa: F401
    close_early,
    create_consultation,
    get_consultation,
    list_consultations,
    require_phase,
)
from campus.participation.proposals import (  # noqa: F401
    can_see,
    create_proposal,
    get_proposal,
    update_proposal,
)
from campus.participation.shared import (  # noqa: F401
    BODY_MAX,
    BODY_MIN,
    COMMENT_MAX,
    COMMENT_MIN,
    MAX_THREAD_DEPTH,
    STANCE_LABELS,
    STANCES,
    SUBJECT_ID,
    SUBJECT_LABELS,
    TITLE_MAX,
    TITLE_MIN,
    ConsultationFields,
)
from campus.participation.views import (  # noqa: F401
    consultation_view,
    proposal_view,
    proposals_view,
)
