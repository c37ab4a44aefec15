"""Lag in seconds from record timestamps: right from the first sample, estimates flagged.

Made-up samples: each partition reading may carry the timestamp of its oldest waiting
record, as the sampler reads it; expected ages are worked out by hand from those.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.lag.age import measured_age
from app.lag.history import LagHistory
from app.lag.status import format_age
from kafka_io.lag import GroupOffsets, LagSample, PartitionOffsets

T0_MS = 1_700_000_000_000
STEP_S = 5
NINE_MIN_MS = 9 * 60_000


def reading(
    committed: int, end: int, oldest_ms: int | None = None, oldest_offset: int | None = None
) -> PartitionOffsets:
    if oldest_ms is not None and oldest_offset is None:
        oldest_offset = committed
    return PartitionOffsets("t", 0, committed, end, None, oldest_ms, oldest_offset)


def sample(i: int, *parts: PartitionOffsets, members: int = 0) -> LagSample:
    numbered = tuple(
        PartitionOffsets(p.topic, n, p.committed, p.end, None, p.oldest_ms, p.oldest_offset)
        for n, p in enumerate(parts)
    )
    group = GroupOffsets("g", "EMPTY" if members == 0 else "STABLE", members, numbered)
    watermarks = {("t", n): p.end for n, p in enumerate(numbered) if p.end is not None}
    return LagSample(T0_MS + i * STEP_S * 1000, (group,), watermarks)


def test_a_group_stopped_nine_minutes_ago_shows_nine_minutes_on_the_first_sample() -> None:
    history = LagHistory()
    stopped_at = T0_MS - NINE_MIN_MS  # the record at the committed offset
    history.add(sample(0, reading(100, 160, stopped_at)))
    status = history.status("g")
    assert status.lag_seconds == pytest.approx(540.0)
    assert status.age_source == "record"
    assert status.partitions[0].age_source == "record"
    # It grows with the clock from there, it does not restart from 0.
    for i in (1, 2, 3):
        history.add(sample(i, reading(100, 160 + i, stopped_at)))
    seconds = history.group_lag("g", "seconds").values
    np.testing.assert_allclose(seconds, [540.0, 545.0, 550.0, 555.0])
    assert history.status("g").lag_seconds == pytest.approx(555.0)


def test_without_the_record_one_sample_is_unknown_then_an_estimate_flagged_as_such() -> None:
    history = LagHistory()
    history.add(sample(0, reading(100, 160)))
    first = history.status("g")
    assert (first.lag_seconds, first.age_source) == (None, None)
    assert math.isnan(history.group_lag("g", "seconds").values[0])  # not a made-up 0
    history.add(sample(1, reading(100, 170)))
    second = history.status("g")
    assert second.age_source == "estimate"
    assert second.lag_seconds is not None and second.lag_seconds >= 0
    assert format_age(second.lag_seconds, second.age_source).startswith("~")
    assert format_age(540.0, "record") == "9 min 00 s"


def test_a_caught_up_partition_is_zero_and_the_oldest_partition_speaks_for_the_group() -> None:
    history = LagHistory()
    history.add(
        sample(
            0,
            reading(50, 50),  # caught up
            reading(10, 20, T0_MS - 30_000),  # 30 s old record
            reading(7, 90, T0_MS - 200_000, oldest_offset=12),  # offset 7 is gone: offset 12
        )
    )
    status = history.status("g")
    ages = [(p.lag_seconds, p.age_source) for p in status.partitions]
    assert ages == [(0.0, "caught_up"), (30.0, "record"), (200.0, "next_record")]
    assert (status.lag_seconds, status.age_source) == (200.0, "next_record")


def test_a_round_that_could_not_read_the_record_falls_back_for_that_sample_only() -> None:
    history = LagHistory()
    record = T0_MS - 60_000
    history.add(sample(0, reading(100, 150, record)))
    history.add(sample(1, reading(100, 155)))  # the lookup failed this time
    history.add(sample(2, reading(100, 160, record)))
    (series,) = history.partition_lag("g", "seconds")
    assert series.values[0] == pytest.approx(60.0)
    assert series.values[2] == pytest.approx(70.0)
    assert np.isfinite(series.values[1])  # estimated between two measured points
    assert history.status("g").age_source == "record"


def test_a_producer_clock_ahead_of_ours_gives_zero_not_a_negative_age() -> None:
    assert measured_age(T0_MS, 1, 5, T0_MS + 2_000, "record") == (0.0, "record")
    assert measured_age(T0_MS, 5, 5, None, None) == (0.0, "caught_up")
    age, source = measured_age(T0_MS, None, 5, T0_MS, "record")
    assert math.isnan(age) and source is None


def test_measured_ages_survive_the_ring_wrapping_and_compacting() -> None:
    history = LagHistory(capacity=4)
    record = T0_MS - 10_000
    for i in range(9):  # wraps twice; compaction runs at every 4th sample
        history.add(sample(i, reading(100, 150 + i, record)))
    expected = [10.0 + STEP_S * i for i in range(5, 9)]
    np.testing.assert_allclose(history.measured_ages("g", "t", 0), expected)
    np.testing.assert_allclose(history.group_lag("g", "seconds").values, expected)
    assert history.status("g").lag_seconds == pytest.approx(expected[-1])
