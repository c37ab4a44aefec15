"""Job functions the window runs in workers: read a file, read a topic, list a cluster.

Each returns a ``job(ctx)`` for ``Workers.submit``.  A job builds its own clients and
decoder inside the worker thread (librdkafka handles and decoder caches are per thread)
and streams batches of Events with ``ctx.partial``; the GUI thread indexes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.gui.worker import CancelToken as JobToken
from app.gui.worker import JobContext
from app.index.topic_cache import TopicPlan, finish_topic, plan_topic
from app.sources import ClusterSource
from app.sources.decoders import cluster_decoder_factory, file_decoder_factory
from kafka_io.decode import ValueFormat
from kafka_io.event import Event
from kafka_io.eventfile import detect_file_kind, iter_file_batches, open_event_file
from kafka_io.metadata import Cluster, GroupInfo, TopicInfo
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, ReadProgress, TopicReader
from kafka_io.rules import EventRules

BATCH = 5000
# Where a read job hands its batches: BatchStream.put (False: stop, the GUI is done).
Sink = Callable[[list[Event], JobToken], bool]


@dataclass
class Progress:
    """Per-partition counts of a running read, as the progress panel shows them."""

    title: str
    read: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    status: str = ""
    per_partition: bool = True


@dataclass(frozen=True)
class ReadDone:
    events: int
    cancelled: bool
    reused: int = 0  # events that came from the stored index instead


@dataclass(frozen=True)
class ClusterListing:
    cluster_id: str | None
    topics: list[TopicInfo]
    groups: list[GroupInfo]
    groups_error: str | None = None


def read_file_job(
    path: Path, sink: Sink, batch_size: int = BATCH
) -> Callable[[JobContext], ReadDone]:
    """Read every event of an event file (all its topics); progress counts the file's events."""

    def job(ctx: JobContext) -> ReadDone:
        expected = 0
        if detect_file_kind(path) == "avro":
            expected = open_event_file(path).count or 0
        batches = iter_file_batches(path, batch_size, file_decoder_factory(path)())
        done = 0
        for batch in batches:
            if ctx.cancelled or not sink(batch, ctx.token):
                return ReadDone(done, True)
            done += len(batch)
            # A file is read front to back: one bar for the file, not one per partition.
            total = max(expected, done)
            ctx.progress(Progress(path.name, {0: done}, {0: total}, per_partition=False))
        return ReadDone(done, False)

    return job


def plan_topic_job(
    profile: ConnectionProfile,
    topic: str,
    *,
    rules: EventRules | None = None,
    value_format: ValueFormat = ValueFormat.AUTO,
) -> Callable[[JobContext], TopicPlan]:
    """Load the topic's stored index, if it can be trusted, and plan the catch-up read."""

    def job(ctx: JobContext) -> TopicPlan:
        source = ClusterSource(profile, value_format, rules or EventRules())
        return plan_topic(source, topic)

    return job


def read_ranges_job(
    profile: ConnectionProfile,
    topic: str,
    ranges: list[PartitionRange],
    sink: Sink,
    *,
    rules: EventRules | None = None,
    value_format: ValueFormat = ValueFormat.AUTO,
) -> Callable[[JobContext], ReadDone]:
    """Read offset ranges of a topic (what the stored index lacks), per-partition progress."""

    def job(ctx: JobContext) -> ReadDone:
        token = ctx.token
        decoder = cluster_decoder_factory(profile, rules, value_format)()

        def on_progress(p: ReadProgress) -> None:
            ctx.progress(Progress(topic, dict(p.read), dict(p.total), p.status))

        done = 0
        reader = TopicReader(profile, topic, decoder)
        for batch in reader.read(ranges, token, on_progress):
            if not sink(batch, ctx.token):
                token.cancel()
                break
            done += len(batch)
        return ReadDone(done, token.cancelled)

    return job


def save_topic_job(plan: TopicPlan) -> Callable[[JobContext], None]:
    """Persist a completely read index (the GUI no longer appends to it)."""

    def job(ctx: JobContext) -> None:
        finish_topic(plan)

    return job


def list_cluster_job(profile: ConnectionProfile) -> Callable[[JobContext], ClusterListing]:
    def job(ctx: JobContext) -> ClusterListing:
        cluster = Cluster(profile)
        topics = cluster.topics()
        try:
            groups = cluster.groups()
            error = None
        except Exception as exc:
            groups, error = [], str(exc)
        return ClusterListing(cluster.cluster_id(), topics, groups, error)

    return job
