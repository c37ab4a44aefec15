"""The event table: a lazy model over the index and the rows a query selected.

The model holds two things: the store (anything with ``event(row) -> Event``, the index)
and a numpy array of row ids.  It never builds a list of events: ``data()`` asks the store
for the few rows on screen, and the value preview is decoded and formatted on demand and
kept in a small LRU cache.  So a million rows cost the array, not a million objects.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from enum import IntEnum
from typing import Any, Protocol

import numpy as np
import orjson
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QTableView,
    QWidget,
)

from kafka_io.event import Event, iso_utc
from widgets.new_rows_marker import NewRowsMarker

ModelIndex = QModelIndex | QPersistentModelIndex
PREVIEW_CHARS = 160
CACHE_ROWS = 4096
ERROR_FG = QColor("#b3261e")
TOMBSTONE_FG = QColor("#6b6b6b")


class EventStore(Protocol):
    """What the model reads: one event by its row id in the index."""

    def event(self, row: int) -> Event: ...


class TableColumn(IntEnum):
    PARTITION = 0
    OFFSET = 1
    TIMESTAMP = 2
    AGGREGATE = 3
    TYPE = 4
    VALUE = 5


HEADERS = {
    TableColumn.PARTITION: "Partition",
    TableColumn.OFFSET: "Offset",
    TableColumn.TIMESTAMP: "Timestamp",
    TableColumn.AGGREGATE: "Aggregate",
    TableColumn.TYPE: "Type",
    TableColumn.VALUE: "Value",
}


class Role(IntEnum):
    """Custom roles, so tests and other widgets read the model without a view."""

    EVENT = Qt.ItemDataRole.UserRole + 1  # the Event
    ROW_ID = Qt.ItemDataRole.UserRole + 2  # the row id in the index
    ERROR = Qt.ItemDataRole.UserRole + 3  # the decode error, or None
    TIMESTAMP_MS = Qt.ItemDataRole.UserRole + 4


def local_time(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000).astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, bytes | bytearray):
        return bytes(obj).hex()
    return str(obj)


def preview(ev: Event) -> str:
    """One line that says what the value holds (compact JSON, or why it cannot)."""
    if ev.error is not None:
        return ev.error
    if ev.value is None and ev.data is None:
        return "(tombstone: no value)"
    data = ev.data
    if isinstance(data, bytes | bytearray):
        text = bytes(data[: PREVIEW_CHARS // 2]).hex(" ")
    elif isinstance(data, str):
        text = data
    else:
        text = orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


class EventTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store: EventStore | None = None
        self._rows: np.ndarray = np.empty(0, dtype=np.int64)
        self._cache: OrderedDict[int, tuple[Event, str]] = OrderedDict()
        self._warning: QIcon | None = None

    # --- feeding -------------------------------------------------------------------------

    def set_rows(self, store: EventStore | None, rows: np.ndarray) -> None:
        """Show ``rows`` (row ids of ``store``, in display order); resets the view."""
        self.beginResetModel()
        if store is not self._store:
            self._cache.clear()
        self._store = store
        self._rows = np.asarray(rows, dtype=np.int64)
        self.endResetModel()

    def append_rows(self, rows: np.ndarray) -> None:
        """Add rows at the end (a read in progress); the view keeps its scroll position."""
        if len(rows) == 0:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows = np.concatenate([self._rows, np.asarray(rows, dtype=np.int64)])
        self.endInsertRows()

    def clear(self) -> None:
        self.set_rows(None, np.empty(0, dtype=np.int64))

    @property
    def rows(self) -> np.ndarray:
        return self._rows

    @property
    def store(self) -> EventStore | None:
        return self._store

    def row_id(self, model_row: int) -> int:
        return int(self._rows[model_row])

    def model_row(self, row_id: int) -> int | None:
        """Where a row id is shown, or None if the current rows do not include it."""
        rows = self._rows
        if len(rows) == 0:
            return None
        # Rows are usually ascending (log order): binary search first, scan as fallback.
        pos = int(np.searchsorted(rows, row_id))
        if pos < len(rows) and rows[pos] == row_id:
            return pos
        hits = np.flatnonzero(rows == row_id)
        return int(hits[0]) if len(hits) else None

    def event_at(self, model_row: int) -> Event:
        return self._entry(self.row_id(model_row))[0]

    # --- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TableColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[TableColumn(section)]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._store is None:
            return None
        row_id = int(self._rows[index.row()])
        if role == Role.ROW_ID:
            return row_id
        ev, text = self._entry(row_id)
        col = TableColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(ev, text, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(ev, text, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if ev.error is not None:
                return QBrush(ERROR_FG)
            if ev.value is None and ev.data is None:
                return QBrush(TOMBSTONE_FG)
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return (
                self._warning_icon() if ev.error is not None and col == TableColumn.VALUE else None
            )
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            TableColumn.PARTITION,
            TableColumn.OFFSET,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and ev.value is None and ev.data is None:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Role.EVENT:
            return ev
        if role == Role.ERROR:
            return ev.error
        if role == Role.TIMESTAMP_MS:
            return ev.timestamp_ms
        return None

    # --- helpers -------------------------------------------------------------------------

    def _entry(self, row_id: int) -> tuple[Event, str]:
        cache = self._cache
        hit = cache.get(row_id)
        if hit is not None:
            cache.move_to_end(row_id)
            return hit
        assert self._store is not None
        ev = self._store.event(row_id)
        entry = (ev, preview(ev))
        cache[row_id] = entry
        if len(cache) > CACHE_ROWS:
            cache.popitem(last=False)
        return entry

    @staticmethod
    def _display(ev: Event, text: str, col: TableColumn) -> Any:
        if col == TableColumn.PARTITION:
            return ev.partition
        if col == TableColumn.OFFSET:
            return ev.offset
        if col == TableColumn.TIMESTAMP:
            return local_time(ev.timestamp_ms)
        if col == TableColumn.AGGREGATE:
            return ev.aggregate or ""
        if col == TableColumn.TYPE:
            return ev.type
        return text

    @staticmethod
    def _tooltip(ev: Event, text: str, col: TableColumn) -> str | None:
        if col == TableColumn.TIMESTAMP:
            return f"{iso_utc(ev.timestamp_ms)} (UTC)"
        if ev.error is not None:
            return f"Undecodable record: {ev.error}"
        if col == TableColumn.VALUE:
            return text
        return None

    def _warning_icon(self) -> QIcon:
        if self._warning is None:
            style = QApplication.style()
            self._warning = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return self._warning


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
