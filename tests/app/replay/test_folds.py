"""The fold API: decorator, class form, registry, built-in folds."""

from __future__ import annotations

from typing import Any

import pytest
from evfactory import BASE_MS, envelope

from app.replay.folds import (
    BUILT_IN,
    FOLD_ATTR,
    FoldCollector,
    FoldRegistry,
    FoldSpec,
    Origin,
    UnknownFoldError,
    deep_merge,
    events_fold,
    fold,
    handler_name,
    merge_fold,
    note_undecodable,
    payload,
    undecodable,
)
from kafka_io.event import Event


def ev(type_: str, payload_: Any, offset: int = 0, partition: int = 0) -> Event:
    return envelope("bank-accounts", partition, offset, BASE_MS + offset, "acc-1", type_, payload_)


def test_the_decorator_keeps_the_function_and_records_a_spec() -> None:
    with FoldCollector() as made:

        @fold("balance", topics=["bank-*"])
        def balance(state: Any, event: Event) -> Any:
            """Balance of an account.

            More text."""
            state = dict(state or {"balance": 0})
            if event.type == "MoneyDeposited":
                state["balance"] += event.data["payload"]["amount"]
            return state

    spec = getattr(balance, FOLD_ATTR)
    assert made == [spec]
    assert spec.name == "balance" and spec.topics == ("bank-*",)
    assert spec.description == "Balance of an account."
    assert spec.applies_to("bank-accounts") and not spec.applies_to("orders")
    assert balance(None, ev("MoneyDeposited", {"amount": 5})) == {"balance": 5}


def test_decorator_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        fold("")
    with pytest.raises(ValueError):
        fold("x", topics=[])
    with pytest.raises(TypeError):
        fold("x")(42)


def test_a_single_topic_string_is_one_pattern() -> None:
    @fold("x", topics="orders")
    def x(state: Any, event: Event) -> Any:
        return state

    assert getattr(x, FOLD_ATTR).topics == ("orders",)


def test_class_form() -> None:
    @fold("account", topics=["bank-*"])
    class Account:
        def initial(self) -> dict[str, Any]:
            return {"balance": 0, "seen": []}

        def on_MoneyDeposited(self, state: dict[str, Any], event: Event) -> None:
            state["balance"] += payload(event)["amount"]  # in place: returns None

        def on_money_withdrawn(self, state: dict[str, Any], event: Event) -> dict[str, Any]:
            return {**state, "balance": state["balance"] - payload(event)["amount"]}

    run = getattr(Account, FOLD_ATTR).function
    state = None
    for e in [
        ev("MoneyDeposited", {"amount": 10}),
        ev("com.bank.MoneyDeposited", {"amount": 5}),  # last dotted segment
        ev("money-withdrawn", {"amount": 3}),  # non-identifier chars become _
        ev("Unhandled", {}),
    ]:
        state = run(state, e)
    assert state == {"balance": 12, "seen": []}


def test_class_form_catch_all() -> None:
    @fold("types")
    class Types:
        def on_event(self, state: Any, event: Event) -> Any:
            return [*(state or []), event.type]

        def on_Special(self, state: Any, event: Event) -> Any:
            return [*(state or []), "special!"]

    run = getattr(Types, FOLD_ATTR).function
    state = None
    for t in ["A", "Special", "B"]:
        state = run(state, ev(t, {}))
    assert state == ["A", "special!", "B"]


def test_handler_names() -> None:
    assert handler_name("OrderPlaced") == "on_OrderPlaced"
    assert handler_name("com.shop.OrderPlaced") == "on_OrderPlaced"
    assert handler_name("order-placed") == "on_order_placed"


def spec(name: str, topics: tuple[str, ...], origin: Origin, source: str = "s") -> FoldSpec:
    return FoldSpec(name, topics, lambda s, e: s, source, origin)


def test_registry_lookup_and_unknown_names() -> None:
    reg = FoldRegistry.with_builtins()
    assert reg.names() == ["events", "merge"]
    assert reg.get("merge").source == BUILT_IN
    with pytest.raises(UnknownFoldError) as err:
        reg.get("balance")
    assert "balance" in str(err.value) and "merge" in str(err.value)


def test_for_topic_prefers_the_most_specific_origin_and_falls_back_to_merge() -> None:
    reg = FoldRegistry.with_builtins()
    assert reg.for_topic("bank-accounts").name == "merge"
    reg.register(spec("example", ("bank-*",), Origin.EXAMPLE))
    assert reg.for_topic("bank-accounts").name == "example"
    reg.register(spec("mine", ("bank-accounts",), Origin.USER_FOLDER))
    reg.register(spec("other", ("orders",), Origin.PATH))
    assert reg.for_topic("bank-accounts").name == "mine"
    assert [s.name for s in reg.matching("bank-accounts")] == ["mine", "example", "merge", "events"]
    assert reg.for_topic("orders").name == "other"


def test_a_higher_origin_wins_a_name_clash() -> None:
    reg = FoldRegistry()
    user = spec("x", ("*",), Origin.USER_FOLDER, "user.py")
    example = spec("x", ("*",), Origin.EXAMPLE, "example.py")
    reg.register(user)
    reg.register(example)  # lower: ignored, but remembered as shadowed
    assert reg.get("x") is user
    assert reg.shadowed == [(example, user)]
    path = spec("x", ("*",), Origin.PATH, "given.py")
    reg.register(path)
    assert reg.get("x") is path
    assert reg.remove_source("given.py") == ["x"]
    assert "x" not in reg


def test_register_a_decorated_function() -> None:
    @fold("y")
    def y(state: Any, event: Event) -> Any:
        return state

    reg = FoldRegistry()
    assert reg.register(y).name == "y"
    with pytest.raises(TypeError):
        reg.register(lambda s, e: s)


def test_payload_finds_the_business_part() -> None:
    assert payload(ev("T", {"a": 1})) == {"a": 1}
    flat = envelope("t", 0, 0, BASE_MS, "a", "T", None)._replace(data={"orderId": "o", "x": 2})
    assert payload(flat) == {"orderId": "o", "x": 2}
    data_env = flat._replace(data={"type": "T", "data": {"y": 3}})
    assert payload(data_env) == {"y": 3}


def test_merge_deep_merges_payloads_without_aliasing() -> None:
    events = [
        ev("Opened", {"owner": {"name": "Ann", "city": "Oslo"}, "tags": ["a"]}),
        ev("Moved", {"owner": {"city": "Bergen"}, "tags": ["b"]}, 1),
        ev("Note", {"note": None}, 2),
    ]
    state = None
    history = []
    for e in events:
        state = merge_fold(state, e)
        history.append(state)
    assert state == {"owner": {"name": "Ann", "city": "Bergen"}, "tags": ["b"], "note": None}
    assert history[0]["owner"]["city"] == "Oslo"  # earlier states are untouched
    events[1].data["payload"]["owner"]["city"] = "changed"
    assert state["owner"]["city"] == "Bergen"  # nested dicts of the event were copied


def test_deep_merge_replaces_non_mappings() -> None:
    assert deep_merge({"a": 1}, 5) == 5
    assert deep_merge(5, {"a": 1}) == {"a": 1}
    assert deep_merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}


def test_events_fold_counts_types_and_offsets() -> None:
    state: Any = None
    for i, (t, p) in enumerate([("A", 0), ("B", 0), ("A", 1)]):
        state = events_fold(state, ev(t, {}, offset=10 + i, partition=p))
    assert state["count"] == 3
    assert state["types"] == {"A": 2, "B": 1}
    assert state["partitions"] == {"0": {"first_offset": 10, "last_offset": 11},
                                   "1": {"first_offset": 12, "last_offset": 12}}  # fmt: skip
    assert state["first"]["offset"] == 10 and state["last"]["offset"] == 12


def test_undecodable_events_are_noted_not_merged() -> None:
    good = ev("Opened", {"a": 1})
    broken = ev("Broken", None, 1)._replace(data=None, error="invalid JSON")
    tombstone = ev("tombstone", None, 2)._replace(data=None, value=None)
    state = None
    for e in (good, broken, tombstone):
        state = merge_fold(state, e)
    assert state == {"a": 1, "undecodable": [
        {"partition": 0, "offset": 1, "type": "Broken", "error": "invalid JSON"},
    ]}  # fmt: skip


def test_class_form_routes_undecodable_events() -> None:
    @fold("careful")
    class Careful:
        def initial(self) -> dict[str, Any]:
            return {"n": 0}

        def on_T(self, state: dict[str, Any], event: Event) -> None:
            state["n"] += payload(event)["n"]

        def on_undecodable(self, state: dict[str, Any], event: Event) -> Any:
            return note_undecodable(state, event)

    run = getattr(Careful, FOLD_ATTR).function
    state = run(None, ev("T", {"n": 2}))
    state = run(state, ev("T", None, 1)._replace(data=None, error="truncated"))
    assert state["n"] == 2 and state["undecodable"][0]["error"] == "truncated"
    assert undecodable(ev("T", None)._replace(data=None, error="x"))
    assert not undecodable(ev("T", {}))
