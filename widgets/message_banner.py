"""An inline message above the table: where a failure is shown without a modal dialog.

A failed job, a damaged file, a connection that did not answer: the banner says so in
one line, in place, until the user closes it or the next message replaces it.  Details
(a traceback, the full error) open with "Details…".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

STYLES = {
    "error": "background: #fde7e9; color: #5f1111; border-bottom: 1px solid #e8a3a9;",
    "warning": "background: #fff4d6; color: #4d3800; border-bottom: 1px solid #e7cf8e;",
    "info": "background: #e6f0fb; color: #10335a; border-bottom: 1px solid #a9c6e8;",
}


class MessageBanner(QWidget):
    action_triggered = Signal(str)  # the action's name (e.g. "retry")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = ""
        self._details = ""
        self._action = ""
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton("Details…")
        self.details_button.setFlat(True)
        self.details_button.clicked.connect(self._show_details)
        self.action_button = QPushButton()
        self.action_button.clicked.connect(lambda: self.action_triggered.emit(self._action))
        close = QPushButton("✕")
        close.setFlat(True)
        close.setToolTip("Dismiss")
        close.setFixedWidth(28)
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.details_button)
        layout.addWidget(close)
        self.setVisible(False)

    def show_message(
        self, text: str, level: str = "error", *, details: str = "", action: str = ""
    ) -> None:
        """Show ``text``; ``action`` names a button ("Retry") whose name is emitted."""
        self.level = level
        self.text.setText(text)
        self.setStyleSheet(f"MessageBanner {{ {STYLES.get(level, STYLES['info'])} }}")
        self._details = details
        self.details_button.setVisible(bool(details))
        self._action = action.lower()
        self.action_button.setText(action)
        self.action_button.setVisible(bool(action))
        self.setVisible(True)

    def dismiss(self) -> None:
        self.setVisible(False)
        self.text.clear()
        self.level = ""

    @property
    def message(self) -> str:
        return self.text.text() if self.isVisible() else ""

    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Details", self.text.text(), parent=self)
        box.setDetailedText(self._details)
        box.open()
