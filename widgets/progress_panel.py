"""Read progress: one bar per partition, an overall line, and Cancel."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

MAX_BARS = 16  # beyond this, per-partition bars would crowd out the table


class ProgressPanel(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.overall = QProgressBar()
        self.overall.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        self.status = QLabel()
        self.status.setStyleSheet("color: #8a5a00;")
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.overall, 1)
        top.addWidget(self.cancel_button)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(2)
        self._bars: dict[int, tuple[QLabel, QProgressBar]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addLayout(top)
        layout.addLayout(self.grid)
        layout.addWidget(self.status)
        self.status.setVisible(False)
        self.setVisible(False)

    def start(self, title: str) -> None:
        for label, bar in self._bars.values():
            label.deleteLater()
            bar.deleteLater()
        self._bars.clear()
        self.title.setText(title)
        self.overall.setRange(0, 0)  # busy until the first totals arrive
        self.cancel_button.setEnabled(True)
        self.status.setVisible(False)
        self.setVisible(True)

    def update_counts(
        self,
        read: Mapping[int, int],
        total: Mapping[int, int],
        status: str = "",
        per_partition: bool = True,
    ) -> None:
        done = sum(read.values())
        expected = sum(total.values())
        if expected > 0:
            self.overall.setRange(0, expected)
            self.overall.setValue(min(done, expected))
            self.overall.setFormat(f"{done:,} / {expected:,} events (%p%)")
        if per_partition and len(total) <= MAX_BARS:
            for partition in sorted(total):
                _label, bar = self._bar(partition)
                bar.setRange(0, max(1, total[partition]))
                bar.setValue(min(read.get(partition, 0), max(1, total[partition])))
                bar.setFormat(f"{read.get(partition, 0):,} / {total[partition]:,}")
        self.status.setText(status)
        self.status.setVisible(bool(status))

    def _bar(self, partition: int) -> tuple[QLabel, QProgressBar]:
        found = self._bars.get(partition)
        if found is None:
            label = QLabel(f"p{partition}")
            bar = QProgressBar()
            bar.setMaximumHeight(14)
            bar.setTextVisible(True)
            row, col = divmod(len(self._bars), 4)
            self.grid.addWidget(label, row, col * 2)
            self.grid.addWidget(bar, row, col * 2 + 1)
            found = (label, bar)
            self._bars[partition] = found
        return found

    def partition_value(self, partition: int) -> tuple[int, int]:
        """(value, maximum) of a partition's bar, for tests."""
        bar = self._bars[partition][1]
        return bar.value(), bar.maximum()

    def finish(self) -> None:
        self.cancel_button.setEnabled(False)
        self.setVisible(False)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.title.setText(f"{self.title.text()} — cancelling…")
        self.cancel_requested.emit()
