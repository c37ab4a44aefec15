"""A checkout saga written by a real producer across three topics of the real broker
(orders in Avro through the real schema registry, payments and shipments as JSON), with
one planted anomaly of every health kind: ``event-explorer health`` finds each exactly
once where it was planted, reports nothing on the same sagas without anomalies, and
``event-explorer trace`` follows a saga across the three topics."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import saga_scenario as sc
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from registry_helpers import avro_values

from app.cli.main import main

pytestmark = pytest.mark.kafka

ORDER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "OrderEvent",
    "namespace": "test.saga",
    "fields": [
        {"name": "eventId", "type": ["null", "string"]},
        {"name": "eventType", "type": "string"},
        {"name": "aggregateId", "type": "string"},
        {"name": "aggregateVersion", "type": ["null", "int"]},
    ],
}
UNKNOWN_ID = 2_000_000_000  # far beyond any id a test session registers
UNKNOWN_SCHEMA_VALUE = b"\x00" + UNKNOWN_ID.to_bytes(4, "big") + b"\x02ab"

FOLD = """
from app.folds import fold

@fold("saga-order", topics=["saga-orders-*"])
class Order:
    def initial(self):
        return {}

    def on_OrderPlaced(self, state, event):
        state["placed"] = True

    def on_PaymentProcessed(self, state, event):
        state["paid"] = True

    def on_OrderShipped(self, state, event):
        state["shipped"] = True
"""


def write_saga(
    bootstrap: str, client: SchemaRegistryClient, steps: list[sc.Step], topics: dict[str, str]
) -> dict[tuple[str, int, int], sc.Step]:
    """Produce the steps in order (one producer per topic role); where each landed."""
    landed: dict[tuple[str, int, int], sc.Step] = {}
    for role, topic in topics.items():
        mine = [s for s in steps if s.role == role]
        values = []
        for s in mine:
            if role == "orders" and s.raw is None:
                (value,) = avro_values(client, topic, ORDER_SCHEMA, [s.body()])
            else:
                value = sc.value_of(s)
            values.append(value)
        for s, at in zip(mine, produce_each(bootstrap, topic, mine, values), strict=True):
            landed[(topic, *at)] = s
    return landed


def produce_each(
    bootstrap: str, topic: str, steps: list[sc.Step], values: list[bytes]
) -> list[tuple[int, int]]:
    """Produce in order; where each record landed (delivery reports may come back in
    another order across partitions, so each carries its own index)."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    where: dict[int, tuple[int, int]] = {}
    errors: list[str] = []

    def delivered(i: int) -> Callable[[Any, Any], None]:
        def report(err: Any, msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            else:
                where[i] = (msg.partition(), msg.offset())

        return report

    for i, (s, value) in enumerate(zip(steps, values, strict=True)):
        kwargs: dict[str, Any] = {"key": s.key_text.encode(), "value": value,
                                  "timestamp": s.ts, "headers": s.headers(),
                                  "on_delivery": delivered(i)}  # fmt: skip
        if s.partition is not None:
            kwargs["partition"] = s.partition
        producer.produce(topic, **kwargs)
    assert producer.flush(30) == 0 and not errors, errors
    return [where[i] for i in range(len(steps))]


def health(
    capsys: pytest.CaptureFixture[str], bootstrap: str, registry: str, topics: dict[str, str],
    folds: Path,
) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    args = ["health", "-b", bootstrap, "--registry", registry, "--aggregate-rule",
            "field:aggregateId", "--saga-start", "|".join(sc.SAGA_STARTS), "--saga-end",
            "|".join(sc.SAGA_ENDS), "--folds", str(folds), "--json"]  # fmt: skip
    for topic in topics.values():
        args += ["-t", topic]
    code = main(args)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return code, lines


@pytest.fixture
def fold_file(tmp_path: Path) -> Path:
    path = tmp_path / "saga_order.py"
    path.write_text(FOLD)
    return path


def make_topics(make_topic: Callable[..., str]) -> dict[str, str]:
    return {role: make_topic(partitions=sc.PARTITIONS, prefix=f"saga-{role}") for role in sc.ROLES}


def test_every_planted_anomaly_is_found_exactly_once(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    capsys: pytest.CaptureFixture[str],
    fold_file: Path,
) -> None:
    topics = make_topics(make_topic)
    client = make_registry_client(schema_registry_url)
    landed = write_saga(kafka_bootstrap, client, sc.anomalies(UNKNOWN_SCHEMA_VALUE), topics)
    code, lines = health(capsys, kafka_bootstrap, schema_registry_url, topics, fold_file)
    *findings, summary = lines
    assert Counter(f["kind"] for f in findings) == Counter(dict.fromkeys(sc.EXPECTED, 1))
    role_of = {topic: role for role, topic in topics.items()}
    for f in findings:
        role, aggregate = sc.EXPECTED[f["kind"]]
        assert (role_of[f["topic"]], f["aggregate"]) == (role, aggregate), f
        step = landed[(f["topic"], f["partition"], f["offset"])]
        if aggregate is not None:
            assert step.aggregate == aggregate, f
        assert f["severity"] in ("error", "warning", "info") and f["detail"]
    dup = next(f for f in findings if f["kind"] == "duplicate_event_id")
    other = landed[(dup["other"]["topic"], dup["other"]["partition"], dup["other"]["offset"])]
    assert other.event_id == "p-twice.1" and other.ts < landed[
        (dup["topic"], dup["partition"], dup["offset"])
    ].ts  # fmt: skip
    unknown = next(f for f in findings if f["kind"] == "unknown_schema")
    assert str(UNKNOWN_ID) in unknown["detail"]
    assert summary["summary"] == dict.fromkeys(sc.EXPECTED, 1)
    assert summary["infos"] == 1 and summary["errors"] + summary["warnings"] == 12
    assert code == 1


def test_a_clean_saga_reports_nothing(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    capsys: pytest.CaptureFixture[str],
    fold_file: Path,
) -> None:
    topics = make_topics(make_topic)
    client = make_registry_client(schema_registry_url)
    write_saga(kafka_bootstrap, client, sc.clean(), topics)
    code, lines = health(capsys, kafka_bootstrap, schema_registry_url, topics, fold_file)
    assert lines == [lines[-1]] and lines[-1]["summary"] == {}
    assert lines[-1]["events"] == len(sc.clean())
    assert code == 0


def test_trace_follows_a_saga_across_the_three_topics(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    topics = make_topics(make_topic)
    client = make_registry_client(schema_registry_url)
    landed = write_saga(kafka_bootstrap, client, sc.anomalies(UNKNOWN_SCHEMA_VALUE), topics)
    base = ["trace", "-b", kafka_bootstrap, "--registry", schema_registry_url,
            "--topics", ",".join(topics.values())]  # fmt: skip
    assert main([*base, "--correlation", "c-3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (root,) = doc["roots"]
    chain = []
    node = root
    while True:
        chain.append((node["topic"], node["type"], node["gap_ms"]))
        if not node["children"]:
            break
        (node,) = node["children"]
    assert chain == [
        (topics["orders"], "OrderPlaced", None),
        (topics["payments"], "PaymentAuthorized", 60_000),
        (topics["orders"], "PaymentProcessed", 60_000),
        (topics["shipments"], "ShipmentPrepared", 60_000),
        (topics["shipments"], "ShipmentDispatched", 60_000),
        (topics["orders"], "OrderShipped", 60_000),
    ]
    assert doc["orphans"] == [] and doc["cycles"] == []
    # The broken saga, asked for from one of its events: exit 1, the broken link marked.
    (at,) = [k for k, s in landed.items() if s.aggregate == "s-broken" and s.version == 1]
    assert main([*base, "--event", f"{at[0]}:{at[1]}:{at[2]}", "--json"]) == 1
    broken = json.loads(capsys.readouterr().out)
    assert broken["correlation"] == "c-broken0"
    (orphan,) = broken["orphans"]
    assert orphan["broken"] is True
    assert orphan["causation_id"] == "evt-that-was-never-written"
    assert [c["type"] for c in orphan["children"]] == ["ShipmentDispatched"]
