"""The example folds over the shipped demo file: no failures, and the states agree with
sums computed independently from the events (broken demo records included)."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from app.replay.discovery import discover_folds
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from app.replay.upcasting import Upcasting
from app.sources import FileSource
from kafka_io.event import Event

DEMO = Path(__file__).resolve().parents[3] / "resources" / "demo.avro"
# Loading the 220k-event demo file takes seconds: slow.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEMO.exists(), reason="demo file not generated"),
]


@pytest.fixture(scope="module")
def demo() -> dict[str, dict[str, list[Event]]]:
    source = FileSource(DEMO)
    out: dict[str, dict[str, list[Event]]] = {}
    for topic in source.topic_names():
        by_agg: dict[str, list[Event]] = defaultdict(list)
        for batch in source.read(topic):
            for ev in batch:
                if ev.aggregate is not None:
                    by_agg[ev.aggregate].append(ev)
        out[topic] = by_agg
    return out


def sample(by_agg: dict[str, list[Event]], k: int = 300) -> list[str]:
    """A fixed sample, plus every aggregate with a broken record in its history."""
    broken = [a for a, evs in by_agg.items() if any(e.error for e in evs)]
    names = sorted(by_agg)
    return sorted(set(random.Random(1).sample(names, min(k, len(names)))) | set(broken))


def fold_for(topic: str) -> FoldSpec:
    lib = discover_folds(use_user_dir=False, use_entry_points=False)
    return lib.registry.for_topic(topic)


def replay(events: list[Event], spec: FoldSpec, upcast: Upcasting | None = None) -> Any:
    result = Replayer.from_events(events, spec, upcast=upcast).state_at()
    assert result.failure is None, result.failure.describe()
    return result.state


def test_bank_accounts(demo: dict[str, dict[str, list[Event]]]) -> None:
    by_agg = demo["bank-accounts"]
    spec = fold_for("bank-accounts")
    assert spec.name == "bank-account"
    broken_seen = 0
    for agg in sample(by_agg):
        events = by_agg[agg]
        state = replay(events, spec)
        balance = 0.0
        for e in sorted(events, key=lambda e: e.offset):
            body = (e.data or {}).get("payload", {})
            if e.type == "AccountOpened":
                balance = round(balance + body.get("initialDeposit", 0), 2)
            elif e.type == "MoneyDeposited":
                balance = round(balance + body["amount"], 2)
            elif e.type == "MoneyWithdrawn":
                balance = round(balance - body["amount"], 2)
        assert state["balance"] == pytest.approx(balance, abs=0.005)
        if any(e.error for e in events):
            broken_seen += 1
            assert state["undecodable"]
        elif any(e.type == "AccountClosed" for e in events):
            assert state["status"] == "closed"
            assert "finalBalanceMismatch" not in state  # the generator's own balance
    assert broken_seen >= 1


def test_orders(demo: dict[str, dict[str, list[Event]]]) -> None:
    by_agg = demo["orders"]
    spec = fold_for("orders")
    assert spec.name == "order"
    final_status = {
        "OrderPlaced": "placed", "PaymentProcessed": "paid", "OrderShipped": "shipped",
        "OrderDelivered": "delivered", "OrderCancelled": "cancelled",
    }  # fmt: skip
    for agg in sample(by_agg):
        events = sorted(by_agg[agg], key=lambda e: e.offset)
        state = replay(events, spec)
        good = [e for e in events if e.data is not None]
        paid = sum(e.data["amount"] for e in good if e.type == "PaymentProcessed")
        assert state["paid"] == pytest.approx(paid, abs=0.005)
        if any(e.error for e in events):
            assert state["undecodable"]
        else:
            assert state["status"] == final_status[good[-1].type]
            placed = next(e for e in good if e.type == "OrderPlaced")
            assert state["total"] == placed.data["total"]
            assert len(state["items"]) == len(placed.data["items"])


def test_property_listings(demo: dict[str, dict[str, list[Event]]]) -> None:
    by_agg = demo["property-listings"]
    lib = discover_folds(use_user_dir=False, use_entry_points=False)
    spec = lib.registry.for_topic("property-listings")
    assert spec.name == "property-listing"
    upcast = lib.extras.upcasting("property-listings")
    assert upcast is not None
    versions = set()
    for agg in sample(by_agg):
        events = sorted(by_agg[agg], key=lambda e: e.offset)
        state = replay(events, spec, upcast)
        good = [e for e in events if e.data is not None]
        asking = None
        for e in good:
            if e.type == "PropertyListed":
                versions.add(e.data["eventVersion"])
                price = e.data["price"]  # 1.0: a number; 2.0: money
                asking = price if e.data["eventVersion"] == "1.0" else price["amount"]
            elif e.type == "PriceChanged":
                asking = e.data["newPrice"]
        assert state["askingPrice"] == asking
        assert state["offers"] == sum(e.type == "OfferReceived" for e in good)
        sold = [e for e in good if e.type == "PropertySold"]
        if sold:
            assert state["status"] == "sold" and state["soldPrice"] == sold[-1].data["price"]
    assert versions == {"1.0", "2.0"}  # the sample holds listings of both versions
