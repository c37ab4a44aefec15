"""The aggregate inspector: one aggregate's timeline, its state after any event, and diffs.

It shows what it is given and asks for the rest with signals: moving along the timeline
emits ``step_selected``; the composition root answers with ``show_state`` once a worker
has replayed the fold to that point.  Arrow keys step through the timeline."""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.replay.diff import Change
from widgets.aggregate_timeline import Timeline, TimelineModel
from widgets.event_detail import value_as_json
from widgets.event_table import local_time
from widgets.state_tree import RefLike, StateTree

ModelIndex = QModelIndex | QPersistentModelIndex
KIND_COLORS = {
    "added": QColor("#1e7b34"),
    "removed": QColor("#b3261e"),
    "changed": QColor("#8a5a00"),
}


@dataclass(frozen=True)
class StateView:
    """The state after timeline step ``step`` and how it came to be."""

    step: int
    state: Any
    changed: frozenset[str] = frozenset()  # paths the event at ``step`` changed
    blame: Mapping[str, RefLike] = field(default_factory=dict)  # path -> last setter


class AggregateInspector(QWidget):
    step_selected = Signal(int)
    fold_selected = Signal(str)
    diff_requested = Signal(int, int)
    audit_requested = Signal()  # "Audit report…": evidence of the state shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view: StateView | None = None  # the state shown
        self.aggregate_label = QLabel("No aggregate selected")
        font = self.aggregate_label.font()
        font.setBold(True)
        self.aggregate_label.setFont(font)
        self.fold_combo = QComboBox()
        self.fold_combo.setMinimumWidth(160)
        self.fold_combo.setToolTip("The fold that rebuilds the aggregate's state")
        self.fold_combo.currentIndexChanged.connect(self._fold_changed)
        self.audit_button = QPushButton("Audit report…")
        self.audit_button.setToolTip(
            "Write a report that proves this state: the exact records, the fold's code, "
            "hashes to verify (Audit > Export audit report…)"
        )
        self.audit_button.clicked.connect(self.audit_requested.emit)
        head = QHBoxLayout()
        head.addWidget(self.aggregate_label, 1)
        head.addWidget(QLabel("Fold:"))
        head.addWidget(self.fold_combo)
        head.addWidget(self.audit_button)
        # As-of mode, history that is gone: said above the timeline, not in a tooltip.
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5a4300; background: #fff4d6; padding: 3px;")
        self.note.setVisible(False)

        self.timeline_model = TimelineModel()
        self.timeline = Timeline()
        self.timeline.setModel(self.timeline_model)
        self.timeline.setUniformItemSizes(True)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.selectionModel().currentChanged.connect(self._row_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._slider_moved)
        self.position = QLabel()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.timeline, 1)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.position)
        left_layout.addLayout(slider_row)

        self.failure = QLabel()
        self.failure.setWordWrap(True)
        self.failure.setStyleSheet(
            "color: #b3261e; background: rgba(179,38,30,0.08); padding: 4px; border-radius: 3px;"
        )
        self.failure.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.failure.linkActivated.connect(lambda _link: self._show_traceback())
        self.failure_details = ""
        self.failure.setVisible(False)
        self.state_title = QLabel()
        self.state_tree = StateTree()
        state_page = QWidget()
        state_layout = QVBoxLayout(state_page)
        state_layout.setContentsMargins(0, 0, 0, 0)
        state_layout.addWidget(self.state_title)
        state_layout.addWidget(self.state_tree, 1)

        self.diff_from = QSpinBox()
        self.diff_to = QSpinBox()
        for spin in (self.diff_from, self.diff_to):
            spin.setRange(1, 1)
        self.diff_button = QPushButton("Compare")
        self.diff_button.clicked.connect(self._diff_clicked)
        self.diff_tree = QTreeWidget()
        self.diff_tree.setHeaderLabels(["Change", "Field", "Before", "After"])
        self.diff_tree.setRootIsDecorated(False)
        self.diff_tree.setUniformRowHeights(True)
        self.diff_tree.setColumnWidth(0, 80)
        self.diff_tree.setColumnWidth(1, 180)
        self.diff_tree.setColumnWidth(2, 300)
        self.diff_summary = QLabel("Pick two events of the timeline and compare their states.")
        diff_page = QWidget()
        diff_layout = QVBoxLayout(diff_page)
        diff_layout.setContentsMargins(0, 0, 0, 0)
        diff_row = QHBoxLayout()
        diff_row.addWidget(QLabel("State after event"))
        diff_row.addWidget(self.diff_from)
        diff_row.addWidget(QLabel("vs after event"))
        diff_row.addWidget(self.diff_to)
        diff_row.addWidget(self.diff_button)
        diff_row.addStretch(1)
        diff_layout.addLayout(diff_row)
        diff_layout.addWidget(self.diff_summary)
        diff_layout.addWidget(self.diff_tree, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(state_page, "State")
        self.tabs.addTab(diff_page, "Diff")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.failure)
        right_layout.addWidget(self.tabs, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("inspectorSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(head)
        layout.addWidget(self.note)
        layout.addWidget(self.splitter, 1)
        self.aggregate: str | None = None
        self._syncing = False

    # --- fed by the composition root -----------------------------------------------------

    def set_folds(self, names: Sequence[str], current: str | None = None) -> None:
        self.fold_combo.blockSignals(True)
        self.fold_combo.clear()
        self.fold_combo.addItems(list(names))
        if current is not None and current in names:
            self.fold_combo.setCurrentText(current)
        self.fold_combo.blockSignals(False)

    @property
    def fold_name(self) -> str:
        return self.fold_combo.currentText()

    def set_timeline(
        self, aggregate: str, refs: Sequence[RefLike], failure_step: int | None = None
    ) -> None:
        """A new aggregate (or the same one re-read): the timeline, nothing selected yet."""
        self._view = None
        if aggregate != self.aggregate:
            self.state_title.setText(f"Replaying {aggregate}…")  # not another one's state
            self.state_tree.clear()
        self.aggregate = aggregate
        self.audit_button.setEnabled(bool(refs))
        self._syncing = True
        self.timeline_model.set_refs(refs, failure_step)
        self._syncing = False
        self._counted()
        for spin, value in ((self.diff_from, 1), (self.diff_to, max(1, len(refs)))):
            spin.setValue(value)
        self.diff_tree.clear()
        self.diff_summary.setText("Pick two events of the timeline and compare their states.")
        self.tabs.setCurrentIndex(0)
        self.show_failure(None)

    def extend_timeline(self, refs: Sequence[RefLike]) -> None:
        """Events that came after the timeline's last (following live): appended; the
        selected event, the tab shown and the diff picked stay as they are."""
        self.timeline_model.append_refs(refs)
        self._counted()
        if self._view is not None:
            self._show_title(self._view)  # "event 2 of N": N grew
        self.audit_button.setEnabled(self.step_count > 0)

    def _counted(self) -> None:
        """The header, slider and diff ranges for the timeline's length."""
        n = self.step_count
        self.aggregate_label.setText(f"{self.aggregate}  ·  {n:,} event{'s' * (n != 1)}")
        self._syncing = True
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setEnabled(n > 1)
        self._syncing = False
        for spin in (self.diff_from, self.diff_to):
            spin.setRange(1, max(1, n))
        if self.step >= 0:
            self.position.setText(f"{self.step + 1} / {n}")

    @property
    def step(self) -> int:
        return self.timeline.currentIndex().row()

    @property
    def step_count(self) -> int:
        return self.timeline_model.rowCount()

    def select_step(self, step: int) -> None:
        """Move to ``step`` (emits ``step_selected`` once if it is a move)."""
        if 0 <= step < self.step_count:
            self.timeline.setCurrentIndex(self.timeline_model.index(step))
            self.timeline.scrollTo(self.timeline_model.index(step))

    def step_by(self, delta: int) -> None:
        if self.step_count:
            self.select_step(min(self.step_count - 1, max(0, self.step + delta)))

    def show_state(self, view: StateView) -> None:
        self._view = view
        self._show_title(view)
        self.state_tree.show_state(view.state, view.changed, view.blame)

    def _show_title(self, view: StateView) -> None:
        """Which event the state is after (of how many), and what it changed."""
        refs = self.timeline_model.refs
        failed = self.timeline_model.failure_step
        if failed is not None and view.step >= failed:
            # The core keeps the state from before the failing event: say so.
            ref = refs[failed]
            self.state_title.setText(
                f"State before event {failed + 1} of {len(refs)} ({ref.type}, "
                f"p{ref.partition}@{ref.offset}): the fold failed on it"
            )
        elif 0 <= view.step < len(refs):
            ref = refs[view.step]
            n = len(view.changed)
            self.state_title.setText(
                f"State after event {view.step + 1} of {len(refs)}: {ref.type} "
                f"(p{ref.partition}@{ref.offset}, {local_time(ref.timestamp_ms)[:19]})"
                f" · {n} field{'s' if n != 1 else ''} changed"
            )

    def show_failure(self, message: str | None, step: int | None = None, details: str = "") -> None:
        """A fold error at its event (None clears it); ``details``: the traceback."""
        self.timeline_model.set_failure(step if message else None)
        self.failure_details = details if message else ""
        text = f"⚠ {html.escape(message)}" if message else ""
        if self.failure_details:
            text += '  <a href="traceback">Traceback…</a>'
        self.failure.setText(text)
        self.failure.setToolTip(self.failure_details)
        self.failure.setVisible(bool(message))

    def _show_traceback(self) -> None:
        lines = self.failure_details.strip().splitlines()
        box = QMessageBox(QMessageBox.Icon.Warning, "Fold failed", lines[-1] if lines else "")
        box.setParent(self, box.windowFlags())
        box.setDetailedText(self.failure_details)
        box.open()

    def show_diff(self, from_step: int, to_step: int, changes: Collection[Change]) -> None:
        self.diff_tree.clear()
        for change in changes:
            item = QTreeWidgetItem(
                [change.kind, change.path, _short(change.old, change.kind != "added"),
                 _short(change.new, change.kind != "removed")]
            )  # fmt: skip
            item.setForeground(0, QBrush(KIND_COLORS.get(change.kind, QColor("black"))))
            for col, value, present in ((2, change.old, change.kind != "added"),
                                        (3, change.new, change.kind != "removed")):  # fmt: skip
                if present:
                    item.setToolTip(col, value_as_json(value))
            self.diff_tree.addTopLevelItem(item)
        n = len(changes)
        self.diff_summary.setText(
            f"From the state after event {from_step + 1} to the state after event {to_step + 1}: "
            + (f"{n} change{'s' if n != 1 else ''}" if n else "no change")
        )
        self.tabs.setCurrentIndex(1)

    def set_note(self, lines: Sequence[str]) -> None:
        """What qualifies the state shown (as-of mode, history that is gone); [] hides it."""
        self.note.setText("\n".join(lines))
        self.note.setVisible(bool(lines))

    def show_message(self, text: str) -> None:
        """No aggregate to show: say why, instead of an empty panel."""
        self.aggregate = None
        self.audit_button.setEnabled(False)
        self.aggregate_label.setText(text)
        self.timeline_model.set_refs([])
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self._view = None
        self.state_title.clear()
        self.state_tree.clear()
        self.diff_tree.clear()
        self.show_failure(None)

    # --- user intent ---------------------------------------------------------------------

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.row()
        if row < 0:
            return
        self._syncing = True
        self.slider.setValue(row)
        self._syncing = False
        self.position.setText(f"{row + 1} / {self.step_count}")
        self.step_selected.emit(row)

    def _slider_moved(self, value: int) -> None:
        if not self._syncing:
            self.select_step(value)

    def _fold_changed(self, _index: int) -> None:
        if self.fold_combo.currentText():
            self.fold_selected.emit(self.fold_combo.currentText())

    def _diff_clicked(self) -> None:
        self.diff_requested.emit(self.diff_from.value() - 1, self.diff_to.value() - 1)


def _short(value: Any, present: bool) -> str:
    if not present:
        return ""
    text = value_as_json(value)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"
