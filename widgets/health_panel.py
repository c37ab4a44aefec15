"""The Health panel: check the open topics and list the findings.

A row per finding (severity, kind, topic, aggregate, partition, offset, the sentence);
clicking one emits ``finding_activated(topic, partition, offset)`` so the window selects
that event in its table.  The saga fields say which event types start and end a saga
(the check of unfinished sagas needs the ends); ``check_requested`` carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.health.check import HealthReport
from app.health.findings import Finding, Severity
from widgets.event_table import ModelIndex

COLUMNS = ("Severity", "Kind", "Topic", "Aggregate", "Partition", "Offset", "Detail")
SEVERITY_FG = {
    Severity.ERROR: QColor("#b3261e"),
    Severity.WARNING: QColor("#8a5a00"),
    Severity.INFO: QColor("#3b5f8a"),
}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
INTRO = (
    "Check the topics read so far for version gaps, duplicates, split aggregates, broken "
    "causation and unfinished sagas."
)
LEVELS = (("All findings", 0), ("Warnings and errors", 1), ("Errors", 2))


@dataclass(frozen=True)
class HealthRequest:
    """What the user asked to check with: saga start and end types, the saga window."""

    saga_starts: str = ""
    saga_ends: str = ""
    saga_window: str = "24h"


class FindingsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.findings: list[Finding] = []

    def set_findings(self, findings: list[Finding]) -> None:
        self.beginResetModel()
        self.findings = findings
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f = self.findings[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QBrush(SEVERITY_FG[f.severity])
        if role == Qt.ItemDataRole.ToolTipRole and column == 6:
            return f.detail
        if role == SORT_ROLE:
            values: tuple[Any, ...] = (
                -f.severity.rank, str(f.kind), f.topic, f.aggregate or "",
                -1 if f.partition is None else f.partition,
                -1 if f.offset is None else f.offset, f.detail,
            )  # fmt: skip
            return values[column]
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        shown = (
            str(f.severity), str(f.kind), f.topic, f.aggregate or "",
            "" if f.partition is None else str(f.partition),
            "" if f.offset is None else str(f.offset), f.detail,
        )  # fmt: skip
        return shown[column]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class _SeverityFilter(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.minimum = 0
        self.setSortRole(SORT_ROLE)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, FindingsModel)
        return model.findings[source_row].severity.rank >= self.minimum


class HealthPanel(QWidget):
    check_requested = Signal(object)  # HealthRequest
    finding_activated = Signal(str, int, int)  # topic, partition, offset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: HealthReport | None = None
        self.check_button = QPushButton("Check health")
        self.saga_starts = QLineEdit()
        self.saga_starts.setPlaceholderText("any first event")
        self.saga_ends = QLineEdit()
        self.saga_ends.setPlaceholderText("e.g. OrderShipped|OrderCancelled")
        self.saga_window = QLineEdit("24h")
        self.saga_window.setMaximumWidth(70)
        self.level = QComboBox()
        for text, rank in LEVELS:
            self.level.addItem(text, rank)
        self.summary = QLabel(INTRO)
        self.summary.setWordWrap(True)
        self.model = FindingsModel(self)
        self.proxy = _SeverityFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((70, 150, 130, 120, 70, 70)):
            self.table.setColumnWidth(column, width)
        self.notes = QPlainTextEdit()
        self.notes.setReadOnly(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Findings")
        self.tabs.addTab(self.notes, "How ids were read")
        self._layout()
        self.check_button.clicked.connect(self.request_check)
        self.level.currentIndexChanged.connect(self._filter)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._activate(current)
        )
        self.table.clicked.connect(self._activate)

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.check_button)
        bar.addWidget(QLabel("Saga starts with"))
        bar.addWidget(self.saga_starts, 1)
        bar.addWidget(QLabel("ends with"))
        bar.addWidget(self.saga_ends, 2)
        bar.addWidget(QLabel("within"))
        bar.addWidget(self.saga_window)
        bar.addWidget(self.level)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

    # ------------------------------------------------------------------ feeding

    def set_saga_types(self, starts: str, ends: str, window: str = "24h") -> None:
        self.saga_starts.setText(starts)
        self.saga_ends.setText(ends)
        self.saga_window.setText(window)

    def request(self) -> HealthRequest:
        return HealthRequest(
            self.saga_starts.text().strip(),
            self.saga_ends.text().strip(),
            self.saga_window.text().strip() or "24h",
        )

    def request_check(self) -> None:
        self.check_requested.emit(self.request())

    def show_running(self, text: str) -> None:
        self.check_button.setEnabled(False)
        self.summary.setText(text)

    def show_error(self, text: str) -> None:
        self.check_button.setEnabled(True)
        self.summary.setText(f"<span style='color:#b3261e'>{text}</span>")

    def show_report(self, report: HealthReport) -> None:
        self.report = report
        self.check_button.setEnabled(True)
        self.model.set_findings(report.findings)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the check's own order
        self.notes.setPlainText("\n".join(report.notes))
        topics = ", ".join(report.topics) or "no topics"
        self.summary.setText(f"{report.events:,} events in {topics}: {report.summary.line()}")

    def clear(self, text: str) -> None:
        """No findings shown (they were made under other conditions), and why."""
        self.report = None
        self.model.set_findings([])
        self.notes.clear()
        self.summary.setText(text)

    # ------------------------------------------------------------------ events

    def _filter(self) -> None:
        proxy, minimum = self.proxy, int(self.level.currentData())
        if hasattr(proxy, "beginFilterChange"):  # Qt 6.9 on: invalidateFilter is deprecated
            proxy.beginFilterChange()
            proxy.minimum = minimum
            proxy.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            proxy.minimum = minimum
            proxy.invalidateFilter()

    def finding_at(self, view_row: int) -> Finding | None:
        source = self.proxy.mapToSource(self.proxy.index(view_row, 0))
        return self.model.findings[source.row()] if source.isValid() else None

    def _activate(self, index: ModelIndex) -> None:
        if not index.isValid():
            return
        finding = self.finding_at(index.row())
        if finding is not None and finding.partition is not None and finding.offset is not None:
            self.finding_activated.emit(finding.topic, finding.partition, finding.offset)
