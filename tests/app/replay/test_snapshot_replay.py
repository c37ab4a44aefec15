"""A timeline that starts from a snapshot: the snapshot step, then the later events;
states, blame, failures and the mapping between the aggregate's events and the steps."""

from __future__ import annotations

import random
from typing import Any

import pytest
from evfactory import random_events
from test_replay import agg_events, ledger, reference

from app.index.topic_index import TopicIndex
from app.replay.diff import leaves
from app.replay.replayer import Replayer
from app.replay.snapshot_replay import (
    SnapshotReplayer,
    events_covered,
    replayer_from,
    start_at,
    timeline_step,
)
from app.replay.snapshots import Snapshot, SnapshotRecord, SnapshotStart
from kafka_io.decode import Decoder
from kafka_io.event import Event

EVENTS = random_events(1200, seed=5, partitions=1, aggregates=3)
AGG = "acc-001"
MINE = agg_events(EVENTS, AGG)


@pytest.fixture(scope="module")
def index() -> TopicIndex:
    idx = TopicIndex("bank-accounts", Decoder())
    idx.append(EVENTS)
    return idx


def record(covers: int, state: Any = None, *, offset: int = 0, ts: int = 0) -> SnapshotRecord:
    snap = Snapshot(reference(MINE[:covers]) if state is None else state, events=covers)
    return SnapshotRecord(AGG, 0, offset, ts, snap)


def from_snapshot(index: TopicIndex, rec: SnapshotRecord, every: int = 16) -> SnapshotReplayer:
    rows = index.rows_for_aggregate(AGG)
    start = start_at([rec], index.offset_col[rows], len(rows))
    assert start.record is rec
    replayer = replayer_from(index, AGG, ledger, rows, start, "snaps", checkpoint_every=every)
    assert isinstance(replayer, SnapshotReplayer)
    return replayer


def test_steps_after_the_snapshot_equal_a_fold_from_scratch(index: TopicIndex) -> None:
    covers = len(MINE) // 3
    replayer = from_snapshot(index, record(covers, offset=7))
    assert len(replayer) == 1 + len(MINE) - covers
    assert replayer.ref(0).type == f"snapshot v{covers}" and replayer.ref(0).offset == 7
    assert [r.offset for r in replayer.refs()[1:]] == [e.offset for e in MINE[covers:]]
    rng = random.Random(3)
    for n in [len(replayer), 1, *rng.sample(range(1, len(replayer) + 1), 20), 1]:
        assert replayer.step(n).state == reference(MINE[: covers + n - 1]), n
    assert replayer.step(0).state is None


def test_blame_puts_what_the_snapshot_set_on_the_snapshot(index: TopicIndex) -> None:
    covers = 10
    state = {**reference(MINE[:covers]), "owner": "Ada"}
    replayer = from_snapshot(index, record(covers, state, offset=3))
    at_snapshot = replayer.blame(1)
    assert set(at_snapshot) >= {"owner", "balance"}
    assert {(r.type, r.offset) for r in at_snapshot.values()} == {(f"snapshot v{covers}", 3)}
    latest = replayer.blame()
    assert latest["owner"].type == f"snapshot v{covers}"
    assert latest["balance"].offset == MINE[-1].offset
    # Every leaf of the latest state has a blame.
    paths = {p for p, _ in leaves(replayer.step(len(replayer)).state)}
    assert len(latest) == len(paths)


def test_a_wrong_snapshot_is_what_the_state_starts_from(index: TopicIndex) -> None:
    right = reference(MINE[:5])
    wrong = {**right, "balance": right["balance"] + 1000}
    replayer = from_snapshot(index, record(5, wrong))
    assert replayer.step(len(replayer)).state["balance"] == reference(MINE)["balance"] + 1000


def test_events_and_steps_map_both_ways(index: TopicIndex) -> None:
    covers = 6
    replayer = from_snapshot(index, record(covers))
    rows = index.rows_for_aggregate(AGG)
    assert events_covered(replayer) == len(MINE)
    assert replayer.row_id(0) == int(rows[covers - 1])  # the last event it covers
    assert replayer.row_id(1) == int(rows[covers])
    assert [timeline_step(replayer, i) for i in (0, covers - 1, covers, len(MINE) - 1)] == [
        0, 0, 1, len(replayer) - 1,
    ]  # fmt: skip
    plain = Replayer.from_index(index, AGG, ledger)
    assert timeline_step(plain, 5) == 5 and events_covered(plain) == len(MINE)
    none_covered = from_snapshot(index, record(0, {"balance": 0, "moves": [], "types": {}}))
    assert none_covered.row_id(0) is None


def test_start_at_skips_snapshots_ahead_or_not_yet_written(index: TopicIndex) -> None:
    rows = index.rows_for_aggregate(AGG)
    offsets = index.offset_col[rows]
    early, late = record(4, ts=100), record(8, ts=200)
    ahead = record(len(MINE) + 5, {"x": 1}, ts=50)
    start = start_at([early, late, ahead], offsets, len(MINE))
    assert start.record is late and start.position == 8
    assert len(start.problems) == 1 and "ahead of the history" in start.problems[0]
    assert start_at([early, late], offsets, 7).record is early  # at or before the target
    assert start_at([early, late], offsets, len(MINE), written_by_ms=150).record is early
    assert start_at([early, late], offsets, len(MINE), written_by_ms=10).record is None
    by_offset = SnapshotRecord(AGG, 0, 0, 0, Snapshot({}, offset=int(offsets[2])))
    assert start_at([by_offset], offsets, len(MINE)).position == 3
    plain = replayer_from(index, AGG, ledger, rows, SnapshotStart(None, 0))
    assert not isinstance(plain, SnapshotReplayer) and len(plain) == len(MINE)


def test_a_fold_failure_after_the_snapshot_is_at_its_step(index: TopicIndex) -> None:
    covers, bad = 3, 7  # the fold fails on the aggregate's 8th event
    bad_offset = MINE[bad].offset

    def fussy(state: Any, event: Event) -> Any:
        if event.offset == bad_offset:
            raise ValueError("no")
        return ledger(state, event)

    rows = index.rows_for_aggregate(AGG)
    start = start_at([record(covers)], index.offset_col[rows], len(rows))
    replayer = replayer_from(index, AGG, fussy, rows, start, "snaps")
    result = replayer.run()
    assert result.failure is not None and result.failure.step == bad - covers + 1
    assert result.events_applied == bad - covers + 1
    assert result.state == reference(MINE[:bad])
