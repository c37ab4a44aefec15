"""Consumer lag over time: the history of samples, lag in records or seconds, statuses.

No Qt and no Kafka here: samples come in from ``kafka_io.lag`` (any object with the
same fields will do, see ``SampleReading``), answers go out as numpy arrays and frozen
dataclasses that the charts and the CLI draw.  Lag in seconds is the age of the oldest
waiting record, from its timestamp where the sampler could read it (``app.lag.age``)
and estimated from offsets over time elsewhere (``app.lag.seconds``).

Status follows Burrow's rules, evaluated per partition over a sliding window and
reported for the group as its worst partition, with the rule that fired as a
sentence (see ``app.lag.status``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from app.lag.age import AgeSource, latest_seconds, measured_age, series_seconds
from app.lag.ring import Rows
from app.lag.seconds import held_seconds
from app.lag.status import (
    GroupStatus,
    PartitionBlock,
    evaluate_group,
)

__all__ = ["LagHistory", "LagUnit", "SampleReading", "Series"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LagUnit = Literal["records", "seconds"]
Key = tuple[str, int]


# -- what a sample looks like (kafka_io.lag's dataclasses satisfy these) --------------


class PartitionReading(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def committed(self) -> int | None: ...
    @property
    def end(self) -> int | None: ...
    @property
    def oldest_ms(self) -> int | None: ...
    @property
    def oldest_source(self) -> Literal["record", "next_record"] | None: ...


class GroupReading(Protocol):
    @property
    def group(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def members(self) -> int: ...
    @property
    def partitions(self) -> Sequence[PartitionReading]: ...
    @property
    def error(self) -> str | None: ...


class SampleReading(Protocol):
    @property
    def time_ms(self) -> int: ...
    @property
    def groups(self) -> Sequence[GroupReading]: ...
    @property
    def watermarks(self) -> Mapping[tuple[str, int], int]: ...
    @property
    def error(self) -> str | None: ...


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a chart: times in epoch seconds (what pg.DateAxisItem wants)."""

    name: str
    times: FloatArray
    values: FloatArray


# -- the ring ----------------------------------------------------------------------------


@dataclass
class _GroupTrack:
    state: str = "UNKNOWN"
    members: int = 0
    error: str | None = None
    keys: dict[Key, int] = field(default_factory=dict)  # (topic, partition) -> committed row
    # Where each partition's latest measured age came from (None: not measured).
    sources: dict[Key, AgeSource | None] = field(default_factory=dict)
    seen: int = 0  # the round that last listed the group


class LagHistory:
    """A bounded ring of lag samples with the questions the GUI and CLI ask of it.

    ``capacity`` samples are kept (720 at the default 5 s interval is one hour);
    memory is two floats per group partition (committed offset, measured lag in
    seconds) and one per watched partition per slot.
    ``window_s`` is the span the status rules and rates look back over.  Not
    thread-safe: feed it and read it from one thread (the GUI thread).
    """

    def __init__(self, capacity: int = 720, window_s: float = 60.0, min_samples: int = 3) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.window_s = window_s
        self.min_samples = min_samples
        self._times: FloatArray = np.full(capacity, np.nan)
        self._head = 0
        self._count = 0
        self._added = 0
        # key: (group, topic, partition); second plane: the measured lag in seconds.
        self._committed = Rows(capacity, second_plane=True)
        self._ends = Rows(capacity)  # key: (topic, partition)
        self._groups: dict[str, _GroupTrack] = {}
        self._last_ok_round = 0
        self.last_error: str | None = None
        self.last_sample_ms: int | None = None

    def __len__(self) -> int:
        return self._count

    def add(self, sample: SampleReading) -> None:
        slot = self._head
        self._times[slot] = sample.time_ms / 1000.0
        self._committed.data[:, slot] = np.nan
        self._ends.data[:, slot] = np.nan
        self._committed.second[:, slot] = np.nan
        self._head = (slot + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self._added += 1
        self.last_error = sample.error
        self.last_sample_ms = sample.time_ms
        if sample.error is None:
            self._last_ok_round = self._added
        # A failed round leaves an all-NaN column: a visible gap, not an invented value.
        ends = self._ends
        for key, end in sample.watermarks.items():
            row = ends.row(key)  # first: it may grow (replace) ends.data
            ends.data[row, slot] = end
        for group in sample.groups:
            track = self._groups.setdefault(group.group, _GroupTrack())
            track.state, track.members, track.error = group.state, group.members, group.error
            track.seen = self._added
            for p in group.partitions:
                key = (p.topic, p.partition)
                crow = track.keys.get(key)
                if crow is None:
                    crow = track.keys[key] = self._committed.row((group.group, *key))
                if p.committed is not None:
                    self._committed.data[crow, slot] = p.committed
                if p.end is not None and key not in sample.watermarks:
                    end_row = ends.row(key)
                    ends.data[end_row, slot] = p.end
                if p.committed is not None and p.end is not None:
                    age, source = measured_age(
                        sample.time_ms, p.committed, p.end, p.oldest_ms, p.oldest_source
                    )
                    self._committed.second[crow, slot] = age
                    track.sources[key] = source  # the latest sample with both offsets decides
        if self._added % self.capacity == 0:
            self._compact()

    def _compact(self) -> None:
        remap = self._committed.compact()
        self._ends.compact()
        for name in list(self._groups):
            track = self._groups[name]
            track.keys = {k: remap[r] for k, r in track.keys.items() if r in remap}
            track.sources = {k: v for k, v in track.sources.items() if k in track.keys}
            if not track.keys and self._added - track.seen >= self.capacity:
                del self._groups[name]

    # -- raw views, oldest first ---------------------------------------------------------

    def _order(self) -> IntArray:
        if self._count < self.capacity:
            return np.arange(self._count, dtype=np.int64)
        return (self._head + np.arange(self.capacity, dtype=np.int64)) % self.capacity

    def times(self) -> FloatArray:
        """Sample times, epoch seconds, oldest first."""
        return self._times[self._order()]

    def groups(self) -> list[str]:
        return sorted(self._groups)

    def partitions(self, group: str) -> list[Key]:
        track = self._groups.get(group)
        return sorted(track.keys) if track else []

    def topics(self) -> list[str]:
        return sorted({k[0] for k in self._ends.index if isinstance(k, tuple)})

    def committed(self, group: str, topic: str, partition: int) -> FloatArray:
        row = self._committed.index.get((group, topic, partition))
        order = self._order()
        return self._committed.data[row, order] if row is not None else np.full(order.size, np.nan)

    def ends(self, topic: str, partition: int) -> FloatArray:
        row = self._ends.index.get((topic, partition))
        order = self._order()
        return self._ends.data[row, order] if row is not None else np.full(order.size, np.nan)

    def measured_ages(self, group: str, topic: str, partition: int) -> FloatArray:
        """Lag in seconds from record timestamps (NaN where it was not measured)."""
        row = self._committed.index.get((group, topic, partition))
        order = self._order()
        plane = self._committed.second
        return plane[row, order] if row is not None else np.full(order.size, np.nan)

    # -- lag series ------------------------------------------------------------------------

    def partition_lag(self, group: str, unit: LagUnit = "records") -> list[Series]:
        """One series per partition of ``group`` (named ``topic[partition]``)."""
        times = self.times()
        out = []
        for topic, partition in self.partitions(group):
            committed = self.committed(group, topic, partition)
            ends = self.ends(topic, partition)
            if unit == "seconds":
                measured = self.measured_ages(group, topic, partition)
                values = series_seconds(times, committed, ends, measured)
            else:
                values = np.clip(ends - committed, 0.0, None)
            out.append(Series(f"{topic}[{partition}]", times, values))
        return out

    def group_lag(self, group: str, unit: LagUnit = "records") -> Series:
        """Total lag in records (sum) or seconds (oldest partition: max) over time."""
        parts = self.partition_lag(group, unit)
        times = self.times()
        if not parts:
            return Series(group, times, np.full(times.size, np.nan))
        stack = np.vstack([p.values for p in parts])
        if unit == "seconds":
            values = np.fmax.reduce(stack, axis=0)  # fmax: NaN-skipping, warning-free
        else:
            known = np.isfinite(stack).any(axis=0)
            values = np.where(known, np.nansum(stack, axis=0), np.nan)
        return Series(group, times, values)

    def topic_rates(self, topics: Sequence[str] | None = None) -> list[Series]:
        """Events/s appended to each topic, from watermark deltas between samples."""
        times = self.times()
        rows: dict[str, list[int]] = {}
        for key, row in self._ends.index.items():
            if isinstance(key, tuple) and (topics is None or key[0] in topics):
                rows.setdefault(key[0], []).append(row)
        out = []
        order = self._order()
        dt = np.diff(times)
        for topic in sorted(rows):
            ends = self._ends.data[rows[topic]][:, order]
            delta = np.clip(np.diff(ends, axis=1), 0.0, None)  # a recreated topic restarts at 0
            known = np.isfinite(delta).any(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(known & (dt > 0), np.nansum(delta, axis=0) / dt, np.nan)
            out.append(Series(topic, times, np.concatenate([[np.nan], rate])))
        return out

    # -- status ----------------------------------------------------------------------------

    def status(self, group: str) -> GroupStatus:
        """The group's Burrow-style status over the last ``window_s`` seconds."""
        return self.statuses([group])[0]

    def statuses(self, groups: Sequence[str] | None = None) -> list[GroupStatus]:
        """Status of each group (default: all), computed for all of them in one pass."""
        names = self.groups() if groups is None else list(groups)
        order = self._order()
        times = self._times[order]
        keys: list[list[Key]] = []
        for name in names:
            track = self._groups.get(name)
            keys.append(sorted(track.keys) if track else [])
        owners = [(n, k) for n, ks in zip(names, keys, strict=True) for k in ks]
        committed_rows = np.array([self._groups[n].keys[k] for n, k in owners], dtype=np.int64)
        committed = self._committed.data[np.ix_(committed_rows, order)]
        ends = _gather(self._ends, [k for _, k in owners], order)
        measured = self._committed.second[np.ix_(committed_rows, order)]
        ages, estimated = latest_seconds(times, committed, ends, measured)
        sources: list[AgeSource | None] = [
            "estimate" if guess else self._groups[n].sources.get(k) if known else None
            for (n, k), known, guess in zip(
                owners, np.isfinite(ages).tolist(), estimated.tolist(), strict=True
            )
        ]
        held_s, held_all = held_seconds(times, committed)
        inside = times >= times[-1] - self.window_s if times.size else np.zeros(0, bool)
        out, start = [], 0
        for name, ks in zip(names, keys, strict=True):
            rows = slice(start, start + len(ks))
            start += len(ks)
            block = PartitionBlock(
                ks, times[inside], committed[rows][:, inside], ends[rows][:, inside], ages[rows],
                held_s[rows], held_all[rows], sources[rows],
            )  # fmt: skip
            out.append(self._evaluate(name, block))
        return out

    def _evaluate(self, name: str, block: PartitionBlock) -> GroupStatus:
        track = self._groups.get(name)
        if track is None:
            return evaluate_group(name, "UNKNOWN", 0, "not seen by the sampler", block)
        error = track.error
        if track.seen < self._last_ok_round:
            error = "the cluster no longer lists this group"
        return evaluate_group(name, track.state, track.members, error, block, self.min_samples)


def _gather(ring: Rows, keys: Sequence[object], order: IntArray) -> FloatArray:
    """The rows of ``keys`` in sample order, NaN for keys the ring does not hold."""
    out = np.full((len(keys), order.size), np.nan)
    found = [(i, r) for i, k in enumerate(keys) if (r := ring.index.get(k)) is not None]
    if found:
        rows = np.array([r for _, r in found], dtype=np.int64)
        out[[i for i, _ in found]] = ring.data[np.ix_(rows, order)]
    return out
