"""Import every capability's models so that metadata and migrations see all tables."""

from campus.audit import models as audit_models  # noqa: F401
from campus.auth import models as auth_models  # noqa: F401
from campus.db.base import Base

# Capability packages register their models here as they gain tables.

metadata = Base.metadata
