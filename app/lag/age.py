"""Lag in seconds per partition: the age of the oldest waiting record, measured first.

The sampler reads the timestamp of the record at each lagging partition's committed
offset (``kafka_io.record_time``), so the age of the oldest waiting event is the
sample's time minus that timestamp: a fact of the data from the very first sample,
whenever the app started watching.  Where the record could not be read, the age falls
back to the estimate from offsets over time (``app.lag.seconds``), which needs at
least two samples of the partition to say anything, and is flagged as an estimate.

Each value carries where it came from (``AgeSource``):

* ``record``      the timestamp of the record at the committed offset;
* ``next_record`` the first record after it, because that offset holds none any more
                  (deleted by retention, compacted away, a transaction marker);
* ``caught_up``   nothing is waiting: 0 s;
* ``estimate``    interpolated from the history of high watermarks.

Record timestamps are the producers' (CreateTime) unless the topic uses LogAppendTime;
an event produced with a back-dated timestamp is as old as its timestamp says, and a
producer clock ahead of ours gives 0 rather than a negative age.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.lag.seconds import estimate_lag_seconds, latest_lag_seconds

FloatArray = npt.NDArray[np.float64]
AgeSource = Literal["record", "next_record", "caught_up", "estimate"]
# An estimate from fewer samples than this is no estimate: one sample of a stopped
# group says nothing about when its oldest record was written.
MIN_ESTIMATE_SAMPLES = 2


def measured_age(
    time_ms: int,
    committed: int | None,
    end: int | None,
    oldest_ms: int | None,
    oldest_source: Literal["record", "next_record"] | None,
) -> tuple[float, AgeSource | None]:
    """One partition's age at one sample, from the sample alone; (NaN, None) if unknown."""
    if committed is None or end is None:
        return math.nan, None
    if end <= committed:
        return 0.0, "caught_up"
    if oldest_ms is None or oldest_source is None:
        return math.nan, None
    return max(time_ms - oldest_ms, 0) / 1000.0, oldest_source


def series_seconds(
    times: FloatArray, committed: FloatArray, ends: FloatArray, measured: FloatArray
) -> FloatArray:
    """One partition's lag in seconds per sample: measured where known, else estimated."""
    estimate = estimate_lag_seconds(times, committed, ends)
    seen = np.cumsum(np.isfinite(committed) & np.isfinite(ends))
    estimate[seen < MIN_ESTIMATE_SAMPLES] = np.nan
    return np.where(np.isfinite(measured), measured, estimate)


def latest_seconds(
    times: FloatArray, committed: FloatArray, ends: FloatArray, measured: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Each row's age at its latest sample with both offsets, for many partitions at once.

    All arrays but ``times`` are (partitions x samples).  Returns the ages (NaN when
    unknown) and a mask of the rows whose age is an estimate.
    """
    rows, width = committed.shape
    both = np.isfinite(committed) & np.isfinite(ends)
    has = both.any(axis=1) if width else np.zeros(rows, bool)
    latest = width - 1 - both[:, ::-1].argmax(axis=1) if width else np.zeros(rows, int)
    known = np.full(rows, np.nan)
    known[has] = measured[np.flatnonzero(has), latest[has]]
    estimate = latest_lag_seconds(times, committed, ends)
    estimate[both.sum(axis=1) < MIN_ESTIMATE_SAMPLES] = np.nan
    measured_now = np.isfinite(known)
    ages = np.where(measured_now, known, estimate)
    return ages, ~measured_now & np.isfinite(ages)
