"""Lag history, lag in seconds, catch-up and status rules, on made-up samples."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from app.lag.history import LagHistory
from app.lag.seconds import estimate_lag_seconds, held_seconds, latest_lag_seconds
from app.lag.status import Status, catch_up_seconds, format_duration
from kafka_io.lag import GroupOffsets, LagSample, PartitionOffsets

T0 = 1_700_000_000.0  # seconds; any epoch works


def sample(
    t: float,
    groups: Mapping[str, Sequence[tuple[str, int, int | None, int]]],
    members: int | dict[str, int] = 1,
    error: str | None = None,
) -> LagSample:
    """groups: name -> [(topic, partition, committed, end)]."""
    out = []
    watermarks: dict[tuple[str, int], int] = {}
    for name, parts in groups.items():
        m = members if isinstance(members, int) else members[name]
        offsets = tuple(PartitionOffsets(tp, p, c, e) for tp, p, c, e in parts)
        watermarks.update({(tp, p): e for tp, p, _, e in parts})
        out.append(GroupOffsets(name, "STABLE" if m else "EMPTY", m, offsets))
    return LagSample(int((T0 + t) * 1000), tuple(out), watermarks, error)


def feed(
    history: LagHistory, committed: Sequence[int], ends: Sequence[int], members: int = 1
) -> None:
    """One group 'g' on one partition t[0], one sample a second."""
    for i, (c, e) in enumerate(zip(committed, ends, strict=True)):
        history.add(sample(i, {"g": [("t", 0, c, e)]}, members))


# -- lag in seconds -----------------------------------------------------------------------


def test_lag_seconds_interpolates_when_the_committed_offset_was_the_head() -> None:
    times = np.arange(11.0)
    ends = 100.0 * times  # 100 events/s
    committed = np.full(11, 500.0)
    got = estimate_lag_seconds(times, committed, ends)
    # Offset 500 was appended when the head reached 501, at t = 5.01 s.
    expected = np.where(ends > 500, times - 5.01, 0.0)
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_lag_seconds_uses_the_head_crossing_not_the_start_of_a_plateau() -> None:
    times = np.array([0.0, 1.0, 2.0, 3.0])
    ends = np.array([100.0, 100.0, 100.0, 150.0])
    got = estimate_lag_seconds(times, np.full(4, 100.0), ends)
    # Nothing waited until the burst between t=2 and t=3; offset 100 came at 2.02 s.
    np.testing.assert_allclose(got, [0.0, 0.0, 0.0, 0.98], atol=1e-9)


def test_lag_seconds_extrapolates_before_the_recorded_history() -> None:
    times = np.arange(5.0)
    ends = 1000.0 + 100.0 * times
    got = estimate_lag_seconds(times, np.full(5, 500.0), ends)
    # At 100/s, offset 500 was appended 4.99 s before the first point.
    np.testing.assert_allclose(got, times + 4.99, atol=1e-9)


def test_lag_seconds_is_nan_where_a_value_is_missing() -> None:
    times = np.arange(4.0)
    ends = np.array([10.0, np.nan, 30.0, 40.0])
    committed = np.array([5.0, 5.0, np.nan, 40.0])
    got = estimate_lag_seconds(times, committed, ends)
    assert math.isnan(got[2])
    assert got[3] == 0.0
    assert got[1] > got[0] > 0


def test_latest_lag_seconds_agrees_with_the_series_for_many_rows() -> None:
    rng = np.random.default_rng(3)
    rows, width = 300, 40
    times = np.cumsum(rng.uniform(0.5, 1.5, width))
    ends = np.cumsum(rng.integers(0, 50, (rows, width)), axis=1).astype(float) + 1000
    committed = ends - rng.integers(0, 400, (rows, width)).astype(float)
    committed[rng.random((rows, width)) < 0.1] = np.nan
    ends[rng.random((rows, width)) < 0.1] = np.nan
    committed[:5] = np.nan  # never committed
    committed[5:10] = ends[5:10]  # always caught up
    got = latest_lag_seconds(times, committed, ends)
    for r in range(rows):
        series = estimate_lag_seconds(times, committed[r], ends[r])
        known = series[np.isfinite(committed[r]) & np.isfinite(ends[r])]
        expected = known[-1] if known.size else np.nan
        np.testing.assert_allclose(got[r], expected, atol=1e-9, err_msg=f"row {r}")
    assert np.isnan(got[:5]).all() and (got[5:10] == 0).all() and (got[10:] > 0).any()


def test_held_seconds_measures_since_the_offset_last_moved() -> None:
    times = np.arange(6.0) * 10
    committed = np.array(
        [
            [1, 2, 3, 3, 3, 3],  # moved to 3 at t=20: held 30 s
            [5, 5, 5, 5, 5, 5],  # never moved: at least 50 s
            [1, 2, np.nan, 2, 7, np.nan],  # latest 7 appeared at t=40, latest sample t=40
            [np.nan] * 6,
        ]
    )
    held, never = held_seconds(times, committed)
    np.testing.assert_allclose(held[:3], [30.0, 50.0, 0.0])
    assert math.isnan(held[3])
    assert never.tolist() == [False, True, False, False]


def test_stuck_sentences_say_since_when() -> None:
    history = LagHistory(window_s=10)
    # Moving until t=4, then stuck for 20 samples; the window only spans 10 s.
    feed(history, committed=[0, 10, 20, 30, 40] + [40] * 20, ends=[50 + 10 * i for i in range(25)])
    assert "stuck at 40 for 20 s" in history.status("g").rule
    never = LagHistory(window_s=10)
    feed(never, committed=[40] * 25, ends=[50 + 10 * i for i in range(25)], members=0)
    assert "no commits for at least 24 s" in never.status("g").rule


# -- the ring -------------------------------------------------------------------------------


def test_ring_keeps_the_newest_samples_in_order() -> None:
    history = LagHistory(capacity=5)
    feed(history, committed=list(range(0, 80, 10)), ends=list(range(100, 180, 10)))
    assert len(history) == 5
    np.testing.assert_allclose(history.times(), T0 + np.arange(3, 8))
    np.testing.assert_allclose(history.committed("g", "t", 0), [30, 40, 50, 60, 70])
    np.testing.assert_allclose(history.ends("t", 0), [130, 140, 150, 160, 170])
    assert history.partitions("g") == [("t", 0)]


def test_group_lag_sums_records_and_takes_the_oldest_partition_in_seconds() -> None:
    history = LagHistory()
    for i in range(5):
        history.add(sample(i, {"g": [("t", 0, 10 * i, 10 * i + 5), ("t", 1, 0, 100 * (i + 1))]}))
    records = history.group_lag("g", "records")
    np.testing.assert_allclose(records.values, [5 + 100 * (i + 1) for i in range(5)])
    parts = history.partition_lag("g", "seconds")
    seconds = history.group_lag("g", "seconds")
    np.testing.assert_allclose(seconds.values, np.fmax(parts[0].values, parts[1].values))
    assert [p.name for p in parts] == ["t[0]", "t[1]"]
    assert seconds.values[-1] > 0


def test_many_groups_and_partitions_grow_the_ring_rows() -> None:
    history = LagHistory(capacity=4)
    for i in range(6):
        groups = {
            f"g{g}": [(f"t{g}", p, 10 * i + p, 10 * i + p + g) for p in range(12)] for g in range(5)
        }
        history.add(sample(i, groups))
    assert history.groups() == [f"g{g}" for g in range(5)]
    assert len(history.partitions("g3")) == 12
    np.testing.assert_allclose(history.committed("g4", "t4", 11), [31, 41, 51, 61])
    np.testing.assert_allclose(history.ends("t4", 11), [35, 45, 55, 65])
    np.testing.assert_allclose(history.group_lag("g3").values, [36.0] * 4)


def test_topic_rates_come_from_watermark_deltas() -> None:
    history = LagHistory()
    for i in range(6):
        # Three partitions at 50, 70 and 80 events/s: the topic makes 200/s.
        ends = [("t", 0, 0, 50 * i), ("t", 1, 0, 70 * i), ("t", 2, 0, 80 * i)]
        history.add(sample(i * 0.5, {"g": [(tp, p, c, e // 2) for tp, p, c, e in ends]}))
    (rates,) = history.topic_rates()
    assert rates.name == "t"
    assert math.isnan(rates.values[0])
    np.testing.assert_allclose(rates.values[1:], 200.0)


def test_failed_round_leaves_a_gap_and_keeps_the_status() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[0, 100, 200, 300], ends=[50, 150, 250, 350])
    history.add(LagSample(int((T0 + 4) * 1000), error="cannot reach broker"))
    assert history.last_error == "cannot reach broker"
    assert math.isnan(history.group_lag("g").values[-1])
    assert history.status("g").status is Status.OK


def test_vanished_group_is_reported_then_forgotten() -> None:
    history = LagHistory(capacity=4)
    feed(history, committed=[1, 2], ends=[3, 4])
    history.add(sample(2, {"other": [("t", 1, 0, 1)]}))
    assert "no longer lists" in history.status("g").rule
    for i in range(3, 9):
        history.add(sample(i, {"other": [("t", 1, 0, 1)]}))
    assert history.groups() == ["other"]


# -- status rules -----------------------------------------------------------------------------


def test_caught_up_consumer_is_ok() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[100, 200, 300, 400], ends=[100, 200, 300, 400])
    status = history.status("g")
    assert status.status is Status.OK
    assert status.lag == 0 and status.catch_up_seconds == 0.0
    assert "Caught up" in status.rule


def test_growing_lag_while_committing_is_a_warning() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[0, 50, 100, 150, 200], ends=[100, 200, 300, 400, 500])
    status = history.status("g")
    assert status.status is Status.WARNING
    assert "grew from 100 to 300" in status.rule
    assert status.consume_rate == pytest.approx(50.0)
    assert status.produce_rate == pytest.approx(100.0)
    assert status.catch_up_seconds == math.inf


def test_noisy_but_clearly_growing_lag_is_a_warning() -> None:
    history = LagHistory(window_s=20)
    lag = [10, 40, 30, 60, 90, 120, 110, 150]  # not monotonic, yet clearly growing
    ends = [1000 + 100 * i for i in range(len(lag))]
    feed(history, committed=[e - x for e, x in zip(ends, lag, strict=True)], ends=ends)
    assert history.status("g").status is Status.WARNING


def test_fluctuating_lag_that_does_not_grow_is_ok() -> None:
    history = LagHistory(window_s=20)
    lag = [50, 20, 60, 30, 55, 25, 58]
    ends = [1000 + 100 * i for i in range(len(lag))]
    feed(history, committed=[e - x for e, x in zip(ends, lag, strict=True)], ends=ends)
    status = history.status("g")
    assert status.status is Status.OK
    assert "Keeping up" in status.rule


def test_offsets_stuck_with_members_is_stalled() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[100] * 4, ends=[150, 160, 170, 180], members=2)
    status = history.status("g")
    assert status.status is Status.STALLED
    assert "stuck at 100" in status.rule and "2 members" in status.rule
    assert status.lag == 80


def test_offsets_stuck_without_members_is_stopped() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[100] * 4, ends=[150, 160, 170, 180], members=0)
    status = history.status("g")
    assert status.status is Status.STOPPED
    assert "no members" in status.rule and "80 records waiting" in status.rule


def test_stuck_offsets_on_an_idle_topic_are_ok() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[100] * 4, ends=[100] * 4, members=0)
    assert history.status("g").status is Status.OK


def test_committed_offset_going_back_is_a_rewind() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[100, 200, 50, 150], ends=[300, 300, 300, 300])
    status = history.status("g")
    assert status.status is Status.REWIND
    assert "went back from 200 to 50" in status.rule


def test_old_events_leave_the_window() -> None:
    history = LagHistory(window_s=3)
    feed(history, committed=[100, 200, 50, 150, 250, 350, 450], ends=[500] * 7)
    assert history.status("g").status is Status.OK  # the rewind at t=2 is > 3 s ago


def test_too_few_samples_or_no_commits_is_unknown() -> None:
    history = LagHistory(min_samples=3)
    feed(history, committed=[1, 2], ends=[5, 6])
    assert history.status("g").status is Status.UNKNOWN
    assert "2 of 3 samples" in history.status("g").rule
    other = LagHistory()
    for i in range(4):
        other.add(sample(i, {"g": [("t", 0, None, 10 * i)]}))
    assert other.status("g").status is Status.UNKNOWN
    assert "no committed offset" in other.status("g").rule
    assert other.status("nope").status is Status.UNKNOWN


def test_group_takes_its_worst_partition_and_says_where() -> None:
    history = LagHistory(window_s=10)
    for i in range(4):
        history.add(
            sample(
                i,
                {
                    "g": [
                        ("t", 0, 100 * i, 100 * i),  # caught up
                        ("t", 1, 7, 7 + 10 * i),  # stuck
                        ("t", 2, 9, 9 + 10 * i),  # stuck
                    ]
                },
            )
        )
    status = history.status("g")
    assert status.status is Status.STALLED
    assert status.rule.startswith("t[1]:") and "(and 1 more partition)" in status.rule
    assert [p.status for p in status.partitions] == [Status.OK, Status.STALLED, Status.STALLED]
    assert status.lag == 60


def test_catch_up_time_from_net_rate() -> None:
    history = LagHistory(window_s=10)
    # Production 200/s, consumption 300/s: a lag of 1000 shrinks by 100/s.
    ends = [5000 + 200 * i for i in range(5)]
    committed = [3600 + 300 * i for i in range(5)]
    feed(history, committed=committed, ends=ends)
    status = history.status("g")
    assert status.lag == 1000
    assert status.catch_up_seconds == pytest.approx(10.0)
    assert catch_up_seconds(None, 1.0, 0.5) is None
    assert catch_up_seconds(10, None, 0.5) is None


def test_rates_count_forward_progress_across_a_rewind_and_a_gap() -> None:
    history = LagHistory(window_s=10)
    feed(history, committed=[100, 200, 300, 50, 150], ends=[400, 500, 600, 700, 800])
    history.add(LagSample(int((T0 + 5) * 1000), error="broker down"))  # a gap
    history.add(sample(6, {"g": [("t", 0, 350, 1000)]}))
    status = history.status("g")
    # 100 + 100 + 100 + 200 (bridging the gap) = 500 records in 6 s.
    assert status.consume_rate == pytest.approx(500 / 6)
    assert status.produce_rate == pytest.approx(100.0)


def test_group_error_is_unknown_with_the_reason() -> None:
    history = LagHistory()
    history.add(
        LagSample(int(T0 * 1000), (GroupOffsets("g", "UNKNOWN", 0, (), "offsets: timed out"),))
    )
    status = history.status("g")
    assert status.status is Status.UNKNOWN and "timed out" in status.rule


def test_format_duration() -> None:
    assert format_duration(0.25) == "250 ms"
    assert format_duration(42) == "42 s"
    assert format_duration(200) == "3 min 20 s"
    assert format_duration(2 * 3600 + 300) == "2 h 05 min"
    assert format_duration(3 * 86400 + 4 * 3600) == "3 d 4 h"
    assert format_duration(math.inf) == "never"
    assert format_duration(None) == "n/a"
