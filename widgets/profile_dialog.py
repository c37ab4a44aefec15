"""File > Import profile…: what a profile file holds, shown before it is saved, with the
name to save it under.  Its secrets are asked for afterwards, one prompt each."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.profiles.model import check_name


class ProfileDialog(QDialog):
    def __init__(
        self,
        rows: Sequence[tuple[str, str]],
        name: str,
        warnings: Sequence[str] = (),
        existing: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import connection profile")
        self._existing = set(existing)
        holder = QWidget()
        form = QFormLayout(holder)
        for what, value in rows:
            if what == "Name":
                continue
            shown = QLabel(value)
            shown.setWordWrap(True)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{what}:", shown)
        scroll = QScrollArea()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        self.name = QLineEdit(name)
        self.replace = QCheckBox("Replace the saved profile of this name")
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        self.warnings = QLabel("\n".join(f"Warning: {w}" for w in warnings))
        self.warnings.setStyleSheet("color: #8a5300;")
        self.warnings.setWordWrap(True)
        self.warnings.setVisible(bool(warnings))
        note = QLabel(
            "The file holds no secrets. Passwords it names are asked for next, once, "
            "and kept in the OS keyring."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        top = QFormLayout()
        top.addRow("Save as:", self.name)
        top.addRow("", self.replace)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.problem)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.warnings)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.name.textChanged.connect(self._check)
        self.replace.toggled.connect(self._check)
        self._check()
        self.resize(560, 480)

    @property
    def chosen_name(self) -> str:
        return self.name.text().strip()

    def _check(self) -> None:
        name = self.chosen_name
        exists = name in self._existing
        self.replace.setVisible(exists)
        problem = ""
        try:
            check_name(name)
        except ValueError as exc:
            problem = str(exc)
        if not problem and exists and not self.replace.isChecked():
            problem = f"A profile named {name} is saved already."
        self.problem.setText(problem)
        self.ok.setEnabled(not problem)
