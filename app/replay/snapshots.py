"""Snapshot adapters, and replay that starts from a snapshot instead of the first event.

A topic can be paired with a snapshot topic (compacted, keyed by aggregate) that holds
each aggregate's state as of some event.  An adapter, written like a fold and found
in the same files, turns one snapshot record into a ``Snapshot``:

    from app.folds import Snapshot, snapshots

    @snapshots("bank-account-snapshots", for_topics=["bank-*"])
    def account_snapshot(record):
        return Snapshot(record.data["state"], events=record.data["version"])

``events=N``: the snapshot is the state after the aggregate's first N events (its
version); ``offset=O``: after every event of the aggregate up to offset O.  A plain
``(state, N)`` tuple means ``events=N``.  A tombstone (a record with no value) deletes
the aggregate's snapshots; the adapter is not called for it.

Replay can start from the latest usable snapshot at or before the target and fold only
the events after it (``state_from_snapshot``), and says so.  A snapshot whose adapter
raises, or that claims more events than the aggregate has, is reported and skipped:
replay falls back to an earlier snapshot or to the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from app.replay.event_sources import copy_state
from app.replay.folds import Origin, announce
from app.replay.guard import Guard
from app.replay.runner import Cancellable, FoldInterrupt
from kafka_io.event import Event

T = TypeVar("T")
SNAPSHOTS_ATTR = "__snapshot_spec__"
Adapter = Callable[[Event], Any]


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's state as of its first ``events`` events, or up to ``offset``."""

    state: Any
    events: int | None = None
    offset: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.events, self.offset) if v is not None]
        if len(given) != 1:
            raise ValueError("a Snapshot covers either events=N or offset=O (one of them)")
        if not isinstance(given[0], int) or isinstance(given[0], bool) or given[0] < 0:
            raise ValueError(f"a Snapshot's events or offset must be an integer >= 0: {given[0]!r}")

    @property
    def label(self) -> str:
        return f"v{self.events}" if self.events is not None else f"at offset {self.offset}"


@dataclass(frozen=True)
class SnapshotSpec:
    """One adapter: records of ``snapshot_topic`` are snapshots of ``topics``' aggregates."""

    snapshot_topic: str
    topics: tuple[str, ...]
    function: Adapter
    source: str = "code"
    origin: Origin = Origin.CODE

    @property
    def name(self) -> str:
        return self.snapshot_topic

    def applies_to(self, topic: str) -> bool:
        return any(fnmatchcase(topic, pattern) for pattern in self.topics)

    def with_source(self, source: str, origin: Origin) -> SnapshotSpec:
        return replace(self, source=source, origin=origin)


def snapshots(snapshot_topic: str, for_topics: Sequence[str] | str = ("*",)) -> Callable[[T], T]:
    """Register a snapshot adapter ``(record) -> Snapshot`` for a snapshot topic."""
    if not snapshot_topic or not isinstance(snapshot_topic, str):
        raise ValueError("@snapshots needs the snapshot topic's name")
    patterns = (for_topics,) if isinstance(for_topics, str) else tuple(for_topics)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"@snapshots({snapshot_topic!r}): for_topics must be glob patterns")

    def decorate(function: T) -> T:
        if not callable(function):
            raise TypeError(f"@snapshots decorates a function, not {function!r}")
        spec = SnapshotSpec(snapshot_topic, patterns, function)
        setattr(function, SNAPSHOTS_ATTR, spec)
        announce(spec)
        return function

    return decorate


@dataclass
class SnapshotRegistry:
    specs: list[SnapshotSpec] = field(default_factory=list)

    def register(self, spec: SnapshotSpec | Callable[..., Any]) -> SnapshotSpec:
        if not isinstance(spec, SnapshotSpec):
            found = getattr(spec, SNAPSHOTS_ATTR, None)
            if not isinstance(found, SnapshotSpec):
                raise TypeError(f"{spec!r} is not decorated with @snapshots")
            spec = found
        self.specs.append(spec)
        return spec

    def remove_source(self, source: str) -> None:
        self.specs = [s for s in self.specs if s.source != source]

    def for_topic(self, topic: str) -> SnapshotSpec | None:
        """The adapter for an event topic: the one found last among the highest origin."""
        found = [s for s in self.specs if s.applies_to(topic) and s.snapshot_topic != topic]
        return max(reversed(found), key=lambda s: s.origin, default=None)


# ---------------------------------------------------------------------- adapted records


@dataclass(frozen=True)
class SnapshotRecord:
    """One record of a snapshot topic, adapted (or why it could not be)."""

    aggregate: str | None
    partition: int
    offset: int
    timestamp_ms: int
    snapshot: Snapshot | None
    tombstone: bool = False
    error: str | None = None  # the adapter failed, or the record did not decode

    @property
    def where(self) -> str:
        return f"p{self.partition}@{self.offset}"

    @property
    def label(self) -> str:
        return self.snapshot.label if self.snapshot is not None else self.where

    def to_json(self) -> dict[str, Any]:
        snap = self.snapshot
        return {
            "aggregate": self.aggregate,
            "partition": self.partition,
            "offset": self.offset,
            "covers": None
            if snap is None
            else ({"events": snap.events} if snap.events is not None else {"offset": snap.offset}),
            "tombstone": self.tombstone,
            "error": self.error,
        }


def _as_snapshot(value: Any) -> Snapshot:
    if isinstance(value, Snapshot):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Snapshot(value[0], events=value[1])
    raise TypeError(f"returned {type(value).__name__}; an adapter returns a Snapshot")


def adapt_records(
    spec: SnapshotSpec,
    records: Iterable[Event],
    *,
    budget_s: float = 5.0,
    cancel: Cancellable | None = None,
) -> list[SnapshotRecord]:
    """Every record adapted, in the order given; failures kept per record."""
    out: list[SnapshotRecord] = []
    where = spec.source.rsplit("/", 1)[-1]
    with Guard(budget_s, cancel) as guard:
        for ev in records:
            base = (ev.aggregate, ev.partition, ev.offset, ev.timestamp_ms)
            if ev.value is None and ev.error is None:
                out.append(SnapshotRecord(*base, None, tombstone=True))
                continue
            if ev.data is None:
                out.append(SnapshotRecord(*base, None, error=f"not decoded: {ev.error}"))
                continue
            try:
                snap = _as_snapshot(guard.call(spec.function, ev))
            except FoldInterrupt:
                if guard.reason == "cancelled":
                    raise
                error = f"adapter ({where}) did not return within {budget_s:g} s"
                out.append(SnapshotRecord(*base, None, error=error))
            except (Exception, SystemExit) as exc:
                error = f"adapter ({where}) failed: {type(exc).__name__}: {exc}"
                out.append(SnapshotRecord(*base, None, error=error))
            else:
                out.append(SnapshotRecord(*base, snap))
    return out


# ---------------------------------------------------------------------- choosing a start


@dataclass(frozen=True)
class SnapshotStart:
    """Where a replay starts: a snapshot and how many events it covers, or nothing."""

    record: SnapshotRecord | None
    position: int  # events the snapshot covers (0 without one)
    problems: tuple[str, ...] = ()  # snapshots that could not be used, and why

    def note(self, target: int) -> str:
        if self.record is None:
            return f"no usable snapshot at or before the target: {target} events replayed"
        later = target - self.position
        return (
            f"from snapshot {self.record.label} ({self.record.where}), "
            f"then {later} event{'s' if later != 1 else ''}"
        )


PositionOf = Callable[[int], int]  # offset -> events covered up to it


def covered(record: SnapshotRecord, total: int, position_of: PositionOf) -> int | str:
    """How many events a snapshot covers, or why it cannot be used."""
    snap = record.snapshot
    if record.error is not None or snap is None:
        return record.error or "no snapshot"
    if snap.events is not None:
        if snap.events > total:
            return (
                f"covers {snap.events} events but the aggregate has {total}: "
                "it is ahead of the history"
            )
        return snap.events
    return position_of(snap.offset or 0)


def live_records(records: Sequence[SnapshotRecord]) -> list[SnapshotRecord]:
    """Records not deleted by a later tombstone of the same aggregate (log order)."""
    out: list[SnapshotRecord] = []
    for rec in records:
        if rec.tombstone:
            out = [r for r in out if r.aggregate != rec.aggregate]
        else:
            out.append(rec)
    return out


def choose_start(
    records: Sequence[SnapshotRecord], target: int, total: int, position_of: PositionOf
) -> SnapshotStart:
    """The latest usable snapshot covering at most ``target`` events."""
    best: tuple[int, SnapshotRecord] | None = None
    problems = []
    for rec in live_records(records):
        got = covered(rec, total, position_of)
        if isinstance(got, str):
            problems.append(f"snapshot {rec.label} ({rec.where}): {got}")
        elif got <= target and (best is None or got >= best[0]):
            best = (got, rec)
    if best is None:
        return SnapshotStart(None, 0, tuple(problems))
    return SnapshotStart(best[1], best[0], tuple(problems))


def start_state(start: SnapshotStart) -> Any:
    """A private copy of the state a replay starts from (None without a snapshot)."""
    if start.record is None or start.record.snapshot is None:
        return None
    return copy_state(start.record.snapshot.state)
