"""Burrow-style consumer status: which rule fires for a partition, and for a group.

The rules follow Burrow's consumer lag evaluation, applied to one partition's samples
inside the evaluation window, checked in this order (first match wins):

* REWIND   the committed offset went backwards (a reset, or a group reused elsewhere);
* OK       committed offset unchanged and nothing to consume (idle topic, caught up);
* STOPPED  committed offset unchanged for the whole window, records waiting, and the
           group has no members: nobody is consuming;
* STALLED  committed offset unchanged for the whole window, records waiting, while the
           group has members: a consumer is there but makes no progress;
* WARNING  the consumer commits but lag stayed above zero and grew: either at every
           step (Burrow's rule) or, so that commits bunched by an auto-commit interval
           do not hide it, with every value in the later half of the window above
           every value in the earlier half (noise alone rarely does that);
* OK       otherwise.

UNKNOWN covers what cannot be judged: no commit yet, or fewer than ``min_samples``.
A group takes its worst partition's status; ``rule`` says which rule fired and where.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from app.lag.age import AgeSource

FloatArray = npt.NDArray[np.float64]


class Status(Enum):
    """Burrow's vocabulary; ``severity`` orders them so the worst partition wins."""

    UNKNOWN = "UNKNOWN"
    OK = "OK"
    WARNING = "WARNING"
    REWIND = "REWIND"
    STALLED = "STALLED"
    STOPPED = "STOPPED"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {s: i for i, s in enumerate(Status)}


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    topic: str
    partition: int
    status: Status
    rule: str
    lag: int | None
    lag_seconds: float | None
    age_source: AgeSource | None = None  # where lag_seconds came from (app.lag.age)


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """A group's verdict for the status badge, the CLI and the tooltip."""

    group: str
    status: Status
    rule: str  # the rule that fired, as a sentence
    state: str
    members: int
    lag: int | None
    lag_seconds: float | None
    # None: unknown (too few samples); math.inf: not catching up at the current rates.
    catch_up_seconds: float | None
    consume_rate: float | None  # records/s, from committed-offset deltas in the window
    produce_rate: float | None  # records/s, from high-watermark deltas in the window
    partitions: tuple[PartitionStatus, ...] = ()
    error: str | None = None
    age_source: AgeSource | None = None  # that of the partition with the oldest record


@dataclass(frozen=True, slots=True)
class PartitionBlock:
    """Some partitions' samples inside the window, one row each (NaN: no value).

    Rows share one time axis so that the rules run on all of them at once: the
    status of 200 groups x 12 partitions is a handful of array operations, not
    thousands of small ones.
    """

    keys: Sequence[tuple[str, int]]  # (topic, partition) per row
    times: FloatArray  # (W,) epoch seconds
    committed: FloatArray  # (R, W)
    ends: FloatArray  # (R, W)
    lag_seconds: FloatArray  # (R,) age of the oldest waiting record at the latest sample
    # (R,) how long the committed offset has held its latest value, from the whole
    # history (NaN: unknown); ``held_all`` marks rows that never moved in it (a floor).
    held_s: FloatArray | None = None
    held_all: npt.NDArray[np.bool_] | None = None
    age_sources: Sequence[AgeSource | None] | None = None  # (R,) where lag_seconds came from

    def age(self, row: int) -> tuple[float | None, AgeSource | None]:
        """The row's lag in seconds and its source; (None, None) when unknown."""
        age = float(self.lag_seconds[row])
        if math.isnan(age):
            return None, None
        return age, self.age_sources[row] if self.age_sources is not None else None

    def held(self, row: int, fallback_s: float) -> str:
        """'4 min 01 s' or 'at least 1 h 00 min', for the stuck-offset sentences."""
        if self.held_s is None or math.isnan(self.held_s[row]):
            return format_duration(fallback_s)
        text = format_duration(max(float(self.held_s[row]), fallback_s))
        return f"at least {text}" if self.held_all is not None and self.held_all[row] else text

    def __len__(self) -> int:
        return len(self.keys)


def evaluate_partitions(
    block: PartitionBlock, members: int, min_samples: int = 3
) -> list[PartitionStatus]:
    """The first rule (module doc) that holds, for every row of ``block``."""
    out: list[PartitionStatus | None] = [None] * len(block)
    complete = (np.isfinite(block.committed) & np.isfinite(block.ends)).all(axis=1)
    rows = np.flatnonzero(complete) if block.times.size >= min_samples else np.zeros(0, int)
    if rows.size:
        judged = _judge(block, rows, block.times, block.committed[rows], block.ends[rows], members)
        for i, verdict in zip(rows.tolist(), judged, strict=True):
            out[i] = verdict
    # Rows with gaps (no commit yet, a failed round): each on its own samples.
    for i in range(len(block)):
        if out[i] is not None:
            continue
        ok = np.isfinite(block.committed[i]) & np.isfinite(block.ends[i])
        n = int(ok.sum())
        if n >= min_samples:
            c, e = block.committed[i, ok][None, :], block.ends[i, ok][None, :]
            (out[i],) = _judge(block, np.array([i]), block.times[ok], c, e, members)
            continue
        topic, partition = block.keys[i]
        lag = int(max(block.ends[i, ok][-1] - block.committed[i, ok][-1], 0)) if n else None
        rule = "no committed offset yet" if n == 0 else f"{n} of {min_samples} samples needed"
        # Too few samples for a verdict, but a record's age is known from the first one.
        age, source = block.age(i) if n else (None, None)
        out[i] = PartitionStatus(
            topic, partition, Status.UNKNOWN, f"{topic}[{partition}]: {rule}.", lag, age, source
        )
    return [v for v in out if v is not None]


def _judge(
    block: PartitionBlock,
    rows: npt.NDArray[np.intp],
    t: FloatArray,
    c: FloatArray,
    e: FloatArray,
    members: int,
) -> list[PartitionStatus]:
    """The rules on complete rows (no NaN), vectorised; sentences per row."""
    lag = np.clip(e - c, 0.0, None)
    back = (np.diff(c, axis=1) < 0).any(axis=1)
    stuck = ~back & (c[:, -1] == c[:, 0])
    dl = np.diff(lag, axis=1)
    half = lag.shape[1] // 2
    steady_rise = (dl >= 0).all(axis=1) | (lag[:, half:].min(axis=1) > lag[:, :half].max(axis=1))
    grew = (lag.min(axis=1) > 0) & (lag[:, -1] > lag[:, 0]) & steady_rise
    # Plain Python values: the per-row loop below then costs microseconds.
    rewind: list[bool] = np.asarray(back).tolist()
    still: list[bool] = np.asarray(stuck).tolist()
    grows: list[bool] = np.asarray(grew).tolist()
    first_lag, last_lag, last_c = lag[:, 0].tolist(), lag[:, -1].tolist(), c[:, -1].tolist()
    span_s = float(t[-1] - t[0])
    span = format_duration(span_s)
    out = []
    for j, i in enumerate(rows.tolist()):
        topic, partition = block.keys[i]
        name = f"{topic}[{partition}]"
        now = last_lag[j]
        waiting = f"{now:,.0f} records waiting"
        if rewind[j]:
            k = int(np.flatnonzero(np.diff(c[j]) < 0)[-1])
            when = time.strftime("%H:%M:%S", time.localtime(t[k + 1]))
            status = Status.REWIND
            rule = f"committed offset went back from {c[j, k]:,.0f} to {c[j, k + 1]:,.0f} at {when}"
        elif still[j] and now == 0:
            status, rule = Status.OK, "caught up, nothing to consume"
        elif still[j] and members == 0:
            held = block.held(i, span_s)
            status, rule = Status.STOPPED, f"no commits for {held} and no members; {waiting}"
        elif still[j]:
            status = Status.STALLED
            rule = (
                f"committed offset stuck at {last_c[j]:,.0f} for {block.held(i, span_s)} "
                f"with {_plural(members, 'member')} in the group; {waiting}"
            )
        elif grows[j]:
            status = Status.WARNING
            rate = (now - first_lag[j]) / span_s
            rule = (
                f"lag grew from {first_lag[j]:,.0f} to {now:,.0f} in {span} "
                f"(+{rate:,.1f}/s) although the consumer is committing"
            )
        else:
            status, rule = Status.OK, f"consumer is keeping up (lag {now:,.0f})"
        age, source = block.age(i)
        out.append(
            PartitionStatus(topic, partition, status, f"{name}: {rule}.", int(now), age, source)
        )
    return out


def evaluate_group(
    group: str,
    state: str,
    members: int,
    error: str | None,
    block: PartitionBlock,
    min_samples: int = 3,
) -> GroupStatus:
    """The group's status: its worst partition, plus totals, rates and catch-up time."""
    parts = tuple(evaluate_partitions(block, members, min_samples)) if len(block) else ()
    lags = [p.lag for p in parts if p.lag is not None]
    lag = sum(lags) if lags else None
    aged = [p for p in parts if p.lag_seconds is not None]
    oldest = max(aged, key=lambda p: p.lag_seconds or 0.0) if aged else None
    lag_seconds = oldest.lag_seconds if oldest else None
    age_source = oldest.age_source if oldest else None
    consume = _rate_sum(block.times, block.committed) if len(block) else None
    produce = _rate_sum(block.times, block.ends) if len(block) else None
    catch_up = catch_up_seconds(lag, consume, produce)

    def result(status: Status, rule: str) -> GroupStatus:
        return GroupStatus(
            group, status, rule, state, members, lag, lag_seconds,
            catch_up, consume, produce, parts, error, age_source,
        )  # fmt: skip

    if error is not None:
        return result(Status.UNKNOWN, f"Could not read the group: {error}")
    if not parts:
        return result(Status.UNKNOWN, "The group has no committed offsets.")
    worst = max(parts, key=lambda p: p.status.severity)
    if worst.status is Status.OK:
        if lag == 0:
            return result(Status.OK, "Caught up: nothing left to consume.")
        rates = ""
        if consume is not None and produce is not None:
            rates = f", consuming {consume:,.0f}/s, producing {produce:,.0f}/s"
        return result(Status.OK, f"Keeping up: lag {lag or 0:,} records{rates}.")
    same = sum(1 for p in parts if p.status is worst.status) - 1
    more = f" (and {_plural(same, 'more partition')})" if same else ""
    return result(worst.status, worst.rule + more)


def catch_up_seconds(lag: int | None, consume: float | None, produce: float | None) -> float | None:
    """Time to drain ``lag`` at the net rate; inf when the consumer is not gaining."""
    if lag == 0:
        return 0.0
    if lag is None or consume is None or produce is None:
        return None
    net = consume - produce
    return lag / net if net > 0 else math.inf


def _rate_sum(times: FloatArray, values: FloatArray) -> float | None:
    """Sum over rows of forward progress per second within the window.

    Progress is the sum of the increases between consecutive known samples, so a
    rewind (an offset reset) does not cancel out the consumption around it; gaps
    (failed rounds) are bridged by carrying the last known value forward.
    """
    rows, width = values.shape
    if width < 2:
        return None
    finite = np.isfinite(values)
    carried = np.maximum.accumulate(np.where(finite, np.arange(width), 0), axis=1)
    filled = values[np.arange(rows)[:, None], carried]
    first = finite.argmax(axis=1)
    last = width - 1 - finite[:, ::-1].argmax(axis=1)
    elapsed = times[last] - times[first]
    usable = finite.any(axis=1) & (elapsed > 0)
    if not usable.any():
        return None
    progress = np.nansum(np.clip(np.diff(filled, axis=1), 0.0, None), axis=1)
    return float(np.sum(progress[usable] / elapsed[usable]))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_duration(seconds: float | None) -> str:
    """Human duration: 850 ms, 42 s, 3 min 20 s, 2 h 05 min, 3 d 4 h; inf as 'never'."""
    if seconds is None or math.isnan(seconds):
        return "n/a"
    if math.isinf(seconds):
        return "never"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    s = round(seconds)
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def format_age(seconds: float | None, source: AgeSource | None) -> str:
    """``format_duration``, marked with ``~`` when the age is an estimate."""
    text = format_duration(seconds)
    return f"~{text}" if source == "estimate" and seconds is not None else text
