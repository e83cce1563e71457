"""Docs that cannot go stale: every setting, CLI command and permission is documented.

Each test's failure says exactly what to add and where, so whoever adds a setting, a command
or a permission documents it in the same change.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import typer.main
from pydantic_settings import BaseSettings

import campus
from campus.auth import policy
from campus.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SOURCE = Path(campus.__file__).parent

# Settings fields that are not read from the environment (filled in by the code).
NOT_SETTINGS = {"generated_secrets"}


def section(text: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class in the package (found in the source, then imported)."""
    found = []
    for path in SOURCE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "BaseSettings" not in source:
            continue
        module = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", "") == "BaseSettings" for base in node.bases
            ):
                found.append(getattr(importlib.import_module(module), node.name))
    return found


def environment_names() -> dict[str, str]:
    """CAMPUS_* variable -> the class that reads it."""
    names = {}
    for cls in settings_classes():
        prefix = cls.model_config.get("env_prefix", "")
        for field in cls.model_fields:
            if field not in NOT_SETTINGS:
                names[f"{prefix}{field}".upper()] = f"{cls.__module__}.{cls.__name__}"
    return names


def test_every_setting_is_in_the_readme_configuration_table():
    table = section(README.read_text(encoding="utf-8"), "Configuration")
    documented = set(re.findall(r"`(CAMPUS_[A-Z0-9_]+)`", table))
    names = environment_names()
    assert len(names) > 40 and "CAMPUS_SESSION_HOURS" in names
    missing = sorted(
        f"{name} (from {owner})" for name, owner in names.items() if name not in documented
    )
    assert not missing, (
        "add a row `| `CAMPUS_NAME` | default | meaning |` to the README's Configuration table "
        "for each of these settings (the full name, in backquotes):\n" + "\n".join(missing)
    )


def commands() -> list[tuple[str, ...]]:
    """Every `campus` command, as its words: ("serve",), ("dataset", "list")..."""
    found = []
    for name, command in typer.main.get_command(app).commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found.extend((name, sub) for sub in subcommands)
        else:
            found.append((name,))
    return sorted(found)


def test_every_cli_command_is_in_the_readme_command_table():
    rows = [
        line
        for line in section(README.read_text(encoding="utf-8"), "Command line").splitlines()
        if line.startswith("| `campus ")
    ]
    found = commands()
    assert ("serve",) in found and ("dataset", "list") in found
    missing = []
    for words in found:
        # A row may name several commands: `campus backup DEST` / `campus restore SRC`.
        group_rows = " ".join(row for row in rows if re.search(rf"`campus {words[0]}\b", row))
        if not group_rows or (
            len(words) > 1 and not re.search(rf"[`/|\\ ]{re.escape(words[1])}\b", group_rows)
        ):
            missing.append("campus " + " ".join(words))
    assert not missing, (
        "add these commands to the README's Command line table: a row "
        "`| `campus GROUP SUB ARGS` | what it does |` (sub-commands of one group may share "
        "a row: `campus GROUP a` / `b ARG`):\n" + "\n".join(missing)
    )


def test_every_permission_is_in_the_architecture_permission_table():
    table = section(ARCHITECTURE.read_text(encoding="utf-8"), "Permissions")
    rows = {
        match.group(1): line
        for line in table.splitlines()
        if (match := re.match(r"\| `([a-z_.]+)` \|", line))
    }
    wrong = []
    for name, permission in policy.PERMISSIONS.items():
        roles = sorted(str(role.value) for role in permission.roles)
        if name not in rows:
            wrong.append(f"missing: | `{name}` | {', '.join(roles)} | {permission.description} |")
        elif any(f"`{role}`" not in rows[name] for role in roles):
            wrong.append(f"roles changed: | `{name}` | {', '.join(roles)} |")
    stale = sorted(set(rows) - set(policy.PERMISSIONS))
    assert not wrong, (
        "docs/architecture.md's Permissions table must list each permission of "
        "auth/policy.py with the roles holding it (in backquotes); add or fix these rows:\n"
        + "\n".join(wrong)
    )
    assert not stale, "gone from auth/policy.py, remove their rows: " + ", ".join(stale)
