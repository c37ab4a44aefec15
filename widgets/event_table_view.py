"""The event table's view: fixed-height rows over the model, copies, and following the end
of a live topic like ``tail -f``."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from widgets.event_table import TableColumn
from widgets.new_rows_marker import NewRowsMarker


class EventTable(QTableView):
    """The view: fixed row heights and no per-row sizing, so a million rows scroll smoothly.

    Rows can be selected in ranges; Ctrl+C (or the context menu) asks for the selected
    events as JSON lines or TSV (``copy_requested("jsonl" | "tsv")``): the window turns
    the rows into text.  With no rows to show, ``empty_text`` says why.
    """

    copy_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = ""
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.context_actions: list[QAction] = []  # the window's own, below the copies
        # Following a topic: "N new events" when new rows arrive below the view.
        self.new_rows = NewRowsMarker(self.viewport())
        self.new_rows.clicked.connect(self.follow_end)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setSortingEnabled(False)  # log order is the order; sorting would copy rows
        vh = self.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        vh.setVisible(False)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setStretchLastSection(True)
        self._widths = {
            TableColumn.PARTITION: 64,
            TableColumn.OFFSET: 80,
            TableColumn.TIMESTAMP: 180,
            TableColumn.AGGREGATE: 120,
            TableColumn.TYPE: 140,
        }

    def selected_model_rows(self) -> list[int]:
        """The selected rows in display order (the current row when none is selected)."""
        model = self.selectionModel()
        rows = sorted({i.row() for i in model.selectedRows()}) if model is not None else []
        if not rows and self.currentIndex().isValid():
            rows = [self.currentIndex().row()]
        return rows

    def at_end(self) -> bool:
        """Whether the last row is in view (or there is room below the rows)."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return True
        last = self.rowAt(self.viewport().height() - 1)
        return last < 0 or last >= model.rowCount() - 1

    def rows_added(self, count: int, was_at_end: bool) -> None:
        """New rows on a live topic: follow them like ``tail -f`` if at the end, else
        count them on a button that brings the view there."""
        if was_at_end:
            self.scrollToBottom()
            # Again once the new rows are laid out, unless the user scrolled away meanwhile.
            pinned = self.verticalScrollBar().value()
            QTimer.singleShot(0, self, lambda: self._to_bottom_if_at(pinned))
            return
        self.new_rows.add(count)

    def _to_bottom_if_at(self, value: int) -> None:
        if self.verticalScrollBar().value() == value:
            self.scrollToBottom()

    def follow_end(self) -> None:
        self.new_rows.reset()
        self.scrollToBottom()

    def set_empty_text(self, text: str) -> None:
        if text != self.empty_text:
            self.empty_text = text
            self.viewport().update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit("jsonl")
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if self.empty_text and (model is None or model.rowCount() == 0):
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.viewport().rect().adjusted(16, 16, -16, -16),
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                self.empty_text,
            )
            painter.end()

    def _context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        count = len(self.selected_model_rows())
        noun = f"{count} event{'s' if count != 1 else ''}"
        menu.addAction(f"Copy {noun} as JSON lines", lambda: self.copy_requested.emit("jsonl"))
        menu.addAction(f"Copy {noun} as TSV", lambda: self.copy_requested.emit("tsv"))
        if self.context_actions:
            menu.addSeparator()
            menu.addActions(self.context_actions)
        menu.popup(self.viewport().mapToGlobal(pos))

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        for col, width in self._widths.items():
            self.setColumnWidth(int(col), width)
