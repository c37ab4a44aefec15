"""Opening a window of a huge topic: what to read, what the index then holds, and what
must not be answered from it.

``WindowSpec`` is what the user picked ("everything", the last N hours or days, from a
time, the last N events per partition).  ``Window`` is what an index then holds: per
partition the first offset read and the low watermark at the time, so that "does this
aggregate have events before the window" has a precise meaning (offsets ``[low,
start)`` of its partition).  An index with ``window`` None holds the whole topic.

Whole-history answers (the state of every aggregate, an audit, a comparison, a check of
snapshots, health) must not come from a window: ``require_whole_history`` refuses with
a message saying why and what to do.  One aggregate's history before the window is
read by the cold path (its partition only, only its key): ``events_before_window``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.sources import Source
from app.sources.base import ReadReport
from kafka_io.event import Event, iso_utc

ALL = "all"
LAST_MS = "last_ms"  # the last ``value`` milliseconds (hours, days...)
SINCE_MS = "since_ms"  # from the time ``value`` (ms since the epoch)
LAST_PER_PARTITION = "last_per_partition"  # the last ``value`` events of each partition
KINDS = (ALL, LAST_MS, SINCE_MS, LAST_PER_PARTITION)
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS


class WindowedIndexError(Exception):
    """A whole-history question asked of an index that holds only a window."""


@dataclass(frozen=True)
class WindowSpec:
    kind: str = ALL
    value: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown window {self.kind!r} (one of {', '.join(KINDS)})")
        if self.kind != ALL and self.value <= 0 and self.kind != SINCE_MS:
            raise ValueError(f"a window of the {self.kind} kind needs a positive size")

    @property
    def everything(self) -> bool:
        return self.kind == ALL

    def since_ms(self, now_ms: int | None = None) -> int | None:
        """The first timestamp wanted, for the time-based kinds."""
        if self.kind == SINCE_MS:
            return self.value
        if self.kind == LAST_MS:
            now = int(time.time() * 1000) if now_ms is None else now_ms
            return now - self.value
        return None

    def describe(self) -> str:
        if self.kind == ALL:
            return "everything"
        if self.kind == LAST_PER_PARTITION:
            return f"the last {self.value:,} events of each partition"
        if self.kind == SINCE_MS:
            return f"from {iso_utc(self.value)}"
        if self.value % _DAY_MS == 0:
            days = self.value // _DAY_MS
            return f"the last {days} day{'s' if days != 1 else ''}"
        hours = self.value / _HOUR_MS
        return f"the last {hours:g} hour{'s' if hours != 1 else ''}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def from_json(cls, data: Any) -> WindowSpec:
        """The spec of a stored choice; everything when it cannot be read."""
        try:
            return cls(str(data["kind"]), int(data.get("value", 0)))
        except (TypeError, KeyError, ValueError, AttributeError):
            return cls()

    @classmethod
    def last_hours(cls, hours: float) -> WindowSpec:
        return cls(LAST_MS, int(hours * _HOUR_MS))

    @classmethod
    def last_days(cls, days: float) -> WindowSpec:
        return cls(LAST_MS, int(days * _DAY_MS))

    @classmethod
    def since(cls, when: datetime) -> WindowSpec:
        aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        return cls(SINCE_MS, int(aware.timestamp() * 1000))

    @classmethod
    def last_events(cls, per_partition: int) -> WindowSpec:
        return cls(LAST_PER_PARTITION, per_partition)


EVERYTHING = WindowSpec()


@dataclass
class Window:
    """What part of a topic an index holds, when it is not all of it."""

    spec: WindowSpec
    starts: dict[int, int] = field(default_factory=dict)  # partition -> first offset read
    lows: dict[int, int] = field(default_factory=dict)  # low watermarks when planned

    def cut(self, partition: int) -> bool:
        """Whether the partition has offsets before the window."""
        return self.starts.get(partition, 0) > self.lows.get(partition, 0)

    @property
    def partial(self) -> bool:
        return any(self.cut(p) for p in self.starts)

    def covers(self, starts: dict[int, int]) -> bool:
        """Whether this window already holds everything from ``starts`` on."""
        return all(self.starts.get(p, 0) <= s for p, s in starts.items())

    def describe(self) -> str:
        return self.spec.describe()

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_json(),
            "starts": {str(p): o for p, o in self.starts.items()},
            "lows": {str(p): o for p, o in self.lows.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Window | None:
        if not isinstance(data, dict):
            return None
        return cls(
            WindowSpec.from_json(data.get("spec")),
            {int(p): int(o) for p, o in (data.get("starts") or {}).items()},
            {int(p): int(o) for p, o in (data.get("lows") or {}).items()},
        )


def window_of(index: Any) -> Window | None:
    """The index's window if it holds only part of the topic (None: all of it)."""
    window = getattr(index, "window", None)
    return window if isinstance(window, Window) and window.partial else None


def require_whole_history(index: Any, what: str) -> None:
    """Refuse ``what`` on an index that holds only a window: say why and what to do."""
    window = window_of(index)
    if window is None:
        return
    raise WindowedIndexError(
        f"{what} needs the whole history of {index.topic}, but it is open with "
        f"{window.describe()}: open the topic with \u201ceverything\u201d to answer it "
        "(one aggregate's earlier events can be read on their own)"
    )


@dataclass
class HistoryBefore:
    """One aggregate's events before the window, read by the cold path."""

    events: list[Event]
    partitions: list[int]  # the partitions read
    note: str | None = None  # why more than the aggregate's partition was read
    report: ReadReport = field(default_factory=ReadReport)

    @property
    def complete(self) -> bool:
        return self.report.complete


def events_before_window(source: Source, index: Any, aggregate: str) -> HistoryBefore:
    """The events of ``aggregate`` before the index's window (none if it has none).

    Reads only the aggregate's partition (as the topic's partitioner places its key)
    and only up to the window's start there, decoding only records with its key; when
    the partition cannot be told, every partition cut by the window."""
    window = window_of(index)
    if window is None:
        return HistoryBefore([], [])
    found = source.partitions_for_aggregate(index.topic, aggregate)
    note = None
    if found is None:
        found = sorted(window.starts)
        why = source.pruning_note(index.topic)
        note = "every partition is read" + (f": {why}" if why else "")
    keyed = source.settings.for_topic(index.topic).aggregate_rule in (None, "key")
    events: list[Event] = []
    report = ReadReport()
    read_parts = [p for p in found if window.cut(p)]
    for p in read_parts:
        read = source.read(
            index.topic,
            partitions=[p],
            key=aggregate.encode() if keyed else None,
            end_offset=window.starts[p] - 1,
        )
        events.extend(e for e in read.events() if e.aggregate == aggregate)
        _merge(report, read.report)
    events.sort(key=lambda e: (e.timestamp_ms, e.partition, e.offset))
    return HistoryBefore(events, read_parts, note, report)


def _merge(into: ReadReport, report: ReadReport) -> None:
    into.events += report.events
    into.cancelled = into.cancelled or report.cancelled
    into.incomplete = into.incomplete or report.incomplete
    into.errors.extend(report.errors)
    into.reached.update(report.reached)
