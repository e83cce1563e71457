"""Import every capability's models so that metadata and migrations see all tables."""

from campus.analysis import models as analysis_models  # noqa: F401
from campus.audit import models as audit_models  # noqa: F401
from campus.auth import models as auth_models  # noqa: F401
from campus.auth import oidc_models  # noqa: F401
from campus.db import versions as data_versions  # noqa: F401
from campus.db.base import Base
from campus.ecosystem.directory import models as directory_models  # noqa: F401
from campus.ecosystem.events import models as events_models  # noqa: F401
from campus.ecosystem.impact import models as impact_models  # noqa: F401
from campus.ecosystem.matchmaking import models as matchmaking_models  # noqa: F401
from campus.ecosystem.programmes import models as programmes_models  # noqa: F401
from campus.ecosystem.trainings import models as trainings_models  # noqa: F401
from campus.governance import models as governance_models  # noqa: F401
from campus.governance import optout as optout_models  # noqa: F401
from campus.participation import models as participation_models  # noqa: F401
from campus.warehouse import models as warehouse_models  # noqa: F401

# Capability packages register their models here as they gain tables.

metadata = Base.metadata
