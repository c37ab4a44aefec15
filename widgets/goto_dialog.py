"""Go to an offset (in a partition) or to a timestamp: the Ctrl+G dialog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from widgets.dialog_parts import error_line, ok_cancel, stack


@dataclass(frozen=True)
class GotoTarget:
    """Either (partition, offset) or a timestamp; ``partition`` None means any partition."""

    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None


def parse_when(text: str) -> int | None:
    """ISO 8601 (a time without zone is local time) or epoch milliseconds; None if neither."""
    raw = text.strip()
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.astimezone()  # naive: the user's local time, as the table shows
    return int(dt.astimezone(UTC).timestamp() * 1000)


class GotoDialog(QDialog):
    def __init__(self, partitions: Sequence[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to")
        self.by_offset = QRadioButton("Offset")
        self.by_time = QRadioButton("Timestamp")
        self.by_offset.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.by_offset)
        group.addButton(self.by_time)
        self.partition = QComboBox()
        self.partition.addItem("any partition", None)
        for p in partitions:
            self.partition.addItem(f"partition {p}", p)
        self.offset = QSpinBox()
        self.offset.setRange(0, 2**31 - 1)
        self.offset.setGroupSeparatorShown(True)
        self.when = QDateTimeEdit(QDateTime.currentDateTime())
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.when.setCalendarPopup(True)
        self.when_text = QLineEdit()
        self.when_text.setPlaceholderText("or ISO 8601 / epoch ms, e.g. 2025-09-14T10:00:00Z")
        self.error = error_line()
        form = QFormLayout()
        form.addRow(self.by_offset)
        form.addRow("Partition:", self.partition)
        form.addRow("Offset:", self.offset)
        form.addRow(self.by_time)
        form.addRow("Time (local):", self.when)
        form.addRow("", self.when_text)
        stack(self, form, self.error, ok_cancel(self, self._accept))
        self.offset.valueChanged.connect(lambda _v: self.by_offset.setChecked(True))
        self.when.dateTimeChanged.connect(lambda _v: self.by_time.setChecked(True))
        self.when_text.textChanged.connect(lambda _v: self.by_time.setChecked(True))
        self._target: GotoTarget | None = None

    def target(self) -> GotoTarget | None:
        """What the dialog says now (None if the time text cannot be read)."""
        if self.by_offset.isChecked():
            return GotoTarget(partition=self.partition.currentData(), offset=self.offset.value())
        if self.when_text.text().strip():
            ms = parse_when(self.when_text.text())
            return None if ms is None else GotoTarget(timestamp_ms=ms)
        return GotoTarget(timestamp_ms=int(self.when.dateTime().toMSecsSinceEpoch()))

    def set_time(self, ms: int) -> None:
        self.when.setDateTime(QDateTime.fromMSecsSinceEpoch(ms, QTimeZone.utc()).toLocalTime())
        self.by_offset.setChecked(True)

    def _accept(self) -> None:
        target = self.target()
        if target is None:
            self.error.setText("Not a time: use ISO 8601 or epoch milliseconds.")
            return
        self._target = target
        self.accept()

    @property
    def chosen(self) -> GotoTarget | None:
        return self._target
