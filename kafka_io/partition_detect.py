"""Which partitioner wrote a topic, told from where its keys are.

Each sample is a key and the partition it was found in.  A candidate fits when it puts
every sampled key where it is.  The verdicts, and why:

- ``FOUND``: exactly one candidate fits, with enough keys that a chance fit is out of the
  question (see ``MIN_EVIDENCE_BITS``).  Pruning uses it.
- ``ONE_PARTITION``: a one-partition topic fits every partitioner ("any (1 partition)").
- ``NO_KEYS``: nothing keyed was sampled; nothing can be told.
- ``TOO_FEW``: something fits, but so few keys that a producer with any other placement
  could have put them there by chance.  Reported, never guessed from.
- ``AMBIGUOUS``: several candidates fit enough keys.  Two different hashes agreeing on
  every key of a real sample does not happen in practice; if it does, we do not pick.
- ``RESIZED``: no candidate fits, but one places the keys it misses exactly as it would
  have with fewer partitions: the records were written before partitions were added
  (Kafka hashes with the count the producer saw).  Each key may then live in the
  partition of the current count or of an earlier one, so ``partitions_for_key`` names
  all of them.  A sample taken from the first records of every partition sees each
  count the topic had when partitions were added, since new partitions start empty.
- ``NONE_FITS``: no candidate fits, even allowing for one earlier count; the per-candidate
  counts say how close each came.  The topic must be read whole.

Null and empty keys are ignored: they are spread at random (librdkafka's default treats
empty keys like null ones), so they carry no evidence.  A key found in two partitions is
two samples; at most one of them can fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np
import numpy.typing as npt

from kafka_io.key_hashes import U32
from kafka_io.partitioners import PARTITIONERS, Partitioner, partitioner

# A producer that places keys some other way fits a given candidate on k keys of an
# n-partition topic with probability n**-k.  Asking for k * log2(n) >= 20 keeps that
# below one in a million: 20 keys at 2 partitions, 13 at 3, 6 at 12.
MIN_EVIDENCE_BITS = 20.0


class Verdict(Enum):
    FOUND = "found"
    ONE_PARTITION = "one partition"
    NO_KEYS = "no keys"
    TOO_FEW = "too few keys"
    AMBIGUOUS = "ambiguous"
    RESIZED = "resized"
    NONE_FITS = "none fits"


@dataclass(frozen=True)
class Detection:
    """What a sample of keys says about the partitioner of a topic."""

    verdict: Verdict
    partitions: int  # the topic's partition count the sample was checked against
    keys: int  # distinct (key, partition) samples checked
    placed: tuple[tuple[str, int], ...]  # every candidate with the samples it places right
    partitioner: str | None = None  # FOUND and RESIZED: the name that places the keys
    earlier_partitions: tuple[int, ...] = ()  # RESIZED: counts older keys were hashed with
    fits: tuple[str, ...] = ()  # candidates that place every sample (TOO_FEW, AMBIGUOUS)

    @property
    def usable(self) -> bool:
        """Whether ``partitions_for_key`` can narrow a read."""
        return self.verdict in (Verdict.FOUND, Verdict.RESIZED, Verdict.ONE_PARTITION)

    def placed_by(self, name: str) -> int:
        return dict(self.placed)[name]

    def partitions_for_key(self, key: bytes, partitions: int | None = None) -> list[int] | None:
        """The partitions that can hold ``key``'s records, or None: read every partition.

        ``partitions`` is the topic's count now; if it grew since the sample was taken,
        the key may be hashed with the new count or with any count the sample saw.
        """
        now = self.partitions if partitions is None else partitions
        if self.verdict is Verdict.ONE_PARTITION and now == 1:
            return [0]
        if self.partitioner is None or not self.usable:
            return None
        chosen = PARTITIONERS[self.partitioner]
        h = chosen.hash(key)
        counts = {now, self.partitions, *self.earlier_partitions}
        return sorted({chosen.place(h, n) for n in counts})

    def describe(self) -> str:
        """One line for a topic's details: the partitioner and the evidence."""
        n = f"{self.keys:,}"
        if self.verdict is Verdict.FOUND:
            return f"{_title(self.partitioner)}, {self.placed_by_chosen:,} of {n} sampled keys"
        if self.verdict is Verdict.ONE_PARTITION:
            return "any (1 partition)"
        if self.verdict is Verdict.NO_KEYS:
            return "unknown: no keyed records sampled"
        if self.verdict is Verdict.TOO_FEW:
            fitting = _and(self.fits)
            return (
                f"unknown: {n} sampled keys in {self.partitions} partitions are too few "
                f"to tell ({fitting} {'places' if len(self.fits) == 1 else 'place'} all)"
            )
        if self.verdict is Verdict.AMBIGUOUS:
            return f"ambiguous: {_and(self.fits)} each place all {n} sampled keys"
        if self.verdict is Verdict.RESIZED:
            rest = self.keys - self.placed_by_chosen
            earlier = " or ".join(str(c) for c in self.earlier_partitions)
            return (
                f"{_title(self.partitioner)}, {self.placed_by_chosen:,} of {n} sampled keys; "
                f"the other {rest:,} placed as with {earlier} partitions, "
                f"before the topic grew to {self.partitions}"
            )
        scores = [f"{PARTITIONERS[name].title} {count:,} of {n}" for name, count in self.placed]
        scores[0] = scores[0].replace(" ", " placed ", 1)
        return f"no known partitioner fits: {', '.join(scores)}"

    @property
    def placed_by_chosen(self) -> int:
        return self.placed_by(self.partitioner) if self.partitioner else 0


def detect_partitioner(
    samples: Iterable[tuple[bytes | None, int]],
    partitions: int,
    candidates: Iterable[str] | None = None,
) -> Detection:
    """Name the partitioner that puts every sampled key in the partition it was found in.

    ``samples`` are (key, partition) pairs, e.g. from ``kafka_io.key_sample`` or the keys
    an index has already seen; duplicates count once.  ``partitions`` is the topic's
    partition count; ``candidates`` names the partitioners to try (default: all known).
    The result is safe to act on only when ``Detection.usable``.
    """
    if partitions <= 0:
        raise ValueError(f"a topic has at least one partition, got {partitions}")
    pairs = dict.fromkeys((k, p) for k, p in samples if k)
    keys = [k for k, _ in pairs]
    found = np.fromiter((p for _, p in pairs), dtype=np.int64, count=len(pairs))
    chosen = [partitioner(n) for n in (PARTITIONERS if candidates is None else candidates)]
    if partitions == 1:
        # Every key is in partition 0 whoever wrote it: nothing to tell, nothing to prune.
        n = len(pairs)
        return Detection(Verdict.ONE_PARTITION, 1, n, tuple((c.name, n) for c in chosen))
    if not pairs:
        return Detection(Verdict.NO_KEYS, partitions, 0, tuple((c.name, 0) for c in chosen))
    hashes = {c.name: c.hash_many(keys) for c in chosen}
    right = {c.name: c.place_many(hashes[c.name], partitions) == found for c in chosen}
    placed = tuple((c.name, int(right[c.name].sum())) for c in chosen)
    fits = tuple(name for name, count in placed if count == len(keys))
    base = Detection(Verdict.NONE_FITS, partitions, len(keys), placed, fits=fits)
    if fits and not _enough(len(keys), partitions):
        return replace(base, verdict=Verdict.TOO_FEW)
    if len(fits) == 1:
        return replace(base, verdict=Verdict.FOUND, partitioner=fits[0])
    if fits:
        return replace(base, verdict=Verdict.AMBIGUOUS)
    resized = [
        (c.name, earlier)
        for c in chosen
        if _enough(int(right[c.name].sum()), partitions)
        and (earlier := _earlier_counts(c, hashes[c.name], found, right[c.name], partitions))
    ]
    if len(resized) == 1:
        name, earlier = resized[0]
        return replace(base, verdict=Verdict.RESIZED, partitioner=name, earlier_partitions=earlier)
    return base


def _enough(keys: int, partitions: int) -> bool:
    return keys * math.log2(partitions) >= MIN_EVIDENCE_BITS


def _earlier_counts(
    candidate: Partitioner,
    hashes: U32,
    found: npt.NDArray[np.int64],
    right: npt.NDArray[np.bool_],
    partitions: int,
) -> tuple[int, ...]:
    """Smaller partition counts under which ``candidate`` places every key it misses now."""
    missed_hashes, missed_found = hashes[~right], found[~right]
    # A key found in partition p was hashed with a count above p.
    lowest = int(missed_found.max()) + 1
    return tuple(
        count
        for count in range(lowest, partitions)
        if bool((candidate.place_many(missed_hashes, count) == missed_found).all())
    )


def _title(name: str | None) -> str:
    return PARTITIONERS[name].title if name else "unknown"


def _and(names: tuple[str, ...]) -> str:
    titles = [PARTITIONERS[n].title for n in names]
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"
