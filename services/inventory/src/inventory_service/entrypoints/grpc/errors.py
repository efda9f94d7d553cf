"""Domain refusals as gRPC statuses, with the reason in trailing metadata for machines."""
from __future__ import annotations

import uuid

import grpc

from ...domain import holds as domain

REASON_KEY = "taquilla-error-reason"

STATUS_CODES: dict[type[domain.InventoryError], grpc.StatusCode] = {
    domain.InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    domain.UnknownSession: grpc.StatusCode.NOT_FOUND,
    domain.UnknownZone: grpc.StatusCode.NOT_FOUND,
    domain.UnknownHold: grpc.StatusCode.NOT_FOUND,
    domain.NotOnSale: grpc.StatusCode.FAILED_PRECONDITION,
    domain.ExpiredHold: grpc.StatusCode.FAILED_PRECONDITION,
    domain.ReleasedHold: grpc.StatusCode.FAILED_PRECONDITION,
    domain.ConfirmedHold: grpc.StatusCode.FAILED_PRECONDITION,
    domain.LimitExceeded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    domain.SoldOut: grpc.StatusCode.RESOURCE_EXHAUSTED,
    domain.SeatTaken: grpc.StatusCode.FAILED_PRECONDITION,
    domain.UnknownSeat: grpc.StatusCode.NOT_FOUND,
    domain.NotSold: grpc.StatusCode.FAILED_PRECONDITION,
    domain.AlreadyWaiting: grpc.StatusCode.ALREADY_EXISTS,
    domain.UnknownEntry: grpc.StatusCode.NOT_FOUND,
    domain.NotOwner: grpc.StatusCode.PERMISSION_DENIED,
    domain.HoldIdReused: grpc.StatusCode.ALREADY_EXISTS,
    domain.UnknownBlock: grpc.StatusCode.NOT_FOUND,
    domain.BlockIdReused: grpc.StatusCode.ALREADY_EXISTS,
    domain.NotInBlock: grpc.StatusCode.FAILED_PRECONDITION,
}


def status_code(error: domain.InventoryError) -> grpc.StatusCode:
    return STATUS_CODES.get(type(error), grpc.StatusCode.FAILED_PRECONDITION)


def trailing_metadata(error: domain.InventoryError) -> tuple[tuple[str, str], ...]:
    """`taquilla-error-reason: sold_out`, plus each detail as `taquilla-<name>` (e.g. taquilla-available)."""
    details = tuple((f"taquilla-{name.replace('_', '-')}", str(value)) for name, value in error.details.items())
    return ((REASON_KEY, error.reason), *details)


def parse_id(value: str, field: str, *, required: bool = True) -> uuid.UUID | None:
    if not value and not required:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise domain.InvalidRequest(f"{field} must be a UUID, not {value!r}", field=field) from None
