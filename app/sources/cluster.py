"""A Kafka cluster as a source of events: metadata, bounded read-only reads, decoders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from app.sources.base import (
    Following,
    Listing,
    Progress,
    ProgressCallback,
    Read,
    ReadReport,
    make_registry,
)
from app.sources.settings import SourceSettings
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.errors import ReadIncomplete
from kafka_io.event import Event
from kafka_io.follow import TopicFollower
from kafka_io.key_sample import detect_topic_partitioner, sample_keys
from kafka_io.metadata import Cluster, PartitionInfo, TopicInfo
from kafka_io.partition_detect import Detection, detect_partitioner
from kafka_io.partitioners import partition_for
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, ReadProgress, TopicReader, clip_to_times, plan_ranges


@dataclass
class ClusterSource:
    """One cluster.  Its admin client is made on first use, in the thread that uses it:
    give each worker thread its own source (``clone``)."""

    profile: ConnectionProfile
    settings: SourceSettings = field(default_factory=SourceSettings)
    _cluster: Cluster | None = field(default=None, repr=False)
    _cluster_id: str | None = None
    _detections: dict[str, Detection] = field(default_factory=dict, repr=False)

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

    @property
    def location(self) -> str:
        return self.profile.bootstrap

    @property
    def preloads(self) -> bool:
        return False

    @property
    def has_groups(self) -> bool:
        return True

    def clone(self, settings: SourceSettings | None = None) -> ClusterSource:
        """The same cluster for another thread (no client shared), or with other settings."""
        return ClusterSource(
            self.profile,
            self.settings if settings is None else settings,
            _cluster_id=self._cluster_id,
        )

    def listing(self) -> Listing:
        cluster = self.cluster
        topics = cluster.topics()
        try:
            groups, error = cluster.groups(), None
        except Exception as exc:  # groups are an extra: an ACL may hide them, not the topics
            groups, error = [], str(exc)
        self._cluster_id = self._cluster_id or cluster.cluster_id() or self.profile.bootstrap
        return Listing(topics, groups, error)

    def topic_names(self) -> list[str]:
        return self.cluster.topic_names()

    def cache_identity(self) -> str:
        """The registry values are decoded with (its URL, never its credentials) and the
        isolation level that decides which records are visible."""
        isolation = self.profile.properties.get("isolation.level", "read_committed")
        registry = _without_credentials(self.profile.registry_url or "")
        return f"registry={registry}|isolation={isolation}"

    def partitions(self, topic: str) -> tuple[PartitionInfo, ...]:
        """The topic's partitions with their watermarks now."""
        return self.cluster.partitions(topic)

    def make_decoder(self) -> Decoder:
        settings = self.settings
        return Decoder(
            settings.default.value_format,
            settings.rulebook(),
            registry=make_registry(self.profile),
            formats=settings.formats(),
            protos=settings.protos(),
        )

    def read(
        self,
        topic: str | None,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        key: bytes | None = None,
        end_offset: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
        decoder: Decoder | None = None,
    ) -> Read:
        if topic is None:
            raise ValueError("a cluster is read one topic at a time")

        def plan() -> list[PartitionRange]:
            info = TopicInfo(topic, self.cluster.partitions(topic))
            end = None if end_offset is None else end_offset + 1
            ranges = plan_ranges(info, partitions, end_offset=end)
            if from_ms is not None or to_ms is not None:
                ranges = clip_to_times(self.profile, topic, ranges, from_ms, to_ms)
            return ranges

        def batches(report: ReadReport) -> Iterator[list[Event]]:
            return self._read_ranges(topic, plan(), report, key, cancel, on_progress, decoder)

        return Read(batches)

    def read_ranges(
        self,
        topic: str,
        ranges: list[PartitionRange],
        *,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
        decoder: Decoder | None = None,
    ) -> Read:
        """Given offset ranges of a topic (what a stored index lacks)."""
        return Read(
            lambda report: self._read_ranges(
                topic, ranges, report, None, cancel, on_progress, decoder
            )
        )

    def _read_ranges(
        self,
        topic: str,
        ranges: list[PartitionRange],
        report: ReadReport,
        key: bytes | None,
        cancel: CancelToken | None,
        on_progress: ProgressCallback | None,
        decoder: Decoder | None,
    ) -> Iterator[list[Event]]:
        reader = TopicReader(self.profile, topic, decoder or self.make_decoder(), key=key)

        def progress(p: ReadProgress) -> None:
            if on_progress is not None:
                on_progress(Progress(topic, dict(p.read), dict(p.total), p.status))

        try:
            yield from reader.read(ranges, cancel, progress)
        except ReadIncomplete as exc:
            # What was read stays with the caller; the report says the read is not whole.
            report.incomplete = str(exc)
        finally:
            report.take_stats(reader.stats)

    def detection(self, topic: str) -> Detection:
        """How the topic's producers partitioned it: given (``--partitioner``), or
        detected once from a sample of its keys (first and last records of each
        partition), with the evidence."""
        found = self._detections.get(topic)
        if found is None:
            given = self.settings.for_topic(topic).partitioner
            if given is not None:
                sample = sample_keys(self.profile, topic, cluster=self.cluster)
                found = detect_partitioner(sample.pairs, sample.partitions, candidates=[given])
            else:
                found, _sample = detect_topic_partitioner(self.profile, topic, cluster=self.cluster)
            self._detections[topic] = found
        return found

    def follow(
        self,
        topic: str,
        cancel: CancelToken,
        *,
        start: Mapping[int, int] | None = None,
        partitions: Iterable[int] | None = None,
        key: bytes | None = None,
        on_status: Callable[[str], None] | None = None,
        decoder: Decoder | None = None,
    ) -> Following:
        """New events of ``topic`` as they arrive, until ``cancel`` (read-only, as every
        read).  ``start``: partition -> first offset (others: from their end now)."""
        follower = TopicFollower(
            self.profile, topic, decoder or self.make_decoder(), start=start, key=key,
            partitions=None if partitions is None else frozenset(partitions),
        )  # fmt: skip
        return _Following(follower, cancel, on_status)

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        # Only when the aggregate *is* the key does the partitioner say where it lives.
        if self.settings.for_topic(topic).aggregate_rule not in (None, "key"):
            return None
        given = self.settings.for_topic(topic).partitioner
        count = self.cluster.partition_count(topic)
        if given is not None:
            return [partition_for(given, aggregate.encode(), count)]
        return self.detection(topic).partitions_for_key(aggregate.encode(), count)

    def pruning_note(self, topic: str) -> str | None:
        """Why an aggregate's read is (or is not) narrowed to its partition."""
        settings = self.settings.for_topic(topic)
        if settings.aggregate_rule not in (None, "key"):
            return "the aggregate is not the record key, so its partition cannot be told"
        found = self.detection(topic)
        if settings.partitioner is not None:
            placed = found.placed_by(found.placed[0][0]) if found.placed else 0
            return (
                f"{settings.partitioner} (as given); it places {placed:,} of the "
                f"{found.keys:,} sampled keys where they are"
            )
        return found.describe()


def _without_credentials(url: str) -> str:
    """``https://user:pw@host/x`` -> ``https://host/x``: an identity, not a secret."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"


class _Following:
    def __init__(
        self, follower: TopicFollower, cancel: CancelToken, on_status: Callable[[str], None] | None
    ) -> None:
        self._follower, self._cancel, self._on_status = follower, cancel, on_status

    @property
    def positions(self) -> dict[int, int]:
        return dict(self._follower.state.positions)

    def __iter__(self) -> Iterator[list[Event]]:
        return self._follower.follow(self._cancel, self._on_status)
