"""What a creating request asked, as a stable digest: a repeat under the same id must ask the same."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(asked: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()
