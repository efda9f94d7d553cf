"""Inventory over gRPC: holds are the one synchronous call of the purchase."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import grpc
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_platform.grpc_server import insecure_channel

REASON_KEY = "taquilla-error-reason"


@dataclass(frozen=True)
class Selection:
    """What one Hold asks for: inventory takes exactly one selection per hold."""

    kind: Literal["general", "seats", "best_available"]
    zone_id: uuid.UUID | None = None
    quantity: int = 0
    seat_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class HeldUnits:
    hold_id: uuid.UUID
    expires_at: datetime
    units: list[dict]  # {unit_id, zone_id, label, seat_id, row, number}


class InventoryUnavailable(Exception):
    """Inventory did not answer in time; nothing is known to be held."""


class InventoryRefused(Exception):
    """Inventory said no: the status code, its machine-readable reason and the details it sent."""

    def __init__(self, code: grpc.StatusCode, reason: str, detail: str, details: dict[str, str]):
        super().__init__(detail or reason or code.name)
        self.code, self.reason, self.detail, self.details = code, reason, detail, details


class InventoryClient:
    def __init__(self, target: str, timeout_seconds: float):
        self.channel = insecure_channel(target)
        self.stub = inventory_pb2_grpc.InventoryStub(self.channel)
        self.timeout = timeout_seconds

    async def close(self) -> None:
        await self.channel.close()

    async def hold(self, *, hold_id: uuid.UUID, tenant_id: uuid.UUID, session_id: uuid.UUID, buyer_id: uuid.UUID,
                   ttl_seconds: int, selection: Selection, owner_id: uuid.UUID | None = None) -> HeldUnits:
        """`owner_id`: the order that confirms or releases the hold (by default the hold id is the order id)."""
        request = inventory_pb2.HoldRequest(
            hold_id=str(hold_id), tenant_id=str(tenant_id), session_id=str(session_id),
            owner_id=str(owner_id or hold_id), buyer_id=str(buyer_id), ttl_seconds=ttl_seconds)
        if selection.kind == "general":
            request.general.CopyFrom(inventory_pb2.GeneralAdmission(zone_id=str(selection.zone_id),
                                                                    quantity=selection.quantity))
        elif selection.kind == "best_available":
            request.best_available.CopyFrom(inventory_pb2.BestAvailable(zone_id=str(selection.zone_id),
                                                                        quantity=selection.quantity))
        else:
            request.seats.CopyFrom(inventory_pb2.SpecificSeats(seat_ids=[str(s) for s in selection.seat_ids]))
        return _held(await self._call(self.stub.Hold, request))

    async def extend(self, *, hold_id: uuid.UUID, tenant_id: uuid.UUID, ttl_seconds: int) -> HeldUnits:
        return _held(await self._call(self.stub.Extend, inventory_pb2.ExtendRequest(
            hold_id=str(hold_id), tenant_id=str(tenant_id), owner_id=str(hold_id), ttl_seconds=ttl_seconds)))

    async def seats_named(self, *, tenant_id: uuid.UUID, session_id: uuid.UUID, labels: list[str]) -> list[str]:
        """The unit and seat ids of seats given by their labels (inventory reports taken seats by label)."""
        try:
            found = await self.stub.GetAvailability(inventory_pb2.GetAvailabilityRequest(
                tenant_id=str(tenant_id), session_id=str(session_id), include_seats=True), timeout=self.timeout)
        except grpc.aio.AioRpcError:
            return []
        wanted = set(labels)
        return [i for s in found.seats if s.label in wanted for i in (s.unit_id, s.seat_id) if i]

    async def release(self, *, hold_id: uuid.UUID, tenant_id: uuid.UUID, reason: str) -> None:
        try:
            await self.stub.Release(inventory_pb2.ReleaseRequest(
                hold_id=str(hold_id), tenant_id=str(tenant_id), owner_id=str(hold_id), reason=reason),
                timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                raise

    async def _call(self, method, request):
        try:
            return await method(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            code, detail = exc.code(), exc.details() or ""
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL):
                raise InventoryUnavailable(detail or code.name) from exc
            metadata = {key: value for key, value in exc.trailing_metadata() or ()}
            raise InventoryRefused(code, metadata.get(REASON_KEY, ""), detail, metadata) from exc


def _held(reply) -> HeldUnits:
    return HeldUnits(
        hold_id=uuid.UUID(reply.hold_id),
        expires_at=reply.expires_at.ToDatetime(tzinfo=UTC),
        units=[{"unit_id": u.unit_id, "zone_id": u.zone_id, "label": u.label, "seat_id": u.seat_id or None,
                "row": u.row or None, "number": u.number or None} for u in reply.units],
    )
