"""Bounded reads: a partition from offset A to B, from a timestamp, or a whole topic up to
the high watermarks seen when the read started.  A read always ends; it never waits for
new data, and it does not wait for ever on a cluster that stopped answering.  It uses
``assign()`` only, through a read-only consumer (private group id, no commits, no offset
store), so reading never disturbs the cluster.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from kafka_io.cancel import CancelToken
from kafka_io.clients import read_only_consumer
from kafka_io.decode import Decoder
from kafka_io.errors import KafkaUnavailable
from kafka_io.event import Event
from kafka_io.metadata import Cluster, TopicInfo
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import (
    PartitionRange,
    ProgressCallback,
    ReadProgress,
    ReadStats,
)
from kafka_io.read_watch import ReadWatch, Verdict
from kafka_io.sensitive import secret_values

BATCH = 10_000
_MESSAGE_ERROR = Message.error
# A record (not an error) always has both; the stubs allow None for error messages.
_MESSAGE_PARTITION: Callable[[Message], int] = Message.partition  # type: ignore[assignment]
_MESSAGE_OFFSET: Callable[[Message], int] = Message.offset  # type: ignore[assignment]


def plan_ranges(
    topic: TopicInfo,
    partitions: Iterable[int] | None = None,
    start_offset: int | None = None,
    end_offset: int | None = None,
) -> list[PartitionRange]:
    """Ranges from the watermarks, optionally clipped to [start_offset, end_offset)."""
    wanted = set(partitions) if partitions is not None else None
    ranges = []
    for p in topic.partitions:
        if wanted is not None and p.partition not in wanted:
            continue
        start = p.low if start_offset is None else max(p.low, start_offset)
        end = p.high if end_offset is None else min(p.high, end_offset)
        ranges.append(PartitionRange(p.partition, start, max(start, end)))
    return ranges


def offsets_for_time(
    profile: ConnectionProfile,
    topic: str,
    partitions: Iterable[int],
    timestamp_ms: int,
    timeout: float = 10.0,
) -> dict[int, int | None]:
    """First offset whose timestamp is >= ``timestamp_ms`` per partition (None: no such)."""
    consumer = read_only_consumer(profile)
    try:
        tps = [TopicPartition(topic, p, timestamp_ms) for p in partitions]
        found = consumer.offsets_for_times(tps, timeout=timeout)
    except KafkaException as exc:
        raise KafkaUnavailable(f"offsets_for_times failed on {topic}: {exc}") from exc
    finally:
        consumer.close()
    return {tp.partition: (tp.offset if tp.offset >= 0 else None) for tp in found}


def clip_to_times(
    profile: ConnectionProfile,
    topic: str,
    ranges: list[PartitionRange],
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> list[PartitionRange]:
    """Narrow ranges to records with from_ms <= timestamp <= to_ms (by offsets_for_times)."""
    parts = [r.partition for r in ranges]
    starts = offsets_for_time(profile, topic, parts, from_ms) if from_ms is not None else {}
    ends = offsets_for_time(profile, topic, parts, to_ms + 1) if to_ms is not None else {}
    out = []
    for r in ranges:
        start, end = r.start, r.end
        if from_ms is not None:
            found = starts.get(r.partition)
            start = r.end if found is None else max(start, found)
        if to_ms is not None:
            found = ends.get(r.partition)
            end = r.end if found is None else min(end, found)
        out.append(PartitionRange(r.partition, start, max(start, end)))
    return out


class TopicReader:
    """Reads ranges of one topic into Events, in batches, with progress and cancel.

    One reader owns one consumer; use it from one thread (librdkafka handles are not
    shared across threads).
    """

    def __init__(
        self,
        profile: ConnectionProfile,
        topic: str,
        decoder: Decoder,
        *,
        batch_size: int = BATCH,
        idle_timeout: float | None = None,
        stall_timeout: float | None = None,
        key: bytes | None = None,
    ) -> None:
        """``idle_timeout``: end the read (``ReadStalled``) after this many seconds
        without progress, i.e. without a record or a partition's end of log; by default
        the profile's ``timeout_s``.  ``stall_timeout`` is its former name.

        ``key``: decode and return only records with this key (one aggregate's read:
        the other aggregates of its partition are skipped before decoding)."""
        self.profile = profile
        self.topic = topic
        self.decoder = decoder
        self.key = key
        self.batch_size = batch_size
        chosen = idle_timeout if idle_timeout is not None else stall_timeout
        self.idle_timeout = profile.timeout_s if chosen is None else chosen
        self.stats = ReadStats()
        self._todo: dict[int, PartitionRange] = {}
        self._consumed: Counter[int] = Counter()  # records of a key-filtered read, any key

    @property
    def unfinished(self) -> frozenset[int]:
        """Partitions of the running read that may still yield records (a partition
        leaves when it reached its end or the end of its log)."""
        return frozenset(self._todo)

    def read(
        self,
        ranges: list[PartitionRange],
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]:
        """Yield batches of Events until every range is read (or cancelled): ``records``
        decoded with the reader's decoder."""
        for records in self.records(ranges, cancel, on_progress):
            yield self.decoder.decode_messages(records)

    def records(
        self,
        ranges: list[PartitionRange],
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Message]]:
        """Yield batches of records (no error messages) until every range is read (or
        cancelled); the caller decodes them (a build's worker decodes in bulk).

        Ends in every case.  Cancelled: ``stats.cancelled``, no exception.  The topic
        deleted, the cluster silent for ``idle_timeout``, a fatal or authorization
        error: raises ``ReadIncomplete`` (``TopicDeleted``, ``ReadStalled``) after the
        batches already yielded.  ``stats.reached`` says how far each partition got.
        """
        todo = {r.partition: r for r in ranges if r.total > 0}
        progress = ReadProgress(
            self.topic,
            read={r.partition: 0 for r in ranges},
            total={r.partition: r.total for r in ranges},
        )
        self.stats = ReadStats(
            assigned=sorted(todo), reached={r.partition: r.start for r in ranges}
        )
        self._todo = todo
        self._consumed = Counter()
        started = time.monotonic()
        if not todo:
            if on_progress:
                on_progress(progress)
            return
        watch = ReadWatch(self.topic, self.idle_timeout, secret_values(self.profile.properties))
        consumer = read_only_consumer(
            self.profile,
            # Connection-level failures (a broker gone, all brokers down, a topic
            # deleted) reach error_cb, not the message stream; librdkafka keeps
            # retrying meanwhile, so the watch decides when to give up.
            **{"enable.partition.eof": True, "error_cb": watch.on_error},
        )
        try:
            consumer.assign([TopicPartition(self.topic, p, r.start) for p, r in todo.items()])
            yield from self._loop(consumer, progress, watch, cancel, on_progress)
        finally:
            if todo and self.stats.incomplete is None:
                self.stats.incomplete = "stopped by the caller before the end"
            self._note_missing(ranges, progress)
            consumer.close()
            self.stats.seconds = time.monotonic() - started

    def _loop(
        self,
        consumer: Consumer,
        progress: ReadProgress,
        watch: ReadWatch,
        cancel: CancelToken | None,
        on_progress: ProgressCallback | None,
    ) -> Iterator[list[Message]]:
        todo = self._todo
        ends = {p: r.end for p, r in todo.items()}
        while todo:
            if cancel is not None and cancel.cancelled:
                self.stats.cancelled = True
                self.stats.incomplete = "cancelled"
                return
            msgs = consumer.consume(num_messages=self.batch_size, timeout=0.2)
            if any(map(_MESSAGE_ERROR, msgs)):
                msgs = self._take_errors(consumer, msgs, ends, watch)
            statuses = watch.take_statuses()
            if statuses:
                progress.status = statuses[-1]
                self.stats.errors.append(progress.status)
                if on_progress:
                    on_progress(progress)
            if not msgs:
                self._finish_by_position(consumer, ends)
                if todo:
                    self._stop_if(watch.verdict(consumer, todo))
                continue
            watch.progressed()
            if progress.status:
                progress.status = ""
            batch = self._within_ends(consumer, ends, msgs)
            for p, count in Counter(map(_MESSAGE_PARTITION, batch)).items():
                progress.read[p] += count
            self.stats.events += len(batch)
            if on_progress:
                on_progress(progress)
            if batch:
                yield batch
                watch.progressed()  # the caller's time with a batch is not idle time
            self._stop_if(watch.verdict(consumer, todo) if todo else None)

    def _stop_if(self, verdict: Verdict | None) -> None:
        if verdict is None:
            return
        kind, reason = verdict
        self.stats.incomplete = reason
        raise kind(self.topic, reason, self.stats)

    def _take_errors(
        self, consumer: Consumer, msgs: list[Message], ends: dict[int, int], watch: ReadWatch
    ) -> list[Message]:
        """Handle the error messages of a batch; return its records.

        The end of a partition's log means everything it can give is read.  This ends
        ranges whose last offsets will never come (compaction gaps, transaction
        markers, records deleted by retention since planning) and, under
        read_committed, ranges whose end lies in an open transaction: the read then
        reached the last stable offset, not the planned end.
        """
        reached = self.stats.reached
        for m in msgs:
            err = m.error()
            if err is None:
                continue
            p = int(m.partition() or 0)
            if err.code() == KafkaError._PARTITION_EOF and p in ends:
                offset = m.offset()
                if offset is not None and offset >= 0:
                    reached[p] = max(reached[p], min(offset, ends[p]))
                self._done(consumer, p)
                watch.progressed()
            elif err.code() != KafkaError._PARTITION_EOF:
                watch.on_error(err)
        return [m for m in msgs if m.error() is None]

    def _within_ends(
        self, consumer: Consumer, ends: dict[int, int], msgs: list[Message]
    ) -> list[Message]:
        """The records before their partition's end; advance ``reached`` and retire the
        partitions that got to their end.

        The per-record work is C-level (map/zip over the messages): offsets ascend
        within a partition, so the last offset seen per partition is its maximum.
        """
        last = dict(zip(map(_MESSAGE_PARTITION, msgs), map(_MESSAGE_OFFSET, msgs), strict=True))
        at_end = [p for p, off in last.items() if off + 1 >= ends.get(p, 0)]
        if any(last[p] >= ends.get(p, 0) for p in at_end):
            msgs = [m for m in msgs if _MESSAGE_OFFSET(m) < ends.get(_MESSAGE_PARTITION(m), 0)]
        if self.key is not None:
            self._consumed.update(map(_MESSAGE_PARTITION, msgs))
            key = self.key
            msgs = [m for m in msgs if m.key() == key]
        reached = self.stats.reached
        for p, off in last.items():
            if p in ends:
                reached[p] = max(reached[p], min(off + 1, ends[p]))
        for p in at_end:
            self._done(consumer, p)
        return msgs

    def _done(self, consumer: Consumer, p: int) -> None:
        if self._todo.pop(p, None) is not None:
            consumer.pause([TopicPartition(self.topic, p)])

    def _finish_by_position(self, consumer: Consumer, ends: dict[int, int]) -> None:
        positions = consumer.position([TopicPartition(self.topic, p) for p in self._todo])
        for tp in positions:
            end = ends[tp.partition]
            if tp.offset >= 0 and tp.offset >= end:
                self.stats.reached[tp.partition] = end
                self._done(consumer, tp.partition)

    def _note_missing(self, ranges: list[PartitionRange], progress: ReadProgress) -> None:
        """Offsets that hold no record (compaction, transaction markers, records deleted
        since the read was planned) and offsets the log could not give yet (an open
        transaction).  Said, not hidden."""
        counted = self._consumed if self.key is not None else progress.read
        for r in ranges:
            p = r.partition
            reached = self.stats.reached.get(p, r.start)
            missing = (reached - r.start) - counted.get(p, 0)
            if missing > 0:
                self.stats.gaps[p] = missing
            if p not in self._todo and reached < r.end:
                self.stats.pending[p] = r.end - reached


def read_topic(
    profile: ConnectionProfile,
    topic: str,
    decoder: Decoder,
    *,
    partitions: Iterable[int] | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    cluster: Cluster | None = None,
) -> Iterator[list[Event]]:
    """Read a topic (or some partitions) up to the watermarks seen now, optionally by time."""
    info = (cluster or Cluster(profile)).topic(topic)
    ranges = plan_ranges(info, partitions)
    if from_ms is not None or to_ms is not None:
        ranges = clip_to_times(profile, topic, ranges, from_ms, to_ms)
    yield from TopicReader(profile, topic, decoder).read(ranges, cancel, on_progress)


__all__ = [
    "PartitionRange",
    "ProgressCallback",
    "ReadProgress",
    "ReadStats",
    "TopicReader",
    "clip_to_times",
    "offsets_for_time",
    "plan_ranges",
    "read_topic",
]
