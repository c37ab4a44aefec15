"""The three key hashes of Kafka's partitioners, one key at a time and many at once.

Every function returns the hash as an unsigned 32-bit value; how a partitioner turns it
into a partition (sign handling, modulo) lives in ``kafka_io.partitioners``.

Detection hashes a few thousand sampled keys with every candidate.  murmur2 and FNV-1a
in pure Python cost 2-8 µs a key, so the batch versions run the same arithmetic on numpy
``uint32`` columns (which wrap exactly like C's and Java's 32-bit ints): keys are laid
into one zero-padded byte matrix and each 4-byte word (murmur2) or byte (FNV-1a) is one
vector step over all keys.  A key shorter than the step keeps its hash (``np.where``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from kafka_io.murmur2 import murmur2 as _murmur2_signed

U32 = npt.NDArray[np.uint32]

_MASK = 0xFFFFFFFF
_MURMUR_SEED = 0x9747B28C
_MURMUR_M = np.uint32(0x5BD1E995)
_FNV_OFFSET = 0x811C9DC5  # FNV-1a 32-bit offset basis
_FNV_PRIME = np.uint32(0x01000193)
# Keys longer than this are hashed one by one: padding every key of a sample to one odd
# 10 kB key would cost more than the loop it saves.
_LONGEST_BATCHED = 256


def murmur2(key: bytes) -> int:
    """Java's ``Utils.murmur2`` as an unsigned 32-bit value."""
    return _murmur2_signed(key) & _MASK


def crc32(key: bytes) -> int:
    """CRC-32 as zlib, Ethernet and librdkafka's ``rd_crc32`` compute it
    (reflected polynomial 0x04C11DB7, initial and final XOR 0xFFFFFFFF)."""
    return zlib.crc32(key)


def fnv1a(key: bytes) -> int:
    """FNV-1a, 32 bits (Go's ``hash/fnv.New32a``), before any sign handling."""
    h = _FNV_OFFSET
    for byte in key:
        h = ((h ^ byte) * 0x01000193) & _MASK
    return h


def crc32_many(keys: Sequence[bytes]) -> U32:
    # zlib is C already: a comprehension is as fast as any vector trick here.
    return np.fromiter(map(zlib.crc32, keys), dtype=np.uint32, count=len(keys))


def murmur2_many(keys: Sequence[bytes]) -> U32:
    return _batched(keys, _murmur2_batch, murmur2)


def fnv1a_many(keys: Sequence[bytes]) -> U32:
    return _batched(keys, _fnv1a_batch, fnv1a)


def _batched(
    keys: Sequence[bytes],
    batch: Callable[[npt.NDArray[np.uint8], npt.NDArray[np.int64]], U32],
    single: Callable[[bytes], int],
) -> U32:
    n = len(keys)
    out = np.empty(n, dtype=np.uint32)
    if n == 0:
        return out
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    short = lengths <= _LONGEST_BATCHED
    if not short.all():
        for i in np.flatnonzero(~short):
            out[i] = single(keys[int(i)])
        keys = [k for k, s in zip(keys, short, strict=True) if s]
        lengths = lengths[short]
    if len(keys):
        # Longest first: the keys still being hashed at any step are a prefix of the
        # rows, so each step is an in-place operation on a slice, with no masking.
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        hashed = np.empty(len(keys), dtype=np.uint32)
        hashed[order] = batch(_padded([keys[i] for i in order], lengths), lengths)
        out[short] = hashed
    return out


def _padded(keys: Sequence[bytes], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """Keys as rows of a zero-padded byte matrix, 4 spare bytes past the longest.

    Its width is a multiple of 4 (so rows view as little-endian words) and the spare
    bytes let murmur2 read its 3-byte tail at any length without bounds checks: bytes
    past a key's end are 0, and XOR with 0 changes nothing.
    """
    width = (int(lengths.max()) // 4 + 1) * 4 + 4
    padded = np.zeros((len(keys), width), dtype=np.uint8)
    # A row-major boolean mask visits the cells in the order the joined keys lay them out.
    padded[np.arange(width) < lengths[:, None]] = np.frombuffer(b"".join(keys), dtype=np.uint8)
    return padded


def _longer_than(lengths: npt.NDArray[np.int64], steps: int) -> npt.NDArray[np.int64]:
    """For each step i, how many of the (descending) lengths exceed i."""
    return np.searchsorted(-lengths, -np.arange(steps), side="left")


def _murmur2_batch(padded: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> U32:
    m = _MURMUR_M
    full_words = lengths // 4
    steps = int(full_words[0])
    # One contiguous row per word position: word i of every key is a contiguous slice.
    words = np.ascontiguousarray(padded.view("<u4").T)
    h = ((lengths ^ _MURMUR_SEED) & _MASK).astype(np.uint32)
    for i, count in enumerate(_longer_than(full_words, steps).tolist()):
        k = words[i, :count] * m
        k ^= k >> np.uint32(24)
        k *= m
        active = h[:count]
        active *= m
        active ^= k
    rows = np.arange(len(lengths))
    tail = full_words * 4
    b0, b1, b2 = (padded[rows, tail + j].astype(np.uint32) for j in range(3))
    mixed = (h ^ (b2 << np.uint32(16)) ^ (b1 << np.uint32(8)) ^ b0) * m
    h = np.where((lengths & 3) > 0, mixed, h)
    h ^= h >> np.uint32(13)
    h *= m
    h ^= h >> np.uint32(15)
    return h


def _fnv1a_batch(padded: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> U32:
    p = _FNV_PRIME
    columns = np.ascontiguousarray(padded.T)
    h = np.full(len(lengths), _FNV_OFFSET, dtype=np.uint32)
    for j, count in enumerate(_longer_than(lengths, int(lengths[0])).tolist()):
        active = h[:count]
        active ^= columns[j, :count]
        active *= p
    return h
