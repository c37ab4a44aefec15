"""Replay: states at offsets/timestamps/counts, checkpoints, failures, isolation."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from evfactory import BASE_MS, envelope, log_sorted, random_events

from app.index.topic_index import TopicIndex
from app.replay.event_sources import copy_state
from app.replay.folds import FoldSpec, fold, merge_fold
from app.replay.replayer import Replayer
from app.replay.runner import FoldError
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event


def ledger(state: Any, event: Event) -> Any:
    """Balance plus the list of amounts: mutates in place (allowed), never copies."""
    if state is None:
        state = {"balance": 0, "moves": [], "types": {}}
    amount = event.data["payload"]["amount"] if event.data else 0
    sign = -1 if event.type == "MoneyWithdrawn" else 1
    state["balance"] += sign * amount
    state["moves"].append(sign * amount)
    state["types"][event.type] = state["types"].get(event.type, 0) + 1
    return state


def reference(events: list[Event]) -> Any:
    """The same fold computed independently, straight from the raw values."""
    import orjson

    state = None
    for e in events:
        data = orjson.loads(e.value) if e.value is not None else None
        state = ledger(state, e._replace(data=data))
    return state


EVENTS = random_events(4000, seed=33, partitions=3, aggregates=6, step_back=True)
AGG = "acc-004"


def agg_events(events: list[Event] = EVENTS, agg: str = AGG) -> list[Event]:
    return [e for e in log_sorted(events) if e.aggregate == agg]


@pytest.fixture(scope="module")
def index() -> TopicIndex:
    idx = TopicIndex("bank-accounts", Decoder())
    for i in range(0, len(EVENTS), 700):
        idx.append(EVENTS[i : i + 700])
    return idx


def replayers(index: TopicIndex, every: int = 16) -> list[Replayer]:
    return [
        Replayer.from_index(index, AGG, ledger, checkpoint_every=every),
        Replayer.from_events(EVENTS, ledger, aggregate=AGG, checkpoint_every=every),
    ]


def test_both_sources_see_the_aggregate_in_log_order(index: TopicIndex) -> None:
    mine = agg_events()
    for rp in replayers(index):
        assert len(rp) == len(mine) > 500
        assert [(r.partition, r.offset) for r in rp.refs()] == [
            (e.partition, e.offset) for e in mine
        ]


def test_latest_and_by_count(index: TopicIndex) -> None:
    mine = agg_events()
    for rp in replayers(index):
        latest = rp.state_at()
        assert latest.ok and latest.events_applied == len(mine)
        assert latest.state == reference(mine)
        assert latest.last_event is not None and latest.last_event.offset == mine[-1].offset
        assert rp.state_at(n=0).state is None and rp.state_at(n=0).last_event is None
        assert rp.state_at(n=17).state == reference(mine[:17])
        with pytest.raises(ValueError):
            rp.state_at(n=len(mine) + 1)


def test_at_an_offset_inclusive(index: TopicIndex) -> None:
    mine = agg_events()
    part = mine[0].partition
    target = mine[len(mine) // 2]
    for rp in replayers(index):
        result = rp.state_at(offset=target.offset, partition=part)
        want = [e for e in mine if e.offset <= target.offset]
        assert result.events_applied == len(want)
        assert result.state == reference(want)
        assert result.last_event is not None and result.last_event.offset == target.offset
        assert rp.state_at(offset=-1).events_applied == 0


def test_at_a_timestamp() -> None:
    # monotonic clocks: "every event with timestamp <= T"
    events = random_events(3000, seed=8, partitions=3, aggregates=5)
    mine = agg_events(events, "acc-002")
    rp = Replayer.from_events(events, ledger, aggregate="acc-002", checkpoint_every=10)
    rng = random.Random(2)
    for _ in range(30):
        t = rng.randrange(mine[0].timestamp_ms - 10, mine[-1].timestamp_ms + 10)
        want = [e for e in mine if e.timestamp_ms <= t]
        result = rp.state_at(timestamp_ms=t)
        assert result.events_applied == len(want)
        assert result.state == reference(want)


def test_random_steps_equal_a_fold_from_scratch(index: TopicIndex) -> None:
    mine = agg_events()
    rng = random.Random(5)
    for rp in replayers(index, every=7):
        rp.run()
        for _ in range(40):
            i = rng.randrange(len(mine) + 1)
            assert rp.step(i).state == reference(mine[:i]), i


def test_checkpoints_are_made_on_the_first_pass(index: TopicIndex) -> None:
    rp = Replayer.from_index(index, AGG, ledger, checkpoint_every=50)
    progress: list[tuple[int, int]] = []
    rp.run(progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (len(rp), len(rp))
    assert len(rp._checkpoints) == len(rp) // 50 + 1
    assert rp._checkpoints[3] == reference(agg_events()[:150])


def test_nobody_can_corrupt_checkpoints(index: TopicIndex) -> None:
    mine = agg_events()
    rp = Replayer.from_index(index, AGG, ledger, checkpoint_every=10)
    first = rp.step(25).state
    first["balance"] = 10**9  # the caller scribbles on a result...
    first["moves"].clear()
    for i in (25, 20, 30, 11, 25):  # ...and the in-place fold keeps stepping around
        assert rp.step(i).state == reference(mine[:i])


def test_folds_cannot_change_the_callers_events() -> None:
    events = random_events(300, seed=2, aggregates=2)
    before = [copy_state(e.data) for e in events]

    def vandal(state: Any, event: Event) -> Any:
        if event.data:
            event.data["payload"]["amount"] = -999
        return (state or 0) + 1

    rp = Replayer.from_events(events, vandal, aggregate="acc-001")
    assert rp.state_at().ok
    assert [e.data for e in events] == before


def test_a_failing_fold_keeps_the_state_before_the_event(index: TopicIndex) -> None:
    mine = agg_events()
    bad = 40

    def breaks(state: Any, event: Event) -> Any:
        state = ledger(state, event)  # mutates in place first...
        if (event.partition, event.offset) == (mine[bad].partition, mine[bad].offset):
            raise KeyError("missing field")  # ...then fails
        return state

    spec = FoldSpec("breaks", ("*",), breaks)
    for rp in (
        Replayer.from_index(index, AGG, spec, checkpoint_every=16),
        Replayer.from_events(EVENTS, spec, aggregate=AGG, checkpoint_every=16),
    ):
        result = rp.state_at()
        assert not result.ok and result.failure is not None
        assert result.failure.step == bad and result.failure.kind == "error"
        assert result.failure.event is not None
        assert result.failure.event.offset == mine[bad].offset
        assert result.events_applied == bad
        assert result.state == reference(mine[:bad])  # not the half-changed one
        assert result.to_json()["error"]["exception"] == "KeyError"
        # positions before the failure still work; after it, the same failure
        assert rp.step(bad - 1).ok and rp.step(bad - 1).state == reference(mine[: bad - 1])
        assert rp.step(bad + 5).failure == result.failure
        with pytest.raises(FoldError):
            rp.state()


def test_a_never_returning_fold_in_a_replay_is_reported() -> None:
    def stuck(state: Any, event: Event) -> Any:
        if state == 3:
            while True:
                pass
        return (state or 0) + 1

    events = [envelope("t", 0, i, BASE_MS + i, "a", "T", {}) for i in range(10)]
    rp = Replayer.from_events(events, stuck, budget_s=0.2)
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(rp.state_at()), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    result = box[0]
    assert result.failure.kind == "timeout" and result.events_applied == 3
    assert result.state == 3


def test_cancelling_a_replay() -> None:
    token = CancelToken()
    token.cancel()
    events = [envelope("t", 0, i, BASE_MS + i, "a", "T", {}) for i in range(10)]
    rp = Replayer.from_events(events, lambda s, e: (s or 0) + 1)
    result = rp.state_at(cancel=token)
    assert result.failure is not None and result.failure.kind == "cancelled"
    assert rp.state_at().state == 10  # a cancel is not remembered as a failure


def test_history_yields_each_state(index: TopicIndex) -> None:
    mine = agg_events()
    rp = Replayer.from_index(index, AGG, ledger, checkpoint_every=8)
    steps = list(rp.history(5, 40))
    assert [s.n for s in steps] == list(range(6, 41))
    for s in steps:
        assert s.state == reference(mine[: s.n])
        assert s.event.offset == mine[s.n - 1].offset
    steps[0].state["moves"].append("junk")
    assert steps[1].state == reference(mine[:7])  # each step is its own copy


def test_history_raises_after_the_good_steps() -> None:
    def third_fails(state: Any, event: Event) -> Any:
        if state == 2:
            raise RuntimeError("bad")
        return (state or 0) + 1

    events = [envelope("t", 0, i, BASE_MS + i, "a", "T", {}) for i in range(5)]
    rp = Replayer.from_events(events, third_fails)
    seen: list[Any] = []
    with pytest.raises(FoldError) as err:
        seen.extend(step.state for step in rp.history())
    assert seen == [1, 2]
    assert err.value.failure.step == 2 and err.value.failure.event is not None
    assert err.value.failure.event.offset == 2


def test_decorated_and_class_folds_replay() -> None:
    @fold("opened")
    class Opened:
        def initial(self) -> dict[str, Any]:
            return {"opened": 0}

        def on_AccountOpened(self, state: dict[str, Any], event: Event) -> None:
            state["opened"] += 1

    mine = agg_events()
    rp = Replayer.from_events(EVENTS, Opened.__fold_spec__, aggregate=AGG)  # type: ignore[attr-defined]
    assert rp.fold_name == "opened"
    assert rp.state() == {"opened": sum(e.type == "AccountOpened" for e in mine)}


def test_merge_fold_replays_from_the_index(index: TopicIndex) -> None:
    rp = Replayer.from_index(index, AGG, merge_fold, checkpoint_every=5)
    last = [e for e in agg_events() if e.value is not None][-1]
    state = rp.state()
    assert state["amount"] == last.data["payload"]["amount"]


def test_index_replay_needs_an_aggregate(index: TopicIndex) -> None:
    with pytest.raises(ValueError):
        Replayer(index, ledger)
    assert len(Replayer.from_index(index, "nobody", ledger)) == 0


def test_a_replay_can_decode_with_its_own_decoder(index: TopicIndex) -> None:
    calls: list[int] = []

    class Counting(Decoder):
        def decode(self, *args: Any, **kw: Any) -> Event:
            calls.append(1)
            return super().decode(*args, **kw)

    mine = agg_events()
    rp = Replayer.from_index(index, AGG, ledger, decoder=Counting())
    assert rp.state() == reference(mine)
    assert len(calls) == len(mine)  # every event went through the replay's decoder


def test_a_replayer_takes_events_that_came_after_its_own(index: TopicIndex) -> None:
    """Following live: the newer events are added, the checkpoints kept, and every state
    and blame is the one a replayer of all the events gives; anything but newer events
    (fewer, other, earlier ones) is refused."""
    rows = index.rows_for_aggregate(AGG)
    first = rows[: len(rows) // 2]
    replayer = Replayer.from_index(index, AGG, ledger, rows=first, checkpoint_every=16)
    replayer.run()
    kept = list(replayer._checkpoints)
    assert not replayer.extend(first)  # nothing new
    assert not replayer.extend(first[:-1])
    assert not replayer.extend(rows[1:])  # not these first
    assert len(replayer) == len(first)
    assert replayer.extend(rows)
    assert len(replayer) == len(rows)
    assert all(a is b for a, b in zip(kept, replayer._checkpoints, strict=False))  # kept
    whole = Replayer.from_index(index, AGG, ledger)
    for n in (len(first) - 1, len(first), len(first) + 1, len(rows)):
        assert replayer.step(n).state == whole.step(n).state == reference(agg_events()[:n])
    assert replayer.blame() == whole.blame()
    assert [replayer.ref(i) for i in range(len(rows))] == whole.refs()
