"""Following a topic: reading new records as they arrive, until told to stop.

A bounded read ends at the watermarks it planned; following goes on from there, with the
same read-only consumer (``assign()``, a private group id, never a commit).  It keeps
its own positions, so a broker that goes away and comes back (librdkafka reconnects by
itself) resumes exactly where it stopped: no record twice, none skipped.  Every few
seconds it asks the cluster about the topic: new partitions are followed from their
first offset, a deleted topic ends the follow with ``TopicDeleted``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from confluent_kafka import (
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from kafka_io.bulk_decode import decode_columns
from kafka_io.cancel import CancelToken
from kafka_io.clients import read_only_consumer
from kafka_io.decode import Decoder
from kafka_io.errors import KafkaUnavailable, TopicNotFound
from kafka_io.event import Event
from kafka_io.event_columns import EventColumns
from kafka_io.profile import ConnectionProfile
from kafka_io.sensitive import scrub, secret_values

BATCH = 10_000
POLL_S = 0.1  # how long one consume() waits: also how soon a cancel is seen
METADATA_EVERY_S = 3.0  # how often the topic's partitions are looked up
_GONE = frozenset(
    {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC}
)
_TRANSPORT = frozenset({KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN})
_GONE_VOTES = 2  # answers in a row that say "no such topic" before following ends

Status = Callable[[str], None]
B = TypeVar("B")


@dataclass
class FollowState:
    """Where following stands: per partition, the next offset to read."""

    positions: dict[int, int] = field(default_factory=dict)
    events: int = 0
    reconnecting: bool = False


class FollowEnded(TopicNotFound):
    """Following cannot go on: the topic is not there (any more)."""


class TopicFollower:
    """Reads a topic's new records for as long as it is asked to; one thread."""

    def __init__(
        self,
        profile: ConnectionProfile,
        topic: str,
        decoder: Decoder,
        *,
        start: Mapping[int, int] | None = None,
        partitions: frozenset[int] | None = None,
        key: bytes | None = None,
        batch_size: int = BATCH,
    ) -> None:
        """``start``: partition -> first offset to read (missing partitions: from their
        end now).  ``partitions``: only these (one aggregate's).  ``key``: only records
        with this key are decoded and handed out."""
        self.profile, self.topic, self.decoder = profile, topic, decoder
        self.key, self.only, self.batch_size = key, partitions, batch_size
        self.state = FollowState(dict(start or {}))
        self._secrets = secret_values(profile.properties)
        self._errors: list[KafkaError] = []

    def follow(self, cancel: CancelToken, on_status: Status | None = None) -> Iterator[list[Event]]:
        """Yield batches of new events until ``cancel``; raises TopicDeleted if the topic
        goes away.  ``on_status`` hears "reconnecting …" and "resumed"."""
        return self._batches(cancel, on_status, self.decoder.decode_messages)

    def follow_columns(
        self, cancel: CancelToken, on_status: Status | None = None
    ) -> Iterator[EventColumns]:
        """``follow``, each batch decoded in bulk straight to columns (what an index
        appends; ``kafka_io.bulk_decode``)."""
        return self._batches(cancel, on_status, functools.partial(decode_columns, self.decoder))

    def _batches(
        self, cancel: CancelToken, on_status: Status | None, decode: Callable[[list[Message]], B]
    ) -> Iterator[B]:
        consumer = read_only_consumer(self.profile, error_cb=self._errors.append)
        try:
            self._assign_new(consumer, self._partitions(consumer, wait=True))
            next_check = time.monotonic() + METADATA_EVERY_S
            gone_votes = 0
            while not cancel.cancelled:
                msgs = _take(consumer, self.batch_size)
                records = [m for m in msgs if m.error() is None]
                if len(records) != len(msgs):  # a lost broker can show up in the stream too
                    self._errors += [e for m in msgs if (e := m.error()) is not None]
                self._report(on_status, bool(records))
                if records:
                    records = self._take_positions(records)
                    if records:
                        self.state.events += len(records)
                        yield decode(records)
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + METADATA_EVERY_S
                    found = self._partitions(consumer)
                    self._reachable(on_status, found is not None)
                    gone_votes = gone_votes + 1 if found == set() else 0
                    if gone_votes >= _GONE_VOTES:
                        raise FollowEnded(f"the topic {self.topic} was deleted: following ended")
                    if found:
                        self._assign_new(consumer, found)
        finally:
            consumer.close()

    # -- internals ----------------------------------------------------------------------

    def _take_positions(self, records: list[Message]) -> list[Message]:
        """Move the positions past ``records``; the ones to hand out (this key's)."""
        positions = self.state.positions
        for m in records:
            positions[int(m.partition() or 0)] = int(m.offset() or 0) + 1
        if self.key is not None:
            records = [m for m in records if m.key() == self.key]
        return records

    def _partitions(self, consumer: Consumer, wait: bool = False) -> set[int] | None:
        """The topic's partitions now; set() if it does not exist; None if no answer."""
        deadline = time.monotonic() + (self.profile.timeout_s if wait else 0.5)
        answered = False
        while True:
            try:
                md = consumer.list_topics(self.topic, timeout=max(0.1, deadline - time.monotonic()))
                answered = True
            except KafkaException:
                md = None
            if md is not None:
                tmd = md.topics.get(self.topic)
                if tmd is None or (tmd.error is not None and tmd.error.code() in _GONE):
                    found: set[int] | None = set()
                elif tmd.error is not None:
                    found = None
                else:
                    found = set(tmd.partitions)
                if found or not wait:
                    return found
            if time.monotonic() >= deadline:
                if wait and not answered:
                    raise KafkaUnavailable(
                        f"cannot reach Kafka at {self.profile.bootstrap} "
                        f"within {self.profile.timeout_s:g} s"
                    )
                if wait:
                    raise FollowEnded(f"no topic {self.topic} to follow")
                return None
            time.sleep(0.2)

    def _assign_new(self, consumer: Consumer, partitions: set[int] | None) -> None:
        """Start following partitions not followed yet: from the given start, from the
        end now (at the first assignment), or from the first offset of a partition added
        while following (everything in it is new)."""
        if not partitions:
            return
        wanted = partitions if self.only is None else partitions & self.only
        assigned = {tp.partition for tp in consumer.assignment()}
        fresh = sorted(wanted - assigned)
        if not fresh:
            return
        first_time = not assigned
        positions = self.state.positions
        tps = []
        for p in fresh:
            if p in positions:
                tps.append(TopicPartition(self.topic, p, positions[p]))
            elif first_time:
                high = self._end_of(consumer, p)
                if high is not None:
                    positions[p] = high
                tps.append(TopicPartition(self.topic, p, OFFSET_END if high is None else high))
            else:
                positions[p] = 0
                tps.append(TopicPartition(self.topic, p, 0))
        consumer.incremental_assign(tps)

    def _end_of(self, consumer: Consumer, partition: int) -> int | None:
        """The partition's high watermark now (a new topic's leader may take a moment)."""
        deadline = time.monotonic() + self.profile.timeout_s
        while True:
            try:
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=1.0, cached=False
                )
                return int(high)
            except KafkaException:
                if time.monotonic() >= deadline:
                    return None  # the end as the fetch finds it
                time.sleep(0.2)

    def _reachable(self, on_status: Status | None, answered: bool) -> None:
        """The cluster answered a metadata request, or did not: librdkafka reconnects by
        itself and does not always say so, so following asks."""
        if not answered and not self.state.reconnecting:
            self.state.reconnecting = True
            if on_status is not None:
                on_status("reconnecting: the cluster does not answer")
        elif answered and self.state.reconnecting:
            self.state.reconnecting = False
            if on_status is not None:
                on_status("resumed")

    def _report(self, on_status: Status | None, progressed: bool) -> None:
        errors, self._errors = self._errors, []
        transport = [
            e for e in errors if e.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
        ]
        if transport and not self.state.reconnecting:
            self.state.reconnecting = True
            if on_status is not None:
                on_status(f"reconnecting: {scrub(transport[-1].str(), self._secrets)}")
        elif progressed and self.state.reconnecting:
            self.state.reconnecting = False
            if on_status is not None:
                on_status("resumed")


def _take(consumer: Consumer, most: int) -> list[Message]:
    """What has arrived, as soon as anything has: ``consume(n, timeout)`` waits for ``n``
    records or the whole timeout, which at a trickle delays every event by up to POLL_S.
    So wait for the first record only, then take whatever else is already queued."""
    first = consumer.consume(num_messages=1, timeout=POLL_S)
    if not first or most <= 1:
        return first
    return first + consumer.consume(num_messages=most - 1, timeout=0)
