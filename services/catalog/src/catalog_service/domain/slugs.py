"""Event slugs: readable, URL-safe, unique per organizer, never mistaken for an event id."""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable

MAX_SLUG_LENGTH = 80
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FALLBACK_SLUG = "event"


def slugify(title: str) -> str:
    """'Concierto de Año Nuevo 2026!' -> 'concierto-de-ano-nuevo-2026'."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    if not slug:
        return FALLBACK_SLUG
    if looks_like_id(slug):  # GET /events/{id or slug} must never read a slug as an id
        slug = f"{FALLBACK_SLUG}-{slug}"[:MAX_SLUG_LENGTH].rstrip("-")
    return slug


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG_LENGTH and bool(SLUG_PATTERN.match(slug)) and not looks_like_id(slug)


def looks_like_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def with_suffix(base: str, n: int) -> str:
    suffix = f"-{n}"
    return base[:MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix


def first_free_slug(base: str, taken: Iterable[str]) -> str:
    """`base`, else `base-2`, `base-3`, ... whichever the organizer has not used yet."""
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while with_suffix(base, n) in used:
        n += 1
    return with_suffix(base, n)
