"""Comparing two folds over a whole topic (an event file here; the CLI test uses a real
broker): exactly the aggregates a known fold change affects, the event where each first
differs, the diff, in one process or several, and the cases the fast pass hands over."""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from app.replay.compare import CompareCancelled, compare_events
from app.replay.compare_run import compare_topic
from app.replay.discovery import load_definitions
from app.replay.folds import FoldSpec
from app.sources import FileSource
from kafka_io.cancel import CancelToken
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

TOPIC = "bank-accounts"
T0 = 1_700_000_000_000

FOLDS = """
from app.folds import fold

@fold("balance", topics=["bank-*"])
def balance(state, event):
    state = dict(state or {"balance": 0, "moves": 0})
    amount = event.data["payload"]["amount"]
    state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount
    state["moves"] += 1
    return state

@fold("balance-with-fee", topics=["bank-*"])
def balance_with_fee(state, event):
    # The change under test: withdrawals over 90 cost a fee of 1.
    state = dict(state or {"balance": 0, "moves": 0})
    amount = event.data["payload"]["amount"]
    if event.type == "MoneyWithdrawn":
        state["balance"] -= amount + (1 if amount > 90 else 0)
    else:
        state["balance"] += amount
    state["moves"] += 1
    return state

@fold("count", topics=["bank-*"])
def count(state, event):
    return (state or 0) + 1

@fold("fragile", topics=["bank-*"])
def fragile(state, event):
    if event.data["payload"]["amount"] == 13:
        raise ValueError("unlucky amount")
    return balance(state, event)
"""


def _events(n: int, partitions: int = 4, aggregates: int = 60, seed: int = 3) -> list[Event]:
    rng = random.Random(seed)
    offsets = [0] * partitions
    out = []
    for i in range(n):
        agg = f"acc-{rng.randrange(aggregates):03d}"
        p = int(agg[-3:]) % partitions
        kind = "MoneyWithdrawn" if rng.random() < 0.3 else "MoneyDeposited"
        data = {"eventType": kind, "payload": {"amount": rng.randrange(1, 100)}}
        raw = orjson.dumps(data)
        out.append(Event(TOPIC, p, offsets[p], T0 + i * 1000, agg, kind, agg, (), data, None,
                         None, raw))  # fmt: skip
        offsets[p] += 1
    return out


@pytest.fixture(scope="module")
def topic_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Event]]:
    events = _events(3000)
    path = tmp_path_factory.mktemp("compare") / "bank.avro"
    write_event_file(path, events, formats={TOPIC: "json"})
    return path, events


@pytest.fixture(scope="module")
def folds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FoldSpec]:
    path = tmp_path_factory.mktemp("folds") / "bank_folds.py"
    path.write_text(FOLDS)
    return {spec.name: spec for spec in load_definitions(path).folds}


def _fee_affected(events: list[Event], at_ms: int | None = None) -> dict[str, tuple[Event, int]]:
    """Aggregate -> (its first withdrawal over 90, the fee total): what the change
    affects, found from the events alone."""
    out: dict[str, tuple[Event, int]] = {}
    for ev in sorted(events, key=lambda e: (e.partition, e.offset)):
        if at_ms is not None and ev.timestamp_ms > at_ms:
            continue
        if ev.type == "MoneyWithdrawn" and ev.data["payload"]["amount"] > 90:
            first, fees = out.get(ev.aggregate or "", (ev, 0))
            out[ev.aggregate or ""] = (first, fees + 1)
    return out


@pytest.mark.parametrize("processes", [1, 2])
def test_compare_finds_exactly_the_aggregates_a_fold_change_affects(
    topic_file: tuple[Path, list[Event]], folds: dict[str, FoldSpec], processes: int
) -> None:
    path, events = topic_file
    report = compare_topic(
        FileSource(path), TOPIC, folds["balance"], folds["balance-with-fee"], processes=processes
    )
    expected = _fee_affected(events)
    assert expected and len(expected) < len({e.aggregate for e in events})
    assert [d.aggregate for d in report.differ] == sorted(expected)
    assert report.aggregates == len({e.aggregate for e in events})
    assert report.events == len(events) and report.processes == processes
    for found in report.differ:
        first, fees = expected[found.aggregate]
        assert found.first is not None
        assert (found.first.partition, found.first.offset) == (first.partition, first.offset)
        mine = [e for e in events if e.aggregate == found.aggregate]
        assert found.step == mine.index(first) + 1 and found.events == len(mine)
        [change] = found.diff.changes
        assert (change.path, change.old - change.new) == ("balance", fees)


def test_at_limits_the_history_compared(
    topic_file: tuple[Path, list[Event]], folds: dict[str, FoldSpec]
) -> None:
    path, events = topic_file
    at = events[len(events) // 3].timestamp_ms
    report = compare_topic(
        FileSource(path), TOPIC, folds["balance"], folds["balance-with-fee"], at_ms=at
    )
    assert [d.aggregate for d in report.differ] == sorted(_fee_affected(events, at))
    assert report.events == sum(e.timestamp_ms <= at for e in events)


def test_the_fast_pass_agrees_with_the_exact_comparison(
    topic_file: tuple[Path, list[Event]], folds: dict[str, FoldSpec]
) -> None:
    path, events = topic_file
    a, b = folds["balance"], folds["balance-with-fee"]
    fast = {d.aggregate: d for d in compare_topic(FileSource(path), TOPIC, a, b).differ}
    by_agg: dict[str, list[Event]] = defaultdict(list)
    for ev in events:
        by_agg[ev.aggregate or ""].append(ev)
    exact = {agg: compare_events(evs, agg, a, b) for agg, evs in by_agg.items()}
    assert fast == {agg: d for agg, d in exact.items() if d is not None}


def test_folds_of_different_shapes_still_list_the_diff(
    topic_file: tuple[Path, list[Event]], folds: dict[str, FoldSpec]
) -> None:
    path, events = topic_file
    report = compare_topic(FileSource(path), TOPIC, folds["balance"], folds["count"])
    assert len(report.differ) == report.aggregates
    for found in report.differ:
        mine = [e for e in events if e.aggregate == found.aggregate]
        assert found.step == 1 and found.first is not None
        assert (found.first.partition, found.first.offset) == (mine[0].partition, mine[0].offset)
        [change] = found.diff.changes
        assert change.kind == "changed" and change.path == "" and change.new == len(mine)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_fold_that_fails_is_listed_at_its_event(
    topic_file: tuple[Path, list[Event]], folds: dict[str, FoldSpec], processes: int
) -> None:
    path, events = topic_file
    report = compare_topic(
        FileSource(path), TOPIC, folds["balance"], folds["fragile"], processes=processes
    )
    unlucky: dict[str, Event] = {}
    for ev in events:
        if ev.data["payload"]["amount"] == 13:
            unlucky.setdefault(ev.aggregate or "", ev)
    assert [d.aggregate for d in report.differ] == sorted(unlucky)
    assert report.failed
    for found in report.differ:
        [(side, failure)] = found.failures
        first = unlucky[found.aggregate]
        assert side == "b" and failure.event is not None
        assert (failure.event.partition, failure.event.offset) == (first.partition, first.offset)
        assert found.first is not None and found.first.offset == first.offset


def test_an_aggregate_in_two_partitions_is_compared_in_log_order(
    tmp_path: Path, folds: dict[str, FoldSpec]
) -> None:
    """A topic that gained partitions: the aggregate's events are in two workers' shares."""
    events = _events(400, partitions=2, aggregates=6)
    moved = [e._replace(partition=3, offset=i, timestamp_ms=T0 + 10_000_000 + i * 1000)
             for i, e in enumerate(events) if e.aggregate == "acc-000"]  # fmt: skip
    path = tmp_path / "split.avro"
    write_event_file(path, events + moved, formats={TOPIC: "json"})
    for processes in (1, 2):
        report = compare_topic(
            FileSource(path), TOPIC, folds["balance"], folds["balance-with-fee"],
            processes=processes,
        )  # fmt: skip
        expected = _fee_affected(events + moved)
        assert [d.aggregate for d in report.differ] == sorted(expected)
        found = next((d for d in report.differ if d.aggregate == "acc-000"), None)
        if "acc-000" in expected:
            assert found is not None and found.events == 2 * len(moved)
            [change] = found.diff.changes
            assert change.old - change.new == expected["acc-000"][1]


SLOW = """
import time
from app.folds import fold

@fold("slow", topics=["bank-*"])
def slow(state, event):
    time.sleep(0.002)
    return (state or 0) + 1
"""


@pytest.mark.parametrize("processes", [1, 2])
def test_cancel_stops_every_worker(
    topic_file: tuple[Path, list[Event]], tmp_path: Path, processes: int
) -> None:
    path, events = topic_file
    slow_file = tmp_path / "slow.py"
    slow_file.write_text(SLOW)
    [slow] = load_definitions(slow_file).folds
    token = CancelToken()
    seen: list[int] = []
    timer = threading.Timer(0.5, token.cancel)  # the whole job is 3000 x 2 x 2 ms of folds
    timer.start()
    try:
        with pytest.raises(CompareCancelled):
            compare_topic(FileSource(path), TOPIC, slow, slow, processes=processes,
                          cancel=token, progress=lambda done, total: seen.append(done))  # fmt: skip
    finally:
        timer.cancel()
    assert all(done < len(events) for done in seen)
    assert multiprocessing.active_children() == []


def test_progress_counts_every_event(
    topic_file: tuple[Path, list[Event]], folds: dict[str, FoldSpec]
) -> None:
    path, events = topic_file
    seen: list[int] = []
    compare_topic(FileSource(path), TOPIC, folds["balance"], folds["count"], processes=2,
                  progress=lambda done, total: seen.append(done))  # fmt: skip
    assert seen == sorted(seen) and seen[-1] == len(events)
