"""Lock a DuckDB connection down before it runs a query over the warehouse.

Escaping in the compilers is the first barrier; this is the second. Once `seal` has run, the
connection reads and writes files only under the directories it was given (a dataset
version's folder, a view run's output folder), cannot reach the network, install or load
an extension, attach a database or store a secret, and no SQL can change these settings
back (`lock_configuration`). Anything the query needs from elsewhere (Arrow tables,
temporary tables) must be registered or created before sealing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def seal(connection: Any, directories: Iterable[Path] = ()) -> None:
    """Restrict `connection` to `directories` and lock its configuration for good."""
    allowed = sorted(
        {str(form).rstrip("/") + "/" for d in directories for form in (Path(d), Path(d).resolve())}
    )
    if allowed:
        connection.execute(f"SET allowed_directories = [{', '.join(map(_literal, allowed))}]")
    for statement in (
        "SET enable_external_access = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET lock_configuration = true",
    ):
        connection.execute(statement)
