"""Consumer-group lag sampling: committed offsets against high watermarks, timestamped.

The sampler is an observer and nothing more.  It uses an ``AdminClient``, which has no
group id, so it can never join a group, trigger a rebalance or commit; the one
consumer that reads record timestamps is only ever assigned and never commits.  Each
sample costs a fixed number of round trips whatever the size of the cluster:

1. ``list_consumer_groups`` (skipped when the groups are given);
2. ``describe_consumer_groups`` for all groups in one call (state, members, assignment)
   and ``list_consumer_group_offsets`` for every group, all in flight at once (the
   client accepts one group per call, so the calls are fired together, not in turn);
3. ``list_offsets(OffsetSpec.latest())`` for every partition of every topic involved,
   in one call;
4. for partitions with records waiting, the timestamp of the record at the committed
   offset (``kafka_io.record_time``): from a cache, and for offsets new to it one
   assign/consume round of a read-only consumer, bounded by ``lookup_timeout_s``.
   The record's timestamp makes lag in seconds a fact of the data from the first
   sample on; a round that cannot read it says so in ``warnings``.

``sample()`` never raises: a broker that is gone, a timeout or a group that cannot be
read ends up in the sample's ``error`` fields, and the next sample simply tries again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field, replace
from typing import Any

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import OffsetSpec

from kafka_io.clients import admin_client
from kafka_io.lag_records import GroupOffsets, LagSample, PartitionOffsets, TopicPartitionKey
from kafka_io.profile import ConnectionProfile
from kafka_io.record_time import Lookup, OffsetKey, RecordTime, RecordTimes, describe_missing

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0
# librdkafka reports "no commit" as OFFSET_INVALID (-1001); any negative offset means none.
_MIN_OFFSET = 0
_POLL_S = 0.05
_CONNECTION_ERRORS = {
    KafkaError._TRANSPORT,
    KafkaError._RESOLVE,
    KafkaError._AUTHENTICATION,
    KafkaError._SSL,
}

_BROKER_PREFIX = re.compile(r"^\S+/(?:bootstrap|\d+): ")
_STATE_SUFFIX = re.compile(r" \(after \d+ms in state \w+\)$")


class SampleFailed(Exception):
    """A whole round failed (cluster unreachable, timeout); the message says why."""


class LagSampler:
    """Samples consumer groups over one admin connection.

    Not thread-safe: create it in, and use it from, the one thread that samples.
    ``groups`` limits sampling to those groups (default: every group the cluster
    lists); ``topics`` adds topics whose watermarks are read for their event rate
    even when no group consumes them.  ``close()`` (or the end of ``run``) releases
    the record-reading consumer; sampling again opens a new one.
    """

    def __init__(
        self,
        profile: ConnectionProfile,
        groups: Iterable[str] | None = None,
        topics: Iterable[str] = (),
        timeout_s: float = 10.0,
        metadata_refresh_s: float = 60.0,
        lookup_timeout_s: float = 2.0,
    ) -> None:
        self.profile = profile
        self.groups = tuple(dict.fromkeys(groups)) if groups is not None else None
        self.topics = tuple(dict.fromkeys(topics))
        self.timeout_s = timeout_s
        self.metadata_refresh_s = metadata_refresh_s
        self.lookup_timeout_s = lookup_timeout_s
        # Connection health as librdkafka reports it through error_cb (served by poll).
        self._down = False
        self._fresh_down = False
        self._fresh_cause = False
        self._cause: KafkaError | None = None
        self._topic_partitions: dict[str, int] = {}
        self._metadata_at = -float("inf")
        # librdkafka's chatter goes to Python logging (kafka_io.clients); what matters
        # reaches the user through the sample's error instead.
        self._admin = admin_client(profile, error_cb=self._on_client_error)
        self._record_times = RecordTimes(profile)

    # -- public ------------------------------------------------------------------

    def sample(self) -> LagSample:
        """One round; never raises for Kafka trouble, which lands in ``error``."""
        started = time.monotonic()
        try:
            sample = self._sample(started + self.timeout_s)
        except (SampleFailed, KafkaException) as exc:
            sample = LagSample(time_ms=_now_ms(), error=_describe(exc))
        except Exception as exc:  # the loop must survive; the error is shown
            log.exception("lag sample failed")
            sample = LagSample(time_ms=_now_ms(), error=f"{type(exc).__name__}: {exc}")
        else:
            self._down = False
        return replace(sample, elapsed_s=time.monotonic() - started)

    def close(self) -> None:
        self._record_times.close()

    def run(
        self,
        on_sample: Callable[[LagSample], object],
        stop: threading.Event,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        """Sample every ``interval_s`` until ``stop`` is set.

        Ticks are scheduled on a fixed grid so the interval does not drift by the
        sampling time; a round slower than the interval skips the missed ticks
        rather than bursting to catch up.
        """
        next_tick = time.monotonic()
        try:
            while not stop.is_set():
                on_sample(self.sample())
                next_tick += interval_s
                now = time.monotonic()
                if next_tick < now:
                    next_tick = now + interval_s - (now - next_tick) % interval_s
                stop.wait(next_tick - now)
        finally:
            self.close()

    # -- one round -----------------------------------------------------------------

    def _sample(self, deadline: float) -> LagSample:
        # Errors queued since the last round update the health state; only what
        # happens during this round may cut it short.
        self._admin.poll(0)
        self._fresh_down = self._fresh_cause = False
        group_ids = self.groups if self.groups is not None else self._list_groups(deadline)
        described: dict[str, Future[Any]] = {}
        offsets: dict[str, Future[Any]] = {}
        if group_ids:
            described = self._admin.describe_consumer_groups(
                list(group_ids), request_timeout=self.timeout_s
            )
            for gid in group_ids:
                offsets.update(
                    self._admin.list_consumer_group_offsets(
                        [ConsumerGroupTopicPartitions(gid)], request_timeout=self.timeout_s
                    )
                )
        self._wait([*described.values(), *offsets.values()], deadline)

        views = [_GroupView.read(gid, described.get(gid), offsets.get(gid)) for gid in group_ids]
        wanted: dict[TopicPartitionKey, None] = {}
        for view in views:
            wanted.update(dict.fromkeys(view.partitions()))
        warnings: list[str] = []
        if self.topics:
            counts = self._partition_counts(deadline)
            warnings.extend(f"topic {t!r} not found" for t in self.topics if t not in counts)
            for topic, count in counts.items():
                wanted.update(dict.fromkeys((topic, p) for p in range(count)))

        ends, end_errors, time_ms = self._watermarks(list(wanted), deadline)
        warnings.extend(f"{t}[{p}]: {why}" for (t, p), why in end_errors.items())
        oldest = self._oldest_records(views, ends, deadline)
        warnings.extend(describe_missing(oldest.missing))
        groups = tuple(view.to_offsets(ends, end_errors, oldest.found) for view in views)
        return LagSample(
            time_ms, groups, ends, warnings=tuple(warnings), record_lookups=oldest.read
        )

    def _oldest_records(
        self, views: list[_GroupView], ends: Mapping[TopicPartitionKey, int], deadline: float
    ) -> Lookup:
        """The first waiting record of every partition with lag, cached or read now."""
        keys: set[OffsetKey] = set()
        for view in views:
            for (topic, partition), committed in view.committed.items():
                end = ends.get((topic, partition))
                if committed is not None and end is not None and end > committed:
                    keys.add((topic, partition, committed))
        budget = min(deadline, time.monotonic() + self.lookup_timeout_s)
        try:
            return self._record_times.lookup(keys, budget)
        except Exception as exc:  # lag in records still stands; seconds fall back
            log.exception("reading record timestamps failed")
            why = f"{type(exc).__name__}: {exc}"
            return Lookup(missing=dict.fromkeys(keys, why))

    def _list_groups(self, deadline: float) -> tuple[str, ...]:
        future = self._admin.list_consumer_groups(request_timeout=self.timeout_s)
        self._wait([future], deadline)
        result = future.result()
        if not result.valid and result.errors:
            raise SampleFailed(f"cannot list consumer groups: {_describe(result.errors[0])}")
        return tuple(sorted(g.group_id for g in result.valid))

    def _partition_counts(self, deadline: float) -> dict[str, int]:
        """Partition counts of the watched topics, from metadata refreshed now and then."""
        now = time.monotonic()
        missing = [t for t in self.topics if t not in self._topic_partitions]
        if missing or now - self._metadata_at > self.metadata_refresh_s:
            timeout = max(deadline - now, 0.1)
            metadata = self._admin.list_topics(timeout=timeout)
            self._topic_partitions = {
                name: len(meta.partitions)
                for name, meta in metadata.topics.items()
                if name in self.topics and meta.error is None
            }
            self._metadata_at = now
        return self._topic_partitions

    def _watermarks(
        self, partitions: list[TopicPartitionKey], deadline: float
    ) -> tuple[dict[TopicPartitionKey, int], dict[TopicPartitionKey, str], int]:
        if not partitions:
            return {}, {}, _now_ms()
        request = {TopicPartition(t, p): OffsetSpec.latest() for t, p in partitions}
        before = _now_ms()
        futures = self._admin.list_offsets(request, request_timeout=self.timeout_s)
        self._wait(futures.values(), deadline)
        # The broker answered somewhere between the request and now: the midpoint
        # is the best single time to pin these watermarks to.
        time_ms = (before + _now_ms()) // 2
        ends: dict[TopicPartitionKey, int] = {}
        errors: dict[TopicPartitionKey, str] = {}
        for tp, future in futures.items():
            key = (tp.topic, tp.partition)
            exc = future.exception()
            if exc is None:
                ends[key] = future.result().offset
            else:
                errors[key] = _describe(exc)
        if not ends and errors:
            raise SampleFailed(f"cannot read high watermarks: {next(iter(errors.values()))}")
        return ends, errors, time_ms

    def _wait(self, futures: Iterable[Future[Any]], deadline: float) -> None:
        """Wait for admin futures while serving client callbacks.

        Polling here delivers librdkafka's error callbacks, which is how an
        unreachable cluster is noticed in milliseconds instead of at the request
        timeout: the "all brokers down" event, or a fresh connection error while
        the cluster is known to be down.
        """
        pending = set(futures)
        while True:
            self._admin.poll(0)
            if self._fresh_down or (self._down and self._fresh_cause):
                cause = _describe(self._cause) if self._cause else "all brokers are down"
                raise SampleFailed(f"cannot reach {self.profile.bootstrap}: {cause}")
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                where = self.profile.bootstrap
                raise SampleFailed(f"no answer from {where} in {self.timeout_s:g} s")
            _, pending = wait_futures(pending, timeout=min(_POLL_S, remaining))

    def _on_client_error(self, error: KafkaError) -> None:
        code = error.code()
        if code == KafkaError._ALL_BROKERS_DOWN:
            self._down = self._fresh_down = True
        elif code in _CONNECTION_ERRORS:
            # Says why (refused, unresolvable...), which "all brokers down" does not.
            self._cause = error
            self._fresh_cause = True


@dataclass
class _GroupView:
    """What one round learned about one group before watermarks are known."""

    group: str
    state: str = "UNKNOWN"
    members: int = 0
    committed: dict[TopicPartitionKey, int | None] = field(default_factory=dict)
    errors: dict[TopicPartitionKey, str] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def read(
        cls, group: str, described: Future[Any] | None, offsets: Future[Any] | None
    ) -> _GroupView:
        view = cls(group)
        problems: list[str] = []
        if described is not None:
            if (exc := described.exception()) is not None:
                problems.append(f"describe: {_describe(exc)}")
            else:
                desc = described.result()
                view.state = getattr(desc.state, "name", str(desc.state))
                view.members = len(desc.members)
                # Assigned partitions without a commit yet still belong in the table.
                for member in desc.members:
                    for tp in member.assignment.topic_partitions or ():
                        view.committed.setdefault((tp.topic, tp.partition), None)
        if offsets is not None:
            if (exc := offsets.exception()) is not None:
                problems.append(f"offsets: {_describe(exc)}")
            else:
                for tp in offsets.result().topic_partitions or ():
                    key = (tp.topic, tp.partition)
                    if tp.error is not None:
                        view.errors[key] = _describe(tp.error)
                    view.committed[key] = tp.offset if tp.offset >= _MIN_OFFSET else None
        view.error = "; ".join(problems) or None
        return view

    def partitions(self) -> list[TopicPartitionKey]:
        return list(self.committed)

    def to_offsets(
        self,
        ends: Mapping[TopicPartitionKey, int],
        end_errors: Mapping[TopicPartitionKey, str],
        oldest: Mapping[OffsetKey, RecordTime],
    ) -> GroupOffsets:
        parts = []
        for key, committed in sorted(self.committed.items()):
            found = oldest.get((*key, committed)) if committed is not None else None
            parts.append(
                PartitionOffsets(
                    topic=key[0],
                    partition=key[1],
                    committed=committed,
                    end=ends.get(key),
                    error=self.errors.get(key) or end_errors.get(key),
                    oldest_ms=found.timestamp_ms if found else None,
                    oldest_offset=found.offset if found else None,
                )
            )
        return GroupOffsets(self.group, self.state, self.members, tuple(parts), self.error)


def _describe(exc: object) -> str:
    """A one-line reason from a KafkaException, KafkaError or anything else."""
    error = exc.args[0] if isinstance(exc, KafkaException) and exc.args else exc
    text = str(error.str()) if isinstance(error, KafkaError) else str(error)
    # librdkafka prefixes the broker name and appends its state machine's timing:
    # "host:9092/bootstrap: Connect to ... failed: Connection refused (after 0ms in state CONNECT)"
    text = _BROKER_PREFIX.sub("", _STATE_SUFFIX.sub("", text))
    return text or type(error).__name__


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
