"""Each capability's CLI sub-apps and commands, mounted on the `campus` Typer app."""

from __future__ import annotations

import typer

from campus.site.capabilities import CAPABILITIES
from campus.site.registry import load


def mount_capabilities(app: typer.Typer) -> None:
    """Add every capability's declared sub-apps and commands to `app`, in registry order."""
    for capability in CAPABILITIES:
        for entry in capability.cli:
            target = load(entry.target)
            if entry.kind == "app":
                app.add_typer(target, name=entry.name)
            else:
                app.command(entry.name)(target)
