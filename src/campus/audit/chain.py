"""The hash of one audit event: canonical JSON of its fields and the previous hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def event_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
