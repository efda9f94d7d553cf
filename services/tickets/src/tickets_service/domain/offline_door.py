"""A door without the server: the reference of what a scanner app does offline. Pure: no I/O.

It trusts a package only when the organizer's key signed it, validates codes with the keys in it,
refuses revoked and superseded (transferred) codes, applies the list's entry rules to its ledger of
passages, and merges passages from its peers (other doors of the list on the same network, or the
server's feed) so that a ticket let in at one door is refused at the next. What it let through is
uploaded later (`pending_upload`), where the server merges it with everything else.
"""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkin import Direction, EntryRules, Passage, ScanResult, Verdict, decide, replay
from .qr import InvalidTicket, canonical_json, verify_qr

PACKAGE_FORMAT = "TQPKG1"


def package_signing_text(package: dict) -> bytes:
    return f"{PACKAGE_FORMAT}.".encode("ascii") + canonical_json(package)


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UntrustedPackage(ValueError):
    pass


def open_package(signed: dict, trusted_keys: dict[str, bytes] | None = None) -> dict:
    """The package, if the organizer's key signed it. `trusted_keys` (kid -> raw key) pins the keys a
    device already trusts; without them the package's own keys are used (trust on first use)."""
    package = signed.get("package")
    if signed.get("format") != PACKAGE_FORMAT or not isinstance(package, dict):
        raise UntrustedPackage("not a Taquilla offline package")
    keys = trusted_keys or {k["kid"]: _b64(k["x"]) for k in package.get("keys", [])}
    raw = keys.get(signed.get("kid", ""))
    if raw is None:
        raise UntrustedPackage("signed with an unknown key")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(_b64(signed["signature"]), package_signing_text(package))
    except (InvalidSignature, ValueError, KeyError):
        raise UntrustedPackage("the package signature does not match") from None
    return package


@dataclass(frozen=True)
class PeerPassage:
    """What doors share: one passage, idempotent by its scan id."""

    scan_id: uuid.UUID
    ticket_id: uuid.UUID
    direction: Direction
    scanned_at: datetime
    door: str


@dataclass
class OfflineDoor:
    package: dict
    door: str
    ledger: dict[uuid.UUID, PeerPassage] = field(default_factory=dict)
    own: list[dict] = field(default_factory=list)  # this door's scans, for the upload
    # the ledger per ticket: a scan reads only its ticket's passages, however many went through
    by_ticket: dict[uuid.UUID, list[PeerPassage]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for passage in self.ledger.values():
            self.by_ticket.setdefault(passage.ticket_id, []).append(passage)
        # key objects made once: a scan then costs one signature check, not a key parse as well
        self.keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(_b64(k["x"])) for k in self.package["keys"]}
        self.tenant_id = uuid.UUID(self.package["tenant_id"])
        self.event_id = uuid.UUID(self.package["event_id"])
        self.rules = EntryRules(self.package["list"]["allow_reentry"], self.package["list"]["max_entries"])
        self.zones = set(self.package["list"]["zone_ids"])
        self.revoked = {uuid.UUID(r["tk"]): r["reason"] for r in self.package["revoked"]}
        self.generation = {uuid.UUID(s["tk"]): s["g"] for s in self.package["superseded"]}
        tickets = self.package.get("tickets")
        self.ticket_zones = {uuid.UUID(t["tk"]): t["zone_id"] for t in tickets} if tickets is not None else None
        self.receive([PeerPassage(uuid.UUID(p["scan_id"]), uuid.UUID(p["tk"]), Direction(p["direction"]),
                                  datetime.fromisoformat(p["at"]), p["door"]) for p in self.package["passages"]])

    def receive(self, passages: list[PeerPassage]) -> None:
        """Passages from peers or the server's feed; a repeat changes nothing."""
        for passage in passages:
            self._record(passage)

    def _record(self, passage: PeerPassage) -> None:
        if passage.scan_id not in self.ledger:
            self.ledger[passage.scan_id] = passage
            self.by_ticket.setdefault(passage.ticket_id, []).append(passage)

    def _verdict(self, qr: str, direction: Direction, at: datetime) -> tuple[Verdict, uuid.UUID | None]:
        try:
            claims = verify_qr(qr, self.keys, tenant_id=self.tenant_id)
        except InvalidTicket:
            return Verdict(ScanResult.INVALID_SIGNATURE), None
        ticket = claims.ticket_id
        if claims.event_id != self.event_id:
            return Verdict(ScanResult.WRONG_EVENT), ticket
        if ticket in self.revoked:
            return Verdict(ScanResult.VOIDED), ticket
        if claims.generation < self.generation.get(ticket, 0):
            return Verdict(ScanResult.TRANSFERRED), ticket
        if self.ticket_zones is not None:
            if ticket not in self.ticket_zones:
                return Verdict(ScanResult.UNKNOWN_TICKET if not self.zones else ScanResult.WRONG_LIST), ticket
            if self.zones and self.ticket_zones[ticket] not in self.zones:
                return Verdict(ScanResult.WRONG_LIST), ticket
        history = [Passage(p.scan_id, p.direction, p.scanned_at, p.door) for p in self.by_ticket.get(ticket, ())]
        return decide(replay(history, self.rules).presence, direction, self.rules), ticket

    def scan(self, qr: str, at: datetime, direction: Direction = Direction.ENTRY) -> tuple[Verdict, PeerPassage | None]:
        """The answer to show, and the passage to share with peers when the person went through."""
        verdict, ticket = self._verdict(qr, direction, at)
        scan_id = uuid.uuid4()
        passed = verdict.result.passes
        self.own.append({"id": str(scan_id), "qr": qr, "direction": direction.value, "scanned_at": at.isoformat(),
                         "admitted": passed, "result": verdict.result.value})
        if not passed or ticket is None:
            return verdict, None
        passage = PeerPassage(scan_id, ticket, direction, at, self.door)
        self._record(passage)
        return verdict, passage

    def pending_upload(self) -> dict:
        return {"scans": list(self.own)}
