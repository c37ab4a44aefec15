"""The aggregate inspector's timeline: the aggregate's events as a list, a failed step
marked, and the keys that step through it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import QListView

from widgets.event_table import local_time
from widgets.state_tree import RefLike

ModelIndex = QModelIndex | QPersistentModelIndex
FAILED_BG = QColor(179, 38, 30, 60)
AFTER_FAILURE_FG = QColor("#8a8a8a")


class TimelineModel(QAbstractListModel):
    """The aggregate's events, oldest first; a failed step is marked."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[RefLike] = []
        self.failure_step: int | None = None

    def set_refs(self, refs: Sequence[RefLike], failure_step: int | None = None) -> None:
        self.beginResetModel()
        self.refs = list(refs)
        self.failure_step = failure_step
        self.endResetModel()

    def append_refs(self, refs: Sequence[RefLike]) -> None:
        """Events that came after the last one (following live): rows inserted at the
        end, so the selection and scroll position stay where they are."""
        if refs:
            n = len(self.refs)
            self.beginInsertRows(QModelIndex(), n, n + len(refs) - 1)
            self.refs.extend(refs)
            self.endInsertRows()

    def set_failure(self, step: int | None) -> None:
        self.failure_step = step
        if self.refs:
            self.dataChanged.emit(self.index(0), self.index(len(self.refs) - 1))

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.refs)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ref = self.refs[index.row()]
        fail = self.failure_step
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "⚠ " if fail == index.row() else ""
            return (
                f"{mark}{index.row() + 1:>4}  {local_time(ref.timestamp_ms)[:19]}  "
                f"{ref.type}  (p{ref.partition}@{ref.offset})"
            )
        if role == Qt.ItemDataRole.BackgroundRole and fail == index.row():
            return QBrush(FAILED_BG)
        if role == Qt.ItemDataRole.ForegroundRole and fail is not None and index.row() > fail:
            return QBrush(AFTER_FAILURE_FG)
        if role == Qt.ItemDataRole.ToolTipRole and fail is not None and index.row() >= fail:
            return "The fold failed here: the state stops before this event."
        return None


class Timeline(QListView):
    """The list; Left/Right step like Up/Down so the slider and list feel the same."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            row = self.currentIndex().row()
            row = row - 1 if key == Qt.Key.Key_Left else row + 1
            model = self.model()
            if model is not None and 0 <= row < model.rowCount():
                self.setCurrentIndex(model.index(row, 0))
            return
        super().keyPressEvent(event)
