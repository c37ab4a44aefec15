"""Opening a topic: all of it, or a window of it (the last hours or days, from a time,
the last N events of each partition).  A huge topic read whole costs minutes and
gigabytes of disk; a window costs what it holds."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from app.index.window import ALL, LAST_MS, LAST_PER_PARTITION, SINCE_MS, WindowSpec
from widgets.dialog_parts import ok_cancel, stack

_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS


class OpenWindowDialog(QDialog):
    """Asks which part of ``topic`` to open; ``choice()`` is the answer as a WindowSpec.

    ``current`` is the choice to start from (the one remembered for the topic);
    ``events`` and ``partitions``, when known, are said so the user can weigh it."""

    def __init__(
        self,
        topic: str,
        current: WindowSpec | None = None,
        *,
        events: int | None = None,
        partitions: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open {topic}")
        size = []
        if events is not None:
            size.append(f"{events:,} events")
        if partitions is not None:
            size.append(f"{partitions} partitions")
        intro = QLabel(f"Open <b>{topic}</b>" + (f" ({', '.join(size)})" if size else "") + ":")
        self.everything = QRadioButton("Everything")
        self.recent = QRadioButton("The last")
        self.since = QRadioButton("From")
        self.per_partition = QRadioButton("The last")
        group = QButtonGroup(self)
        for button in (self.everything, self.recent, self.since, self.per_partition):
            group.addButton(button)
        self.recent_count = QSpinBox()
        self.recent_count.setRange(1, 100_000)
        self.recent_count.setValue(24)
        self.recent_unit = QComboBox()
        self.recent_unit.addItem("hours", _HOUR_MS)
        self.recent_unit.addItem("days", _DAY_MS)
        self.since_when = QDateTimeEdit(QDateTime.currentDateTime().addDays(-1))
        self.since_when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.since_when.setCalendarPopup(True)
        self.events_count = QSpinBox()
        self.events_count.setRange(1, 2_000_000_000)
        self.events_count.setGroupSeparatorShown(True)
        self.events_count.setValue(100_000)
        grid = QGridLayout()
        grid.addWidget(self.everything, 0, 0, 1, 3)
        grid.addWidget(self.recent, 1, 0)
        grid.addWidget(self.recent_count, 1, 1)
        grid.addWidget(self.recent_unit, 1, 2)
        grid.addWidget(self.since, 2, 0)
        grid.addWidget(self.since_when, 2, 1, 1, 2)
        grid.addWidget(self.per_partition, 3, 0)
        grid.addWidget(self.events_count, 3, 1)
        grid.addWidget(QLabel("events of each partition"), 3, 2)
        note = QLabel(
            "A window shows less, and says so: the state of every aggregate, audits and "
            "comparisons need everything; one aggregate's earlier events can be read on "
            "their own from the inspector."
        )
        note.setWordWrap(True)
        stack(self, intro, grid, note, ok_cancel(self, ok=QDialogButtonBox.StandardButton.Open))
        self.recent_count.valueChanged.connect(lambda _v: self.recent.setChecked(True))
        self.recent_unit.currentIndexChanged.connect(lambda _i: self.recent.setChecked(True))
        self.since_when.dateTimeChanged.connect(lambda _v: self.since.setChecked(True))
        self.events_count.valueChanged.connect(lambda _v: self.per_partition.setChecked(True))
        self.set_choice(current or WindowSpec())

    def set_choice(self, spec: WindowSpec) -> None:
        if spec.kind == LAST_MS:
            unit = _DAY_MS if spec.value % _DAY_MS == 0 else _HOUR_MS
            self.recent_unit.setCurrentIndex(self.recent_unit.findData(unit))
            self.recent_count.setValue(max(1, spec.value // unit))
            self.recent.setChecked(True)
        elif spec.kind == SINCE_MS:
            when = QDateTime.fromMSecsSinceEpoch(spec.value, QTimeZone.utc()).toLocalTime()
            self.since_when.setDateTime(when)
            self.since.setChecked(True)
        elif spec.kind == LAST_PER_PARTITION:
            self.events_count.setValue(spec.value)
            self.per_partition.setChecked(True)
        else:
            self.everything.setChecked(True)

    def choice(self) -> WindowSpec:
        """What the dialog says now."""
        if self.recent.isChecked():
            unit = int(self.recent_unit.currentData())
            return WindowSpec(LAST_MS, self.recent_count.value() * unit)
        if self.since.isChecked():
            return WindowSpec(SINCE_MS, int(self.since_when.dateTime().toMSecsSinceEpoch()))
        if self.per_partition.isChecked():
            return WindowSpec(LAST_PER_PARTITION, self.events_count.value())
        return WindowSpec(ALL)
