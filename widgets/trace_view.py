"""The Trace view: one business process across topics, as a causation tree and a
timeline with the time between steps; broken links in red.

Fed by the GUI (``app.gui.trace_jobs``): ``show_trace`` with a trace and its texts.
Double-click (or Enter on) an event and ``event_activated(topic, partition, offset)``
asks the window to show it in the event table.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.trace.export import summary
from app.trace.tree import Trace
from widgets.trace_model import NODE_ROLE, NodeTexts, TimelineModel, TraceTreeModel

HINT = "Select an event and choose Trace to follow its business process across topics."
# Nodes opened when a trace is shown: enough to read a saga, never a whole huge trace.
EXPAND_BUDGET = 400


class _Tree(QTreeView):
    activated_node = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            node = self.currentIndex().data(NODE_ROLE)
            if isinstance(node, int) and node >= 0:
                self.activated_node.emit(node)
                return
        super().keyPressEvent(event)


class TraceView(QWidget):
    event_activated = Signal(str, int, int)  # topic, partition, offset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace: Trace | None = None
        self.tree_model: TraceTreeModel | None = None
        self.timeline_model: TimelineModel | None = None
        self.header = QLabel(HINT)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = _Tree()
        self.tree.setUniformRowHeights(True)  # lets a long list of children scroll smoothly
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline = QTableView()
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.verticalHeader().setDefaultSectionSize(22)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, "Causation tree")
        self.tabs.addTab(self.timeline, "Timeline")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        self.tree.doubleClicked.connect(self._activated)
        self.tree.activated_node.connect(self._activate_node)
        self.timeline.doubleClicked.connect(self._activated)

    # ------------------------------------------------------------------ feeding

    def show_message(self, text: str) -> None:
        """A line in place of the summary (a trace being built, a failure)."""
        self.header.setText(text)

    def show_trace(self, trace: Trace, texts: NodeTexts, focus: int | None = None) -> None:
        """Show ``trace``; ``focus`` (a node) is selected and scrolled to."""
        self.trace = trace
        self.tree_model = TraceTreeModel(trace, texts, self)
        self.timeline_model = TimelineModel(trace, texts, self)
        self.tree.setModel(self.tree_model)
        self.timeline.setModel(self.timeline_model)
        line = summary(trace, getattr(texts, "correlation", None))  # masked, if it is
        self.header.setText(f"{line}\n{trace.note}" if trace.note and len(trace) else line)
        for section in range(self.tree_model.rowCount()):
            self.tree.setFirstColumnSpanned(section, QModelIndex(), True)  # titles in full
        self._expand()
        for view_header in (self.tree.header(), self.timeline.horizontalHeader()):
            view_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            view_header.setStretchLastSection(True)
        for column, width in enumerate((280, 120, 90, 180, 100, 120, 150)):
            self.tree.setColumnWidth(column, width)
        for column, width in enumerate((180, 110, 120, 90, 220, 120, 150)):
            self.timeline.setColumnWidth(column, width)
        if focus is not None:
            self.focus_node(focus)

    def clear(self) -> None:
        self.trace = self.tree_model = self.timeline_model = None
        self.tree.setModel(None)
        self.timeline.setModel(None)
        self.header.setText(HINT)

    def _expand(self) -> None:
        """Open sections and nodes breadth first until the budget of rows is spent."""
        model = self.tree_model
        if model is None:
            return
        budget = EXPAND_BUDGET
        queue = [model.index(s, 0) for s in range(model.rowCount())]
        while queue and budget > 0:
            index = queue.pop(0)
            rows = model.rowCount(index)
            if rows == 0 or rows > budget:
                continue
            self.tree.expand(index)
            budget -= rows
            queue.extend(model.index(r, 0, index) for r in range(rows))

    def focus_node(self, node: int) -> None:
        """Select ``node`` in both tabs, opening the tree down to it."""
        if self.tree_model is None or self.timeline_model is None:
            return
        index = self.tree_model.index_of_node(node)
        parent = index.parent()
        while parent.isValid():
            self.tree.expand(parent)
            parent = parent.parent()
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        row = self.timeline_model.index(node, 0)
        self.timeline.setCurrentIndex(row)
        self.timeline.scrollTo(row, QAbstractItemView.ScrollHint.PositionAtCenter)

    def selected_node(self) -> int | None:
        view = self.tree if self.tabs.currentIndex() == 0 else self.timeline
        node = view.currentIndex().data(NODE_ROLE)
        return node if isinstance(node, int) and node >= 0 else None

    # ------------------------------------------------------------------ events

    def _activated(self, index: QModelIndex | QPersistentModelIndex) -> None:
        node = index.data(NODE_ROLE)
        if isinstance(node, int) and node >= 0:
            self._activate_node(node)

    def _activate_node(self, node: int) -> None:
        if self.trace is None:
            return
        at = self.trace.position(node)
        self.event_activated.emit(at.topic, at.partition, at.offset)
