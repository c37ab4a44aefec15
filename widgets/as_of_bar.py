"""The as-of strip above the table: while it shows, the whole window is frozen at a
moment (or at per-partition offsets), and it says so in words.

It is a view: it says what the user asked for (a moment in epoch milliseconds, an
offsets text, leave) and shows the label and any error the window gives it back.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"
MODES = ("Time (UTC)", "Offsets")


class AsOfBar(QFrame):
    moment_changed = Signal(object)  # epoch ms (an int past 32 bits), on every change
    offsets_entered = Signal(str)  # "0:120,1:98", on Return
    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("asOfBar")
        self.setStyleSheet(
            "#asOfBar { background: #fff4d6; border-bottom: 1px solid #e0b040; }"
            "#asOfBar QLabel { color: #5a4300; }"
        )
        self.label = QLabel()
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip("Freeze the window at a moment, or at offsets per partition")
        self.time = QDateTimeEdit()
        self.time.setTimeZone(QTimeZone.utc())
        self.time.setDisplayFormat(TIME_FORMAT)
        self.time.setCalendarPopup(True)
        self.time.setToolTip("Everything written up to this moment (UTC), inclusive")
        self.offsets = QLineEdit()
        self.offsets.setPlaceholderText("partition:offset,…  e.g. 0:120,1:98 (Return)")
        self.offsets.setToolTip("Up to these offsets, inclusive; partitions not named: none")
        self.offsets.setVisible(False)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e;")
        self.leave = QPushButton("Leave as-of")
        self.leave.setToolTip("Show everything again")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.mode)
        layout.addWidget(self.time)
        layout.addWidget(self.offsets)
        layout.addWidget(self.leave)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.time.dateTimeChanged.connect(self._time_changed)
        self.offsets.returnPressed.connect(lambda: self.offsets_entered.emit(self.offsets.text()))
        self.leave.clicked.connect(self.leave_requested.emit)
        self._quiet = False
        self.setVisible(False)

    def show_moment(self, at_ms: int) -> None:
        """Set the time field without announcing it (the window set it)."""
        self._quiet = True
        self.mode.setCurrentIndex(0)
        self.time.setDateTime(QDateTime.fromMSecsSinceEpoch(at_ms, QTimeZone.utc()))
        self._quiet = False

    def show_offsets(self, text: str) -> None:
        self._quiet = True
        self.mode.setCurrentIndex(1)
        self.offsets.setText(text)
        self._quiet = False

    def set_label(self, text: str) -> None:
        self.label.setText(text)

    def set_error(self, text: str) -> None:
        self.error.setText(text)

    def _mode_changed(self, index: int) -> None:
        by_time = index == 0
        self.time.setVisible(by_time)
        self.offsets.setVisible(not by_time)
        if self._quiet:
            return
        if by_time:
            self._time_changed(self.time.dateTime())
        else:
            self.offsets.setFocus(Qt.FocusReason.OtherFocusReason)

    def _time_changed(self, value: QDateTime) -> None:
        if not self._quiet:
            self.moment_changed.emit(value.toMSecsSinceEpoch())
