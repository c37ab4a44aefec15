"""Asking for one secret of a profile: the password (or user name, or the registry's
user:password) the keyring does not hold, with why it is asked for and whether it will
be kept in the keyring or only for this session."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

KEPT = "It will be kept in the OS keyring: you will not be asked again."
NOT_KEPT = "It is kept in memory for this session only, and never written to disk."


class PasswordPrompt(QDialog):
    def __init__(
        self,
        profile: str,
        label: str,
        reason: str,
        remembered: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Profile {profile}")
        self.question = QLabel(f"<b>{escape(label)}</b> for profile <b>{escape(profile)}</b>")
        self.reason = QLabel(reason[:1].upper() + reason[1:] + ".")
        self.reason.setWordWrap(True)
        self.kept = QLabel(KEPT if remembered else NOT_KEPT)
        self.kept.setWordWrap(True)
        self.kept.setStyleSheet("color: palette(mid);")
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText(label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.field.textChanged.connect(lambda text: self.ok.setEnabled(bool(text)))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.question, self.reason, self.field, self.kept, buttons):
            layout.addWidget(widget)
        self.resize(420, self.sizeHint().height())

    def value(self) -> str | None:
        """What was typed, once accepted; None when cancelled or empty."""
        if self.result() != QDialog.DialogCode.Accepted:
            return None
        return self.field.text() or None
