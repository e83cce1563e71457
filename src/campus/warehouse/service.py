"""The warehouse service: datasets, ingest with the database around it, versions, catalogue.

CLI, API and pages call these functions. Files on disk (`layout`) are the truth about
published versions; the database rows are their indexed summary, reconciled by `sync`.

The rules live in one module per concern (datasets, ingesting, versions); this module names
what pages, the API, the CLI and other capabilities call.
"""

from campus.warehouse.datasets import (  # noqa: F401
    NO_BASE_VERSION,
    AlreadyExists,
    check_name,
    create_dataset,
    get_dataset,
    may_steward,
    record_pull,
    require_dataset,
    set_error_tolerance,
    set_policy,
    set_pull_source,
)
from campus.warehouse.ingesting import (  # noqa: F401
    incremental_base,
    ingest,
    sync,
)
from campus.warehouse.versions import (  # noqa: F401
    catalogue,
    describe,
    drop,
    list_datasets,
    manifest,
    public_catalogue,
    stewarded_datasets,
)
