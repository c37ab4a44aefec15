"""What-if: two folds over the same history, and the aggregates whose states differ.

For each aggregate the comparison is: the state each fold gives after the aggregate's
events (all of them, or those up to ``--at``), the field-level diff between the two,
and the first event after which the two states were no longer equal.

Two ways to get there, with one answer:

* ``compare_replayers`` is the exact, obvious way: two Replayers, the states at the
  end, then both histories side by side until they first differ.  It serves one
  aggregate (the GUI's side-by-side view, the CLI's cases below) and is what the
  tests hold the fast way to.
* ``StreamCompare`` folds a whole partition's events as they are read, every
  aggregate at once, both folds per event, checking ``a == b`` (a C-level comparison)
  after each event until the first difference.  It keeps two states per aggregate,
  never the events.  What it cannot decide exactly it hands back to be redone the
  exact way: aggregates where a fold or upcaster failed (its state may be half-changed),
  aggregates seen in two partitions (a topic that gained partitions), and states that
  ``==`` calls equal while the diff does not (``True`` vs ``1``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.replay.diff import StateDiff, diff_states
from app.replay.event_sources import copy_state
from app.replay.folds import FoldFunction, FoldSpec
from app.replay.guard import Guard
from app.replay.replayer import Replayer
from app.replay.runner import Cancellable, FoldFailure, FoldInterrupt
from app.replay.upcasting import Upcasting
from kafka_io.event import Event, EventRef


class CompareCancelled(Exception):
    """The comparison was cancelled."""


@dataclass(frozen=True)
class AggregateDiff:
    """One aggregate whose two states differ (or whose replay failed on one side)."""

    aggregate: str
    first: EventRef | None  # the event after which the states first differ
    step: int  # its number in the aggregate's history (1-based), 0 if none
    events: int  # events folded (up to --at)
    diff: StateDiff
    failures: tuple[tuple[str, FoldFailure], ...] = ()  # ("a" | "b", failure)

    def to_json(self) -> dict[str, Any]:
        first = self.first
        out: dict[str, Any] = {
            "aggregate": self.aggregate,
            "first_divergence": None
            if first is None
            else {"partition": first.partition, "offset": first.offset, "type": first.type},
            "diff": self.diff.to_json(),
        }
        if self.failures:
            out["errors"] = [{"fold": side, **f.to_json()} for side, f in self.failures]
        return out


def _same(a: Any, b: Any) -> bool:
    try:
        if a == b:
            return True
    except Exception:  # an __eq__ that refuses (numpy arrays): the diff decides
        pass
    return not diff_states(a, b)


def compare_replayers(
    a: Replayer, b: Replayer, *, at_ms: int | None = None, cancel: Cancellable | None = None
) -> AggregateDiff | None:
    """The exact comparison of one aggregate's two replays (same events, two folds)."""
    n = len(a) if at_ms is None else a.position(timestamp_ms=at_ms)
    end_a, end_b = a.step(n, cancel=cancel), b.step(n, cancel=cancel)
    failures = tuple(
        (side, r.failure)
        for side, r in (("a", end_a), ("b", end_b))
        if r.failure is not None and r.failure.kind != "cancelled"
    )
    if any(r.failure is not None and r.failure.kind == "cancelled" for r in (end_a, end_b)):
        raise CompareCancelled()
    diff = diff_states(end_a.state, end_b.state)
    if not diff and not failures:
        return None
    both = min(end_a.events_applied, end_b.events_applied)  # both folds got this far
    first, step = None, 0
    steps = zip(a.history(0, both, cancel=cancel), b.history(0, both, cancel=cancel), strict=True)
    for sa, sb in steps:
        if not _same(sa.state, sb.state):
            first, step = sa.event, sa.n
            break
    if first is None and failures:  # equal until one fold failed: it differs there
        step = both + 1
        first = a.ref(both) if both < n else None
    return AggregateDiff(a.aggregate or "", first, step, n, diff, failures)


def compare_events(
    events: Iterable[Event],
    aggregate: str,
    fold_a: FoldSpec | FoldFunction,
    fold_b: FoldSpec | FoldFunction,
    *,
    upcast: Upcasting | None = None,
    at_ms: int | None = None,
    cancel: Cancellable | None = None,
) -> AggregateDiff | None:
    """``compare_replayers`` over a list of events (one aggregate's, or more)."""
    mine = [e for e in events if e.aggregate == aggregate]
    a = Replayer.from_events(mine, fold_a, aggregate=aggregate, upcast=upcast)
    b = Replayer.from_events(mine, fold_b, aggregate=aggregate, upcast=upcast)
    return compare_replayers(a, b, at_ms=at_ms, cancel=cancel)


# ---------------------------------------------------------------------- streaming


class _Track:
    __slots__ = ("a", "b", "broken", "first", "n", "partition", "step", "stopped")

    def __init__(self, partition: int) -> None:
        self.a: Any = None
        self.b: Any = None
        self.n = 0
        self.partition = partition
        self.first: EventRef | None = None
        self.step = 0
        self.stopped = False  # past --at: later events do not count
        self.broken = False  # a fold or upcaster failed: redone the exact way


@dataclass
class StreamResult:
    """What one partition group's comparison found."""

    differ: list[AggregateDiff] = field(default_factory=list)
    redo: set[str] = field(default_factory=set)  # to be compared the exact way
    seen: dict[str, int] = field(default_factory=dict)  # aggregate -> its partition
    events: int = 0  # events folded
    unkeyed: int = 0  # events with no aggregate (compared by no one)


class StreamCompare:
    """Both folds over interleaved events of many aggregates (one partition group)."""

    def __init__(
        self,
        fold_a: FoldSpec | FoldFunction,
        fold_b: FoldSpec | FoldFunction,
        *,
        upcast: Upcasting | None = None,
        at_ms: int | None = None,
        budget_s: float = 5.0,
        cancel: Cancellable | None = None,
    ) -> None:
        self._fa = fold_a.function if isinstance(fold_a, FoldSpec) else fold_a
        self._fb = fold_b.function if isinstance(fold_b, FoldSpec) else fold_b
        self._prepare = None if upcast is None else upcast.apply
        self._at = at_ms
        self._guard = Guard(budget_s, cancel)
        self._cancel = cancel
        self._tracks: dict[str, _Track] = {}
        self._split: set[str] = set()
        self.events = 0
        self.unkeyed = 0

    def __enter__(self) -> StreamCompare:
        self._guard.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._guard.__exit__(*exc)

    def feed(self, batch: Iterable[Event]) -> None:
        """Fold a batch (events of one partition in offset order; partitions may mix)."""
        tracks, at, prepare = self._tracks, self._at, self._prepare
        guard, fa, fb = self._guard, self._fa, self._fb
        arm, disarm = guard.arm, guard.disarm
        new_event = tuple.__new__  # Event._replace costs three times as much
        cancel = self._cancel
        applied = 0
        for ev in batch:
            if cancel is not None and not applied & 63 and cancel.cancelled:
                raise CompareCancelled()
            agg = ev.aggregate
            if agg is None:
                self.unkeyed += 1
                continue
            t = tracks.get(agg)
            if t is None:
                t = tracks[agg] = _Track(ev.partition)
            elif t.partition != ev.partition:
                self._split.add(agg)
            if t.stopped or t.broken:
                continue
            if at is not None and ev.timestamp_ms > at:
                t.stopped = True
                continue
            arm()  # one budget for the event: its upcasters and both folds
            try:
                given = ev if prepare is None else prepare(ev)
                # Each fold gets its own copy: one must not see what the other changed.
                other = new_event(Event, (*given[:8], copy_state(given[8]), *given[9:]))
                sa = fa(t.a, given)
                sb = fb(t.b, other)
            except FoldInterrupt:
                disarm()
                if guard.reason == "cancelled":
                    raise CompareCancelled() from None
                t.broken = True
                continue
            except (Exception, SystemExit):  # reported by the exact redo, at its event
                disarm()
                t.broken = True
                continue
            disarm()
            t.a, t.b = sa, sb
            t.n += 1
            applied += 1
            if t.first is None:
                try:
                    same = sa == sb
                except Exception:  # an __eq__ that refuses: the diff decides
                    same = False
                if not same and diff_states(sa, sb):
                    t.first, t.step = EventRef.of(ev), t.n
        self.events += applied

    def finish(self) -> StreamResult:
        out = StreamResult(events=self.events, unkeyed=self.unkeyed)
        for agg, t in self._tracks.items():
            out.seen[agg] = t.partition
            if t.broken or agg in self._split:
                out.redo.add(agg)
                continue
            diff = diff_states(t.a, t.b)
            if not diff:
                continue
            if t.first is None:  # `==` said equal all along: only the exact way can tell
                out.redo.add(agg)
                continue
            out.differ.append(AggregateDiff(agg, t.first, t.step, t.n, diff))
        return out
