"""A Kafka cluster as a source of events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.sources.decoders import cluster_decoder_factory
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.metadata import Cluster
from kafka_io.murmur2 import partition_for_key
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import ProgressCallback, read_topic
from kafka_io.rules import EventRules


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
