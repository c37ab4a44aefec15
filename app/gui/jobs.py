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
from app.sources import make_registry
from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.eventfile import detect_file_kind, iter_file_batches, open_event_file
from kafka_io.metadata import Cluster, GroupInfo, TopicInfo
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import CancelToken, ReadProgress, read_topic
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


@dataclass(frozen=True)
class ClusterListing:
    cluster_id: str | None
    topics: list[TopicInfo]
    groups: list[GroupInfo]
    groups_error: str | None = None


def file_decoder_factory(path: Path) -> Callable[[], Decoder]:
    """Decoders for a file's values: its own schemas and formats, or JSON auto-detect."""
    if detect_file_kind(path) == "avro":
        ef = open_event_file(path)
        return ef.decoder
    return lambda: Decoder(ValueFormat.AUTO)


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


def read_topic_job(
    profile: ConnectionProfile,
    topic: str,
    sink: Sink,
    *,
    rules: EventRules | None = None,
    value_format: ValueFormat = ValueFormat.AUTO,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> Callable[[JobContext], ReadDone]:
    """Read a topic up to the watermarks seen at the start, per-partition progress."""

    def job(ctx: JobContext) -> ReadDone:
        token = CancelToken()
        ctx.token.on_cancel(token.cancel)
        decoder = Decoder(value_format, rules, registry=make_registry(profile))

        def on_progress(p: ReadProgress) -> None:
            ctx.progress(Progress(topic, dict(p.read), dict(p.total), p.status))

        done = 0
        for batch in read_topic(
            profile, topic, decoder, from_ms=from_ms, to_ms=to_ms,
            cancel=token, on_progress=on_progress,
        ):  # fmt: skip
            if not sink(batch, ctx.token):
                token.cancel()
                break
            done += len(batch)
        return ReadDone(done, token.cancelled)

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


def cluster_decoder_factory(
    profile: ConnectionProfile,
    rules: EventRules | None = None,
    value_format: ValueFormat = ValueFormat.AUTO,
) -> Callable[[], Decoder]:
    return lambda: Decoder(value_format, rules, registry=make_registry(profile))
