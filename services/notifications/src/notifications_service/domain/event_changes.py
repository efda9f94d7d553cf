"""What changed for buyers between two publications of an event: its venue, its sessions' start times. No I/O.

A session the earlier publication did not list is new (more dates), not a change for anyone who bought.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class EventChanges:
    venue: tuple[str, str] | None = None  # (old, new)
    moved: dict[uuid.UUID, tuple[datetime, datetime]] = field(default_factory=dict)  # session → (old, new) start

    def __bool__(self) -> bool:
        return self.venue is not None or bool(self.moved)

    def for_session(self, session_id: uuid.UUID | None, starts_at: datetime | None) -> list[dict]:
        """The changes one order sees: the venue, and its session's date (found by id, else by its old start)."""
        changes = []
        moved = self.moved.get(session_id) if session_id is not None else None
        if moved is None and session_id is None and starts_at is not None:
            moved = next((m for m in self.moved.values() if m[0] == starts_at), None)
        if moved is not None:
            changes.append({"what": "date", "old": moved[0], "new": moved[1]})
        if self.venue is not None:
            changes.append({"what": "venue", "old": self.venue[0], "new": self.venue[1]})
        return changes


def changes_between(old_venue: str, old_starts: dict[uuid.UUID, datetime], new_venue: str,
                    new_starts: dict[uuid.UUID, datetime]) -> EventChanges:
    moved = {sid: (old_starts[sid], start) for sid, start in new_starts.items()
             if sid in old_starts and old_starts[sid] != start}
    venue = (old_venue, new_venue) if old_venue.strip() != new_venue.strip() else None
    return EventChanges(venue=venue, moved=moved)
