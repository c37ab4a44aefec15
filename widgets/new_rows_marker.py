"""The "N new events ↓" button over a live table the user has scrolled away from."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget


class NewRowsMarker(QPushButton):
    """Counts rows that arrived below the view; sits at the viewport's bottom right.

    Clicking it is the table's business (it scrolls to the end and calls ``reset``).
    """

    def __init__(self, viewport: QWidget) -> None:
        super().__init__(viewport)
        self._viewport = viewport
        self.unseen = 0
        self.setVisible(False)

    def add(self, count: int) -> None:
        self.unseen += count
        self.setText(f"{self.unseen:,} new event{'s' * (self.unseen != 1)} ↓")
        self.adjustSize()
        area = self._viewport.rect()
        self.move(area.right() - self.width() - 16, area.bottom() - self.height() - 8)
        self.setVisible(True)
        self.raise_()

    def reset(self) -> None:
        self.unseen = 0
        self.setVisible(False)
