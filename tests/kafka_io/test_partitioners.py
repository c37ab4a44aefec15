"""Each partitioner places keys exactly where the producers using it do, and detection
names the partitioner that wrote a real topic.

The proof of exactness is librdkafka itself: thousands of keys produced to a real topic
with each of its partitioner settings, and our functions must give every key the
partition librdkafka chose.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

import numpy as np
import pytest
from confluent_kafka.admin import AdminClient, NewPartitions
from kafka_helpers import produce_keys

from kafka_io import key_hashes
from kafka_io.key_sample import detect_topic_partitioner
from kafka_io.metadata import Cluster
from kafka_io.murmur2 import partition_for_key
from kafka_io.partition_detect import Verdict
from kafka_io.partitioners import (
    CRC32,
    FNV1A,
    MURMUR2,
    PARTITIONERS,
    UnknownPartitioner,
    partition_for,
    partitioner,
)
from kafka_io.profile import ConnectionProfile


def mixed_keys(seed: int, n: int = 3000) -> list[bytes]:
    """Text ids, UUIDs, non-ASCII text, random binary and a few keys longer than the
    batch hashing's limit: every shape of key an event topic might use."""
    rng = random.Random(seed)
    keys = [f"order-{i}".encode() for i in range(n // 3)]
    keys += [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(n // 6)]
    keys += [f"kundenkonto-ü-{i}-€".encode() for i in range(n // 6)]
    keys += [rng.randbytes(rng.randrange(1, 80)) for _ in range(n // 3)]
    keys += [rng.randbytes(rng.randrange(257, 600)) for _ in range(20)]
    return list(dict.fromkeys(keys))  # distinct, in order


# --- the hashes themselves ---------------------------------------------------------------


def test_fnv1a_matches_the_reference_vectors() -> None:
    # From the FNV authors' test suite (32-bit FNV-1a).
    assert key_hashes.fnv1a(b"") == 0x811C9DC5
    assert key_hashes.fnv1a(b"a") == 0xE40C292C
    assert key_hashes.fnv1a(b"foobar") == 0xBF9CF968


def test_crc32_is_the_iso_hdlc_crc() -> None:
    # The catalogue's check value of CRC-32 (ISO-HDLC: zlib, Ethernet, librdkafka).
    assert key_hashes.crc32(b"123456789") == 0xCBF43926


@pytest.mark.parametrize("name", list(PARTITIONERS))
def test_batch_hashing_equals_one_key_at_a_time(name: str) -> None:
    chosen = PARTITIONERS[name]
    rng = random.Random(11)
    keys = [rng.randbytes(rng.randrange(0, 300)) for _ in range(3000)] + [b"", b"x" * 4]
    batch = chosen.hash_many(keys)
    assert batch.dtype == np.uint32
    assert batch.tolist() == [chosen.hash(k) for k in keys]
    for count in (1, 2, 7, 12, 64, 1000):
        assert chosen.partitions(keys, count).tolist() == [chosen.partition(k, count) for k in keys]


def _sarama(h: int, n: int) -> int:
    """Sarama's NewHashPartitioner on a hash: Go int32 conversion, truncating %, negate."""
    signed = h - 2**32 if h >= 2**31 else h
    rem = abs(signed) % n if signed >= 0 else -(abs(signed) % n)  # Go's % keeps the sign
    return -rem if rem < 0 else rem


def _librdkafka_fnv1a(h: int, n: int) -> int:
    """rd_fnv1a then rd_kafka_msg_partitioner_fnv1a, in C's terms: int32 h, h = -h if
    negative (two's complement: -INT32_MIN stays INT32_MIN), back to uint32, % n."""
    signed = h - 2**32 if h >= 2**31 else h
    if signed < 0:
        signed = -signed
        if signed == 2**31:
            signed = -(2**31)
    return (signed & 0xFFFFFFFF) % n


def test_sarama_and_librdkafka_fnv1a_place_every_hash_alike() -> None:
    rng = random.Random(5)
    hashes = [0, 1, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1]
    hashes += [rng.getrandbits(32) for _ in range(5000)]
    for n in (*range(1, 65), 100, 1000, 2**31 - 1):
        expected = [_sarama(h, n) for h in hashes]
        assert expected == [_librdkafka_fnv1a(h, n) for h in hashes]
        assert [FNV1A.place(h, n) for h in hashes] == expected
        array = np.array(hashes, dtype=np.uint32)
        assert FNV1A.place_many(array, n).tolist() == expected


def test_names_users_type() -> None:
    assert partitioner("murmur2") is MURMUR2
    assert partitioner("murmur2_random") is MURMUR2
    assert partitioner("CRC32") is CRC32
    assert partitioner("consistent_random") is CRC32
    assert partitioner("consistent-random") is CRC32
    assert partitioner("FNV-1a") is FNV1A
    assert partitioner("fnv1a_random") is FNV1A
    assert partitioner("sarama") is FNV1A


def test_an_unknown_name_says_what_is_known_in_one_line() -> None:
    with pytest.raises(UnknownPartitioner) as caught:
        partitioner("xxhash")
    text = str(caught.value)
    assert "\n" not in text
    assert "'xxhash'" in text
    assert all(name in text for name in PARTITIONERS)
    assert isinstance(caught.value, ValueError)


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one partition"):
        partition_for("crc32", b"k", 0)


def test_the_murmur2_module_still_answers_the_same() -> None:
    for key in mixed_keys(3, 600):
        assert partition_for_key(key, 12) == partition_for("murmur2", key, 12)


def test_the_three_partitioners_disagree_on_most_keys() -> None:
    # Otherwise detection could not tell them apart.
    keys = mixed_keys(4, 600)
    placements = {n: p.partitions(keys, 12) for n, p in PARTITIONERS.items()}
    for a in PARTITIONERS:
        for b in PARTITIONERS:
            if a < b:
                assert (placements[a] == placements[b]).mean() < 0.2


# --- against librdkafka on the real broker -----------------------------------------------

# librdkafka's partitioner setting -> the partitioner that must match it exactly.
LIBRDKAFKA_SETTINGS = {
    None: "crc32",  # a plain confluent-kafka Producer: librdkafka's default
    "consistent_random": "crc32",
    "consistent": "crc32",
    "murmur2_random": "murmur2",
    "murmur2": "murmur2",
    "fnv1a_random": "fnv1a",
    "fnv1a": "fnv1a",
}


@pytest.mark.kafka
@pytest.mark.parametrize(("setting", "expected"), LIBRDKAFKA_SETTINGS.items())
def test_every_key_lands_where_librdkafka_put_it(
    kafka_bootstrap: str, make_topic: Callable[..., str], setting: str | None, expected: str
) -> None:
    topic = make_topic(12)
    keys = mixed_keys(2024)
    delivered = produce_keys(kafka_bootstrap, topic, keys, partitioner=setting)
    assert len(delivered) == len(keys) >= 2500
    assert len({p for _, p in delivered}) == 12  # spread over every partition
    chosen = PARTITIONERS[expected]
    wrong = [(k, p) for k, p in delivered if partition_for(expected, k, 12) != p]
    assert not wrong, f"{len(wrong)} keys placed elsewhere, e.g. {wrong[:3]}"
    batch = chosen.partitions([k for k, _ in delivered], 12)
    assert batch.tolist() == [p for _, p in delivered]

    detection, sample = detect_topic_partitioner(ConnectionProfile(kafka_bootstrap), topic)
    assert detection.verdict is Verdict.FOUND
    assert detection.partitioner == expected
    assert detection.keys == len(sample.pairs) >= 1500
    assert (
        detection.describe()
        == f"{chosen.title}, {detection.keys:,} of {detection.keys:,} sampled keys"
    )
    others = [count for name, count in detection.placed if name != expected]
    assert max(others) < detection.keys / 4


@pytest.mark.kafka
def test_explicit_random_partitions_fit_no_partitioner(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(12)
    rng = random.Random(8)
    keys = mixed_keys(8, 2400)
    produce_keys(kafka_bootstrap, topic, keys, partition_of=lambda _: rng.randrange(12))

    detection, sample = detect_topic_partitioner(ConnectionProfile(kafka_bootstrap), topic)
    assert detection.verdict is Verdict.NONE_FITS
    assert detection.partitioner is None
    assert detection.partitions_for_key(keys[0]) is None
    for name, count in detection.placed:
        right = sum(partition_for(name, k, 12) == p for k, p in sample.pairs)
        assert count == right < detection.keys / 4
    text = detection.describe()
    assert text.startswith(
        f"no known partitioner fits: murmur2 placed {detection.placed_by('murmur2'):,} of "
    )
    assert f"CRC32 {detection.placed_by('crc32'):,} of {detection.keys:,}" in text
    assert f"FNV-1a {detection.placed_by('fnv1a'):,} of {detection.keys:,}" in text


def _grow(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_partitions([NewPartitions(topic, partitions)])[topic].result(30)
    cluster = Cluster(ConnectionProfile(bootstrap))
    deadline = time.monotonic() + 30
    while cluster.partition_count(topic) != partitions:
        assert time.monotonic() < deadline, "the new partitions never showed up"
        time.sleep(0.1)


@pytest.mark.kafka
def test_a_topic_that_grew_is_detected_with_its_earlier_count(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    old_keys = [f"acct-{i}".encode() for i in range(1500)]
    before = dict(produce_keys(kafka_bootstrap, topic, old_keys))
    _grow(kafka_bootstrap, topic, 6)
    # New aggregates, and some old ones written again: librdkafka now hashes with 6.
    new_keys = [f"acct-{i}".encode() for i in range(1200, 3000)]
    after = dict(produce_keys(kafka_bootstrap, topic, new_keys))
    assert max(after.values()) >= 3  # the producer did see six partitions
    moved = [k for k in old_keys if k in after and after[k] != before[k]]
    assert moved  # some aggregates now have records in two partitions

    detection, sample = detect_topic_partitioner(ConnectionProfile(kafka_bootstrap), topic)
    # No partitioner fits the whole sample: the old records hash with 3 partitions.
    assert all(count < detection.keys for _, count in detection.placed)
    assert detection.verdict is Verdict.RESIZED
    assert detection.partitioner == "crc32"
    assert detection.earlier_partitions == (3,)
    fit_now = sum(partition_for("crc32", k, 6) == p for k, p in sample.pairs)
    assert detection.placed_by("crc32") == fit_now < detection.keys
    assert detection.describe() == (
        f"CRC32, {fit_now:,} of {detection.keys:,} sampled keys; the other "
        f"{detection.keys - fit_now:,} placed as with 3 partitions, before the topic grew to 6"
    )
    # Pruning reads both partitions an aggregate can have records in.
    for key in moved[:50]:
        assert detection.partitions_for_key(key) == sorted({before[key], after[key]})
