"""Replay for corrections in the window: compare two folds, check snapshots, event
versions, and the upcasted form of the selected event.

The Replay menu starts each as a job on the window's workers; the Corrections dock
shows the result, through the masker in force.  The detail pane gains an Upcasted tab
(the event's version, the upcasters that ran, the value before and after) and the
inspector replays through the topic's upcasters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from app.audit.as_of import format_moment
from app.gui.compare_choices import CompareChoices
from app.gui.corrections_dialog import CompareDialog, fold_label
from app.gui.corrections_snapshots import (
    SnapshotState,
    check_summary,
    snapshot_rows,
    snapshot_state,
    snapshot_state_text,
    verdict_text,
)
from app.gui.fold_files import FoldFiles
from app.gui.inspector import InspectorController
from app.gui.inspector_snapshots import InspectorSnapshots
from app.gui.layout import Panes
from app.gui.loader import Loader
from app.gui.masking_view import Masking
from app.gui.topic_view import TopicView
from app.gui.upcast_tab import UpcastTab
from app.gui.worker import JobContext, Task, Workers
from app.masking.masker import Masker
from app.replay.compare import AggregateDiff, CompareCancelled
from app.replay.compare_run import CompareFailed, CompareReport, compare_topic
from app.replay.diff import diff_states
from app.replay.folds import FoldSpec
from app.replay.masked_diff import mask_diff
from app.replay.replayer import Replayer
from app.replay.snapshot_check import SnapshotCheck, check_snapshots
from app.replay.snapshots import SnapshotSpec
from app.replay.upcasting import UpcastChainError, Upcasting
from app.replay.versions import VersionFact, schema_version_lookup, upcasting_for, version_facts
from kafka_io.event import EventRef
from widgets.corrections_panel import COMPARE, SNAPSHOTS, VERSIONS, CorrectionsPanel
from widgets.event_detail import EventDetail


class Host(Protocol):
    """The parts of the main window this controller uses."""

    loader: Loader
    topic_view: TopicView
    folds: FoldFiles
    workers: Workers
    masking: Masking
    inspector_ctl: InspectorController
    panes: Panes
    detail: EventDetail

    def show_error(self, message: str) -> None: ...

    def show_failure_text(self, text: str, level: str = "error") -> None: ...


def where(ref: EventRef | None) -> str:
    return "" if ref is None else f"p{ref.partition}@{ref.offset}"


@dataclass
class Compared:
    report: CompareReport
    fold_a: FoldSpec
    fold_b: FoldSpec
    upcast: Upcasting | None
    labels: tuple[str, str]
    at_ms: int | None = None


class Corrections(QObject):
    def __init__(self, main: QMainWindow, window: Host) -> None:
        super().__init__(main)
        self.main, self.window = main, window
        self.panel = CorrectionsPanel()
        self.dock = QDockWidget("Corrections", main)
        self.dock.setObjectName("correctionsDock")
        self.dock.setWidget(self.panel)
        main.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.upcast_tab = UpcastTab(window.detail)
        self.choices = CompareChoices(main, window.show_failure_text)
        self.compared: Compared | None = None
        self.checked: SnapshotCheck | None = None
        self.started: SnapshotState | None = None
        self.facts: list[VersionFact] = []
        self._task: Task | None = None
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.aggregate_chosen.connect(self.show_aggregate)
        self.panel.snapshot_chosen.connect(self._snapshot_chosen)
        window.topic_view.event_selected.connect(lambda _ev, row: self._event_selected(row))
        window.masking.changed.connect(lambda _m: self._masking_changed())
        window.inspector_ctl.upcast_for = self.upcasting
        ctl = window.inspector_ctl
        snapshots = ctl.snapshots = InspectorSnapshots(
            ctl.widget, lambda t: window.folds.library.extras.snapshots.for_topic(t),
            lambda: d.source if (d := window.loader.dataset) else None, window.show_error,
        )  # fmt: skip
        snapshots.changed.connect(ctl.refresh)

    # --- what the window has open ------------------------------------------------------

    @property
    def masker(self) -> Masker:
        return self.window.masking.masker

    def _open_topic(self) -> str | None:
        topic, dataset = self.window.topic_view.topic, self.window.loader.dataset
        if topic is None or dataset is None:
            self.window.show_error("Open a topic first.")
            return None
        return topic

    def upcasting(self, topic: str) -> Upcasting | None:
        """The topic's upcasters (None when none applies, or when their chain is broken:
        then the window says why)."""
        dataset = self.window.loader.dataset
        if dataset is None:
            return None
        try:
            return upcasting_for(self.window.folds.library.extras, dataset.source, topic)
        except UpcastChainError as exc:
            self.window.show_error(f"Upcasters not used: {exc}")
            return None

    def _start(self, name: str, tab: int, job: Any, done: Any) -> None:
        self.cancel()
        if not self.dock.isVisible():
            self.dock.show()
            # Beside the inspector, the wider of the two: its tables have long rows.
            inspector = self.window.panes.inspector_dock
            width = max(self.main.width(), 800)
            self.main.resizeDocks(
                [inspector, self.dock], [width * 2 // 5, width * 3 // 5], Qt.Orientation.Horizontal
            )
        self.dock.raise_()
        self.panel.busy(f"{name.capitalize()}…", tab)

        def failed(message: str) -> None:
            self.panel.idle(f"{name.capitalize()} failed: {message}")
            self.window.show_failure_text(f"{name.capitalize()} failed: {message}")

        self._task = self.window.workers.submit(
            name, job, on_result=done, on_failed=failed,
            on_progress=lambda p: self.panel.set_progress(*p),
        )  # fmt: skip

    def cancel(self) -> None:
        if self._task is not None and not self._task.done:
            self._task.cancel()
            self.panel.idle("Cancelled.")
        self._task = None

    # --- compare -----------------------------------------------------------------------

    def compare_dialog(self) -> CompareDialog | None:
        """Replay > Compare folds…: pick A and B (B may come from another file or another
        git revision of A's file), over every event or those up to a moment."""
        topic = self._open_topic()
        if topic is None:
            return None
        self.choices.close()
        dialog = CompareDialog(
            list(self.window.folds.registry.matching(topic)), self.choices.from_file,
            self.main, at_revision=self.choices.at_revision,
        )  # fmt: skip
        dialog.accepted.connect(
            lambda: self.run_compare(*dialog.chosen(), dialog.at_ms, dialog.chosen_labels())
        )
        dialog.open()
        return dialog

    def run_compare(
        self, fold_a: FoldSpec, fold_b: FoldSpec, at_ms: int | None = None,
        labels: tuple[str, str] | None = None,
    ) -> None:  # fmt: skip
        topic, dataset = self._open_topic(), self.window.loader.dataset
        if topic is None or dataset is None:
            return
        labels = labels or (fold_label(fold_a), fold_label(fold_b))
        source, upcast = dataset.source.clone(), self.upcasting(topic)

        def job(ctx: JobContext) -> Compared:
            def progress(done: int, total: int) -> None:
                ctx.progress((done, total))

            try:
                report = compare_topic(
                    source, topic, fold_a, fold_b, upcast=upcast, cancel=ctx.token,
                    progress=progress, at_ms=at_ms,
                )  # fmt: skip
            except CompareCancelled:
                ctx.check()
                raise
            except CompareFailed as exc:
                raise RuntimeError(str(exc)) from exc
            return Compared(report, fold_a, fold_b, upcast, labels, at_ms)

        self._start(f"compare {fold_a.name} with {fold_b.name}", COMPARE, job, self._compared)

    def _compared(self, compared: Compared) -> None:
        self.compared = compared
        report = compared.report
        rows = [
            (d.aggregate, where(d.first), d.first.type if d.first else "", len(d.diff.changes))
            for d in report.differ
        ]
        self.panel.show_compare(rows, *compared.labels)
        text = (
            f"{len(report.differ):,} of {report.aggregates:,} aggregates differ "
            f"({report.events:,} events, {report.processes} process"
            f"{'es' if report.processes != 1 else ''}, {report.seconds:.1f} s)"
        )
        if compared.at_ms is not None:
            text += f"; events up to {format_moment(compared.at_ms)}"
        if report.incomplete:
            text += "; incomplete: " + "; ".join(report.incomplete)
        self.panel.idle(text)

    def _found(self, aggregate: str) -> AggregateDiff | None:
        if self.compared is None:
            return None
        return next((d for d in self.compared.report.differ if d.aggregate == aggregate), None)

    def show_aggregate(self, aggregate: str) -> None:
        """Both states where the folds part, side by side; the inspector at that event."""
        found, compared = self._found(aggregate), self.compared
        view, topic = self.window.topic_view, self.window.topic_view.topic
        index = view.index
        if found is None or compared is None or index is None or topic is None:
            return
        step = max(found.step, 1) if found.first is not None else found.events
        dataset = self.window.loader.dataset
        decoder = dataset.source.make_decoder() if dataset is not None else None

        def job(_ctx: JobContext) -> tuple[Any, Any]:
            states = []
            for fold in (compared.fold_a, compared.fold_b):
                replayer = Replayer.from_index(
                    index, aggregate, fold, decoder=decoder, upcast=compared.upcast
                )
                states.append(replayer.step(min(step, len(replayer))).state)
            return states[0], states[1]

        def shown(states: tuple[Any, Any]) -> None:
            a, b = (self.masker.state(s) for s in states)
            changed = [c.path for c in mask_diff(self.masker, diff_states(*states)).changes]
            first = found.first
            text = (
                f"{aggregate}: the states part after event {found.step} of {found.events}, "
                f"{where(first)} {first.type}"
                if first is not None
                else f"{aggregate}: the states differ"
            )
            self.panel.show_sides(text, a, b, changed)

        self.window.workers.submit(f"states of {aggregate}", job, on_result=shown)
        rows = self.window.inspector_ctl.rows(index, aggregate)
        if len(rows):
            self.window.inspector_ctl.show_aggregate(index, topic, aggregate, step - 1)
            self.window.panes.inspector_dock.show()

    # --- snapshots ---------------------------------------------------------------------

    def _adapter(self, topic: str) -> SnapshotSpec | None:
        spec = self.window.folds.library.extras.snapshots.for_topic(topic)
        if spec is None:
            self.window.show_failure_text(
                f"No snapshot adapter for {topic}: write one with @snapshots in a fold file.",
                "info",
            )
        return spec

    def check_snapshots(self) -> None:
        """Replay > Check snapshots: drift of the open topic's snapshots."""
        topic, dataset = self._open_topic(), self.window.loader.dataset
        if topic is None or dataset is None:
            return
        spec = self._adapter(topic)
        if spec is None:
            return
        fold = self.window.inspector_ctl.fold_for(topic)
        source, upcast = dataset.source.clone(), self.upcasting(topic)

        def job(ctx: JobContext) -> SnapshotCheck:
            return check_snapshots(source, topic, spec, fold, upcast=upcast, cancel=ctx.token)

        self._start(f"check the snapshots of {topic}", SNAPSHOTS, job, self._snapshots_checked)

    def _snapshots_checked(self, check: SnapshotCheck) -> None:
        self.checked = check
        self.panel.show_snapshots(snapshot_rows(check))
        self.panel.idle(check_summary(check))

    def _snapshot_chosen(self, row: int) -> None:
        check = self.checked
        if check is not None and 0 <= row < len(check.verdicts):
            self.panel.snapshot_diff.setPlainText(verdict_text(check.verdicts[row], self.masker))

    def state_from_snapshot(self) -> None:
        """Replay > State from snapshot: the selected event's aggregate, started from its
        latest usable snapshot at or before that event (and whether that agrees)."""
        topic, dataset = self._open_topic(), self.window.loader.dataset
        index, row = self.window.topic_view.index, self.window.topic_view.selected_row_id()
        if topic is None or dataset is None or index is None:
            return
        aggregate = index.aggregate_of(row) if row is not None else None
        spec = self._adapter(topic)
        if aggregate is None or row is None or spec is None:
            if spec is not None:
                self.window.show_error("Select an event of an aggregate first.")
            return
        fold, source = self.window.inspector_ctl.fold_for(topic), dataset.source.clone()
        upcast, decoder = self.upcasting(topic), dataset.source.make_decoder()

        def job(ctx: JobContext) -> SnapshotState:
            return snapshot_state(source, spec, index, aggregate, row, fold, upcast, decoder,
                                  ctx.token)  # fmt: skip

        def done(got: SnapshotState) -> None:
            self.started = got
            self.panel.snapshot_diff.setPlainText(snapshot_state_text(got, self.masker))
            self.panel.idle(got.replay.note)

        self._start(f"state of {aggregate} from a snapshot", SNAPSHOTS, job, done)

    # --- versions ----------------------------------------------------------------------

    def version_facts(self) -> None:
        """Replay > Event versions: per type, which versions occur, how many, where."""
        topic, dataset = self._open_topic(), self.window.loader.dataset
        index = self.window.topic_view.index
        if topic is None or dataset is None or index is None:
            return
        source = dataset.source
        rule = source.settings.for_topic(topic).versions
        lookup = schema_version_lookup(source, topic)

        def job(ctx: JobContext) -> list[VersionFact]:
            return version_facts(
                index, rule, decoder=source.make_decoder(), schema_version=lookup,
                cancel=ctx.token, progress=lambda d, t: ctx.progress((d, t)),
            )  # fmt: skip

        def done(facts: list[VersionFact]) -> None:
            self.facts = facts
            rows = [
                (f.type, f.version or "(none)", f.count, where(f.first), where(f.last))
                for f in facts
            ]
            self.panel.show_versions(rows)
            self.panel.idle(f"Versions of {topic} by the rule {rule}")

        self._start(f"versions of {topic}", VERSIONS, job, done)

    # --- the detail pane ---------------------------------------------------------------

    def _event_selected(self, row: int) -> None:
        index, topic = self.window.topic_view.index, self.window.topic_view.topic
        if index is None or topic is None or not 0 <= row < len(index):
            self.upcast_tab.explain(None, None, self.masker)
            return
        # The real value (the table's may be masked): upcasters need it; shown masked.
        self.upcast_tab.explain(index.event(row), self.upcasting(topic), self.masker)

    def _masking_changed(self) -> None:
        row = self.window.topic_view.selected_row_id()
        if row is not None:
            self._event_selected(row)
        if self.compared is not None:
            self._compared(self.compared)
        if self.checked is not None:
            self._snapshots_checked(self.checked)
        if self.started is not None:
            self.panel.snapshot_diff.setPlainText(snapshot_state_text(self.started, self.masker))
