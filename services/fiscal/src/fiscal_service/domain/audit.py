"""The hash chain of the fiscal audit log: each entry's hash covers its content and the previous hash."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

GENESIS = "0" * 64


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(previous_hash: str, sequence: int, kind: str, subject_id: str | None, payload: dict,
               recorded_at: datetime) -> str:
    body = canonical({"previous": previous_hash, "sequence": sequence, "kind": kind, "subject": subject_id,
                      "payload": payload, "recorded_at": recorded_at.isoformat()})
    return hashlib.sha256(body.encode()).hexdigest()


def digest(value) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()
