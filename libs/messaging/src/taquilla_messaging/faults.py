"""Fault points for the fault drills: a process that kills itself at an exact step of the bus.

`TAQUILLA_FAULTS` lists `<point>:kill` or `<point>:kill@<n>` (the n-th time the point is reached,
1 by default), comma-separated, e.g.

    TAQUILLA_FAULTS=outbox.after_publish_before_mark:kill@2,consumer.after_commit_before_ack:kill

The variable is read once, the first time any point is reached; unset (production) every point is a
dictionary lookup that does nothing. An unknown point or action is refused, so a misspelt drill fails
loudly instead of passing without its fault. `kill` is SIGKILL of the process itself: no `finally`, no
graceful stop, exactly what a crash or an OOM kill leaves behind.
"""
from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field

ENV_VAR = "TAQUILLA_FAULTS"
POINTS = frozenset({
    "outbox.after_claim_before_publish",  # rows claimed (the business transaction long committed), nothing sent
    "outbox.after_publish_before_mark",  # the broker confirmed, the rows are not marked sent
    "consumer.after_commit_before_ack",  # the handler's effect and inbox row committed, no ack
})
log = logging.getLogger("taquilla.faults")


@dataclass
class Fault:
    point: str
    on_hit: int
    hits: int = 0


@dataclass
class Faults:
    armed: dict[str, Fault] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> Faults:
        faults = cls()
        for item in filter(None, (part.strip() for part in spec.split(","))):
            point, _, action = item.partition(":")
            name, _, nth = action.partition("@")
            if point not in POINTS:
                raise ValueError(f"{ENV_VAR}: unknown fault point {point!r} (known: {', '.join(sorted(POINTS))})")
            if name != "kill" or (nth and not nth.isdigit()) or nth == "0":
                raise ValueError(f"{ENV_VAR}: {item!r} is not '<point>:kill' or '<point>:kill@<n>'")
            faults.armed[point] = Fault(point, int(nth or 1))
        return faults

    def reached(self, point: str) -> None:
        fault = self.armed.get(point)
        if fault is None:
            return
        fault.hits += 1
        if fault.hits == fault.on_hit:
            log.critical("fault drill: SIGKILL at %s (hit %d)", point, fault.hits)
            os.kill(os.getpid(), signal.SIGKILL)


_faults: Faults | None = None


def fault_point(point: str) -> None:
    """Mark a step where a drill may kill this process (see the module docstring)."""
    global _faults
    if _faults is None:
        _faults = Faults.parse(os.environ.get(ENV_VAR, ""))
    _faults.reached(point)
