"""Where events come from: a Kafka cluster or an event file, behind one small interface.

The CLI, the GUI workers and the tests all read through these, so a file and a cluster
give the same Events and the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.eventfile import detect_file_kind, iter_file_batches, open_event_file
from kafka_io.metadata import Cluster
from kafka_io.murmur2 import partition_for_key
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import CancelToken, ProgressCallback, ReadProgress, read_topic
from kafka_io.registry import Registry
from kafka_io.registry import make_registry as registry_client
from kafka_io.rules import EventRules


class EventSource(Protocol):
    """Anything that can list its topics and read one of them in batches."""

    @property
    def name(self) -> str: ...

    @property
    def identity(self) -> str:
        """A stable id of the cluster or file, for the persisted index."""
        ...

    def topic_names(self) -> list[str]: ...

    def read(
        self,
        topic: str,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]: ...

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        """The partitions that can hold an aggregate's events (None: all of them)."""
        ...

    def decoder(self) -> Decoder: ...


def make_registry(profile: ConnectionProfile) -> Registry | None:
    """The profile's schema registry client, if it names one."""
    return registry_client(profile.registry_config())


def cluster_decoder_factory(
    profile: ConnectionProfile,
    rules: EventRules | None = None,
    value_format: ValueFormat = ValueFormat.AUTO,
) -> Callable[[], Decoder]:
    """Fresh decoders for a cluster's values (a Decoder caches: one per thread)."""
    return lambda: Decoder(value_format, rules, registry=make_registry(profile))


def file_decoder_factory(path: Path, rules: EventRules | None = None) -> Callable[[], Decoder]:
    """Fresh decoders for a file's values: its own schemas and formats, or auto-detect."""
    if detect_file_kind(path) == "avro":
        event_file = open_event_file(path)
        return lambda: event_file.decoder(rules=rules)
    return lambda: Decoder(ValueFormat.AUTO, rules)


@dataclass
class ClusterSource:
    profile: ConnectionProfile
    value_format: ValueFormat = ValueFormat.AUTO
    rules: EventRules = field(default_factory=EventRules)
    _cluster: Cluster | None = None
    _decoder: Decoder | None = None
    _cluster_id: str | None = None

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            self._cluster = Cluster(self.profile)
        return self._cluster

    @property
    def name(self) -> str:
        return self.profile.display_name

    @property
    def identity(self) -> str:
        if self._cluster_id is None:
            self._cluster_id = self.cluster.cluster_id() or self.profile.bootstrap
        return self._cluster_id

    def topic_names(self) -> list[str]:
        return self.cluster.topic_names()

    def decoder(self) -> Decoder:
        if self._decoder is None:
            self._decoder = cluster_decoder_factory(self.profile, self.rules, self.value_format)()
        return self._decoder

    def read(
        self,
        topic: str,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]:
        return read_topic(
            self.profile,
            topic,
            self.decoder(),
            partitions=partitions,
            from_ms=from_ms,
            to_ms=to_ms,
            cancel=cancel,
            on_progress=on_progress,
            cluster=self.cluster,
        )

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        # Only when the aggregate *is* the key does the partitioner say where it lives.
        if self.rules.aggregate_rule not in (None, "key"):
            return None
        count = self.cluster.partition_count(topic)
        return [partition_for_key(aggregate.encode(), count)]


@dataclass
class FileSource:
    """An exported event file (Avro container) or kcat ``-J`` JSON lines."""

    path: Path
    rules: EventRules = field(default_factory=EventRules)
    _decoder: Decoder | None = None
    _topics: list[str] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def identity(self) -> str:
        st = self.path.stat()
        return f"file:{self.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"

    def decoder(self) -> Decoder:
        if self._decoder is None:
            self._decoder = file_decoder_factory(self.path, self.rules)()
        return self._decoder

    def topic_names(self) -> list[str]:
        if self._topics is None:
            if detect_file_kind(self.path) == "avro":
                self._topics = sorted(open_event_file(self.path).topics)
            else:
                seen: set[str] = set()
                for batch in iter_file_batches(self.path, decoder=self.decoder()):
                    seen.update(ev.topic for ev in batch)
                self._topics = sorted(seen)
        return self._topics

    def read(
        self,
        topic: str,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]:
        wanted = set(partitions) if partitions is not None else None
        progress = ReadProgress(topic)
        for chunk in iter_file_batches(self.path, decoder=self.decoder()):
            if cancel is not None and cancel.cancelled:
                return
            batch = [
                ev
                for ev in chunk
                if ev.topic == topic
                and (wanted is None or ev.partition in wanted)
                and (from_ms is None or ev.timestamp_ms >= from_ms)
                and (to_ms is None or ev.timestamp_ms <= to_ms)
            ]
            for ev in batch:
                progress.read[ev.partition] = progress.read.get(ev.partition, 0) + 1
            # A file has no watermarks: what was read so far is also what is expected.
            progress.total = dict(progress.read)
            if on_progress:
                on_progress(progress)
            if batch:
                yield batch

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        return None
