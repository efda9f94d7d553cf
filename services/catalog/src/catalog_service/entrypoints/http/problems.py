"""Domain errors as RFC 9457 problems."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from taquilla_platform.problems import Problem, not_found

from ...application.pagination import InvalidCursor
from ...domain import errors


def as_problem(exc: Exception) -> Problem | None:
    match exc:
        case errors.InvalidEvent():
            detail = exc.errors[0].detail if len(exc.errors) == 1 else f"{len(exc.errors)} fields are not valid"
            return Problem(422, "validation-error", "The request is not valid", detail,
                           errors=[{"field": e.field, "detail": e.detail} for e in exc.errors])
        case errors.NumberedZonesUnavailable():
            return Problem(422, "numbered-zones-not-available", "Numbered zones are not available yet",
                           f"Zone {exc.zone_name!r} is numbered; for now every zone must be 'general' "
                           "(general admission)", field=exc.field)
        case errors.EventNotFound():
            return not_found("Event", exc.reference)
        case errors.SlugTaken():
            return Problem(409, "slug-taken", "The slug is taken",
                           f"Another of your events already uses the slug {exc.slug!r}", field="slug")
        case errors.AmbiguousSlug():
            return Problem(409, "ambiguous-event-slug", "Several organizers use this slug",
                           f"Several events are called {exc.slug!r}; ask by id or add ?organizer=<organizer slug>",
                           field="id_or_slug", organizers=exc.organizers)
        case errors.EventAlreadyPublished():
            return Problem(409, "event-already-published", "The event is already published",
                           "The event is on sale already; publishing it again changes nothing")
        case errors.EventNotPublishable():
            return Problem(409, "event-not-publishable", "The event cannot be published",
                           f"The event is {exc.status}")
        case errors.InvalidStatusChange():
            return Problem(409, "invalid-status-change", "The event cannot make this change",
                           f"An event that is {exc.status} cannot become {exc.to_status}", field="status")
        case errors.EventAlreadyStarted():
            return Problem(409, "event-already-started", "The event has already started",
                           "An event whose session has begun cannot be put on sale")
        case errors.OrganizerNotReady():
            return Problem(409, "organizer-not-ready", "The organizer is not known to the catalog yet",
                           "The organizer's registration is still on its way; try again in a moment",
                           headers={"Retry-After": "1"})
        case errors.OrganizerNotActive():
            return Problem(409, "organizer-not-active", "The organizer cannot sell",
                           f"The organizer is {exc.status}")
        case errors.UnknownZone():
            return Problem(422, "unknown-zone", "The event has no such zone", f"No zone {exc.zone_id} in this event",
                           field=exc.field)
        case errors.ZoneLocked():
            return Problem(422, "zone-locked", "This zone needs a promo code",
                           f"Zone {exc.zone_name!r} is sold only with a promo code that unlocks it", field=exc.field)
        case errors.PromoCodeRefused():
            return Problem(exc.status, f"promo-code-{exc.reason}", "The promo code cannot be used", exc.detail,
                           field="promo_code")
        case errors.PromoCodeTaken():
            return Problem(409, "promo-code-taken", "The promo code exists",
                           f"The event already has a promo code {exc.code!r}", field="code")
        case errors.UnknownSeat():
            return Problem(422, "unknown-seat", "The seat is not for sale", exc.detail, field=exc.field)
        case errors.VenueNameTaken():
            return Problem(409, "venue-name-taken", "You have a venue with this name",
                           f"Another of your venues is called {exc.name!r}", field="name")
        case errors.StageNotFound():
            return not_found("Sale stage", exc.stage_id)
        case InvalidCursor():
            return Problem(400, "invalid-cursor", "The cursor is not valid",
                           "Pass back the next_cursor of a previous page unchanged", field="cursor")
    return None


@contextlib.contextmanager
def domain_errors_as_problems() -> Iterator[None]:
    try:
        yield
    except (errors.CatalogError, InvalidCursor) as exc:
        problem = as_problem(exc)
        if problem is None:
            raise
        raise problem from exc
