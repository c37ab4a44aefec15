"""Replay > Compare folds…: fold A (yours) and fold B (what runs in production), B
possibly the same fold loaded from another file or from another git revision of A's
file, over every event or only those up to a moment (the CLI's ``--against-folds``,
``--against-git REV`` and ``--at T``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.replay.folds import FoldSpec

# B's choices from elsewhere: (fold, its label) pairs, or why there are none (one line).
Found = list[tuple[FoldSpec, str]] | str


def fold_label(spec: FoldSpec) -> str:
    where = spec.source.rsplit("/", 1)[-1]
    return spec.name if spec.source in ("built-in", "code") else f"{spec.name} ({where})"


class CompareDialog(QDialog):
    def __init__(
        self,
        folds: Sequence[FoldSpec],
        more: Callable[[], list[FoldSpec]],
        parent: QWidget | None = None,
        *,
        at_revision: Callable[[FoldSpec, str], Found] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare folds")
        self._more, self._at_revision = more, at_revision
        self.specs: list[FoldSpec] = []
        self.labels: list[str] = []
        self.fold_a, self.fold_b = QComboBox(), QComboBox()
        self._add([(spec, fold_label(spec)) for spec in folds])
        if len(self.specs) > 1:
            self.fold_b.setCurrentIndex(1)
        self.from_file = QPushButton("B from a file…")
        self.from_file.clicked.connect(self._add_from_file)
        self.revision = QLineEdit()
        self.revision.setPlaceholderText("a git revision: main, HEAD~1, v1.4…")
        self.revision.setToolTip("Fold B: fold A's file as it was at this revision")
        self.from_git = QPushButton("B from git revision")
        self.from_git.clicked.connect(self._add_from_git)
        self.from_git.setEnabled(at_revision is not None)
        git_row = QHBoxLayout()
        git_row.addWidget(self.revision, 1)
        git_row.addWidget(self.from_git)
        self.until = QCheckBox("Only events up to")
        self.at = QDateTimeEdit(QDateTime.currentDateTimeUtc())
        self.at.setTimeZone(QTimeZone.utc())
        self.at.setDisplayFormat("yyyy-MM-dd HH:mm:ss 'UTC'")
        self.at.setCalendarPopup(True)
        self.at.setEnabled(False)
        self.until.toggled.connect(self.at.setEnabled)
        at_row = QHBoxLayout()
        at_row.addWidget(self.until)
        at_row.addWidget(self.at, 1)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
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
        form.addRow("", git_row)
        form.addRow("History", at_row)
        form.addRow(self.problem)
        form.addRow(buttons)

    def _add(self, found: Sequence[tuple[FoldSpec, str]]) -> None:
        for spec, label in found:
            self.specs.append(spec)
            self.labels.append(label)
            self.fold_a.addItem(label)
            self.fold_b.addItem(label)

    def add_folds(self, specs: Sequence[FoldSpec]) -> None:
        """Folds of another file as choices for B (chosen: the first of them)."""
        self.add_found([(spec, fold_label(spec)) for spec in specs])

    def add_found(self, found: Found) -> None:
        """Choices for B (chosen: the first of them), or why there are none."""
        self.say(found if isinstance(found, str) else None)
        if isinstance(found, str) or not found:
            return
        self._add(found)
        self.fold_b.setCurrentIndex(len(self.specs) - len(found))
        self.ok.setEnabled(True)

    def say(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    def _add_from_file(self) -> None:
        self.add_folds(self._more())

    def _add_from_git(self) -> None:
        if self._at_revision is None or not self.specs:
            return
        base = self.specs[self.fold_a.currentIndex()]
        self.add_found(self._at_revision(base, self.revision.text().strip()))

    def chosen(self) -> tuple[FoldSpec, FoldSpec]:
        return self.specs[self.fold_a.currentIndex()], self.specs[self.fold_b.currentIndex()]

    def chosen_labels(self) -> tuple[str, str]:
        return self.labels[self.fold_a.currentIndex()], self.labels[self.fold_b.currentIndex()]

    @property
    def at_ms(self) -> int | None:
        """Compare only the events with timestamps up to this (None: every event)."""
        return self.at.dateTime().toMSecsSinceEpoch() if self.until.isChecked() else None
