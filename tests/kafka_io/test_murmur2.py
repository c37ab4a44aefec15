"""murmur2 must place keys exactly where the Java client and librdkafka do."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, Message, Producer

from kafka_io.murmur2 import murmur2, partition_for_key

# Published vectors of Kafka's own test of Utils.murmur2 (UtilsTest.testMurmur2).
JAVA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("data", "expected"), JAVA_VECTORS.items())
def test_matches_java_vectors(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


def test_result_is_a_signed_32_bit_int() -> None:
    rng = random.Random(7)
    values = [murmur2(rng.randbytes(rng.randrange(0, 40))) for _ in range(2000)]
    assert all(-(2**31) <= v < 2**31 for v in values)
    assert any(v < 0 for v in values) and any(v > 0 for v in values)


def test_every_tail_length_changes_the_hash() -> None:
    # Lengths 4..7 exercise the 0-3 trailing-byte branches; each extra byte must matter.
    hashes = {murmur2(b"abcdefg"[:n]) for n in range(4, 8)}
    assert len(hashes) == 4


def test_partition_is_the_positive_hash_modulo() -> None:
    for key, h in JAVA_VECTORS.items():
        assert partition_for_key(key, 12) == (h & 0x7FFFFFFF) % 12
    assert partition_for_key(b"foobar", 1) == 0


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        partition_for_key(b"k", 0)


@pytest.mark.kafka
def test_agrees_with_librdkafka_on_a_real_topic(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(12)
    rng = random.Random(2024)
    keys = [f"order-{i}".encode() for i in range(700)]
    keys += [rng.randbytes(rng.randrange(1, 64)) for _ in range(500)]
    keys = list(dict.fromkeys(keys))  # distinct, in order
    delivered: dict[bytes, int] = {}
    failures: list[str] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        key, partition = msg.key(), msg.partition()
        if err is not None or key is None or partition is None:
            failures.append(str(err))
        else:
            delivered[key] = partition

    producer = Producer(
        {"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random", "linger.ms": 5}
    )
    for key in keys:
        producer.produce(topic, key=key, value=b"x", on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert not failures
    assert len(delivered) == len(keys) >= 1000
    mismatched = {k: p for k, p in delivered.items() if partition_for_key(k, 12) != p}
    assert not mismatched
    assert len(set(delivered.values())) == 12  # the keys really spread over every partition
