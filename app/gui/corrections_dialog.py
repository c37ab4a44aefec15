"""Replay > Compare folds…: fold A (yours) and fold B (what runs in production), B
possibly the same fold name loaded from another file."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from app.replay.folds import FoldSpec


def fold_label(spec: FoldSpec) -> str:
    where = spec.source.rsplit("/", 1)[-1]
    return spec.name if spec.source in ("built-in", "code") else f"{spec.name} ({where})"


class CompareDialog(QDialog):
    def __init__(
        self,
        folds: Sequence[FoldSpec],
        more: Callable[[], list[FoldSpec]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare folds")
        self._more = more
        self.specs: list[FoldSpec] = list(folds)
        self.fold_a, self.fold_b = QComboBox(), QComboBox()
        for spec in self.specs:
            self.fold_a.addItem(fold_label(spec))
            self.fold_b.addItem(fold_label(spec))
        if len(self.specs) > 1:
            self.fold_b.setCurrentIndex(1)
        self.from_file = QPushButton("B from a file…")
        self.from_file.clicked.connect(self._add_from_file)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(bool(self.specs))
        form = QFormLayout(self)
        form.addRow(QLabel("Replays every aggregate of the topic with both folds and lists "
                           "those whose states differ."))  # fmt: skip
        form.addRow("Fold A (yours)", self.fold_a)
        form.addRow("Fold B", self.fold_b)
        form.addRow("", self.from_file)
        form.addRow(buttons)

    def add_folds(self, specs: Sequence[FoldSpec]) -> None:
        """Folds of another file as choices for B (chosen: the first of them)."""
        for spec in specs:
            self.specs.append(spec)
            self.fold_a.addItem(fold_label(spec))
            self.fold_b.addItem(fold_label(spec))
        if specs:
            self.fold_b.setCurrentIndex(len(self.specs) - len(specs))
            self.ok.setEnabled(True)

    def _add_from_file(self) -> None:
        self.add_folds(self._more())

    def chosen(self) -> tuple[FoldSpec, FoldSpec]:
        return self.specs[self.fold_a.currentIndex()], self.specs[self.fold_b.currentIndex()]
