"""The window's side of opening a window of a huge topic, and of the parallel build.

Jobs for ``Workers.submit`` and small helpers the loader and the inspector call; see
the notes in each.  The read runs in worker processes (``app.index.build``): the job's
batches are ``ColumnBatch``es in log order, appended on the GUI thread with
``append_batch`` (a few array copies per batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from app.gui.dataset import Dataset
from app.gui.jobs import ReadDone
from app.gui.settings import Settings
from app.gui.worker import JobContext
from app.index.batch import ColumnBatch
from app.index.storage import DiskFullError
from app.index.topic_cache import CachedSource, TopicPlan, build_plan, plan_topic, warm_workers
from app.index.topic_index import ReadOnlyIndexError, TopicIndex
from app.index.window import (
    HistoryBefore,
    WindowedIndexError,
    WindowSpec,
    events_before_window,
    require_whole_history,
)
from app.sources import ClusterSource
from kafka_io.cancel import CancelToken
from kafka_io.event import Event

# Where a build job hands its batches (False: stop, the GUI is done with this read):
# ColumnBatch or list[Event] (a BatchStream's put takes either).
ColumnSink = Callable[[Any, CancelToken], bool]


def plan_window_job(
    source: CachedSource, topic: str, window: WindowSpec | None = None
) -> Callable[[JobContext], TopicPlan]:
    """``plan_topic_job`` with a window: the stored index if it holds the window, else a
    fresh one that will hold it; the plan says what to read."""

    def job(ctx: JobContext) -> TopicPlan:
        mine = source.clone()
        if isinstance(mine, ClusterSource):
            warm_workers(mine, topic)  # they start while the stored index is checked
        return plan_topic(mine, topic, window=window)

    return job


def build_job(
    source: CachedSource, plan: TopicPlan, sink: ColumnSink, workers: int | None = None
) -> Callable[[JobContext], ReadDone]:
    """Read what the plan lacks on every core, as column batches in log order (Events
    for a source that is not a cluster), with per-partition progress and cancel."""

    def job(ctx: JobContext) -> ReadDone:
        read = build_plan(
            source.clone(), plan, workers=workers, cancel=ctx.token, on_progress=ctx.progress
        )
        for batch in read:
            if not all(sink(part, ctx.token) for part in _slices(batch)):
                ctx.token.cancel()
                break
        report = read.report
        cancelled = report.cancelled or ctx.cancelled
        return ReadDone(report.events, cancelled, incomplete=report.incomplete, report=report)

    return job


# Rows per batch handed to the GUI thread: the merge releases hundreds of thousands at
# once; in slices the table fills as it goes and no append holds the thread long.
GUI_BATCH_ROWS = 10_000


def _slices(batch: ColumnBatch | list[Event]) -> Iterator[ColumnBatch | list[Event]]:
    if isinstance(batch, ColumnBatch):
        yield from batch.parts(GUI_BATCH_ROWS)
    else:
        yield batch


def append_batch(index: TopicIndex, batch: ColumnBatch | list[Event]) -> str | None:
    """Add a batch of ``build_job`` to the index (on the GUI thread); None, or why it
    could not be added: the disk is full (cancel the read; the last saved index stays
    as it was and what was appended stays shown), or another window writes the index."""
    try:
        if isinstance(batch, ColumnBatch):
            index.append_columns(batch)
        else:
            index.append(batch)
    except DiskFullError as exc:
        return f"{exc.strerror}: the read stopped; the last saved index is kept"
    except ReadOnlyIndexError as exc:
        return str(exc)
    return None


def index_any(
    dataset: Dataset, topic: str | None, batch: ColumnBatch | list[Event]
) -> tuple[set[str], str | None]:
    """Add a batch of any read to the dataset (on the GUI thread): the topics that grew
    and None, or why the read must stop (see ``append_batch``)."""
    try:
        if isinstance(batch, ColumnBatch):
            assert topic is not None  # column batches come from one topic's build
            dataset.index(topic).append_columns(batch)
            return {topic}, None
        return dataset.append(batch), None
    except DiskFullError as exc:
        return set(), f"{exc.strerror}: the read stopped; the last saved index is kept"
    except ReadOnlyIndexError as exc:
        return set(), str(exc)


def verify_job(plan: TopicPlan) -> Callable[[JobContext], str | None]:
    """Wait for the background check of the stored index's checksums; the damage found,
    or None.  On damage, tell the user and read the topic again (the damaged index is
    never saved over: ``finish_topic`` refuses)."""

    def job(ctx: JobContext) -> str | None:
        verification = plan.index.verification
        damage = verification.wait() if verification is not None else None
        if damage is not None:
            plan.index.damaged = damage
        return damage

    return job


def history_before_window_job(
    source: CachedSource, index: TopicIndex, aggregate: str
) -> Callable[[JobContext], HistoryBefore]:
    """The aggregate's events before the index's window, by the cold path (its
    partition, its key, up to the window's start).  Show "N earlier events" and offer
    to include them: replay ``history.events`` followed by the window's events."""
    return lambda ctx: events_before_window(source.clone(), index, aggregate)


def whole_history_refusal(index: TopicIndex, what: str) -> str | None:
    """Why ``what`` (e.g. "The state of every aggregate") cannot be answered from this
    index, or None when it holds the whole topic: call before any whole-history job."""
    try:
        require_whole_history(index, what)
    except WindowedIndexError as exc:
        return str(exc)
    return None


# --- the choice remembered per topic -------------------------------------------------------


def _key(location: str) -> str:
    import hashlib

    return "windows/" + hashlib.sha1(location.encode()).hexdigest()[:16]


def remembered_window(settings: Settings, location: str, topic: str) -> WindowSpec:
    """The window last chosen for ``topic`` of the source at ``location`` (everything if
    none was)."""
    raw = settings.qs.value(_key(location), "")
    try:
        stored = orjson.loads(str(raw)) if raw else {}
    except orjson.JSONDecodeError:
        stored = {}
    return WindowSpec.from_json(stored.get(topic)) if isinstance(stored, dict) else WindowSpec()


def remember_window(settings: Settings, location: str, topic: str, spec: WindowSpec) -> None:
    raw = settings.qs.value(_key(location), "")
    try:
        stored = orjson.loads(str(raw)) if raw else {}
    except orjson.JSONDecodeError:
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    if spec.everything:
        stored.pop(topic, None)
    else:
        stored[topic] = spec.to_json()
    settings.qs.setValue(_key(location), orjson.dumps(stored).decode())
    settings.qs.sync()
