"""Partner suggestions from complementary expertise and needs, and introduction requests.

A candidate scores by what it brings that the source needs (most weight), what the source
brings that it needs, and shared themes. Each suggestion carries the codes behind its score,
so its one-sentence explanation is built from the same facts.

The rules live in one module per concern (scoring, parties, suggestions, introductions);
this module names what pages, the API, the CLI and other capabilities call.
"""

from campus.ecosystem.matchmaking.introductions import (  # noqa: F401
    decide,
    introduction_view,
    introductions_of,
    member_of,
    own_person_id,
    party_name,
    request_introduction,
)
from campus.ecosystem.matchmaking.parties import (  # noqa: F401
    check_acts_for,
    party,
)
from campus.ecosystem.matchmaking.scoring import (  # noqa: F401
    MESSAGE_MAX,
    PARTY_TYPES,
    Party,
    Suggestion,
    explain,
    score,
)
from campus.ecosystem.matchmaking.suggestions import (  # noqa: F401
    suggestions,
)
