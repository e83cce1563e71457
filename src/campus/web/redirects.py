"""Safe redirect targets: where a `next` parameter may send a visitor."""

from __future__ import annotations


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths, so a crafted link cannot redirect elsewhere; else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
