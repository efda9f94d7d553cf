"""Input types shared by services' request models."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_EMAIL = re.compile(r"^[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def normalize_email(value: str) -> str:
    """Syntax only (no DNS): local part kept as typed, domain lower-cased. Local domains are allowed."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


EmailAddress = Annotated[str, AfterValidator(normalize_email)]
