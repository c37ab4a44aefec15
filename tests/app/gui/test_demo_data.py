"""The demo generator is deterministic, and the shipped demo file is what it describes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kafka_io.eventfile import open_event_file
from resources import demo_path
from resources.demo import generate


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first = generate.build(scale=0.02)
    second = generate.build(scale=0.02)
    assert first.digest() == second.digest()
    assert generate.build(scale=0.02, seed=1).digest() != first.digest()
    # Written twice, the files are byte for byte the same (the sync marker comes from
    # the seed), and they read back as the events that were generated.
    a, b = tmp_path / "a.avro", tmp_path / "b.avro"
    generate.write(first, a)
    generate.write(second, b)
    assert a.read_bytes() == b.read_bytes()
    rows = [(e.topic, e.partition, e.offset, e.timestamp_ms, e.key, e.headers, e.value)
            for e in open_event_file(a).iter_events()]  # fmt: skip
    assert rows == [
        (e.topic, e.partition, e.offset, e.timestamp_ms, e.key, e.headers, e.value)
        for e in first.events
    ]


def test_shipped_demo_file_is_the_generators_output(tmp_path: Path) -> None:
    """resources/demo.avro is exactly what `python -m resources.demo.generate` writes."""
    rebuilt = tmp_path / "demo.avro"
    generate.write(generate.build(), rebuilt)
    assert rebuilt.read_bytes() == demo_path().read_bytes()


def test_small_run_has_every_shape(tmp_path: Path) -> None:
    data = generate.build(scale=0.02)
    types = Counter(e.type for e in data.events)
    kinds = ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "OrderPlaced",
             "PaymentProcessed", "OrderShipped", "PropertyListed", "OfferReceived"]  # fmt: skip
    for kind in kinds:
        assert types[kind] > 0, kind
    path = tmp_path / "small.avro"
    generate.write(data, path)
    events = list(open_event_file(path).iter_events())
    errors = [e for e in events if e.error]
    assert len(errors) >= 5  # truncated JSON, bad Avro, unknown schema id, random bytes
    assert any(e.value is None for e in events)  # the tombstone
    placed = [e for e in events if e.type == "OrderPlaced"]
    assert {e.schema_id for e in placed} == {1, 6}  # the schema evolution
    listed = [e for e in events if e.topic == "property-listings" and not e.error]
    assert all(e.header("eventType") == e.type and e.header("correlationId") for e in listed)
    # Keys decide partitions (murmur2), so one aggregate lives in one partition.
    parts: dict[str | bytes | None, set[int]] = {}
    for e in events:
        parts.setdefault(e.key, set()).add(e.partition)
    assert all(len(p) == 1 for p in parts.values())


def test_shipped_demo_file_is_small_and_complete() -> None:
    path = demo_path()
    assert path.exists()
    assert path.stat().st_size < 12_000_000
    ef = open_event_file(path)
    assert set(ef.topics) == set(generate.PARTITIONS)
    assert ef.count is not None and ef.count > 200_000
