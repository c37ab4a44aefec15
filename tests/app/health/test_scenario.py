"""Health over a saga across three topics with one planted anomaly of every kind: each
found exactly once, where it was planted; the same sagas without anomalies: nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import saga_scenario as sc

from app.health.check import HealthReport, check_health
from app.health.config import HealthConfig
from app.health.findings import Kind, Severity
from app.index.topic_index import TopicIndex
from app.replay.folds import FoldRegistry, fold
from kafka_io.event import Event

TOPICS = {"orders": "shop-orders", "payments": "shop-payments", "shipments": "shop-shipments"}
CONFIG = HealthConfig(saga_starts=frozenset(sc.SAGA_STARTS), saga_ends=frozenset(sc.SAGA_ENDS))


def order_fold_registry() -> FoldRegistry:
    @fold("order", topics=["shop-orders", "saga-orders-*"])
    class Order:
        def initial(self) -> dict[str, Any]:
            return {}

        def on_OrderPlaced(self, state: dict[str, Any], event: Event) -> None:
            state["placed"] = True

        def on_PaymentProcessed(self, state: dict[str, Any], event: Event) -> None:
            state["paid"] = True

        def on_OrderShipped(self, state: dict[str, Any], event: Event) -> None:
            state["shipped"] = True

    registry = FoldRegistry.with_builtins()
    registry.register(Order)
    return registry


def indexes_of(events: list[Event]) -> dict[str, TopicIndex]:
    indexes = {topic: TopicIndex(topic) for topic in TOPICS.values()}
    for ev in events:
        indexes[ev.topic].append([ev])
    return indexes


def run(steps: list[sc.Step]) -> tuple[HealthReport, list[Event]]:
    events = sc.to_events(steps, TOPICS)
    report = check_health(indexes_of(events), CONFIG, registry=order_fold_registry())
    return report, events


def test_every_planted_anomaly_is_found_once_where_it_was_planted() -> None:
    report, events = run(sc.anomalies(b"\x00\x00\x00\x03\xe7\x02ab"))
    kinds = Counter(str(f.kind) for f in report.findings)
    assert kinds == Counter(dict.fromkeys(sc.EXPECTED, 1))
    for finding in report.findings:
        role, aggregate = sc.EXPECTED[finding.kind]
        assert (finding.topic, finding.aggregate) == (TOPICS[role], aggregate), finding
        planted = [
            e for e in events
            if e.topic == finding.topic
            and (e.partition, e.offset) == (finding.partition, finding.offset)
        ]  # fmt: skip
        assert len(planted) == 1, finding
    assert report.exit_code == 1


def test_findings_point_at_the_planted_event() -> None:
    report, events = run(sc.anomalies(b"\x00\x00\x00\x03\xe7\x02ab"))
    by_kind = {f.kind: f for f in report.findings}
    twice = [e for e in events if e.aggregate == "p-twice"]
    dup = by_kind[Kind.DUPLICATE_EVENT_ID]
    assert (dup.partition, dup.offset) == twice[1].position
    assert dup.other is not None and (dup.other.partition, dup.other.offset) == twice[0].position
    gap = by_kind[Kind.VERSION_GAP]
    shipped = next(e for e in events if e.aggregate == "o-gap" and e.type == "OrderShipped")
    assert (gap.partition, gap.offset) == shipped.position
    assert "version 3 is missing" in gap.detail
    vdup = by_kind[Kind.VERSION_DUPLICATE]
    captured = [e for e in events if e.type == "PaymentCaptured"]
    assert (vdup.partition, vdup.offset) == captured[1].position
    assert vdup.other is not None and (vdup.other.offset == captured[0].offset)
    split = by_kind[Kind.SPLIT_PARTITION]
    moved = next(e for e in events if e.aggregate == "o-split" and e.type == "OrderShipped")
    assert (split.partition, split.offset) == moved.position
    saga = by_kind[Kind.UNFINISHED_SAGA]
    assert saga.correlation == "c-stalled0" and "PaymentAuthorized" in saga.detail
    broken = by_kind[Kind.BROKEN_CAUSATION]
    assert "evt-that-was-never-written" in broken.detail
    assert by_kind[Kind.UNHANDLED_TYPE].severity is Severity.INFO
    assert "OrderNoteAdded" in by_kind[Kind.UNHANDLED_TYPE].detail


def test_the_same_sagas_without_anomalies_report_nothing() -> None:
    report, _ = run(sc.clean())
    assert report.findings == []
    assert report.exit_code == 0
    assert report.events == len(sc.clean())


def test_unhandled_types_alone_exit_zero() -> None:
    """Info findings do not fail a CI run."""
    steps = [*sc.clean(), sc.Step("orders", "o-0", "OrderNoteAdded", "o-0.4", "c-0", "o-0.3",
                                  4, sc.T0 + 60_000 * 6)]  # fmt: skip
    report, _ = run(steps)
    assert [f.kind for f in report.findings] == [Kind.UNHANDLED_TYPE]
    assert report.exit_code == 0


def test_without_end_types_sagas_are_not_judged_and_it_says_so() -> None:
    events = sc.to_events(sc.anomalies(b"\x00\x00\x00\x03\xe7"), TOPICS)
    report = check_health(indexes_of(events), HealthConfig())
    assert Kind.UNFINISHED_SAGA not in {f.kind for f in report.findings}
    assert any("unfinished sagas: not checked" in n for n in report.notes)
    # Without a fold registry no type is judged either.
    assert Kind.UNHANDLED_TYPE not in {f.kind for f in report.findings}
