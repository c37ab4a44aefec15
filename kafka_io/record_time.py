"""How old the oldest waiting event is: the timestamp of the record at a committed offset.

The age of a group's oldest unconsumed event is a fact of the data, not of how long
the app has been watching, so the lag sampler asks the log: the record at the
committed offset carries its timestamp.  A record never changes once written, so the
answer is cached per (topic, partition, offset) and a round reads only the offsets it
has not seen, that is, where a group committed since the last round.

All offsets to look up in a round are read together: one assign() of every partition
at its offset, consume until each has given its first record, bounded by a deadline so
a slow broker cannot hold up sampling.  The consumer is ``read_only_consumer`` (private
group id, never commits) and only ever assigned, so no group is joined or changed.

When the committed offset holds no record any more (retention moved the log start
past it, compaction removed it, or it is a transaction marker), the first record after
it is the oldest one a consumer would still get: its time is used and flagged by its
offset.  Such answers, and "nothing to read", can change as the log moves on, so they
are read again after ``recheck_s``; an exact record is kept until evicted.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from kafka_io.clients import read_only_consumer
from kafka_io.profile import ConnectionProfile

log = logging.getLogger(__name__)

OffsetKey = tuple[str, int, int]  # topic, partition, offset
_Partition = tuple[str, int]

# Only the first record at each offset is wanted: no prefetching behind it, small
# fetches (librdkafka grows them by itself for a bigger record), and the end of a
# partition reported so an offset with nothing readable after it does not wait out
# the deadline.
_LOOKUP_CONFIG: dict[str, Any] = {
    "enable.partition.eof": True,
    "queued.min.messages": 1,
    "fetch.message.max.bytes": 64 * 1024,
    "fetch.wait.max.ms": 100,
}
_BATCH = 8
_POLL_S = 0.05
# Offsets of one partition closer than this to the read position are reached by
# reading on; farther ones by a seek.
_READ_ON = 500


@dataclass(frozen=True, slots=True)
class RecordTime:
    """The first record at or after an asked offset: its timestamp and its offset."""

    timestamp_ms: int
    offset: int


@dataclass(frozen=True, slots=True)
class CachedLookup:
    """One offset's answer as the cache keeps it."""

    found: RecordTime | None
    why: str | None  # when nothing was found
    expires: float  # time.monotonic(); inf: never changes


@dataclass
class Lookup:
    """One round's answers: every asked offset is in ``found`` or in ``missing``."""

    found: dict[OffsetKey, RecordTime] = field(default_factory=dict)
    missing: dict[OffsetKey, str] = field(default_factory=dict)  # offset -> why
    read: int = 0  # offsets read from the log this round (the rest came from the cache)


class RecordTimeCache:
    """Least-recently-used answers by (topic, partition, offset), with expiry.

    ``fit(n)`` grows the capacity to twice a round's size, so a cluster with more
    lagging partitions than ``capacity`` does not evict in every round what the
    next round asks again.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[OffsetKey, CachedLookup] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: OffsetKey, now: float) -> CachedLookup | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: OffsetKey, entry: CachedLookup) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def fit(self, wanted: int) -> None:
        self.capacity = max(self.capacity, 2 * wanted)


class RecordTimes:
    """Looks up record timestamps with one read-only consumer, created on first need.

    Not thread-safe: use it from the thread that samples.
    """

    def __init__(
        self, profile: ConnectionProfile, capacity: int = 4096, recheck_s: float = 60.0
    ) -> None:
        self.profile = profile
        self.recheck_s = recheck_s
        self.cache = RecordTimeCache(capacity)
        self.reads = 0  # offsets read from the log since creation
        self._consumer: Consumer | None = None

    def lookup(self, keys: Collection[OffsetKey], deadline: float) -> Lookup:
        """The first record at or after each offset, from the cache or from the log."""
        result = Lookup()
        now = time.monotonic()
        self.cache.fit(len(keys))
        wanted: list[OffsetKey] = []
        for key in keys:
            entry = self.cache.get(key, now)
            if entry is None:
                wanted.append(key)
            elif entry.found is not None:
                result.found[key] = entry.found
            else:
                result.missing[key] = entry.why or "no record"
        if wanted and deadline <= time.monotonic():
            # No time left this round: nothing is read (an assign that is dropped at
            # once would still fetch), and the offsets are asked again next round.
            result.missing.update(dict.fromkeys(wanted, "no time left in the round"))
        elif wanted:
            result.read = len(wanted)
            self.reads += len(wanted)
            read = self._read(wanted, deadline)
            now = time.monotonic()
            for key, entry in read.items():
                if entry.expires > now:
                    self.cache.put(key, entry)
                if entry.found is not None:
                    result.found[key] = entry.found
                else:
                    result.missing[key] = entry.why or "no record"
        elif self._consumer is not None:
            # Serve the consumer's queued log lines and errors even in quiet rounds.
            self._consumer.poll(0)
        return result

    def close(self) -> None:
        """Close the consumer (a later lookup opens a new one); the cache stays."""
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            consumer.close()

    # -- one read ------------------------------------------------------------------------

    def _read(self, keys: list[OffsetKey], deadline: float) -> dict[OffsetKey, CachedLookup]:
        """Read every partition from its lowest wanted offset; answers found in time.

        Offsets whose partition did not answer before ``deadline`` get an entry that
        expires at once: reported missing now, asked again next round.
        """
        pending: dict[_Partition, list[int]] = {}
        for topic, partition, offset in keys:
            pending.setdefault((topic, partition), []).append(offset)
        for offsets in pending.values():
            offsets.sort(reverse=True)  # lowest last: pop() takes it
        out: dict[OffsetKey, CachedLookup] = {}
        consumer = self._consumer
        if consumer is None:
            consumer = self._consumer = read_only_consumer(self.profile, **_LOOKUP_CONFIG)
        assigned = [TopicPartition(t, p, offsets[-1]) for (t, p), offsets in pending.items()]
        try:
            consumer.assign(assigned)
            while pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                messages = consumer.consume(_BATCH, timeout=min(_POLL_S, remaining))
                done = [tp for m in messages if (tp := self._take(m, pending, out, consumer))]
                if done:
                    consumer.pause([TopicPartition(t, p) for t, p in done])
            why = "no answer before the round's deadline"
        except KafkaException as exc:
            why = _reason(exc)
            log.warning("reading record timestamps failed: %s", why)
        finally:
            self._release(consumer, assigned)
        now = time.monotonic()
        for (topic, partition), offsets in pending.items():
            for offset in offsets:
                out[(topic, partition, offset)] = CachedLookup(None, why, now)
        return out

    def _take(
        self,
        msg: Message,
        pending: dict[_Partition, list[int]],
        out: dict[OffsetKey, CachedLookup],
        consumer: Consumer,
    ) -> _Partition | None:
        """Answer the offsets ``msg`` settles; its partition when that has none left."""
        topic, partition = msg.topic(), msg.partition()
        if topic is None or partition is None:
            return None  # a client-wide error: the deadline covers it
        key = (topic, partition)
        offsets = pending.get(key)
        if not offsets:
            return None  # a record queued before its partition was paused
        error = msg.error()
        now = time.monotonic()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                why = (
                    "nothing readable from there to the end of the partition: transaction "
                    "markers, aborted records or a transaction still open"
                )
            else:
                why = _reason(error)
            for offset in offsets:
                out[(topic, partition, offset)] = CachedLookup(None, why, now + self.recheck_s)
            del pending[key]
            return key
        at = msg.offset()
        if at is None:
            return None
        kind, stamp = msg.timestamp()
        # Reading is in offset order from at most the lowest pending offset, so this is
        # the first record at or after every pending offset up to it.
        while offsets and offsets[-1] <= at:
            offset = offsets.pop()
            if kind == TIMESTAMP_NOT_AVAILABLE:
                entry = CachedLookup(None, "the record has no timestamp", now + self.recheck_s)
            else:
                expires = float("inf") if at == offset else now + self.recheck_s
                entry = CachedLookup(RecordTime(stamp, at), None, expires)
            out[(topic, partition, offset)] = entry
        if not offsets:
            del pending[key]
            return key
        if offsets[-1] > at + _READ_ON:
            try:
                consumer.seek(TopicPartition(topic, partition, offsets[-1]))
            except KafkaException as exc:  # reading on gets there too, only slower
                log.debug("seek %s[%d]: %s", topic, partition, _reason(exc))
        return None

    def _release(self, consumer: Consumer, assigned: list[TopicPartition]) -> None:
        """Back to no assignment, paused partitions resumed for the next round."""
        try:
            consumer.resume(assigned)
        except KafkaException as exc:
            log.debug("resume: %s", _reason(exc))
        try:
            consumer.unassign()
        except KafkaException as exc:
            log.debug("unassign: %s", _reason(exc))


def describe_missing(missing: Mapping[OffsetKey, str], shown: int = 3) -> list[str]:
    """Warnings for waiting records whose time could not be read: a few, then a count."""
    lines = [
        f"{t}[{p}]: no timestamp for the record at offset {o} ({why}); "
        "its lag in seconds is estimated"
        for (t, p, o), why in sorted(missing.items())[:shown]
    ]
    if len(missing) > shown:
        lines.append(f"... and {len(missing) - shown} more partitions like these")
    return lines


def _reason(error: object) -> str:
    if isinstance(error, KafkaException) and error.args:
        error = error.args[0]
    if isinstance(error, KafkaError):
        return str(error.str())
    return str(error) or type(error).__name__
