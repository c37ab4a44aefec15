"""Wires the aggregate inspector to replay: every fold call runs in a worker.

One Replayer per (topic, aggregate, fold), used only from this controller's single
worker thread (a Replayer is not thread-safe, and the next step reuses its checkpoints).
A newer request cancels an older one, so dragging the slider never queues up work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.audit.as_of import AsOf, filter_rows
from app.gui.worker import JobContext, Task, Workers
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.replay.diff import StateDiff, changed_leaves
from app.replay.folds import FoldRegistry, FoldSpec
from app.replay.replayer import Replayer
from app.replay.runner import FoldError, FoldFailure
from app.replay.upcasting import Upcasting
from kafka_io.decode import Decoder
from kafka_io.event import Event, EventRef
from widgets.aggregate_inspector import AggregateInspector, StateView


@dataclass(frozen=True)
class TimelineResult:
    refs: list[EventRef]
    failure: FoldFailure | None


@dataclass(frozen=True)
class StepResult:
    view: StateView
    failure: FoldFailure | None


@dataclass(frozen=True)
class DiffResult:
    a: int
    b: int
    diff: StateDiff


class InspectorController(QObject):
    """Keeps ``AggregateInspector`` showing the state of the selected aggregate."""

    state_shown = Signal(object)  # StateView, after the widget shows it (tests wait on it)
    failed = Signal(str)
    stepped = Signal(int)  # the index row of the event the user stepped to

    def __init__(
        self, widget: AggregateInspector, registry: FoldRegistry, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.widget = widget
        self.registry = registry
        self.workers = Workers(max_threads=1)
        self.index: TopicIndex | None = None
        self.topic: str | None = None
        self.aggregate: str | None = None
        self.fold: FoldSpec | None = None
        self._chosen_fold: dict[str, str] = {}  # topic -> fold the user picked
        self._replayer: Replayer | None = None
        # A Decoder caches per thread: each replay (run on this controller's worker)
        # decodes with its own, not the index's display decoder of the GUI thread.
        self.make_decoder: Callable[[], Decoder] | None = None
        # What the state may show (folds run on the real values; results are masked).
        self.masker = Masker()
        # As-of mode: the timeline keeps what had been written by then.
        self.as_of: AsOf | None = None
        # Sentences about history that is gone, for a topic and the aggregate's partitions.
        self.history_notes: Callable[[str, list[int]], list[str]] = lambda _t, _p: []
        # A topic's upcasters (the Corrections controller knows them): replays apply them.
        self.upcast_for: Callable[[str], Upcasting | None] = lambda _t: None
        # An aggregate's events from before a window of its topic (read on request):
        # (topic, aggregate) -> (the index they precede, the events), replayed first.
        self.earlier: dict[tuple[str, str], tuple[TopicIndex, list[Event]]] = {}
        self._row_at: list[int | None] = []  # step -> index row (None: an earlier event)
        self._steps: dict[tuple[int, int], int] = {}  # (partition, offset) -> step
        self._pending_step: int | None = None
        self._task: Task | None = None
        self._generation = 0
        widget.step_selected.connect(self.request_step)
        widget.fold_selected.connect(self._fold_picked)
        widget.diff_requested.connect(self.request_diff)
        widget.show_message("Select an event in the table to inspect its aggregate.")

    # --- what to show --------------------------------------------------------------------

    def set_registry(self, registry: FoldRegistry) -> None:
        """Folds were (re)loaded: rebuild the replay with the current fold code."""
        self.registry = registry
        if self.index is not None and self.aggregate is not None and self.topic is not None:
            step = self.widget.step
            self.show_aggregate(self.index, self.topic, self.aggregate, step if step >= 0 else None)

    def set_masker(self, masker: Masker) -> None:
        """Show states through ``masker``; the step shown is shown again."""
        self.masker = masker
        if self._replayer is not None and self.widget.step >= 0:
            self.request_step(self.widget.step)

    @property
    def replayer(self) -> Replayer | None:
        """The replay of the aggregate shown (as-of applied), if any."""
        return self._replayer

    def set_as_of(self, as_of: AsOf | None) -> None:
        """Freeze the inspector at ``as_of`` (None: thaw), at the last event kept."""
        self.as_of = as_of
        if self.index is not None and self.aggregate is not None and self.topic is not None:
            self.show_aggregate(self.index, self.topic, self.aggregate)

    def rows(self, index: TopicIndex, aggregate: str) -> np.ndarray:
        """The aggregate's rows the inspector shows, in log order (as-of applied)."""
        return filter_rows(index, index.rows_for_aggregate(aggregate), self.as_of)

    def fold_for(self, topic: str) -> FoldSpec:
        chosen = self._chosen_fold.get(topic)
        if chosen is not None and chosen in self.registry:
            return self.registry.get(chosen)
        return self.registry.for_topic(topic)

    def show_aggregate(
        self,
        index: TopicIndex,
        topic: str,
        aggregate: str,
        step: int | None = None,
        at: tuple[int, int] | None = None,
    ) -> None:
        """Show ``aggregate``'s timeline and select ``step`` (0-based), or the event at
        ``at`` (partition, offset), or else the last."""
        self.index, self.topic, self.aggregate = index, topic, aggregate
        self.fold = self.fold_for(topic)
        names = [s.name for s in self.registry.matching(topic)]
        self.widget.set_folds(names, self.fold.name)
        decoder = self.make_decoder() if self.make_decoder is not None else None
        rows = self.rows(index, aggregate)
        self._replayer = self._replay(index, topic, aggregate, rows, decoder)
        self._show_notes(topic, aggregate)
        self._generation += 1
        generation = self._generation
        replayer = self._replayer
        refs = replayer.refs()
        self._steps = {(r.partition, r.offset): i for i, r in enumerate(refs)}
        self._pending_step = self._steps.get(at) if at is not None else step
        self.widget.set_timeline(aggregate, refs)

        def job(ctx: JobContext) -> TimelineResult:
            result = replayer.run(cancel=ctx.token)
            failure = (
                result.failure if result.failure and result.failure.kind != "cancelled" else None
            )
            return TimelineResult(refs, failure)

        self._submit(
            f"timeline {aggregate}",
            job,
            lambda r: self._timeline_ready(generation, r),
        )

    def include_earlier(
        self, index: TopicIndex, topic: str, aggregate: str, events: list[Event]
    ) -> None:
        """Replay ``events`` (the aggregate's, from before ``index``'s window) ahead of
        the window's own, and show them now if the aggregate is shown."""
        self.earlier[(topic, aggregate)] = (index, events)
        if (self.index, self.topic, self.aggregate) == (index, topic, aggregate):
            self.show_aggregate(index, topic, aggregate)

    def earlier_of(self, topic: str, aggregate: str) -> list[Event] | None:
        """The earlier events replayed for the aggregate on the index shown, if any."""
        kept = self.earlier.get((topic, aggregate))
        return kept[1] if kept is not None and kept[0] is self.index else None

    def _replay(
        self, index: TopicIndex, topic: str, aggregate: str, rows: np.ndarray, decoder: Any
    ) -> Replayer:
        assert self.fold is not None
        upcast = self.upcast_for(topic)
        earlier = self.earlier_of(topic, aggregate) if self.as_of is None else None
        row_list: list[int] = rows.tolist()
        if not earlier:
            self._row_at = list(row_list)
            return Replayer.from_index(
                index, aggregate, self.fold, decoder=decoder, rows=rows, upcast=upcast
            )
        shown = [index.event(row, decoder=decoder) for row in row_list]
        replayer = Replayer.from_events([*earlier, *shown], self.fold, aggregate, upcast=upcast)
        # The replay sorts all of them into log order: map its steps back to rows.
        row_of = {(e.partition, e.offset): row for e, row in zip(shown, row_list, strict=True)}
        self._row_at = [row_of.get((r.partition, r.offset)) for r in replayer.refs()]
        return replayer

    def _show_notes(self, topic: str, aggregate: str) -> None:
        lines = [] if self.as_of is None else [f"{self.as_of.label()}: later events are hidden"]
        if self.index is not None:
            every = self.index.rows_for_aggregate(aggregate)
            parts = sorted(set(self.index.partition_col[every].tolist()))
            lines += self.history_notes(topic, parts)
        self.widget.set_note(lines)

    def select_row(self, index: TopicIndex, topic: str, aggregate: str, row_id: int) -> None:
        """A table row was selected: its aggregate, positioned at that event."""
        rows = self.rows(index, aggregate)
        at = (int(index.partition_col[row_id]), int(index.offset_col[row_id]))
        if (
            self.index is index
            and self.aggregate == aggregate
            and self.topic == topic
            and self._replayer is not None
            and self._row_at.count(None) + len(rows) == len(self._replayer)
        ):
            step = self._steps.get(at)
            if step is not None:
                self._pending_step = step  # wins over the step the timeline job had
                self.widget.select_step(step)
            return
        self.show_aggregate(index, topic, aggregate, at=at)

    def index_grew(self) -> None:
        """The index got rows: if the shown aggregate got events, rebuild its timeline
        and keep the user's selected event (not its number) selected."""
        index, topic, aggregate, replayer = self.index, self.topic, self.aggregate, self._replayer
        if index is None or topic is None or aggregate is None or replayer is None:
            return
        rows = self.rows(index, aggregate)
        if len(rows) + self._row_at.count(None) == len(replayer):
            return
        step = self.widget.step
        # At the newest event (or none picked): follow the newest; stepped back in
        # history: stay on the event picked.
        at_newest = step < 0 or step == len(replayer) - 1
        keep = None if at_newest else replayer.ref(step)
        at = None if keep is None else (keep.partition, keep.offset)
        self.show_aggregate(index, topic, aggregate, at=at)

    def clear(self, message: str) -> None:
        self._generation += 1
        self.index = self.aggregate = self.topic = None
        self._replayer = None
        self.widget.show_message(message)

    # --- jobs ----------------------------------------------------------------------------

    def _timeline_ready(self, generation: int, result: TimelineResult) -> None:
        if generation != self._generation:
            return
        if result.failure is not None:
            self.widget.show_failure(
                result.failure.describe(), result.failure.step, result.failure.traceback
            )
        step = self._pending_step
        last = len(result.refs) - 1
        target = last if step is None else min(step, last)
        if target < 0:
            return
        if self.widget.step == target:
            self.request_step(target)
        else:
            self.widget.select_step(target)  # emits step_selected -> request_step

    def request_step(self, step: int) -> None:
        replayer = self._replayer
        if replayer is None or not 0 <= step < len(replayer):
            return
        self._pending_step = step
        # An earlier event (before the window) has no row of the table to select.
        row = self._row_at[step] if step < len(self._row_at) else None
        if row is not None:
            self.stepped.emit(row)
        generation = self._generation

        def job(ctx: JobContext) -> StepResult:
            return compute_step(replayer, step, ctx)

        self._submit(f"step {step}", job, lambda r: self._step_ready(generation, r))

    def _step_ready(self, generation: int, result: StepResult) -> None:
        if generation != self._generation:
            return
        failure = result.failure
        if failure is not None:
            self.widget.show_failure(failure.describe(), failure.step, failure.traceback)
        view = result.view
        if self.masker.active:
            view = replace(view, state=self.masker.state(view.state))
        self.widget.show_state(view)
        self.state_shown.emit(view)

    def request_diff(self, a: int, b: int) -> None:
        replayer = self._replayer
        if replayer is None:
            return
        generation = self._generation

        def job(ctx: JobContext) -> DiffResult:
            return DiffResult(a, b, replayer.diff(a + 1, b + 1, cancel=ctx.token))

        def done(result: DiffResult) -> None:
            if generation == self._generation:
                mask = self.masker.changes
                changes = [
                    replace(c, old=mask(c.path, c.old), new=mask(c.path, c.new))
                    for c in result.diff.changes
                ]
                self.widget.show_diff(result.a, result.b, changes)

        self._submit(f"diff {a}..{b}", job, done, cancel_previous=False)

    def _fold_picked(self, name: str) -> None:
        if self.topic is None or self.index is None or self.aggregate is None:
            return
        if self.fold is not None and name == self.fold.name:
            return
        self._chosen_fold[self.topic] = name
        step = self.widget.step
        self.show_aggregate(self.index, self.topic, self.aggregate, step if step >= 0 else None)

    def _submit(self, name: str, job: Any, on_result: Any, *, cancel_previous: bool = True) -> None:
        if cancel_previous and self._task is not None and not self._task.done:
            self._task.cancel()
        self._task = self.workers.submit(name, job, on_result=on_result, on_failed=self._failed)

    def _failed(self, message: str) -> None:
        # Fold errors come back as results; this is anything else (a bug, a bad index).
        self.widget.show_failure(f"Replay failed: {message}")
        self.failed.emit(message)

    def shutdown(self) -> None:
        self.workers.shutdown()


def compute_step(replayer: Replayer, step: int, ctx: JobContext | None = None) -> StepResult:
    """The state after timeline event ``step`` (0-based), what it changed, and blame.

    A fold that fails at or before this event gives the state before the failing event,
    as the core does; the failure travels with the result instead of being raised.
    """
    cancel = ctx.token if ctx is not None else None
    n = step + 1
    after = replayer.step(n, cancel=cancel)
    failure = after.failure if after.failure and after.failure.kind != "cancelled" else None
    reached = after.events_applied
    before = replayer.step(max(0, reached - 1), cancel=cancel) if reached == n else after
    changed = changed_leaves(before.state, after.state) if reached == n else frozenset()
    try:
        blame: dict[str, EventRef] = replayer.blame(reached, cancel=cancel)
    except FoldError:
        blame = {}
    view = StateView(step=step, state=after.state, changed=changed, blame=blame)
    return StepResult(view, failure)
