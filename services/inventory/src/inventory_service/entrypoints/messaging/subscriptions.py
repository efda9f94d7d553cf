"""Everything inventory consumes, in one place."""
from taquilla_contracts.catalog import EventPublished, SeatMapPublished
from taquilla_contracts.inventory import ConfirmHold, ReleaseHold, VoidUnits
from taquilla_messaging import Subscriptions

from ...application.confirm_hold import confirm_hold_on_command
from ...application.record_published_event import record_published_event
from ...application.record_seat_map import record_published_seat_map
from ...application.release_hold import release_hold_on_command
from ...application.void_hold import void_units_on_command


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("inventory")
    subs.on(EventPublished)(record_published_event)
    subs.on(SeatMapPublished)(record_published_seat_map)
    subs.on(ConfirmHold)(confirm_hold_on_command)
    subs.on(ReleaseHold)(release_hold_on_command)

    @subs.on(VoidUnits)
    async def _void(uow, message, command):
        await void_units_on_command(uow, message, command, offer_ttl_seconds=settings.waitlist_offer_ttl_seconds,
                                    max_ttl_seconds=settings.max_hold_ttl_seconds)

    return subs
