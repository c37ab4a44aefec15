"""Point-in-time replay of one aggregate: state at a position, stepping, diff and blame.

A ``Replayer`` folds one aggregate's events, in log order, with one fold.  Its events
come from a TopicIndex (the aggregate's rows, decoded afresh for every pass) or from a
plain iterable of Events (the cold path: one partition read straight from the cluster,
or an event file).

Positions count events: position ``n`` is the state after the first ``n`` (0: before any,
``None``); ``position()`` turns an offset, a timestamp or an event number into one.

Checkpoints: a copy of the state every ``checkpoint_every`` events, made as the first
pass goes by.  Any later position is then at most ``checkpoint_every - 1`` fold calls
away from a checkpoint, which makes stepping around a 100,000-event aggregate a matter
of milliseconds.  Checkpoints are copied when stored and again when used, and every
state handed out is a copy, so neither a fold nor a caller can corrupt them.

Not thread-safe: use one Replayer from one (worker) thread at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from app.index.topic_index import TopicIndex, ValueDecoder
from app.replay.diff import BlameTracker, StateDiff, diff_states
from app.replay.event_sources import (
    IndexEvents,
    ListEvents,
    ReplayEvents,
    StateError,
    copy_state,
)
from app.replay.folds import FoldFunction, FoldSpec
from app.replay.results import ReplayResult, Step, renumber
from app.replay.runner import (
    DEFAULT_BUDGET_S,
    Cancellable,
    FoldError,
    FoldFailure,
    RunOutcome,
    run_fold,
    state_failure,
)
from app.replay.upcasting import Upcasting
from kafka_io.event import Event, EventRef

__all__ = ["Replayer"]

DEFAULT_CHECKPOINT_EVERY = 128
ProgressFn = Callable[[int, int], None]


class Replayer:
    """Fold one aggregate's events; states at any position, history, diff and blame.

    ``source`` is a TopicIndex (then ``aggregate`` is required) or an iterable of
    Events (then ``aggregate``, if given, filters them).  ``budget_s`` bounds each fold
    call (see ``app.replay.runner``).  ``decoder`` (index source only) decodes this
    replayer's events instead of the index's decoder: give a worker thread its own.
    """

    def __init__(
        self,
        source: TopicIndex | Iterable[Event],
        fold: FoldSpec | FoldFunction,
        *,
        aggregate: str | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        budget_s: float = DEFAULT_BUDGET_S,
        decoder: ValueDecoder | None = None,
        upcast: Upcasting | None = None,
        rows: np.ndarray | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1")
        self.fold = fold
        self.fold_name = (
            fold.name if isinstance(fold, FoldSpec) else getattr(fold, "__name__", "fold")
        )
        self.aggregate = aggregate
        self.checkpoint_every = checkpoint_every
        self.budget_s = budget_s
        # The upcasters run on each event just before the fold, under the fold's guard.
        self.upcast = upcast
        self._prepare = None if upcast is None else upcast.apply
        self._src: ReplayEvents
        if isinstance(source, TopicIndex):
            if aggregate is None:
                raise ValueError("replaying from an index needs the aggregate")
            if rows is None:
                rows = source.rows_for_aggregate(aggregate)
            self._src = IndexEvents(source, rows, decoder)
        else:
            events = list(source)
            if aggregate is not None:
                events = [e for e in events if e.aggregate == aggregate]
            self._src = ListEvents(events)
        self._checkpoints: list[Any] = [None]  # state after k * checkpoint_every events
        self._blame_points: list[dict[Any, EventRef]] = [{}]
        self._failure: FoldFailure | None = None  # a deterministic error at _failed_at
        self._failed_at = -1
        self._cursor: tuple[int, Any] | None = None  # last state computed (not handed out)

    @classmethod
    def from_index(
        cls, index: TopicIndex, aggregate: str, fold: FoldSpec | FoldFunction, **kw: Any
    ) -> Replayer:
        return cls(index, fold, aggregate=aggregate, **kw)

    @classmethod
    def from_events(
        cls,
        events: Iterable[Event],
        fold: FoldSpec | FoldFunction,
        aggregate: str | None = None,
        **kw: Any,
    ) -> Replayer:
        return cls(events, fold, aggregate=aggregate, **kw)

    # -------------------------------------------------------------- positions

    def __len__(self) -> int:
        return len(self._src)

    def extend(self, rows: np.ndarray) -> bool:
        """Take the events that came after these (``rows``: all of the aggregate's, these
        first), keeping every checkpoint; False unless ``rows`` only adds events after
        these.  A job stepping meanwhile sees the same events at the same positions."""
        src = self._src
        longer = src.extended(rows) if isinstance(src, IndexEvents) else None
        if longer is not None:
            self._src = longer
        return longer is not None

    def ref(self, i: int) -> EventRef:
        """The i-th event (0-based) of the aggregate."""
        if not 0 <= i < len(self):
            raise IndexError(f"event {i} out of range (0..{len(self) - 1})")
        return self._src.ref(i)

    def row_id(self, i: int) -> int | None:
        """The index row of the i-th event (None when replaying a plain list)."""
        src = self._src
        return int(src.rows[i]) if isinstance(src, IndexEvents) else None

    def refs(self) -> list[EventRef]:
        return [self._src.ref(i) for i in range(len(self))]

    def event(self, i: int) -> Event:
        """The i-th event (0-based), decoded (a private copy), before any upcaster."""
        self.ref(i)
        return next(self._src.events(i, i + 1))

    def events(self, start: int, stop: int) -> Iterator[Event]:
        """Events ``start..stop-1`` decoded afresh (not upcast: pass ``prepare=upcast``
        to ``run_fold``, as replay does)."""
        return self._src.events(start, stop)

    @property
    def timestamps(self) -> np.ndarray:
        return self._src.timestamps

    def position(
        self,
        *,
        offset: int | None = None,
        timestamp_ms: int | None = None,
        n: int | None = None,
        partition: int | None = None,
    ) -> int:
        """How many events a position covers (the default is all of them).

        ``offset``: every event up to that offset, inclusive (with ``partition`` only
        that partition's offsets count; an aggregate normally lives in one partition).
        ``timestamp_ms``: every event with timestamp <= T, in log order (precisely:
        the longest prefix of events with timestamps <= T, which differs only when a
        producer's clock stepped back).  ``n``: the
        first n events.
        """
        given = sum(x is not None for x in (offset, timestamp_ms, n))
        if given > 1:
            raise ValueError("give one of offset, timestamp_ms or n")
        if partition is not None and offset is None:
            raise ValueError("partition goes with offset")
        src = self._src
        if offset is not None:
            sel = src.offsets <= offset
            if partition is not None:
                sel &= src.partitions == partition
            hits = np.flatnonzero(sel)
            return int(hits[-1]) + 1 if len(hits) else 0
        if timestamp_ms is not None:
            return int(np.searchsorted(src.effective, timestamp_ms, side="right"))
        if n is not None:
            if not 0 <= n <= len(src):
                raise ValueError(f"n={n}: the aggregate has {len(src)} events")
            return n
        return len(src)

    # -------------------------------------------------------------- states

    def state_at(
        self,
        *,
        offset: int | None = None,
        timestamp_ms: int | None = None,
        n: int | None = None,
        partition: int | None = None,
        cancel: Cancellable | None = None,
    ) -> ReplayResult:
        """The state at a position (see ``position``); by default the latest."""
        pos = self.position(offset=offset, timestamp_ms=timestamp_ms, n=n, partition=partition)
        return self.step(pos, cancel=cancel)

    def step(self, n: int, *, cancel: Cancellable | None = None) -> ReplayResult:
        """The state after the first ``n`` events (0..len)."""
        if not 0 <= n <= len(self):
            raise ValueError(f"step {n} out of range (0..{len(self)})")
        state, reached, failure = self._compute(n, cancel)
        return self._kept(state, reached, failure)

    def run(
        self, *, cancel: Cancellable | None = None, progress: ProgressFn | None = None
    ) -> ReplayResult:
        """The first pass: fold everything (making checkpoints), reporting progress."""
        total = len(self)
        chunk = max(self.checkpoint_every, 4096)
        target = chunk
        while True:
            target = min(target, total)
            state, reached, failure = self._compute(target, cancel)
            if progress is not None:
                progress(reached, total)
            if failure is not None or target >= total:
                return self._kept(state, reached, failure)
            target += chunk

    def state(self, **position: Any) -> Any:
        """Just the state at a position; raises FoldError if the fold failed on the way."""
        result = self.state_at(**position)
        if result.failure is not None:
            raise FoldError(result.failure)
        return result.state

    def _kept(self, state: Any, reached: int, failure: FoldFailure | None) -> ReplayResult:
        """The result with a copy of ``state``; a state the app cannot keep is a failure
        of the fold at the event that returned it (with the state before, if that one
        can be kept)."""
        try:
            return self._result(copy_state(state), reached, failure)
        except StateError as exc:
            unkept = state_failure(self.fold_name, self._src.ref(reached - 1), reached - 1, exc)
            self._failure, self._failed_at = unkept, reached - 1
            before, _, _ = self._compute(reached - 1, None)
            try:
                return self._result(copy_state(before), reached - 1, unkept)
            except StateError:
                return self._result(None, reached - 1, unkept)

    def _result(self, state: Any, reached: int, failure: FoldFailure | None) -> ReplayResult:
        return ReplayResult(
            aggregate=self.aggregate,
            fold=self.fold_name,
            state=state,
            events_applied=reached,
            total_events=len(self),
            last_event=self._src.ref(reached - 1) if reached else None,
            failure=failure,
        )

    def _start_for(self, n: int) -> tuple[int, Any]:
        """The nearest known state at or before n: the cursor or a checkpoint (a copy)."""
        k = min(n // self.checkpoint_every, len(self._checkpoints) - 1)
        start = k * self.checkpoint_every
        cursor = self._cursor
        if cursor is not None and start < cursor[0] <= n:
            self._cursor = None  # about to be advanced (and maybe mutated) by the fold
            return cursor
        return start, copy_state(self._checkpoints[k])

    def _compute(self, n: int, cancel: Cancellable | None) -> tuple[Any, int, FoldFailure | None]:
        """(state after min(n, failure point) events, events applied, failure)."""
        if self._failure is not None and n > self._failed_at:
            state, _, failure = self._compute(self._failed_at, cancel)
            return state, self._failed_at, failure or self._failure
        start, state = self._start_for(n)
        if start == n:
            self._cursor = (n, state)
            return state, n, None
        every = self.checkpoint_every
        checkpoints = self._checkpoints

        def after_each(i: int, _event: Event, new_state: Any) -> None:
            done = start + i + 1
            if done % every == 0 and done // every == len(checkpoints):
                checkpoints.append(copy_state(new_state))

        outcome = run_fold(
            self.fold,
            state,
            self._src.events(start, n),
            budget_s=self.budget_s,
            cancel=cancel,
            after_each=after_each,
            prepare=self._prepare,
        )
        reached = start + outcome.applied
        if outcome.failure is None:
            self._cursor = (n, outcome.state)
            return outcome.state, n, None
        failure = renumber(outcome.failure, reached)
        if failure.kind != "cancelled":
            self._failure, self._failed_at = failure, reached
        # The fold may have half-changed the state before failing: rebuild the state
        # before the failing event from a checkpoint (those events succeeded already).
        if failure.kind == "cancelled":
            return outcome.state, reached, failure
        clean, _, again = self._compute(reached, cancel)
        return clean, reached, again or failure

    # -------------------------------------------------------------- history, diff, blame

    def history(
        self, start: int = 0, stop: int | None = None, *, cancel: Cancellable | None = None
    ) -> Iterator[Step]:
        """The state after each event from ``start + 1`` to ``stop`` (default: all).

        Raises FoldError (after yielding the steps before it) if the fold fails.
        """
        stop = len(self) if stop is None else stop
        if not 0 <= start <= stop <= len(self):
            raise ValueError(f"history range {start}..{stop} out of 0..{len(self)}")
        state, _, failure = self._compute(start, cancel)
        if failure is not None:
            raise FoldError(failure)
        state = copy_state(state)
        pos = start
        while pos < stop:
            end = min(stop, pos + self.checkpoint_every)
            steps: list[Step] = []
            base = pos

            def collect(
                i: int, event: Event, new_state: Any, base: int = base, steps: list[Step] = steps
            ) -> None:
                steps.append(Step(base + i + 1, EventRef.of(event), copy_state(new_state)))

            outcome = run_fold(
                self.fold, state, self._src.events(pos, end), budget_s=self.budget_s,
                cancel=cancel, after_each=collect, prepare=self._prepare,
            )  # fmt: skip
            yield from steps
            if outcome.failure is not None:
                raise FoldError(renumber(outcome.failure, pos + outcome.applied))
            state, pos = outcome.state, end

    def diff(self, a: int, b: int, *, cancel: Cancellable | None = None) -> StateDiff:
        """What changed between positions ``a`` and ``b`` (event counts)."""
        old = self.step(a, cancel=cancel)
        new = self.step(b, cancel=cancel)
        for result in (old, new):
            if result.failure is not None:
                raise FoldError(result.failure)
        return diff_states(old.state, new.state)

    def blame(
        self, n: int | None = None, *, cancel: Cancellable | None = None
    ) -> dict[str, EventRef]:
        """For every leaf path of the state at position ``n`` (default: latest), the
        event that last changed it.  Raises FoldError if the fold fails on the way."""
        n = len(self) if n is None else n
        if not 0 <= n <= len(self):
            raise ValueError(f"position {n} out of range (0..{len(self)})")
        every = self.checkpoint_every
        k = min(n // every, len(self._blame_points) - 1, len(self._checkpoints) - 1)
        start = k * every
        tracker = BlameTracker(self._blame_points[k])
        state = copy_state(self._checkpoints[k])
        previous = [copy_state(state)]
        points, checkpoints = self._blame_points, self._checkpoints

        def follow(i: int, event: Event, new_state: Any) -> None:
            tracker.update(previous[0], new_state, EventRef.of(event))
            previous[0] = copy_state(new_state)
            done = start + i + 1
            if done % every == 0:
                if done // every == len(points):
                    points.append(tracker.snapshot())
                if done // every == len(checkpoints):
                    checkpoints.append(copy_state(new_state))

        outcome: RunOutcome = run_fold(
            self.fold, state, self._src.events(start, n), budget_s=self.budget_s,
            cancel=cancel, after_each=follow, prepare=self._prepare,
        )  # fmt: skip
        if outcome.failure is not None:
            raise FoldError(renumber(outcome.failure, start + outcome.applied))
        return tracker.result()
