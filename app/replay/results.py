"""What a replay answers: the state at a position, and one step of a history."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.replay.runner import FoldFailure
from kafka_io.event import EventRef


@dataclass(frozen=True)
class ReplayResult:
    """The state of an aggregate at one position."""

    aggregate: str | None
    fold: str
    state: Any
    events_applied: int
    total_events: int
    last_event: EventRef | None
    failure: FoldFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``state`` object (plus ``error`` when the fold failed)."""
        out: dict[str, Any] = {
            "aggregate": self.aggregate,
            "fold": self.fold,
            "state": self.state,
            "events_applied": self.events_applied,
            "last_event": None if self.last_event is None else self.last_event.to_json(),
        }
        if self.failure is not None:
            out["error"] = self.failure.to_json()
        return out


@dataclass(frozen=True)
class Step:
    """The state after event number ``n`` (1-based) of a history."""

    n: int
    event: EventRef
    state: Any


def renumber(failure: FoldFailure, step: int) -> FoldFailure:
    """A failure's ``step`` counted from the aggregate's first event, not the run's."""
    return failure if failure.step == step else replace(failure, step=step)
