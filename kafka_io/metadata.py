"""Cluster metadata: topics, partitions, watermarks, configs and consumer groups.

Every call is a batched admin request (one ``list_offsets`` for all partitions, one
``describe_configs`` for all topics), so a cluster with thousands of partitions lists in
one round trip rather than one per partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    OffsetSpec,
    ResourceType,
)

from kafka_io.clients import admin_client
from kafka_io.connection_errors import CauseWatch
from kafka_io.errors import KafkaUnavailable, TopicNotFound
from kafka_io.profile import ConnectionProfile
from kafka_io.sensitive import secret_values


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    low: int  # first offset still in the log
    high: int  # offset the next record will get

    @property
    def count(self) -> int:
        """Records between the watermarks (an estimate on compacted topics)."""
        return max(0, self.high - self.low)


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: tuple[PartitionInfo, ...]
    cleanup_policy: str = "delete"
    retention_ms: int | None = None
    internal: bool = False

    @property
    def count(self) -> int:
        return sum(p.count for p in self.partitions)

    def partition(self, number: int) -> PartitionInfo:
        for p in self.partitions:
            if p.partition == number:
                return p
        raise KeyError(number)


@dataclass(frozen=True)
class GroupInfo:
    group_id: str
    state: str
    members: int = 0
    protocol_type: str = ""
    error: str | None = None


@dataclass
class ClusterInfo:
    cluster_id: str | None
    brokers: int
    topics: list[TopicInfo] = field(default_factory=list)


class Cluster:
    """Metadata view of one cluster through one AdminClient (not shared across threads)."""

    def __init__(self, profile: ConnectionProfile, timeout: float | None = None) -> None:
        self.profile = profile
        self.timeout = profile.timeout_s if timeout is None else timeout
        self._causes = CauseWatch(secret_values(profile.properties))
        self._admin: AdminClient = admin_client(profile, error_cb=self._causes)

    def _metadata(self, topic: str | None = None):  # type: ignore[no-untyped-def]
        try:
            return self._admin.list_topics(topic=topic, timeout=self.timeout)
        except KafkaException as exc:
            # The failed request says "transport failure"; the callbacks queued while it
            # waited say why (a refused password, an untrusted certificate).
            self._admin.poll(0)
            why = self._causes.cause() or _reason(exc)
            raise KafkaUnavailable(
                f"cannot reach Kafka at {self.profile.bootstrap}: {why}"
            ) from exc

    def cluster_id(self) -> str | None:
        return self._metadata().cluster_id

    def topic_names(self, include_internal: bool = False) -> list[str]:
        md = self._metadata()
        return sorted(name for name in md.topics if include_internal or not _is_internal(name))

    def topics(
        self, names: Iterable[str] | None = None, include_internal: bool = False
    ) -> list[TopicInfo]:
        """Topics with watermarks and cleanup/retention configs, sorted by name."""
        md = self._metadata()
        wanted = set(names) if names is not None else None
        if wanted is not None:
            missing = wanted - set(md.topics)
            if missing:
                raise TopicNotFound(f"no such topic: {', '.join(sorted(missing))}")
        selected = {
            name: tmd
            for name, tmd in md.topics.items()
            if (wanted is None and (include_internal or not _is_internal(name)))
            or (wanted is not None and name in wanted)
        }
        tps = [TopicPartition(n, p) for n, tmd in selected.items() for p in tmd.partitions]
        marks = self.watermarks_for(tps)
        configs = self._configs(list(selected))
        infos = []
        for name, tmd in sorted(selected.items()):
            parts = tuple(
                PartitionInfo(p, *marks.get((name, p), (0, 0))) for p in sorted(tmd.partitions)
            )
            conf = configs.get(name, {})
            retention = conf.get("retention.ms")
            infos.append(
                TopicInfo(
                    name=name,
                    partitions=parts,
                    cleanup_policy=conf.get("cleanup.policy", "delete"),
                    retention_ms=int(retention) if retention not in (None, "") else None,
                    internal=_is_internal(name),
                )
            )
        return infos

    def topic(self, name: str) -> TopicInfo:
        return self.topics([name])[0]

    def partitions(self, topic: str) -> tuple[PartitionInfo, ...]:
        """A topic's partitions with their watermarks (no configs: one request fewer)."""
        md = self._metadata(topic)
        tmd = md.topics.get(topic)
        if tmd is None or tmd.error is not None:
            raise TopicNotFound(f"no such topic: {topic}")
        marks = self.watermarks_for([TopicPartition(topic, p) for p in tmd.partitions])
        return tuple(PartitionInfo(p, *marks[(topic, p)]) for p in sorted(tmd.partitions))

    def partition_count(self, topic: str) -> int:
        md = self._metadata(topic)
        tmd = md.topics.get(topic)
        if tmd is None or tmd.error is not None:
            raise TopicNotFound(f"no such topic: {topic}")
        return len(tmd.partitions)

    def watermarks_for(self, tps: list[TopicPartition]) -> dict[tuple[str, int], tuple[int, int]]:
        """(low, high) per (topic, partition) in two batched list_offsets requests."""
        if not tps:
            return {}
        low = self._list_offsets(tps, OffsetSpec.earliest())
        high = self._list_offsets(tps, OffsetSpec.latest())
        return {k: (low.get(k, 0), high.get(k, 0)) for k in high}

    def _list_offsets(
        self, tps: list[TopicPartition], spec: OffsetSpec
    ) -> dict[tuple[str, int], int]:
        futures = self._admin.list_offsets({tp: spec for tp in tps}, request_timeout=self.timeout)
        out: dict[tuple[str, int], int] = {}
        for tp, fut in futures.items():
            try:
                out[(tp.topic, tp.partition)] = fut.result().offset
            except KafkaException as exc:
                raise KafkaUnavailable(
                    f"cannot list offsets of {tp.topic}[{tp.partition}]: {_reason(exc)}"
                ) from exc
        return out

    def _configs(self, topics: list[str]) -> dict[str, dict[str, str]]:
        if not topics:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, t) for t in topics]
        out: dict[str, dict[str, str]] = {}
        try:
            futures = self._admin.describe_configs(resources, request_timeout=self.timeout)
            for res, fut in futures.items():
                entries = fut.result()
                out[res.name] = {k: e.value for k, e in entries.items() if e.value is not None}
        except KafkaException:
            # Configs are a nicety; an ACL that hides them must not hide the topics.
            return out
        return out

    def groups(self) -> list[GroupInfo]:
        """Consumer groups with their state and member count."""
        try:
            listed = self._admin.list_consumer_groups(request_timeout=self.timeout).result()
        except KafkaException as exc:
            raise KafkaUnavailable(f"cannot list consumer groups: {_reason(exc)}") from exc
        ids = [g.group_id for g in listed.valid]
        if not ids:
            return []
        described = self._admin.describe_consumer_groups(ids, request_timeout=self.timeout)
        infos = []
        for gid, fut in described.items():
            try:
                d = fut.result()
                infos.append(
                    GroupInfo(
                        group_id=gid,
                        state=_state_name(d.state),
                        members=len(d.members),
                        protocol_type=getattr(d, "protocol_type", "") or "",
                    )
                )
            except KafkaException as exc:
                infos.append(GroupInfo(group_id=gid, state="UNKNOWN", error=_reason(exc)))
        return sorted(infos, key=lambda g: g.group_id)

    def committed_offsets(self, group_id: str) -> dict[tuple[str, int], int]:
        """A group's committed offsets per (topic, partition); read-only."""
        fut = self._admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout
        )[group_id]
        result = fut.result()
        return {
            (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0
        }


def _is_internal(name: str) -> bool:
    return name.startswith("__")


def _state_name(state: object) -> str:
    name = getattr(state, "name", None)
    return str(name if name is not None else state)


def _reason(exc: KafkaException) -> str:
    err = exc.args[0] if exc.args else exc
    text = err.str() if hasattr(err, "str") else str(err)
    return str(text)
