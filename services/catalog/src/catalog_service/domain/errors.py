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


class UnknownZone(CatalogError):
    def __init__(self, field: str, zone_id):
        super().__init__(str(zone_id))
        self.field = field
        self.zone_id = zone_id


class ZoneLocked(CatalogError):
    """A hidden zone asked for without a promo code that unlocks it."""

    def __init__(self, field: str, zone_name: str):
        super().__init__(zone_name)
        self.field = field
        self.zone_name = zone_name


class PromoCodeRefused(CatalogError):
    """Unknown, not valid now, used up, or not for this buyer: `reason` says which."""

    def __init__(self, code: str, reason: str, detail: str, status: int = 422):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.detail = detail
        self.status = status


class PromoCodeTaken(CatalogError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class UnknownSeat(CatalogError):
    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail


class InvalidStatusChange(CatalogError):
    def __init__(self, status: str, to_status: str):
        super().__init__(f"{status} -> {to_status}")
        self.status = status
        self.to_status = to_status


class VenueNameTaken(CatalogError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class StageNotFound(CatalogError):
    def __init__(self, stage_id):
        super().__init__(str(stage_id))
        self.stage_id = stage_id
