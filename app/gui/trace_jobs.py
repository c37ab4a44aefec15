"""Trace and health in the window: the jobs (run by the worker pool) and two small
controllers that connect the Trace view and the Health panel to them.

Both read the indexes the window holds (every topic read so far).  The ids are computed
in the job, beside each index, once (``app.trace.ids``); the texts of the events on screen
are read on the GUI thread with the indexes' own decoders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject

from app.gui.dataset import Dataset
from app.gui.worker import JobContext, Task, Workers
from app.health.check import HealthReport, check_health
from app.health.config import HealthConfig, parse_duration, parse_types
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.replay.folds import FoldRegistry
from app.trace.details import TraceTexts
from app.trace.ids import IdColumns
from app.trace.rules import IdRuleBook
from app.trace.space import DecoderFactory, TraceSpace
from app.trace.tree import Trace, trace_event
from widgets.health_panel import HealthPanel, HealthRequest
from widgets.trace_view import TraceView

NAME_THE_IDS = "Topic > Trace and health ids… names where a topic keeps its ids."


@dataclass
class TraceResult:
    trace: Trace
    columns: dict[str, IdColumns]  # the id columns the trace was built from, per topic
    focus: int | None  # the node of the event the trace was asked for


def trace_job(
    indexes: dict[str, TopicIndex],
    topic: str,
    partition: int,
    offset: int,
    decoders: DecoderFactory,
    rules: IdRuleBook | None = None,
) -> Callable[[JobContext], TraceResult | None]:
    """The trace of the event at ``topic:partition:offset`` (None: not indexed)."""

    def job(ctx: JobContext) -> TraceResult | None:
        space = TraceSpace(indexes, rules, decoders, lambda: ctx.cancelled)
        ctx.progress(f"Reading the ids of {len(indexes)} topics…")
        trace = trace_event(space, topic, partition, offset)
        ctx.check()
        if trace is None:
            return None
        used = {trace.topics[int(t)] for t in np.unique(trace.topic).tolist()}
        columns = {t: space.columns(t) for t in used}
        return TraceResult(trace, columns, trace.node_of(topic, partition, offset))

    return job


def health_config(request: HealthRequest) -> HealthConfig:
    """The panel's fields as a config (ValueError says which field is wrong)."""
    return HealthConfig(
        saga_starts=parse_types(request.saga_starts),
        saga_ends=parse_types(request.saga_ends),
        saga_window_ms=parse_duration(request.saga_window, "h"),
    )


def health_job(
    indexes: dict[str, TopicIndex],
    config: HealthConfig,
    decoders: DecoderFactory,
    registry: FoldRegistry | None = None,
    rules: IdRuleBook | None = None,
    masker: Masker | None = None,
) -> Callable[[JobContext], HealthReport]:
    def job(ctx: JobContext) -> HealthReport:
        return check_health(
            indexes, config, rules=rules, registry=registry, decoders=decoders,
            cancelled=lambda: ctx.cancelled, progress=ctx.progress, masker=masker,
        )  # fmt: skip

    return job


def row_at(index: TopicIndex, partition: int, offset: int) -> int | None:
    """The row of ``partition``/``offset`` in ``index`` (for selecting it in the table)."""
    n = len(index)
    hits = np.flatnonzero((index.offset_col[:n] == offset) & (index.partition_col[:n] == partition))
    return int(hits[0]) if len(hits) else None


def _indexed(dataset: Dataset) -> dict[str, TopicIndex]:
    return {topic: index for topic, index in dataset.indexes.items() if len(index)}


class TraceController(QObject):
    """Runs a trace job for the event asked for and shows the result in the view."""

    def __init__(
        self,
        workers: Workers,
        view: TraceView,
        dataset: Callable[[], Dataset | None],
        rules: Callable[[], IdRuleBook | None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workers, self.view, self.dataset, self.rules = workers, view, dataset, rules
        self.task: Task | None = None
        self.masker: Callable[[], Masker] = Masker  # the window's, once it is in one

    def trace_event(self, topic: str, partition: int, offset: int) -> None:
        dataset = self.dataset()
        if dataset is None or not _indexed(dataset):
            self.view.show_message("Open a file or a topic first: a trace looks at what is read.")
            return
        if self.task is not None:
            self.task.cancel()
        indexes = _indexed(dataset)
        self.view.show_message(
            f"Tracing {topic} p{partition}@{offset} across {len(indexes)} topics…"
        )
        decoders, rules = dataset.source.make_decoder, self.rules()
        job = trace_job(indexes, topic, partition, offset, decoders, rules)

        def done(result: TraceResult | None) -> None:
            if result is None:
                self.view.show_message(f"{topic} p{partition}@{offset} is not indexed.")
                return
            if result.trace.note:  # an id that was not found: where the user names it
                result.trace.note += f"\n{NAME_THE_IDS}"
            texts = TraceTexts(result.trace, indexes, result.columns, masker=self.masker())
            self.view.show_trace(result.trace, texts, result.focus)

        self.task = self.workers.submit(
            "trace", job, on_result=done,
            on_failed=lambda message: self.view.show_message(f"Trace failed: {message}"),
            on_progress=lambda text: self.view.show_message(str(text)),
        )  # fmt: skip


class HealthController(QObject):
    """Runs a health check of every indexed topic when the panel asks for one."""

    def __init__(
        self,
        workers: Workers,
        panel: HealthPanel,
        dataset: Callable[[], Dataset | None],
        registry: Callable[[], FoldRegistry | None] = lambda: None,
        rules: Callable[[], IdRuleBook | None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workers, self.panel, self.dataset = workers, panel, dataset
        self.registry, self.rules = registry, rules
        self.task: Task | None = None
        self.masker: Callable[[], Masker] = Masker  # the window's, once it is in one
        panel.check_requested.connect(self.check)

    def check(self, request: HealthRequest | None = None) -> None:
        dataset = self.dataset()
        if dataset is None or not _indexed(dataset):
            self.panel.show_error("Open a file or a topic first: the check reads the index.")
            return
        try:
            config = health_config(request or self.panel.request())
        except ValueError as exc:
            self.panel.show_error(str(exc))
            return
        if self.task is not None:
            self.task.cancel()
        indexes = _indexed(dataset)
        self.panel.show_running(f"Checking {', '.join(indexes)}…")
        job = health_job(indexes, config, dataset.source.make_decoder, self.registry(),
                         self.rules(), self.masker())  # fmt: skip
        self.task = self.workers.submit(
            "health check", job, on_result=self.panel.show_report,
            on_failed=lambda message: self.panel.show_error(f"Health check failed: {message}"),
            on_progress=lambda text: self.panel.show_running(str(text)),
        )  # fmt: skip
