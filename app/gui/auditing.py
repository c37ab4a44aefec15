"""The auditor's commands in the window: every aggregate's state at the as-of (the
States dock), and an evidence report of the aggregate in the inspector.

The work is in ``app.gui.audit_jobs`` (run in workers); this wires it to the open
topic, the inspector's fold and aggregate, and as-of mode, and says what happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget, QFileDialog, QWidget

from app.audit.as_of import AsOf, format_moment
from app.audit.states import StatesResult
from app.gui.audit_jobs import AuditDone, audit_report_job, states_job
from app.gui.inspector import InspectorController
from app.gui.loader import Loader
from app.gui.topic_view import TopicView
from app.gui.window_jobs import whole_history_refusal
from app.gui.worker import Task, Workers
from app.replay.snapshot_replay import topic_event_of
from widgets.states_table import StatesTable


class Auditing(QObject):
    states_shown = Signal(object)  # StatesResult (tests wait on it)
    report_written = Signal(object)  # AuditDone

    def __init__(
        self,
        loader: Loader,
        topic_view: TopicView,
        inspector: InspectorController,
        as_of: Callable[[], AsOf | None],
        workers: Workers,
        table: StatesTable,
        dock: QDockWidget,
        say: Callable[[str, str], None],  # (text, level): "info" | "error"
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.loader, self.topic_view, self.inspector = loader, topic_view, inspector
        self.as_of, self.workers, self.table, self.dock, self.say = (
            as_of, workers, table, dock, say,
        )  # fmt: skip
        self._states: Task | None = None

    # --- every aggregate's state ---------------------------------------------------------

    def states(self) -> None:
        index, topic, dataset = self.topic_view.index, self.topic_view.topic, self.loader.dataset
        if index is None or topic is None or dataset is None or not len(index):
            self.say("Open a topic first: the states are of its aggregates.", "error")
            return
        refusal = whole_history_refusal(index, "The state of every aggregate")
        if refusal is not None:
            self.say(refusal, "error")
            return
        if self._states is not None and not self._states.done:
            self._states.cancel()
        fold, as_of = self.inspector.fold_for(topic), self.as_of()
        when = as_of.label() if as_of is not None else "Latest"
        self.dock.show()
        self.dock.raise_()
        self.table.set_rows([], f"{when}: folding every aggregate of {topic} with {fold.name}…")

        def progress(value: tuple[int, int]) -> None:
            done, total = value
            self.table.title.setText(f"{when}: {done:,} of {total:,} aggregates folded…")

        def shown(result: StatesResult) -> None:
            masker = self.topic_view.masker  # folded on the real values; shown masked
            if masker.active:
                rows = [replace(r, state=masker.state(r.state)) for r in result.rows]
                result = replace(result, rows=rows)
            self.table.set_rows(result.rows, _title(topic, result))
            self.states_shown.emit(result)

        self._states = self.workers.submit(
            f"states of {topic}",
            states_job(index, fold, as_of, dataset.source.make_decoder),
            on_result=shown,
            on_progress=progress,
            on_failed=lambda message: self.say(f"States failed: {message}", "error"),
        )

    # --- an evidence report --------------------------------------------------------------

    def report_dialog(self, parent: QWidget | None = None) -> None:
        """Ask where, then write the report of the inspector's aggregate."""
        target = self._target()
        if target is None:
            return
        aggregate, _ = target
        suggested = re.sub(r"[^\w.-]+", "_", aggregate) + "-audit"
        chosen = QFileDialog.getExistingDirectory(parent, "Folder to put the report in")
        if chosen:
            self.report_to(Path(chosen) / suggested)

    def report_to(self, out_dir: Path) -> Task | None:
        """Write the report of the inspector's aggregate at the as-of into ``out_dir``
        (a new folder); without as-of mode, at the event the inspector shows."""
        target = self._target()
        dataset = self.loader.dataset
        if target is None or dataset is None:
            return None
        if self.topic_view.masker.active:
            self.say(
                "Masking is on: an audit report holds the real values (it must be "
                "verifiable), so it cannot be made while they are masked.",
                "error",
            )
            return None
        aggregate, as_of = target
        topic = self.inspector.topic or ""
        fold = self.inspector.fold_for(topic)
        self.say(f"Writing the audit report of {aggregate} ({as_of.label()})…", "info")
        return self.workers.submit(
            f"audit report of {aggregate}",
            audit_report_job(dataset.source, topic, aggregate, fold, as_of, out_dir),
            on_result=self._written,
            on_failed=lambda message: self.say(f"Audit report failed: {message}", "error"),
        )

    def _target(self) -> tuple[str, AsOf] | None:
        ctl = self.inspector
        aggregate, replayer = ctl.aggregate, ctl.replayer
        if aggregate is None or replayer is None or not len(replayer):
            self.say("Select an event of the aggregate to report on first.", "error")
            return None
        as_of = self.as_of()
        if as_of is None:
            step = ctl.widget.step
            step = step if step >= 0 else len(replayer) - 1
            # A snapshot step stands for the last event it covers, not the snapshot's write.
            ref = topic_event_of(replayer, ctl.index, step) if ctl.index is not None else None
            if ref is None:
                self.say(
                    "The snapshot step covers no event: select an event to report on.", "error"
                )
                return None
            as_of = AsOf.moment(ref.timestamp_ms)
        return aggregate, as_of

    def _written(self, done: AuditDone) -> None:
        state = done.manifest.get("state_sha256", "")[:16]
        self.say(
            f"Audit report written to {done.folder} "
            f"({len(done.manifest.get('events', []))} events, state SHA-256 {state}…); "
            f"check it with: event-explorer verify {done.folder}",
            "info",
        )
        self.report_written.emit(done)


def _title(topic: str, result: StatesResult) -> str:
    when = result.as_of.label() if result.as_of is not None else "Latest"
    text = f"{when}: {len(result.rows):,} aggregates of {topic}, fold {result.fold}"
    if result.failures:
        text += f" · {len(result.failures):,} failed (see their rows)"
    if not result.rows and result.first_timestamp_ms is not None:
        text += f" · the topic's first event is at {format_moment(result.first_timestamp_ms)}"
    return text
