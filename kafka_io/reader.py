"""Bounded reads: a partition from offset A to B, from a timestamp, or a whole topic up to
the high watermarks seen when the read started.  A read always ends; it never waits for
new data.  It uses ``assign()`` only, through a read-only consumer (private group id, no
commits, no offset store), so reading never disturbs the cluster.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from kafka_io.cancel import CancelToken
from kafka_io.clients import read_only_consumer
from kafka_io.decode import Decoder
from kafka_io.errors import KafkaUnavailable
from kafka_io.event import Event
from kafka_io.metadata import Cluster, TopicInfo
from kafka_io.profile import ConnectionProfile

BATCH = 10_000
_PARTITION = itemgetter(1)  # Event.partition, read at C speed
_OFFSET = itemgetter(2)  # Event.offset
_MESSAGE_ERROR = Message.error


@dataclass(frozen=True)
class PartitionRange:
    """Offsets [start, end) of one partition to read."""

    partition: int
    start: int
    end: int

    @property
    def total(self) -> int:
        return max(0, self.end - self.start)


@dataclass
class ReadProgress:
    """Per-partition progress: records read and records expected, plus a status line."""

    topic: str
    read: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    status: str = ""

    @property
    def done(self) -> int:
        return sum(self.read.values())

    @property
    def expected(self) -> int:
        return sum(self.total.values())


@dataclass
class ReadStats:
    """What a read did, for the caller and for tests (partitions it assigned)."""

    assigned: list[int] = field(default_factory=list)
    events: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    errors: list[str] = field(default_factory=list)
    # partition -> offsets in the planned range that held no record
    gaps: dict[int, int] = field(default_factory=dict)


ProgressCallback = Callable[[ReadProgress], None]


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
        stall_timeout: float = 30.0,
        key: bytes | None = None,
    ) -> None:
        """``key``: decode and return only records with this key (one aggregate's read:
        the other aggregates of its partition are skipped before decoding)."""
        self.profile = profile
        self.topic = topic
        self.decoder = decoder
        self.key = key
        self.batch_size = batch_size
        self.stall_timeout = stall_timeout
        self.stats = ReadStats()

    def read(
        self,
        ranges: list[PartitionRange],
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]:
        """Yield batches of Events until every range is read (or cancelled)."""
        todo = {r.partition: r for r in ranges if r.total > 0}
        progress = ReadProgress(
            self.topic,
            read={r.partition: 0 for r in ranges},
            total={r.partition: r.total for r in ranges},
        )
        self.stats = ReadStats(assigned=sorted(todo))
        started = time.monotonic()
        if not todo:
            if on_progress:
                on_progress(progress)
            return
        self._client_errors: list[KafkaError] = []
        consumer = read_only_consumer(
            self.profile,
            # Connection-level failures (a broker gone, all brokers down) reach
            # error_cb, not the message stream; librdkafka keeps retrying meanwhile.
            **{"enable.partition.eof": True, "error_cb": self._client_errors.append},
        )
        try:
            consumer.assign([TopicPartition(self.topic, p, r.start) for p, r in todo.items()])
            yield from self._loop(consumer, todo, progress, cancel, on_progress)
            self._note_missing(progress)
        finally:
            consumer.close()
            self.stats.seconds = time.monotonic() - started

    def _loop(
        self,
        consumer: Consumer,
        todo: dict[int, PartitionRange],
        progress: ReadProgress,
        cancel: CancelToken | None,
        on_progress: ProgressCallback | None,
    ) -> Iterator[list[Event]]:
        ends = {p: r.end for p, r in todo.items()}
        last_data = time.monotonic()
        while todo:
            if cancel is not None and cancel.cancelled:
                self.stats.cancelled = True
                return
            msgs = consumer.consume(num_messages=self.batch_size, timeout=0.2)
            if any(map(_MESSAGE_ERROR, msgs)):
                # The end of a partition's log: everything it still holds is read.  This
                # ends ranges whose last offsets will never come (compaction gaps,
                # transaction markers, records deleted by retention since planning).
                for p in self._note_errors(msgs, progress, on_progress):
                    self._done(consumer, todo, p)
                msgs = [m for m in msgs if m.error() is None]
            if self.key is not None:
                key = self.key
                msgs = [m for m in msgs if m.key() == key]
            if self._client_errors:
                self._report_client_errors(progress, on_progress)
            if not msgs:
                self._finish_by_position(consumer, todo)
                if time.monotonic() - last_data > self.stall_timeout and todo:
                    progress.status = f"no data for {self.stall_timeout:.0f}s; still retrying"
                    if on_progress:
                        on_progress(progress)
                    last_data = time.monotonic()
                continue
            last_data = time.monotonic()
            if progress.status:
                progress.status = ""
            batch = self._within_ends(consumer, todo, ends, self.decoder.decode_messages(msgs))
            for p, count in Counter(map(_PARTITION, batch)).items():
                progress.read[p] += count
            self.stats.events += len(batch)
            if on_progress:
                on_progress(progress)
            if batch:
                yield batch

    def _report_client_errors(
        self, progress: ReadProgress, on_progress: ProgressCallback | None
    ) -> None:
        err = self._client_errors[-1]
        self._client_errors.clear()
        if err.fatal():
            raise KafkaUnavailable(f"reading {self.topic} failed: {err.str()}")
        progress.status = f"{err.str()} (retrying)"
        self.stats.errors.append(progress.status)
        if on_progress:
            on_progress(progress)

    def _note_missing(self, progress: ReadProgress) -> None:
        """Offsets of a range that hold no record: compaction, transaction markers, or
        records deleted since the read was planned.  Said, not hidden."""
        for p, total in sorted(progress.total.items()):
            missing = total - progress.read.get(p, 0)
            if missing > 0 and not self.stats.cancelled:
                self.stats.gaps[p] = missing

    def _within_ends(
        self,
        consumer: Consumer,
        todo: dict[int, PartitionRange],
        ends: dict[int, int],
        events: list[Event],
    ) -> list[Event]:
        """Drop events past their partition's end and retire partitions that reached it.

        The per-event work is C-level (map/zip over the NamedTuples): offsets ascend
        within a partition, so the last offset seen per partition is its maximum.
        """
        last = dict(zip(map(_PARTITION, events), map(_OFFSET, events), strict=True))
        reached = [p for p, off in last.items() if off + 1 >= ends.get(p, 0)]
        if not reached:
            return events
        if any(last[p] >= ends.get(p, 0) for p in reached):
            events = [ev for ev in events if ev.offset < ends.get(ev.partition, 0)]
        for p in reached:
            self._done(consumer, todo, p)
        return events

    def _done(self, consumer: Consumer, todo: dict[int, PartitionRange], p: int) -> None:
        if todo.pop(p, None) is not None:
            consumer.pause([TopicPartition(self.topic, p)])

    def _finish_by_position(self, consumer: Consumer, todo: dict[int, PartitionRange]) -> None:
        positions = consumer.position([TopicPartition(self.topic, p) for p in todo])
        for tp in positions:
            if tp.offset >= 0 and tp.offset >= todo[tp.partition].end:
                self._done(consumer, todo, tp.partition)

    def _note_errors(
        self, msgs: list[Message], progress: ReadProgress, on_progress: ProgressCallback | None
    ) -> list[int]:
        """Report errors; return the partitions whose end of log was reached."""
        ended: list[int] = []
        for m in msgs:
            err = m.error()
            if err is None:
                continue
            if err.code() == KafkaError._PARTITION_EOF:
                ended.append(int(m.partition() or 0))
                continue
            text = f"{err.str()} (retrying)" if err.retriable() or _is_transport(err) else err.str()
            progress.status = text
            self.stats.errors.append(text)
            if err.fatal() or err.code() in (
                KafkaError.UNKNOWN_TOPIC_OR_PART,
                KafkaError.TOPIC_AUTHORIZATION_FAILED,
            ):
                raise KafkaUnavailable(f"reading {self.topic} failed: {err.str()}")
        if on_progress:
            on_progress(progress)
        return ended


def _is_transport(err: KafkaError) -> bool:
    return err.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)


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
    "CancelToken",
    "PartitionRange",
    "ReadProgress",
    "ReadStats",
    "TopicReader",
    "clip_to_times",
    "offsets_for_time",
    "plan_ranges",
    "read_topic",
]
