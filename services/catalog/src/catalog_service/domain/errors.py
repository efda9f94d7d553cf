"""What can go wrong in the catalog, in domain terms; the HTTP entrypoint turns these into problems."""
from __future__ import annotations

from dataclasses import dataclass


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path into the request body, as validation errors name it: "zones.0.capacity"
    detail: str


class InvalidEvent(CatalogError):
    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.detail}" for e in errors))
        self.errors = errors


class NumberedZonesUnavailable(CatalogError):
    def __init__(self, field: str, zone_name: str):
        super().__init__(f"zone {zone_name!r} is numbered")
        self.field = field
        self.zone_name = zone_name


class EventNotFound(CatalogError):
    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


class SlugTaken(CatalogError):
    def __init__(self, slug: str):
        super().__init__(slug)
        self.slug = slug


class AmbiguousSlug(CatalogError):
    def __init__(self, slug: str, organizers: list[str]):
        super().__init__(slug)
        self.slug = slug
        self.organizers = organizers


class EventAlreadyPublished(CatalogError):
    pass


class EventNotPublishable(CatalogError):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


class EventAlreadyStarted(CatalogError):
    pass


class OrganizerNotReady(CatalogError):
    """The gateway's gateway.tenant.registered has not reached the catalog yet."""


class OrganizerNotActive(CatalogError):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status
