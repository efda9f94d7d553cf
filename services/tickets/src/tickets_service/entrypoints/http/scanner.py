"""Scanner devices: pairing, online scans, the offline package, uploads and the peer feed.

Devices authenticate with their device token: `Authorization: Device <token>` straight to the tickets
service, or `Authorization: Bearer <token>` (the same token) through the gateway, which only lets
bearer tokens through.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from taquilla_platform.problems import Problem

from ...application.checkin_setup import authenticate_device, list_view, pair_device
from ...application.offline_package import offline_package
from ...application.scanning import OfflineScan, feed, scan_online, upload_offline_scans
from ...domain.checkin import Direction, ScanResult
from ...domain.qr import MAX_QR_LENGTH
from .common import vault_of

router = APIRouter(prefix="/api/v1/tickets", tags=["scanners"])
MAX_UPLOAD = 5000


def device_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("device", "bearer") and token.strip():
        return token.strip()
    raise Problem(401, "unauthorized", "Device not authorized", "Send 'Authorization: Device <device token>'",
                  field="Authorization", headers={"WWW-Authenticate": "Device"})


class DeviceScope:
    """A unit of work narrowed to the authenticated device's organizer."""

    def __init__(self, request: Request):
        self.request = request
        self.token = device_token(request)

    async def __aenter__(self):
        self.uow = self.request.app.state.db.unit_of_work(system=True)
        uow = await self.uow.__aenter__()
        try:
            self.device = await authenticate_device(uow.session, self.request.app.state.tokens, self.token)
            await uow.set_tenant(self.device.tenant_id)
        except BaseException:
            await self.uow.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc):
        await self.uow.__aexit__(*exc)


class Pairing(BaseModel):
    code: str = Field(min_length=6, max_length=40, description="the one-time code the operator was shown")


@router.post("/devices/pair")
async def pair(request: Request, body: Pairing) -> dict:
    """A device exchanges its one-time pairing code for its device token (shown this once)."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        answer = await pair_device(uow.session, request.app.state.settings, body.code)
        await uow.commit()
    return answer


@router.get("/scanner/me")
async def me(request: Request) -> dict:
    async with DeviceScope(request) as scope:
        device = scope.device
        return {"id": str(device.id), "name": device.name, "tenant_id": str(device.tenant_id),
                "event_id": str(device.event_id), "door": device.door, "list": list_view(device.list)}


class ScanIn(BaseModel):
    qr: str = Field(min_length=1, max_length=MAX_QR_LENGTH)
    direction: Literal["entry", "exit"] = "entry"
    scan_id: uuid.UUID | None = Field(None, description="the device's id for this scan: a retry answers the same")


@router.post("/scanner/scans")
async def scan(request: Request, body: ScanIn) -> dict:
    """Validate a ticket online: admitted, already inside (when, which door), refused and why. Logged."""
    async with DeviceScope(request) as scope:
        answer = await scan_online(scope.uow.session, scope.device, body.qr.strip(), Direction(body.direction),
                                   body.scan_id)
        await scope.uow.commit()
    return answer


@router.get("/scanner/package")
async def package(request: Request, include_tickets: bool = False) -> dict:
    """The signed offline package for the device's list: keys, revocations, entry rules, passages so far
    and, on request, the list's tickets."""
    async with DeviceScope(request) as scope:
        answer = await offline_package(scope.uow.session, scope.device, vault_of(request),
                                       include_tickets=include_tickets)
        await scope.uow.commit()  # the organizer's first signing key may have been made just now
    return answer


class OfflineScanIn(BaseModel):
    id: uuid.UUID
    qr: str = Field(min_length=1, max_length=MAX_QR_LENGTH)
    direction: Literal["entry", "exit"] = "entry"
    scanned_at: datetime
    admitted: bool = Field(description="whether the device let the person through")
    result: ScanResult | None = Field(None, description="what the device answered, when it refused")


class Upload(BaseModel):
    scans: list[OfflineScanIn] = Field(min_length=1, max_length=MAX_UPLOAD)


@router.post("/scanner/uploads")
async def upload(request: Request, body: Upload) -> dict:
    """Upload scans made offline; the answer reports duplicates. Uploading the same scans again is harmless."""
    ids = [s.id for s in body.scans]
    if len(set(ids)) != len(ids):
        raise Problem(422, "duplicate-scan-id", "The same scan id appears twice",
                      "Every scan in an upload needs its own id", field="scans")
    for i, item in enumerate(body.scans):
        if item.scanned_at.tzinfo is None:
            raise Problem(422, "validation-error", "The request is not valid",
                          "scanned_at needs a time zone (UTC)", field=f"scans.{i}.scanned_at")
    batch = [OfflineScan(s.id, s.qr.strip(), Direction(s.direction), s.scanned_at, s.admitted, s.result) for s in body.scans]
    async with DeviceScope(request) as scope:
        answer = await upload_offline_scans(scope.uow.session, scope.device, batch)
        await scope.uow.commit()
    return answer


@router.get("/scanner/feed")
async def passages_feed(request: Request, after: int = Query(0, ge=0),
                        limit: int = Query(500, ge=1, le=5000)) -> dict:
    """What every door of the device's list let through after a cursor (peer sync through the server)."""
    async with DeviceScope(request) as scope:
        return await feed(scope.uow.session, scope.device, after, limit)
