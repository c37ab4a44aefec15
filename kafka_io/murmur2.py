"""The Java client's key hash, so one aggregate's history is read from its one partition.

The Java client's default partitioner (``BuiltInPartitioner``, also librdkafka's
``murmur2_random``) places a keyed record on ``toPositive(murmur2(key)) % partitions``.
Knowing that function lets a reader fetch a single partition instead of scanning the
topic.  librdkafka's own default (CRC32) and Sarama's (FNV-1a) are in
``kafka_io.partitioners``, with detection of which one wrote a topic.
"""

from __future__ import annotations

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """MurmurHash2 exactly as ``org.apache.kafka.common.utils.Utils.murmur2``.

    Returns the signed 32-bit int the Java method returns.  Java's int arithmetic
    wraps and its ``>>>`` is an unsigned shift, so every step is masked to 32 bits
    and shifts act on the unsigned value.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK
    tail = length & ~3
    # Little-endian 4-byte words, as Java assembles them byte by byte.
    for i in range(0, tail, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest:
        # Java's switch falls through 3 -> 2 -> 1; the bytes are sign-agnostic here
        # because each is masked with 0xff before shifting.
        if rest == 3:
            h ^= data[tail + 2] << 16
        if rest >= 2:
            h ^= data[tail + 1] << 8
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - 0x100000000 if h & 0x80000000 else h


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """The partition the Java default partitioner (and ``murmur2_random``) gives ``key``."""
    if num_partitions <= 0:
        raise ValueError(f"num_partitions must be positive, got {num_partitions}")
    return (murmur2(key) & 0x7FFFFFFF) % num_partitions
