"""Lag as time: how old the oldest unconsumed event is, from offsets alone.

Lag in records says little on its own (1,000 events is a blink on a busy topic and a
day on a quiet one), so each partition's lag is also given as time.
Every sample pins the partition's high watermark to a wall-clock time, so the history
holds a table of (time, head offset) points, non-decreasing in both.  The record at
committed offset ``c`` was appended when the head moved past ``c``: between the last
point with head <= c and the next one, assuming events arrived evenly in between, at
the fraction ``(c + 1 - head_before) / (head_after - head_before)``.  Lag in seconds
is the sample's time minus that moment, i.e. the age of the oldest unconsumed event
(0 when nothing is waiting).  An offset older than the whole table is extrapolated
back at the table's average production rate, so long lags are estimates; the error is
bounded by how uneven production was, and the table length is the ring's capacity.

Everything here is plain numpy over one shared time axis, so the history can ask for
one partition's whole series (a chart line) or for the latest value of thousands of
partitions at once (the status table) without a Python loop per partition.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def estimate_lag_seconds(times: FloatArray, committed: FloatArray, ends: FloatArray) -> FloatArray:
    """Age in seconds of the oldest unconsumed record, per sample (method: module doc).

    ``times`` (s), ``committed`` and ``ends`` are one partition's samples on the same
    grid; NaN marks a missing value and yields NaN.
    """
    out = np.full(times.shape, np.nan)
    have = np.isfinite(ends)
    t_w = times[have]
    if t_w.size == 0:
        return out
    e_w = np.maximum.accumulate(ends[have])  # a head never moves back; smooth out noise
    rows = np.flatnonzero(np.isfinite(committed))
    c = committed[rows]
    i = np.searchsorted(e_w, c, side="right")  # first point whose head is past c
    inner = (i > 0) & (i < e_w.size)
    produced = np.full(c.shape, np.inf)  # past the newest head: nothing waiting
    j = i[inner]
    frac = (c[inner] + 1 - e_w[j - 1]) / (e_w[j] - e_w[j - 1])
    produced[inner] = t_w[j - 1] + frac * (t_w[j] - t_w[j - 1])
    before = i == 0
    if before.any():
        span = t_w[-1] - t_w[0]
        rate = (e_w[-1] - e_w[0]) / span if span > 0 else 0.0
        back = (e_w[0] - (c[before] + 1)) / rate if rate > 0 else 0.0
        produced[before] = t_w[0] - back
    lag = np.clip(times[rows] - produced, 0.0, None)
    caught_up = c >= ends[rows]  # NaN end compares False: keeps the estimate
    lag[caught_up] = 0.0
    out[rows] = lag
    return out


def latest_lag_seconds(times: FloatArray, committed: FloatArray, ends: FloatArray) -> FloatArray:
    """``estimate_lag_seconds`` at each row's latest sample, for many partitions at once.

    ``committed`` and ``ends`` are (partitions x samples) on the shared ``times``;
    returns one age per row (NaN when no sample has both values).  The status of
    every group needs only this one number per partition; computing it for all rows
    together costs a few array passes instead of thousands of small calls.
    """
    rows, width = committed.shape
    out = np.full(rows, np.nan)
    both = np.isfinite(committed) & np.isfinite(ends)
    has = both.any(axis=1) if width else np.zeros(rows, bool)
    if not has.any():
        return out
    r = np.arange(rows)
    latest = width - 1 - both[:, ::-1].argmax(axis=1)
    c, now, head = committed[r, latest], times[latest], ends[r, latest]
    waiting = has & (c < head)
    seen = np.isfinite(ends)
    heads = np.fmax.accumulate(ends, axis=1)  # running max that skips NaN
    with np.errstate(invalid="ignore"):
        past = seen & (heads > c[:, None])
    k = past.argmax(axis=1)  # first real point past c (exists where waiting)
    last_seen = np.maximum.accumulate(np.where(seen, np.arange(width), -1), axis=1)
    prev = np.where(k > 0, last_seen[r, np.maximum(k - 1, 0)], -1)
    produced = np.full(rows, np.nan)
    inner = waiting & (prev >= 0)
    p, q = prev[inner], k[inner]
    e0, e1 = heads[r[inner], p], heads[r[inner], q]
    produced[inner] = times[p] + (c[inner] + 1 - e0) / (e1 - e0) * (times[q] - times[p])
    early = waiting & (prev < 0)
    if early.any():
        first = seen[early].argmax(axis=1)
        last = width - 1 - seen[early][:, ::-1].argmax(axis=1)
        sub = r[early]
        e_first, e_last = heads[sub, first], heads[sub, last]
        span = times[last] - times[first]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(span > 0, (e_last - e_first) / span, 0.0)
            back = np.where(rate > 0, (e_first - (c[early] + 1)) / rate, 0.0)
        produced[early] = times[first] - back
    out[has] = 0.0
    out[waiting] = np.clip(now[waiting] - produced[waiting], 0.0, None)
    return out


def held_seconds(
    times: FloatArray, committed: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """How long each row's committed offset has held its latest value.

    Measured from the first sample that showed the value to the row's latest
    sample; the second array marks rows whose offset never changed in the whole
    history, where the duration is only a lower bound.
    """
    rows, width = committed.shape
    held = np.full(rows, np.nan)
    never = np.zeros(rows, bool)
    finite = np.isfinite(committed)
    has = finite.any(axis=1) if width else np.zeros(rows, bool)
    if not has.any():
        return held, never
    r = np.arange(rows)
    latest = width - 1 - finite[:, ::-1].argmax(axis=1)
    value = committed[r, latest]
    other = finite & (committed != value[:, None])
    changed = other.any(axis=1)
    last_other = width - 1 - other[:, ::-1].argmax(axis=1)
    # The first sample after the last different value is where the value appeared.
    after = finite & (np.arange(width) > np.where(changed, last_other, -1)[:, None])
    since = after.argmax(axis=1)
    held[has] = (times[latest] - times[since])[has]
    never[has] = ~changed[has]
    return held, never
