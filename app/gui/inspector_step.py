"""One step of the inspector, computed on a worker: the state after an event of the
timeline, the fields that event changed, and which event last set each field."""

from __future__ import annotations

from dataclasses import dataclass

from app.gui.worker import JobContext
from app.replay.diff import changed_leaves
from app.replay.replayer import Replayer
from app.replay.runner import FoldError, FoldFailure
from kafka_io.event import EventRef
from widgets.aggregate_inspector import StateView


@dataclass(frozen=True)
class StepResult:
    view: StateView
    failure: FoldFailure | None


def compute_step(replayer: Replayer, step: int, ctx: JobContext | None = None) -> StepResult:
    """The state after timeline event ``step`` (0-based), what it changed, and blame.

    A fold that fails at or before this event gives the state before the failing event,
    as the core does; the failure travels with the result instead of being raised.
    """
    cancel = ctx.token if ctx is not None else None
    n = step + 1
    after = replayer.step(n, cancel=cancel)
    failure = after.failure if after.failure and after.failure.kind != "cancelled" else None
    reached = after.events_applied
    before = replayer.step(max(0, reached - 1), cancel=cancel) if reached == n else after
    changed = changed_leaves(before.state, after.state) if reached == n else frozenset()
    try:
        blame: dict[str, EventRef] = replayer.blame(reached, cancel=cancel)
    except FoldError:
        blame = {}
    view = StateView(step=step, state=after.state, changed=changed, blame=blame)
    return StepResult(view, failure)
