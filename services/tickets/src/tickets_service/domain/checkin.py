"""Doors: who may pass, replayed from the passages in scan-time order. Pure: no I/O.

A *passage* is a scan that let a person through (an online admission or exit, or an offline one the
device reports). Whether a passage counts is decided by replaying every passage of a ticket on a list
in the order the scans happened: the first scan wins, and a later entry that the rules would have
refused is a duplicate. Online and uploaded offline scans go through the same replay, so a merge
agrees with what a door would have answered had it been online.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class ScanResult(StrEnum):
    ADMITTED = "admitted"
    EXITED = "exited"
    ALREADY_INSIDE = "already_inside"
    ALREADY_USED = "already_used"  # no re-entry on this list, or every entry of a multi-entry ticket used
    NOT_INSIDE = "not_inside"  # an exit for someone who never came in
    INVALID_SIGNATURE = "invalid_signature"
    WRONG_EVENT = "wrong_event"
    WRONG_LIST = "wrong_list"
    VOIDED = "voided"
    TRANSFERRED = "transferred"
    UNKNOWN_TICKET = "unknown_ticket"
    DUPLICATE = "duplicate"  # merged offline: another scan of the ticket came first

    @property
    def passes(self) -> bool:
        return self in (ScanResult.ADMITTED, ScanResult.EXITED)


@dataclass(frozen=True)
class EntryRules:
    allow_reentry: bool = False  # after an exit, may the holder come in again?
    max_entries: int | None = None  # entries a ticket has on the list (a 3-day pass: 3); None: no cap

    @property
    def entries_allowed(self) -> int | None:
        return self.max_entries if self.allow_reentry else 1


@dataclass(frozen=True)
class Passage:
    id: uuid.UUID
    direction: Direction
    scanned_at: datetime
    door: str


@dataclass
class Presence:
    inside: bool = False
    entries: int = 0
    last_entry: Passage | None = None
    last_exit: Passage | None = None


@dataclass(frozen=True)
class Verdict:
    result: ScanResult
    because_of: Passage | None = None  # the earlier passage that refused this one


def decide(presence: Presence, direction: Direction, rules: EntryRules) -> Verdict:
    if direction is Direction.EXIT:
        return Verdict(ScanResult.EXITED) if presence.inside else Verdict(ScanResult.NOT_INSIDE, presence.last_exit)
    if presence.inside:
        return Verdict(ScanResult.ALREADY_INSIDE, presence.last_entry)
    allowed = rules.entries_allowed
    if allowed is not None and presence.entries >= allowed:
        return Verdict(ScanResult.ALREADY_USED, presence.last_entry)
    return Verdict(ScanResult.ADMITTED)


def apply(presence: Presence, passage: Passage) -> None:
    if passage.direction is Direction.ENTRY:
        presence.inside, presence.entries, presence.last_entry = True, presence.entries + 1, passage
    else:
        presence.inside, presence.last_exit = False, passage


@dataclass
class Replay:
    presence: Presence = field(default_factory=Presence)
    verdicts: dict[uuid.UUID, Verdict] = field(default_factory=dict)


def replay(passages: list[Passage], rules: EntryRules) -> Replay:
    """Each passage's verdict when taken in scan order (ties by id, so every replay agrees)."""
    state = Replay()
    for passage in sorted(passages, key=lambda p: (p.scanned_at, p.id)):
        verdict = decide(state.presence, passage.direction, rules)
        state.verdicts[passage.id] = verdict
        if verdict.result.passes:
            apply(state.presence, passage)
    return state


MESSAGES = {
    ScanResult.ADMITTED: "Welcome in",
    ScanResult.EXITED: "Exit recorded",
    ScanResult.ALREADY_INSIDE: "Already inside",
    ScanResult.ALREADY_USED: "Ticket already used",
    ScanResult.NOT_INSIDE: "Not inside: no entry to match this exit",
    ScanResult.INVALID_SIGNATURE: "Not a genuine ticket of this organizer",
    ScanResult.WRONG_EVENT: "Ticket for another event or session",
    ScanResult.WRONG_LIST: "Ticket not valid at this entrance",
    ScanResult.VOIDED: "Ticket voided",
    ScanResult.TRANSFERRED: "Ticket transferred: this code was replaced",
    ScanResult.UNKNOWN_TICKET: "Unknown ticket",
    ScanResult.DUPLICATE: "Duplicate: another scan of this ticket came first",
}
