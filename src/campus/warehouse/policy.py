"""Pseudonymisation policies: a declarative file per dataset, compiled to a tree of actions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from campus.errors import BadRequest
from campus.warehouse.fhir import RESOURCE_TYPES

DEFAULT_POLICY = Path(__file__).parent / "policies" / "default.yaml"
ACTIONS = ("keep", "redact", "cryptoHash", "dateShift", "generalize")
MAX_SHIFT_DAYS = 3650


@dataclass
class Node:
    """Actions at one element of a path tree: on the element itself, per extension url, below."""

    action: str | None = None
    by_url: dict[str, str] = field(default_factory=dict)
    children: dict[str, Node] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[dict[str, str], ...]
    date_shift: bool
    max_shift_days: int
    redact_reference_display: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dateShift": {"enabled": self.date_shift, "maxDays": self.max_shift_days},
            "referenceDisplay": "redact" if self.redact_reference_display else "keep",
            "rules": [dict(rule) for rule in self.rules],
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical policy: recorded in every version it produced."""
        canonical = orjson.dumps(self.as_dict(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()

    def with_date_shift(self, enabled: bool) -> Policy:
        return Policy(
            self.name, self.rules, enabled, self.max_shift_days, self.redact_reference_display
        )

    def tree(self) -> dict[str, Node]:
        """Resource type, '*' (every type's root) or '**' (any depth) -> root node of rules."""
        roots: dict[str, Node] = {}
        for rule in self.rules:
            type_name, *elements = rule["path"].split(".")
            node = roots.setdefault(type_name, Node())
            for element in elements:
                node = node.children.setdefault(element, Node())
            if rule.get("url"):
                node.by_url[rule["url"]] = rule["action"]
            else:
                node.action = rule["action"]
        return roots


def _bad(message: str, where: str) -> BadRequest:
    return BadRequest(message, code="bad_policy", where=where)


def parse(data: Any, source: str = "policy") -> Policy:
    """Check and build a policy from its parsed YAML/JSON; BadRequest names the bad element."""
    if not isinstance(data, dict):
        raise _bad(f"{source}: a policy is a mapping with name, dateShift and rules", source)
    unknown = set(data) - {"name", "dateShift", "referenceDisplay", "rules"}
    if unknown:
        raise _bad(f"{source}: unknown keys {sorted(unknown)}", source)
    name = data.get("name", "custom")
    if not isinstance(name, str) or not name:
        raise _bad(f"{source}: name must be a non-empty text", f"{source}.name")
    shift = data.get("dateShift", {"enabled": True})
    if not isinstance(shift, dict) or not isinstance(shift.get("enabled", True), bool):
        raise _bad(f"{source}: dateShift must be {{enabled: bool, maxDays: int}}", "dateShift")
    max_days = shift.get("maxDays", 365)
    if not isinstance(max_days, int) or not 1 <= max_days <= MAX_SHIFT_DAYS:
        raise _bad(f"{source}: dateShift.maxDays must be 1..{MAX_SHIFT_DAYS}", "dateShift.maxDays")
    display = data.get("referenceDisplay", "redact")
    if display not in ("redact", "keep"):
        raise _bad(f"{source}: referenceDisplay must be redact or keep", "referenceDisplay")
    rules_in = data.get("rules", [])
    if not isinstance(rules_in, list):
        raise _bad(f"{source}: rules must be a list", "rules")
    rules = []
    for index, rule in enumerate(rules_in):
        where = f"rules[{index}]"
        if not isinstance(rule, dict) or set(rule) - {"path", "action", "url"}:
            raise _bad(f"{source}: {where} must be {{path, action[, url]}}", where)
        path, action = rule.get("path"), rule.get("action")
        if action not in ACTIONS:
            raise _bad(f"{source}: {where}.action must be one of {', '.join(ACTIONS)}", where)
        if not isinstance(path, str) or "." not in path:
            raise _bad(
                f"{source}: {where}.path must look like Type.element, *.element or **.element",
                where,
            )
        type_name, *elements = path.split(".")
        if type_name not in ("*", "**") and type_name not in RESOURCE_TYPES:
            raise _bad(f"{source}: {where}.path starts with an unknown type {type_name!r}", where)
        if not all(e.isidentifier() for e in elements):
            raise _bad(f"{source}: {where}.path has an empty or invalid element", where)
        if elements in (["id"], ["resourceType"]):
            raise _bad(f"{source}: {where}: ids are always pseudonymised", where)
        url = rule.get("url")
        if url is not None and (not isinstance(url, str) or elements[-1] != "extension"):
            raise _bad(f"{source}: {where}.url applies to an extension element only", where)
        rules.append({k: v for k, v in (("path", path), ("action", action), ("url", url)) if v})
    return Policy(
        name=name,
        rules=tuple(rules),
        date_shift=shift.get("enabled", True),
        max_shift_days=max_days,
        redact_reference_display=display == "redact",
    )


def load(path: Path | None = None) -> Policy:
    """A policy file (YAML or JSON); the shipped default when `path` is None."""
    path = path or DEFAULT_POLICY
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise _bad(f"cannot read the policy file {path.name}: {error}", str(path.name)) from None
    except yaml.YAMLError as error:
        raise _bad(f"the policy file {path.name} is not valid YAML: {error}", path.name) from None
    return parse(data, path.name)


def default() -> Policy:
    return load(None)
