"""The jobs the window runs in workers: thin wrappers over the one read door.

Each returns a ``job(ctx)`` for ``Workers.submit``.  A job works on its own clone of the
source (librdkafka handles and decoder caches are per thread) and streams batches of
Events to a sink (the BatchStream to the GUI thread), which indexes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.gui.worker import JobContext
from app.index.topic_cache import (
    CachedSource,
    TopicPlan,
    finish_topic,
    let_go,
    plan_topic,
    read_plan,
)
from app.index.window import WindowSpec
from app.sources import Listing, Progress, Read, ReadReport, Source
from kafka_io.cancel import CancelToken
from kafka_io.event import Event

# Where a read job hands its batches: BatchStream.put (False: stop, the GUI is done).
Sink = Callable[[list[Event], CancelToken], bool]


@dataclass(frozen=True)
class ReadDone:
    events: int
    cancelled: bool
    reused: int = 0  # events that came from the stored index instead
    incomplete: str | None = None  # why the read stopped before its end
    report: ReadReport | None = None  # how far each partition got


def listing_job(source: Source) -> Callable[[JobContext], Listing]:
    """Topics and consumer groups of the source."""
    return lambda ctx: source.clone().listing()


def _drain(read: Read, sink: Sink, ctx: JobContext) -> ReadDone:
    for batch in read:
        if not sink(batch, ctx.token):
            ctx.token.cancel()
            break
    report = read.report
    cancelled = report.cancelled or ctx.cancelled
    return ReadDone(report.events, cancelled, incomplete=report.incomplete, report=report)


def read_all_job(source: Source, sink: Sink) -> Callable[[JobContext], ReadDone]:
    """Every topic of a source read in one pass (an event file)."""

    def job(ctx: JobContext) -> ReadDone:
        def progress(p: Progress) -> None:
            ctx.progress(p)

        read = source.clone().read(None, cancel=ctx.token, on_progress=progress)
        return _drain(read, sink, ctx)

    return job


def plan_topic_job(
    source: CachedSource, topic: str, persist: bool = True, window: WindowSpec | None = None
) -> Callable[[JobContext], TopicPlan]:
    """Load the topic's stored index, if it can be trusted, and plan the catch-up read
    (``persist=False``: no stored index, the whole topic; ``window``: only that part)."""

    def job(ctx: JobContext) -> TopicPlan:
        plan = plan_topic(source.clone(), topic, persist=persist, window=window)
        if ctx.cancelled:
            let_go(plan.index)  # replaced meanwhile: the next read of the topic needs its lock
        return plan

    return job


def read_plan_job(
    source: CachedSource, plan: TopicPlan, sink: Sink
) -> Callable[[JobContext], ReadDone]:
    """Read what the stored index lacks, with per-partition progress."""

    def job(ctx: JobContext) -> ReadDone:
        read = read_plan(source.clone(), plan, cancel=ctx.token, on_progress=ctx.progress)
        return _drain(read, sink, ctx)

    return job


def save_topic_job(plan: TopicPlan, report: ReadReport | None) -> Callable[[JobContext], None]:
    """Persist an index the GUI no longer appends to, up to where the read got."""
    return lambda ctx: finish_topic(plan, report)
