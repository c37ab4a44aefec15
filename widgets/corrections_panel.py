"""The Corrections dock: fold compare, snapshot drift and event versions, as tables.

A view only: the controller (``app.gui.corrections``) runs the jobs and fills it with
rows of plain text, already masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from widgets.state_tree import StateTree

COMPARE, SNAPSHOTS, VERSIONS = 0, 1, 2


def _table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def fill(table: QTableWidget, rows: Sequence[Sequence[Any]]) -> None:
    table.setRowCount(0)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


class CorrectionsPanel(QWidget):
    cancel_requested = Signal()
    aggregate_chosen = Signal(str)  # a differing aggregate of the compare table
    snapshot_chosen = Signal(int)  # a row of the snapshots table

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("Replay > Compare folds, Check snapshots or Event versions.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self.cancel_requested.emit)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.progress)
        top.addWidget(self.cancel)

        self.compare = _table(["Aggregate", "First differs at", "Event type", "Changes"])
        self.compare.itemSelectionChanged.connect(self._compare_picked)
        self.divergence = QLabel("")
        self.state_a, self.state_b = StateTree(), StateTree()
        self.label_a, self.label_b = QLabel("A"), QLabel("B")
        sides = QSplitter(Qt.Orientation.Horizontal)
        for label, tree in ((self.label_a, self.state_a), (self.label_b, self.state_b)):
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.addWidget(label)
            col.addWidget(tree)
            sides.addWidget(box)
        compare_tab = QSplitter(Qt.Orientation.Vertical)
        compare_tab.addWidget(self.compare)
        lower = QWidget()
        lower_col = QVBoxLayout(lower)
        lower_col.setContentsMargins(0, 0, 0, 0)
        lower_col.addWidget(self.divergence)
        lower_col.addWidget(sides, 1)
        compare_tab.addWidget(lower)

        self.snapshots = _table(["Status", "Aggregate", "Snapshot", "Record", "Problem"])
        self.snapshots.itemSelectionChanged.connect(
            lambda: self.snapshot_chosen.emit(self.snapshots.currentRow())
        )
        self.snapshot_diff = QPlainTextEdit()
        self.snapshot_diff.setReadOnly(True)
        snap_tab = QSplitter(Qt.Orientation.Vertical)
        snap_tab.addWidget(self.snapshots)
        snap_tab.addWidget(self.snapshot_diff)

        self.versions = _table(["Event type", "Version", "Events", "First", "Last"])

        self.tabs = QTabWidget()
        self.tabs.addTab(compare_tab, "Compare")
        self.tabs.addTab(snap_tab, "Snapshots")
        self.tabs.addTab(self.versions, "Versions")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

    # --- progress ----------------------------------------------------------------------

    def busy(self, text: str, tab: int) -> None:
        self.tabs.setCurrentIndex(tab)
        self.status.setText(text)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel.setVisible(True)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def idle(self, text: str) -> None:
        self.status.setText(text)
        self.progress.setVisible(False)
        self.cancel.setVisible(False)

    # --- compare -----------------------------------------------------------------------

    def show_compare(self, rows: Sequence[Sequence[Any]], label_a: str, label_b: str) -> None:
        self.label_a.setText(f"A: {label_a}")
        self.label_b.setText(f"B: {label_b}")
        self.state_a.show_state(None)
        self.state_b.show_state(None)
        self.divergence.setText("Select an aggregate to see both states where they part.")
        fill(self.compare, rows)

    def _compare_picked(self) -> None:
        row = self.compare.currentRow()
        item = self.compare.item(row, 0) if row >= 0 else None
        if item is not None:
            self.aggregate_chosen.emit(item.text())

    def show_sides(self, text: str, state_a: Any, state_b: Any, changed: Sequence[str]) -> None:
        self.divergence.setText(text)
        self.state_a.show_state(state_a, changed)
        self.state_b.show_state(state_b, changed)

    # --- snapshots and versions --------------------------------------------------------

    def show_snapshots(self, rows: Sequence[Sequence[Any]]) -> None:
        self.snapshot_diff.setPlainText("")
        fill(self.snapshots, rows)

    def show_versions(self, rows: Sequence[Sequence[Any]]) -> None:
        fill(self.versions, rows)
