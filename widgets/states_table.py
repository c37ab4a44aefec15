"""The state of every aggregate at a moment, as a sortable table with export.

Fed with the rows of ``app.audit.states`` (one ``ReplayResult`` per aggregate).  The
state's leaf fields become columns (``balance``, ``items[0].sku``) when there are few
enough of them; otherwise the state shows as one JSON column.  Sorting is by value
(numbers as numbers), and Export writes the same CSV and JSON lines as
``event-explorer states --csv / --json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.audit.states_output import flat_state, write_csv, write_json_lines
from app.output.event_json import dumps
from app.replay.results import ReplayResult

ModelIndex = QModelIndex | QPersistentModelIndex
MAX_FIELD_COLUMNS = 40
FIXED = ["Aggregate", "Events", "Partition", "Offset", "Last event at"]


class StatesModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ReplayResult] = []
        self._flat: list[dict[str, Any]] = []
        self.fields: list[str] = []  # state columns ("state" alone: the JSON column)

    def set_rows(self, rows: list[ReplayResult]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._flat = [flat_state(r.state) for r in self.rows]
        names = sorted({name for flat in self._flat for name in flat})
        self.fields = names if len(names) <= MAX_FIELD_COLUMNS else ["state"]
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED) + len(self.fields)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section < len(FIXED):
            return FIXED[section]
        name = self.fields[section - len(FIXED)]
        return name.removeprefix("state.") if name != "state" else "State"

    def value(self, row: int, column: int) -> Any:
        """The raw value of a cell (what sorting compares)."""
        result = self.rows[row]
        last = result.last_event
        if column == 0:
            return result.aggregate
        if column == 1:
            return result.events_applied
        if column == 2:
            return None if last is None else last.partition
        if column == 3:
            return None if last is None else last.offset
        if column == 4:
            return None if last is None else last.timestamp
        name = self.fields[column - len(FIXED)]
        if name == "state" and len(self.fields) == 1 and "state" not in self._flat[row]:
            return dumps(result.state)
        return self._flat[row].get(name)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.value(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0 and self.rows[index.row()].failure is not None:
                return f"{value}  (fold failed)"
            return "" if value is None else value if isinstance(value, str) else dumps(value)
        if role == Qt.ItemDataRole.ToolTipRole and self.rows[index.row()].failure is not None:
            failure = self.rows[index.row()].failure
            return None if failure is None else failure.describe()
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers by value before text, empty cells last."""
    if value is None:
        return (2, 0)
    if isinstance(value, int | float):
        return (0, float(value))
    return (1, value if isinstance(value, str) else dumps(value))


class StatesProxy(QSortFilterProxyModel):
    """Sorts by the cells' values (numbers as numbers), not by their text."""

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, StatesModel)
        a = sort_key(model.value(left.row(), left.column()))
        b = sort_key(model.value(right.row(), right.column()))
        return a < b


class StatesTable(QWidget):
    """The table, a title line and Export CSV / Export JSON buttons."""

    aggregate_activated = Signal(str)  # double-click: show this aggregate in the inspector

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = StatesModel(self)
        self.proxy = StatesProxy(self)
        self.proxy.setSourceModel(self.model)
        self.title = QLabel("No states computed yet.")
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.verticalHeader().setVisible(False)
        self.view.doubleClicked.connect(self._activated)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_json_button = QPushButton("Export JSON…")
        self.export_csv_button.clicked.connect(lambda: self._export("csv"))
        self.export_json_button.clicked.connect(lambda: self._export("json"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.export_csv_button)
        buttons.addWidget(self.export_json_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.view)
        self._set_enabled(False)

    def set_rows(self, rows: list[ReplayResult], title: str) -> None:
        self.model.set_rows(rows)
        self.title.setText(title)
        self.view.resizeColumnsToContents()
        self._set_enabled(bool(rows))

    def _set_enabled(self, on: bool) -> None:
        self.export_csv_button.setEnabled(on)
        self.export_json_button.setEnabled(on)

    def sorted_rows(self) -> list[ReplayResult]:
        """The rows in the order the table shows them (what Export writes)."""
        return [
            self.model.rows[self.proxy.mapToSource(self.proxy.index(i, 0)).row()]
            for i in range(self.proxy.rowCount())
        ]

    def export_csv(self, path: Path) -> None:
        with Path(path).open("w", encoding="utf-8", newline="") as out:
            write_csv(self.sorted_rows(), out)

    def export_json(self, path: Path) -> None:
        with Path(path).open("w", encoding="utf-8") as out:
            write_json_lines(self.sorted_rows(), out)

    def ask_path(self, kind: str) -> Path | None:
        """Where to export (a save dialog; tests replace it)."""
        pattern = "CSV (*.csv)" if kind == "csv" else "JSON lines (*.jsonl *.json)"
        chosen, _ = QFileDialog.getSaveFileName(
            self, f"Export states as {kind.upper()}", "", pattern
        )
        return Path(chosen) if chosen else None

    def _export(self, kind: str) -> None:
        path = self.ask_path(kind)
        if path is None:
            return
        (self.export_csv if kind == "csv" else self.export_json)(path)

    def _activated(self, index: QModelIndex) -> None:
        row = self.proxy.mapToSource(index).row()
        aggregate = self.model.rows[row].aggregate
        if aggregate is not None:
            self.aggregate_activated.emit(aggregate)
