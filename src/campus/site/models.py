"""Every capability's tables in one metadata: what migrations and schema checks compare."""

from __future__ import annotations

from campus.db.base import Base
from campus.site.capabilities import CAPABILITIES
from campus.site.registry import load, targets

for _module in targets(CAPABILITIES, "models"):
    load(_module)

metadata = Base.metadata
