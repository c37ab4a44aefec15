"""The event table: a lazy model over the index and the rows a query selected.

The model holds two things: the store (anything with ``event(row) -> Event``, the index)
and a numpy array of row ids.  It never builds a list of events: ``data()`` asks the store
for the few rows on screen, and the value preview is decoded and formatted on demand and
kept in a small LRU cache.  So a million rows cost the array, not a million objects.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from enum import IntEnum
from typing import Any, Protocol, cast

import numpy as np
import orjson
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from kafka_io.event import Event, iso_utc

ModelIndex = QModelIndex | QPersistentModelIndex
PREVIEW_CHARS = 160
CACHE_ROWS = 4096
ERROR_FG = QColor("#b3261e")
TOMBSTONE_FG = QColor("#6b6b6b")


# The roles a view's delegate asks for to paint a cell (QStyledItemDelegate), as ints.
_DISPLAY, _DECORATION, _FONT, _ALIGN, _BACKGROUND, _FOREGROUND, _CHECK = (
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.CheckStateRole,
    )
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
# A shown row: its event, its value preview, and per column what a paint needs.
_Entry = tuple[Event, str, tuple[dict[int, Any], ...]]


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
        self._spare: np.ndarray | None = None  # room to append rows in place
        self._cache: OrderedDict[int, _Entry] = OrderedDict()
        self._warning: QIcon | None = None

    # --- feeding -------------------------------------------------------------------------

    def set_rows(self, store: EventStore | None, rows: np.ndarray) -> None:
        """Show ``rows`` (row ids of ``store``, in display order); resets the view."""
        self.beginResetModel()
        if store is not self._store:
            self._cache.clear()
        self._store = store
        self._rows = np.asarray(rows, dtype=np.int64)
        self._spare = None
        self.endResetModel()

    def append_rows(self, rows: np.ndarray) -> None:
        """Add rows at the end (a read in progress); the view keeps its scroll position."""
        if len(rows) == 0:
            return
        first = len(self._rows)
        need = first + len(rows)
        spare = self._spare
        if spare is None or need > len(spare):
            # Grown geometrically: a live topic appends a few times a second, and copying
            # a million row ids each time is a pause of its own.  The rows shown are a
            # prefix of this array; rows handed out before never change.
            spare = np.empty(max(need, first * 3 // 2 + 1024), dtype=np.int64)
            spare[:first] = self._rows
            self._spare = spare
        spare[first:need] = rows
        self.beginInsertRows(QModelIndex(), first, need - 1)
        self._rows = spare[:need]
        self.endInsertRows()

    def replace_from(self, keep: int, rows: np.ndarray) -> None:
        """Show ``rows``, whose first ``keep`` are the rows shown now: only the rows
        after them are removed and inserted (a followed topic's newest events can sort
        among the last ones shown; a reset would relayout a million rows)."""
        old = self._rows
        if keep < len(old):
            self.beginRemoveRows(QModelIndex(), keep, len(old) - 1)
            # A new array: rows handed out before never change.
            spare = np.empty(max(len(rows), keep * 3 // 2 + 1024), dtype=np.int64)
            spare[:keep] = old[:keep]
            self._spare, self._rows = spare, spare[:keep]
            self.endRemoveRows()
        self.append_rows(rows[keep:])

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
        ev, text, _painted = self._entry(row_id)
        return self._value(ev, text, TableColumn(index.column()), role)

    def multiData(
        self, index: ModelIndex, roleDataSpan: QModelRoleDataSpan | QModelRoleData
    ) -> None:
        # A painted cell asks for seven roles: one call into Python instead of seven, and
        # the answers for the roles a paint asks for are made once per row (``_entry``),
        # so painting a screen of rows is dictionary look-ups (following repaints often).
        if not index.isValid() or self._store is None:
            return
        row_id = int(self._rows[index.row()])
        entry = self._entry(row_id)
        painted = entry[2][index.column()]
        span = [roleDataSpan] if isinstance(roleDataSpan, QModelRoleData) else roleDataSpan
        for item in cast(Iterable[QModelRoleData], span):
            role = item.role()
            if role in painted:
                value = painted[role]
            elif role == Role.ROW_ID:
                value = row_id
            else:
                value = self._value(entry[0], entry[1], TableColumn(index.column()), role)
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def _value(self, ev: Event, text: str, col: TableColumn, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(ev, text, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(ev, text, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if ev.error is not None:
                return QBrush(ERROR_FG)
            return QBrush(TOMBSTONE_FG) if ev.value is None and ev.data is None else None
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

    def _entry(self, row_id: int) -> _Entry:
        cache = self._cache
        hit = cache.get(row_id)
        if hit is not None:
            cache.move_to_end(row_id)
            return hit
        assert self._store is not None
        ev = self._store.event(row_id)
        text = preview(ev)
        entry = (ev, text, self._painted(ev, text))
        cache[row_id] = entry
        if len(cache) > CACHE_ROWS:
            cache.popitem(last=False)
        return entry

    def _painted(self, ev: Event, text: str) -> tuple[dict[int, Any], ...]:
        """Per column, the answer to each role a paint asks for (None: no data): what
        ``_value`` answers, made in one go (a test holds them equal)."""
        tombstone = ev.value is None and ev.data is None
        if ev.error is not None:
            fg: QBrush | None = QBrush(ERROR_FG)
        else:
            fg = QBrush(TOMBSTONE_FG) if tombstone else None
        font = None
        if tombstone:
            font = QFont()
            font.setItalic(True)
        shown = (ev.partition, ev.offset, local_time(ev.timestamp_ms), ev.aggregate or "",
                 ev.type, text)  # fmt: skip
        cells = tuple(
            dict.fromkeys((_DECORATION, _ALIGN, _BACKGROUND, _CHECK))
            | {_DISPLAY: value, _FONT: font, _FOREGROUND: fg}
            for value in shown
        )
        cells[TableColumn.PARTITION][_ALIGN] = cells[TableColumn.OFFSET][_ALIGN] = _RIGHT
        if ev.error is not None:
            cells[TableColumn.VALUE][_DECORATION] = self._warning_icon()
        return cells

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
