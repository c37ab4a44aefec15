"""Detection's verdicts on samples of (key, partition), without a broker.

The samples are placed with ``partition_for``, whose exactness against librdkafka is
proven in test_partitioners.py; here the question is only what detection concludes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from kafka_io.partition_detect import MIN_EVIDENCE_BITS, Detection, Verdict, detect_partitioner
from kafka_io.partitioners import PARTITIONERS, UnknownPartitioner, partition_for

KEYS = [f"acc-{i}".encode() for i in range(2000)]


def placed(name: str, keys: Iterable[bytes], partitions: int) -> list[tuple[bytes, int]]:
    return [(k, partition_for(name, k, partitions)) for k in keys]


@pytest.mark.parametrize("name", list(PARTITIONERS))
def test_names_the_partitioner_that_placed_every_key(name: str) -> None:
    detection = detect_partitioner(placed(name, KEYS, 12), 12)
    assert detection.verdict is Verdict.FOUND
    assert detection.partitioner == name
    assert detection.usable
    assert detection.keys == 2000
    assert detection.placed_by(name) == 2000
    title = PARTITIONERS[name].title
    assert detection.describe() == f"{title}, 2,000 of 2,000 sampled keys"
    key = b"acc-77"
    assert detection.partitions_for_key(key) == [partition_for(name, key, 12)]


def test_null_and_empty_keys_and_repeats_are_not_evidence() -> None:
    samples = placed("crc32", KEYS[:500], 12)
    noisy = samples + samples[:100] + [(None, 5), (b"", 7), (None, 0)]
    detection = detect_partitioner(noisy, 12)
    assert detection.verdict is Verdict.FOUND
    assert detection.keys == 500


def test_a_one_partition_topic_fits_any_partitioner() -> None:
    detection = detect_partitioner([(k, 0) for k in KEYS[:50]], 1)
    assert detection.verdict is Verdict.ONE_PARTITION
    assert detection.describe() == "any (1 partition)"
    assert detection.partitioner is None
    assert detection.partitions_for_key(b"anything") == [0]
    # Grown since: without knowing the partitioner, every partition may hold the key.
    assert detection.partitions_for_key(b"anything", partitions=4) is None


def test_no_keyed_records_tell_nothing() -> None:
    detection = detect_partitioner([(None, 0), (None, 1)], 3)
    assert detection.verdict is Verdict.NO_KEYS
    assert not detection.usable
    assert detection.describe() == "unknown: no keyed records sampled"
    assert detection.partitions_for_key(b"k") is None


def test_too_few_keys_are_reported_not_guessed_from() -> None:
    # 5 keys in 12 partitions: a chance fit has odds 12**-5, about 1 in 250,000.
    detection = detect_partitioner(placed("fnv1a", KEYS[:5], 12), 12)
    assert detection.verdict is Verdict.TOO_FEW
    assert detection.partitioner is None
    assert "fnv1a" in detection.fits
    assert detection.partitions_for_key(KEYS[0]) is None
    assert detection.describe().startswith(
        "unknown: 5 sampled keys in 12 partitions are too few to tell (FNV-1a"
    )


def test_the_evidence_threshold() -> None:
    # 6 keys in 12 partitions is 21.5 bits, 5 keys 17.9: the line lies between.
    assert 5 * 3.585 < MIN_EVIDENCE_BITS < 6 * 3.585
    assert detect_partitioner(placed("murmur2", KEYS[:6], 12), 12).verdict is Verdict.FOUND
    # Two partitions need 20 keys.
    two = placed("murmur2", KEYS, 2)
    assert detect_partitioner(two[:19], 2).verdict is Verdict.TOO_FEW
    assert detect_partitioner(two[:20], 2).verdict is Verdict.FOUND


def test_two_partitioners_that_agree_on_every_key_are_not_picked_between() -> None:
    agreeing = [k for k in KEYS if partition_for("murmur2", k, 2) == partition_for("crc32", k, 2)][
        :40
    ]
    detection = detect_partitioner(placed("murmur2", agreeing, 2), 2, ["murmur2", "crc32"])
    assert detection.verdict is Verdict.AMBIGUOUS
    assert detection.partitioner is None
    assert detection.fits == ("murmur2", "crc32")
    assert detection.describe() == "ambiguous: murmur2 and CRC32 each place all 40 sampled keys"


def test_random_placement_fits_none_and_says_how_close_each_came() -> None:
    rng = random.Random(3)
    samples = [(k, rng.randrange(12)) for k in KEYS]
    detection = detect_partitioner(samples, 12)
    assert detection.verdict is Verdict.NONE_FITS
    assert not detection.usable
    for name, count in detection.placed:
        assert count == sum(partition_for(name, k, 12) == p for k, p in samples)
        assert count < 2000 / 4
    m, c, f = (detection.placed_by(n) for n in ("murmur2", "crc32", "fnv1a"))
    assert detection.describe() == (
        f"no known partitioner fits: murmur2 placed {m:,} of 2,000, "
        f"CRC32 {c:,} of 2,000, FNV-1a {f:,} of 2,000"
    )


def test_one_stray_record_is_enough_to_refuse_pruning() -> None:
    samples = placed("murmur2", KEYS, 12)
    key, p = samples[0]
    samples.append((key, (p + 5) % 12))
    detection = detect_partitioner(samples, 12)
    assert detection.verdict is Verdict.NONE_FITS
    assert detection.placed_by("murmur2") == 2000
    assert detection.keys == 2001


def test_two_producers_with_different_partitioners_fit_none() -> None:
    samples = placed("murmur2", KEYS[:1000], 12) + placed("crc32", KEYS[1000:], 12)
    assert detect_partitioner(samples, 12).verdict is Verdict.NONE_FITS


@pytest.mark.parametrize(("before", "after"), [(3, 6), (1, 4), (5, 8)])
def test_keys_written_before_partitions_were_added(before: int, after: int) -> None:
    old = placed("fnv1a", KEYS[:800], before)
    new = placed("fnv1a", KEYS[600:], after)  # 600..799 written in both eras
    detection = detect_partitioner(old + new, after)
    assert detection.verdict is Verdict.RESIZED
    assert detection.partitioner == "fnv1a"
    assert detection.earlier_partitions == (before,)
    assert detection.usable
    misplaced = sum(partition_for("fnv1a", k, after) != p for k, p in old + new)
    assert detection.placed_by("fnv1a") == detection.keys - misplaced
    assert detection.describe().endswith(
        f"the other {misplaced:,} placed as with {before} partitions, "
        f"before the topic grew to {after}"
    )
    for key in (KEYS[0], KEYS[700], KEYS[1500]):
        expected = {partition_for("fnv1a", key, before), partition_for("fnv1a", key, after)}
        assert detection.partitions_for_key(key) == sorted(expected)


def test_a_topic_grown_since_detection_is_read_in_both_places() -> None:
    detection = detect_partitioner(placed("crc32", KEYS, 6), 6)
    key = b"acc-12345"
    expected = {partition_for("crc32", key, 6), partition_for("crc32", key, 12)}
    assert detection.partitions_for_key(key, partitions=12) == sorted(expected)


def test_candidates_can_be_narrowed_by_name() -> None:
    detection = detect_partitioner(placed("crc32", KEYS, 12), 12, candidates=["murmur2"])
    assert [name for name, _ in detection.placed] == ["murmur2"]
    assert detection.verdict is Verdict.NONE_FITS
    with pytest.raises(UnknownPartitioner):
        detect_partitioner([], 12, candidates=["nope"])


def test_a_partition_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one partition"):
        detect_partitioner([], 0)


def test_detection_is_a_frozen_value() -> None:
    detection = detect_partitioner(placed("crc32", KEYS[:100], 12), 12)
    assert isinstance(detection, Detection)
    with pytest.raises(AttributeError):
        detection.partitioner = "murmur2"  # type: ignore[misc]
