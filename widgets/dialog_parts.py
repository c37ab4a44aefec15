"""What the window's form dialogs share: a line saying what is wrong, a quiet note,
the OK / Cancel row, and the column they are stacked in."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLayout, QVBoxLayout, QWidget

ERROR_STYLE = "color: #b3261e;"
_Button = QDialogButtonBox.StandardButton


def error_line() -> QLabel:
    """Where a dialog says why it cannot take what was typed (red, wrapped)."""
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    return label


def quiet_note(text: str) -> QLabel:
    """A wrapped remark under a form, in the palette's muted colour."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(mid);")
    return label


def ok_cancel(
    dialog: QDialog,
    on_ok: Callable[[], None] | None = None,
    *,
    ok: _Button = _Button.Ok,
    ok_text: str | None = None,
) -> QDialogButtonBox:
    """The button row: ``on_ok`` (default: accept) and Cancel (reject)."""
    buttons = QDialogButtonBox(ok | _Button.Cancel)
    if ok_text is not None:
        button = buttons.button(ok)
        if button is not None:
            button.setText(ok_text)
    buttons.accepted.connect(on_ok or dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def stack(dialog: QDialog, *parts: QLayout | QWidget) -> QVBoxLayout:
    """``parts`` one under the other, as the dialog's layout."""
    layout = QVBoxLayout(dialog)
    for part in parts:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    return layout
