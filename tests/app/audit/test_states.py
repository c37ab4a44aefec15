"""The state of every aggregate at T over an index, against a fold done by hand."""

from __future__ import annotations

from typing import Any

import pytest
from evfactory import log_sorted, random_events

from app.audit import states as states_module
from app.audit.as_of import AsOf
from app.audit.states import states_at
from app.index.topic_index import TopicIndex
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event


def tally(state: Any, event: Event) -> Any:
    state = dict(state or {"n": 0, "sum": 0, "last": None})
    state["n"] += 1
    if isinstance(event.data, dict):
        state["sum"] += event.data["payload"]["amount"]
    state["last"] = event.type
    return state


def fragile(state: Any, event: Event) -> Any:
    state = tally(state, event)
    if event.aggregate == "acc-007" and state["n"] == 3:
        raise ValueError("third event of acc-007")
    return state


TALLY = FoldSpec("tally", ("*",), tally)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return random_events(4000, seed=11, step_back=True)


@pytest.fixture(scope="module")
def index(events: list[Event]) -> TopicIndex:
    index = TopicIndex("bank-accounts", Decoder())
    for start in range(0, len(events), 500):
        index.append(events[start : start + 500])
    return index


def expected_at(events: list[Event], at_ms: int) -> dict[str, tuple[Any, int, tuple[int, int]]]:
    """aggregate -> (state, events applied, last position): log order, then the longest
    prefix of the aggregate's events stamped <= T."""
    by_aggregate: dict[str, list[Event]] = {}
    for ev in log_sorted(events):
        if ev.aggregate is not None:
            by_aggregate.setdefault(ev.aggregate, []).append(ev)
    out = {}
    for aggregate, evs in by_aggregate.items():
        state, applied = None, []
        for ev in evs:
            if ev.timestamp_ms > at_ms:
                break
            state = tally(state, ev)
            applied.append(ev)
        if applied:
            out[aggregate] = (state, len(applied), applied[-1].position)
    return out


def test_every_aggregate_at_t_matches_a_fold_by_hand(
    events: list[Event], index: TopicIndex
) -> None:
    stamps = sorted(ev.timestamp_ms for ev in events)
    at = stamps[len(stamps) // 2]
    result = states_at(index, TALLY, AsOf.moment(at))
    want = expected_at(events, at)
    got = {r.aggregate: (r.state, r.events_applied, r.last_event) for r in result.rows}
    assert set(got) == set(want)
    for aggregate, (state, applied, position) in want.items():
        g_state, g_applied, g_last = got[aggregate]
        assert (g_state, g_applied) == (state, applied), aggregate
        assert g_last is not None and (g_last.partition, g_last.offset) == position
    assert [r.aggregate for r in result.rows] == sorted(want)
    assert result.events_applied == sum(n for _s, n, _p in want.values())


def test_rows_are_what_state_at_gives_for_each_aggregate(index: TopicIndex) -> None:
    at = int(index.timestamp_col.min()) + 20_000
    result = states_at(index, TALLY, AsOf.moment(at))
    assert result.rows
    for row in result.rows[:: max(1, len(result.rows) // 6)]:
        assert row.aggregate is not None
        one = Replayer.from_index(index, row.aggregate, TALLY).state_at(timestamp_ms=at)
        assert row.to_json() == one.to_json()


def test_two_processes_give_the_same_rows(
    index: TopicIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(states_module, "BATCH_EVENTS", 300)  # several chunks for each side
    one = states_at(index, TALLY, None, workers=1)
    two = states_at(index, TALLY, None, workers=2)
    assert [r.to_json() for r in two.rows] == [r.to_json() for r in one.rows]
    assert one.events_applied == len(index) - sum(1 for a in index.aggregate_col if a < 0)


def test_offsets_and_a_time_before_everything(events: list[Event], index: TopicIndex) -> None:
    result = states_at(index, TALLY, AsOf.parse_offsets("1:40"))
    want_rows = [ev for ev in events if ev.partition == 1 and ev.offset <= 40 and ev.aggregate]
    assert result.events_applied == len(want_rows)
    assert {r.aggregate for r in result.rows} == {ev.aggregate for ev in want_rows}
    early = states_at(index, TALLY, AsOf.moment(min(ev.timestamp_ms for ev in events) - 1))
    assert early.rows == [] and early.first_timestamp_ms == min(ev.timestamp_ms for ev in events)


def test_a_failing_fold_fails_its_aggregate_only(index: TopicIndex) -> None:
    result = states_at(index, FoldSpec("fragile", ("*",), fragile))
    failed = {r.aggregate: r for r in result.rows if r.failure is not None}
    assert set(failed) == {"acc-007"}
    row = failed["acc-007"]
    assert row.events_applied == 2 and row.state["n"] == 2  # the state before the failure
    assert row.failure is not None and "third event" in row.failure.message
    assert row.to_json()["error"]["event"]["offset"] >= 0
    assert len(result.rows) == len(states_at(index, TALLY).rows)


def test_progress_and_cancel(index: TopicIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(states_module, "BATCH_EVENTS", 200)
    seen: list[tuple[int, int]] = []
    full = states_at(index, TALLY, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(full.rows), len(full.rows)) and len(seen) > 3
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    token = CancelToken()

    def cancel_after_first(done: int, total: int) -> None:
        token.cancel()

    cut = states_at(index, TALLY, progress=cancel_after_first, cancel=token)
    assert cut.cancelled and 0 < len(cut.rows) < len(full.rows)


def test_states_the_child_cannot_send_are_folded_here(
    index: TopicIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(states_module, "BATCH_EVENTS", 300)

    def odd(state: Any, event: Event) -> Any:
        state = tally(state, event)
        state["callback"] = lambda: None  # does not pickle
        return state

    rows = states_at(index, FoldSpec("odd", ("*",), odd), workers=2).rows
    want = states_at(index, TALLY, workers=1).rows
    assert [(r.aggregate, r.state["n"], r.state["sum"]) for r in rows] == [
        (r.aggregate, r.state["n"], r.state["sum"]) for r in want
    ]


def test_cancel_with_two_processes(index: TopicIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(states_module, "BATCH_EVENTS", 100)
    token = CancelToken()
    cut = states_at(index, TALLY, progress=lambda d, t: token.cancel(), cancel=token, workers=2)
    assert cut.cancelled and len(cut.rows) < len(states_at(index, TALLY).rows)
