"""Key -> partition, exactly as the producers in use place keyed records.

Which client wrote a topic decides where one aggregate's history lives:

- ``murmur2``: the Java client's default (``BuiltInPartitioner``, also Kafka Streams) and
  librdkafka's ``murmur2``/``murmur2_random``: ``(murmur2(key) & 0x7fffffff) % n``.
- ``crc32``: librdkafka's default ``consistent_random`` (so every confluent-kafka, kcat
  and rdkafka producer left at its defaults) and ``consistent``:
  ``crc32(key) % n`` on the unsigned 32-bit CRC (``rd_kafka_msg_partitioner_consistent``).
  Also Sarama's ``NewConsistentCRCHashPartitioner``.
- ``fnv1a``: librdkafka's ``fnv1a``/``fnv1a_random`` and Go Sarama's default
  ``NewHashPartitioner``.  librdkafka takes the absolute value of the hash as an int32
  and reduces it unsigned; Sarama reduces the int32 with Go's truncating ``%`` and negates
  a negative result.  Both give ``|int32(h)| % n`` for every hash, including -2**31
  (|-2**31| read unsigned is 2**31 in both), so they are one partitioner here.

Records with a null key are spread randomly by all of them; so are records with an empty
key under ``consistent_random``.  ``partition_for`` answers for the key-hashing case only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kafka_io import key_hashes
from kafka_io.errors import KafkaIOError

Partitions = npt.NDArray[np.int64]


class UnknownPartitioner(KafkaIOError, ValueError):
    """A partitioner name no producer uses (or this program does not know)."""


@dataclass(frozen=True)
class Partitioner:
    """One way of placing keyed records: a 32-bit key hash and how it becomes a partition."""

    name: str  # what users type: murmur2, crc32, fnv1a
    title: str  # how it is shown: murmur2, CRC32, FNV-1a
    used_by: str  # which producers place keys this way, for help texts
    hash: Callable[[bytes], int]  # unsigned 32-bit
    hash_many: Callable[[Sequence[bytes]], key_hashes.U32]
    place: Callable[[int, int], int]  # (hash, partition count) -> partition
    place_many: Callable[[key_hashes.U32, int], Partitions]

    def partition(self, key: bytes, partitions: int) -> int:
        _check_count(partitions)
        return self.place(self.hash(key), partitions)

    def partitions(self, keys: Sequence[bytes], partitions: int) -> Partitions:
        """The partition of each key, computed in bulk (for detection over samples)."""
        _check_count(partitions)
        return self.place_many(self.hash_many(keys), partitions)


def _check_count(partitions: int) -> None:
    if partitions <= 0:
        raise ValueError(f"a topic has at least one partition, got {partitions}")


def _place_positive(h: int, n: int) -> int:
    # Java's Utils.toPositive: clear the sign bit, then reduce.
    return (h & 0x7FFFFFFF) % n


def _place_positive_many(h: key_hashes.U32, n: int) -> Partitions:
    return (h & np.uint32(0x7FFFFFFF)).astype(np.int64) % n


def _place_unsigned(h: int, n: int) -> int:
    return h % n


def _place_unsigned_many(h: key_hashes.U32, n: int) -> Partitions:
    return h.astype(np.int64) % n


def _place_abs_int32(h: int, n: int) -> int:
    signed = h - 0x100000000 if h & 0x80000000 else h
    return abs(signed) % n


def _place_abs_int32_many(h: key_hashes.U32, n: int) -> Partitions:
    # int64 holds |-2**31| = 2**31, the value librdkafka's cast back to uint32 gives.
    return np.abs(h.view(np.int32).astype(np.int64)) % n


MURMUR2 = Partitioner(
    name="murmur2",
    title="murmur2",
    used_by="Java clients and Kafka Streams; librdkafka partitioner=murmur2_random",
    hash=key_hashes.murmur2,
    hash_many=key_hashes.murmur2_many,
    place=_place_positive,
    place_many=_place_positive_many,
)
CRC32 = Partitioner(
    name="crc32",
    title="CRC32",
    used_by="librdkafka's default (confluent-kafka, kcat, rdkafka): consistent_random",
    hash=key_hashes.crc32,
    hash_many=key_hashes.crc32_many,
    place=_place_unsigned,
    place_many=_place_unsigned_many,
)
FNV1A = Partitioner(
    name="fnv1a",
    title="FNV-1a",
    used_by="Go Sarama's default hash partitioner; librdkafka partitioner=fnv1a_random",
    hash=key_hashes.fnv1a,
    hash_many=key_hashes.fnv1a_many,
    place=_place_abs_int32,
    place_many=_place_abs_int32_many,
)

# In the order detection reports them.
PARTITIONERS: dict[str, Partitioner] = {p.name: p for p in (MURMUR2, CRC32, FNV1A)}
# The names producers' own settings use, so a user can type what their config says.
# Lookups ignore case, '-' and '_' ("FNV-1a", "murmur2-random" work too).
ALIASES: dict[str, str] = {
    "java": "murmur2",
    "murmur2_random": "murmur2",
    "consistent": "crc32",
    "consistent_random": "crc32",
    "fnv1a_random": "fnv1a",
    "sarama": "fnv1a",
}


def _plain(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "")


_BY_PLAIN_NAME = {_plain(n): p for n, p in PARTITIONERS.items()} | {
    _plain(alias): PARTITIONERS[n] for alias, n in ALIASES.items()
}


def partitioner(name: str) -> Partitioner:
    """The partitioner a user named (``murmur2``, ``crc32``, ``fnv1a`` or an alias)."""
    wanted = _plain(name)
    found = _BY_PLAIN_NAME.get(wanted)
    if found is None:
        raise UnknownPartitioner(
            f"unknown partitioner {name!r}: use one of {', '.join(PARTITIONERS)} "
            f"(or {', '.join(ALIASES)})"
        )
    return found


def partition_for(name: str, key: bytes, partitions: int) -> int:
    """The partition the named partitioner gives ``key`` in a topic of ``partitions``."""
    return partitioner(name).partition(key, partitions)


__all__ = [
    "ALIASES",
    "CRC32",
    "FNV1A",
    "MURMUR2",
    "PARTITIONERS",
    "Partitioner",
    "UnknownPartitioner",
    "partition_for",
    "partitioner",
]
