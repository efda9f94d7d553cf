"""Users and their credentials: the rules, no I/O."""
from __future__ import annotations

import re

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # hashing cost must stay bounded whatever a client sends
MAX_EMAIL_LENGTH = 254

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(value: str) -> str:
    """Emails are unique whatever their case: stored and compared lower-cased."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError("not a valid email address")
    return email


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise ValueError("the password cannot be only spaces")
    return password


def clean_name(value: str, *, max_length: int = 200) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValueError("cannot be empty")
    if len(name) > max_length:
        raise ValueError(f"may have at most {max_length} characters")
    return name
