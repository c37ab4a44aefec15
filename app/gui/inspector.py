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
from app.gui.inspector_earlier import EarlierEvents, EarlierReplayer, covered, step_of
from app.gui.inspector_snapshots import InspectorSnapshots, SnapshotsRead, StartPlan
from app.gui.inspector_step import StepResult, compute_step
from app.gui.worker import JobContext, Task, Workers
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.replay.diff import StateDiff
from app.replay.folds import FoldRegistry, FoldSpec
from app.replay.replayer import Replayer
from app.replay.runner import FoldFailure
from app.replay.snapshot_replay import (
    SnapshotReplayer,
    replayer_from,
    snapshot_title,
)
from app.replay.upcasting import Upcasting
from kafka_io.decode import Decoder
from kafka_io.event import EventRef
from widgets.aggregate_inspector import AggregateInspector


@dataclass(frozen=True)
class TimelineResult:
    refs: list[EventRef]
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
        # "Start from snapshots" (the Corrections controller sets it up).
        self.snapshots: InspectorSnapshots | None = None
        self._row_count = 0  # the aggregate's events (as shown) the timeline stands for
        self.earlier = EarlierEvents()  # events read from before a window, replayed first
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
        if self.snapshots is not None:
            self.snapshots.forget()
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
        *,
        row: int | None = None,
    ) -> None:
        """Show ``aggregate``'s timeline and select ``step`` (0-based; None: the last),
        or the step that shows index row ``row``."""
        self.index, self.topic, self.aggregate = index, topic, aggregate
        self.fold = self.fold_for(topic)
        names = [s.name for s in self.registry.matching(topic)]
        self.widget.set_folds(names, self.fold.name)
        rows = self.rows(index, aggregate)
        plan = self._plan(index, topic, aggregate, rows)
        if plan is None:
            self._read_snapshots(index, topic, aggregate, step, row)
            return
        self._replayer = replayer = self._make_replayer(index, topic, aggregate, rows, plan)
        self._row_count = len(rows)
        if row is not None:
            hits = (rows == row).nonzero()[0]
            step = step_of(replayer, int(hits[0])) if len(hits) else None
        self._show_notes(topic, aggregate, plan.notes)
        self._generation += 1
        generation = self._generation
        self._pending_step = step
        refs = replayer.refs()
        self.widget.set_timeline(aggregate, refs)
        if plan.header:
            self.widget.aggregate_label.setText(f"{aggregate}  ·  {plan.header}")

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

    def _plan(
        self, index: TopicIndex, topic: str, aggregate: str, rows: np.ndarray
    ) -> StartPlan | None:
        if self.snapshots is None:
            return StartPlan()
        self.snapshots.offer(topic)
        return self.snapshots.plan(index, topic, aggregate, rows, self.as_of)

    def _make_replayer(
        self, index: TopicIndex, topic: str, aggregate: str, rows: np.ndarray, plan: StartPlan
    ) -> Replayer:
        assert self.fold is not None
        decoder = self.make_decoder() if self.make_decoder is not None else None
        earlier = self.earlier.of(index, topic, aggregate) if self.as_of is None else None
        if earlier and plan.start is None:
            upcast = self.upcast_for(topic)
            return EarlierReplayer(
                index, aggregate, self.fold, earlier, rows, decoder=decoder, upcast=upcast
            )
        return replayer_from(
            index, aggregate, self.fold, rows, plan.start, plan.snapshot_topic,
            decoder=decoder, upcast=self.upcast_for(topic),
        )  # fmt: skip

    def _read_snapshots(
        self, index: TopicIndex, topic: str, aggregate: str, step: int | None, row: int | None
    ) -> None:
        """Read the aggregate's snapshots on the worker, then show it from them."""
        snapshots = self.snapshots
        assert snapshots is not None
        self._replayer = None
        self._generation += 1
        generation = self._generation
        self.widget.show_message(f"{aggregate}: reading its snapshots…")

        def done(read: SnapshotsRead) -> None:
            if generation == self._generation:
                snapshots.store(read)
                self.show_aggregate(index, topic, aggregate, step, row=row)

        self._submit(f"snapshots of {aggregate}", snapshots.read_job(index, topic, aggregate), done)

    def refresh(self) -> None:
        """Rebuild the timeline (snapshots switched on or off), keeping the event shown."""
        index, topic, aggregate, replayer = self.index, self.topic, self.aggregate, self._replayer
        if index is None or topic is None or aggregate is None:
            return
        step = self.widget.step
        row = replayer.row_id(step) if replayer is not None and 0 <= step < len(replayer) else None
        self.show_aggregate(index, topic, aggregate, row=row)

    def _show_notes(self, topic: str, aggregate: str, more: tuple[str, ...] = ()) -> None:
        lines = [] if self.as_of is None else [f"{self.as_of.label()}: later events are hidden"]
        lines += more
        if self.index is not None:
            every = self.index.rows_for_aggregate(aggregate)
            parts = sorted(set(self.index.partition_col[every].tolist()))
            lines += self.history_notes(topic, parts)
        self.widget.set_note(lines)

    def select_row(self, index: TopicIndex, topic: str, aggregate: str, row_id: int) -> None:
        """A table row was selected: its aggregate, positioned at that event."""
        rows = self.rows(index, aggregate)
        hits = (rows == row_id).nonzero()[0]
        replayer = self._replayer
        if (
            self.index is index
            and self.aggregate == aggregate
            and self.topic == topic
            and replayer is not None
            and covered(replayer) == len(rows)
        ):
            if len(hits):
                step = step_of(replayer, int(hits[0]))
                self._pending_step = step  # wins over the step the timeline job had
                self.widget.select_step(step)
            return
        self.show_aggregate(index, topic, aggregate, row=row_id)

    def index_grew(self) -> None:
        """The index got rows: if the shown aggregate got events, rebuild its timeline
        and keep the user's selected event (not its number) selected."""
        index, topic, aggregate, replayer = self.index, self.topic, self.aggregate, self._replayer
        if index is None or topic is None or aggregate is None or replayer is None:
            return
        rows = self.rows(index, aggregate)
        if len(rows) == self._row_count:
            return
        step = self.widget.step
        newest = step < 0 or step == len(replayer) - 1
        if self._extend(replayer, rows):
            if newest:  # following: the newest event's state, blame and changes
                self.widget.select_step(len(replayer) - 1)
            return
        # At the newest event (or none picked): follow the newest; stepped back in
        # history: stay on the event picked (a snapshot covering none stays first).
        if newest:
            self.show_aggregate(index, topic, aggregate)
            return
        keep = replayer.row_id(step)
        self.show_aggregate(index, topic, aggregate, 0 if keep is None else None, row=keep)

    def _extend(self, replayer: Replayer, rows: np.ndarray) -> bool:
        """New events that only came after the timeline's (following live): added to the
        replayer, whose checkpoints stay, and to the timeline, instead of replaying the
        whole history again at every refresh."""
        known = len(replayer)
        if type(replayer) is not Replayer or not replayer.extend(rows):
            return False  # events before the window or snapshots: rebuilt as a whole
        self._row_count = len(rows)
        self.widget.extend_timeline([replayer.ref(i) for i in range(known, len(replayer))])
        return True

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
        row = replayer.row_id(step)
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
        replayer = self._replayer
        if isinstance(replayer, SnapshotReplayer) and view.step == 0 and failure is None:
            self.widget.state_title.setText(snapshot_title(replayer, len(view.changed)))
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
