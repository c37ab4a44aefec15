"""The demo's checkout saga: what the trace view and the Health panel show on first start
(one lost step, one stalled saga, one payment delivered twice, one lost shipment append),
found by the health check exactly where the generator put them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.health.check import HealthReport, check_health
from app.health.config import HealthConfig
from app.health.findings import Kind
from app.sources import FileSource
from app.trace.details import TraceTexts
from app.trace.loading import index_topics
from app.trace.space import TraceSpace
from app.trace.tree import trace_correlation
from kafka_io.event import Event
from resources.demo import checkout, generate

SCALE = 0.05


def correlation_of(e: Event) -> str | None:
    """Orders carry it in a header, the service topics in the envelope."""
    header = e.header("correlationId")
    if header is not None:
        return header
    return e.data.get("correlationId") if isinstance(e.data, dict) else None


def event_id_of(e: Event) -> str | None:
    return e.data.get("eventId") if isinstance(e.data, dict) else None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[generate.DemoData, Path]:
    data = generate.build(scale=SCALE)
    path = tmp_path_factory.mktemp("demo") / "demo.avro"
    generate.write(data, path)
    return data, path


@pytest.fixture(scope="module")
def report(demo: tuple[generate.DemoData, Path]) -> HealthReport:
    source = FileSource(demo[1])
    indexed = index_topics(source, None)
    config = HealthConfig(
        saga_starts=frozenset(checkout.SAGA_STARTS), saga_ends=frozenset(checkout.SAGA_ENDS)
    )
    return check_health(indexed.indexes, config, decoders=source.make_decoder)


def test_each_saga_fault_is_found_once(report: HealthReport) -> None:
    found = Counter(f.kind for f in report.findings)
    for kind in (Kind.BROKEN_CAUSATION, Kind.UNFINISHED_SAGA, Kind.DUPLICATE_EVENT_ID,
                 Kind.VERSION_GAP):  # fmt: skip
        assert found[kind] == 1, kind
    # Nothing else but the records that were broken on purpose.
    assert set(found) <= {Kind.BROKEN_CAUSATION, Kind.UNFINISHED_SAGA, Kind.DUPLICATE_EVENT_ID,
                          Kind.VERSION_GAP, Kind.UNDECODABLE, Kind.UNKNOWN_SCHEMA}  # fmt: skip


def test_findings_are_where_the_generator_put_the_faults(
    demo: tuple[generate.DemoData, Path], report: HealthReport
) -> None:
    events = demo[0].events
    by_kind = {f.kind: f for f in report.findings if f.kind is not Kind.UNDECODABLE}
    seen: dict[str, tuple[int, int]] = {}
    twice = None
    for e in events:
        if e.topic == "payments":
            eid = e.data["eventId"]
            if eid in seen:
                twice = (e.partition, e.offset)
            seen[eid] = (e.partition, e.offset)
    dup = by_kind[Kind.DUPLICATE_EVENT_ID]
    assert (dup.topic, (dup.partition, dup.offset)) == ("payments", twice)
    ids = {event_id_of(e) for e in events}
    lost = [e for e in events if e.topic == "shipments" and e.data["causationId"] not in ids]
    assert len(lost) == 1
    broken = by_kind[Kind.BROKEN_CAUSATION]
    assert (broken.topic, broken.partition, broken.offset) == (
        "shipments", lost[0].partition, lost[0].offset,
    )  # fmt: skip
    jumped = [
        e for e in events if e.type == "ShipmentDispatched" and e.data["aggregateVersion"] == 3
    ]
    gap = by_kind[Kind.VERSION_GAP]
    assert [(gap.topic, gap.partition, gap.offset)] == [
        ("shipments", e.partition, e.offset) for e in jumped
    ]
    saga = by_kind[Kind.UNFINISHED_SAGA]
    assert saga.topic == "orders" and saga.correlation is not None
    steps = [e for e in events if correlation_of(e) == saga.correlation]
    assert [e.type for e in steps] == ["OrderPlaced", "PaymentAuthorized"]


def test_the_broken_saga_traces_across_three_topics(demo: tuple[generate.DemoData, Path]) -> None:
    source = FileSource(demo[1])
    indexed = index_topics(source, None)
    space = TraceSpace(indexed.indexes, decoders=source.make_decoder)
    ids = {event_id_of(e) for e in demo[0].events}
    (lost,) = [e for e in demo[0].events
               if e.topic == "shipments" and e.data["causationId"] not in ids]  # fmt: skip
    trace = trace_correlation(space, lost.data["correlationId"])
    assert sorted(set(trace.topics[int(t)] for t in trace.topic)) == ["orders", "payments",
                                                                      "shipments"]  # fmt: skip
    assert int(trace.broken.sum()) == 1 and trace.cycles == []
    texts = TraceTexts.of_space(trace, space)
    (orphan,) = texts.nodes(trace.orphans.tolist())
    assert (orphan.topic, orphan.type) == ("shipments", "ShipmentPrepared")
    assert [t.type for t in texts.nodes(trace.roots.tolist())] == ["OrderPlaced"]
