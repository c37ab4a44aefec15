"""A saved connection profile to connect with, for the connect dialog: the profiles by
name (their description as a tooltip), and a way to import another."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

PLACEHOLDER = "— saved profiles —"


class ProfilePicker(QWidget):
    picked = Signal(str)  # a profile name, chosen in the list
    import_requested = Signal()

    def __init__(
        self,
        names: Sequence[str] = (),
        descriptions: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.import_button = QPushButton("Import profile…")
        self.import_button.clicked.connect(self.import_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.import_button)
        self.combo.currentIndexChanged.connect(self._changed)
        self.set_profiles(names, descriptions)

    def set_profiles(
        self, names: Sequence[str], descriptions: Mapping[str, str] | None = None
    ) -> None:
        descriptions = descriptions or {}
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(PLACEHOLDER if names else "— no saved profiles —")
        for name in names:
            self.combo.addItem(name)
            if descriptions.get(name):
                self.combo.setItemData(
                    self.combo.count() - 1, descriptions[name], Qt.ItemDataRole.ToolTipRole
                )
        self.combo.setEnabled(bool(names))
        self.combo.blockSignals(False)

    def current(self) -> str | None:
        index = self.combo.currentIndex()
        return self.combo.itemText(index) if index > 0 else None

    def select(self, name: str) -> None:
        index = self.combo.findText(name)
        if index > 0:
            self.combo.setCurrentIndex(index)

    def _changed(self, index: int) -> None:
        if index > 0:
            self.picked.emit(self.combo.itemText(index))
