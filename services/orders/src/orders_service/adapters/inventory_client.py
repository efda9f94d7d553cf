"""Inventory over gRPC: holds are the one synchronous call of the purchase."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from taquilla.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from taquilla_platform.grpc_server import insecure_channel

from ..domain.orders import OrderRuleBroken

REASON_KEY = "taquilla-error-reason"


@dataclass(frozen=True)
class HeldUnits:
    hold_id: uuid.UUID
    expires_at: datetime
    units: list[dict]


class InventoryUnavailable(Exception):
    """Inventory did not answer in time; nothing is known to be held."""


class InventoryClient:
    def __init__(self, target: str, timeout_seconds: float):
        self.channel = insecure_channel(target)
        self.stub = inventory_pb2_grpc.InventoryStub(self.channel)
        self.timeout = timeout_seconds

    async def close(self) -> None:
        await self.channel.close()

    async def hold_general(self, *, hold_id: uuid.UUID, tenant_id: uuid.UUID, session_id: uuid.UUID,
                           zone_id: uuid.UUID, quantity: int, buyer_id: uuid.UUID, ttl_seconds: int) -> HeldUnits:
        request = inventory_pb2.HoldRequest(
            hold_id=str(hold_id), tenant_id=str(tenant_id), session_id=str(session_id), owner_id=str(hold_id),
            buyer_id=str(buyer_id), ttl_seconds=ttl_seconds,
            general=inventory_pb2.GeneralAdmission(zone_id=str(zone_id), quantity=quantity),
        )
        try:
            reply = await self.stub.Hold(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            raise _as_domain_error(exc) from exc
        return HeldUnits(
            hold_id=uuid.UUID(reply.hold_id),
            expires_at=reply.expires_at.ToDatetime(tzinfo=UTC),
            units=[{"unit_id": u.unit_id, "zone_id": u.zone_id, "label": u.label} for u in reply.units],
        )

    async def release(self, *, hold_id: uuid.UUID, tenant_id: uuid.UUID, reason: str) -> None:
        try:
            await self.stub.Release(inventory_pb2.ReleaseRequest(
                hold_id=str(hold_id), tenant_id=str(tenant_id), owner_id=str(hold_id), reason=reason),
                timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                raise


def _reason(exc: grpc.aio.AioRpcError) -> str:
    for key, value in exc.trailing_metadata() or ():
        if key == REASON_KEY:
            return value
    return ""


def _as_domain_error(exc: grpc.aio.AioRpcError) -> Exception:
    code, reason, detail = exc.code(), _reason(exc), exc.details() or ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return InventoryUnavailable(detail or code.name)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and reason == "limit_exceeded":
        return OrderRuleBroken("limit-exceeded", detail, "lines.0.quantity", 422)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return OrderRuleBroken("sold-out", detail or "Not enough tickets left", "lines.0.quantity", 409)
    if code == grpc.StatusCode.NOT_FOUND:
        return OrderRuleBroken("unknown-zone", detail, "lines.0.zone_id", 422)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return OrderRuleBroken("not-on-sale", detail or "This event is not on sale", "event_id", 409)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return OrderRuleBroken("invalid-hold", detail, None, 422)
    return InventoryUnavailable(f"{code.name}: {detail}")
