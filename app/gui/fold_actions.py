"""Folds from the window's side: File > Load folds…, and what a reload or a failing
fold file means on screen (the inspector replays, a failure is shown, never swallowed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from app.gui.fold_files import FoldFiles
from app.gui.inspector import InspectorController
from app.gui.settings import Settings

Say = Callable[[str], None]


class FoldActions(QObject):
    def __init__(
        self,
        folds: FoldFiles,
        settings: Settings,
        inspector: InspectorController,
        status: Say,
        failure: Say,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.folds, self.settings, self.inspector = folds, settings, inspector
        self.status, self.failure = status, failure
        self._parent = parent
        folds.changed.connect(self._changed)
        folds.errors_changed.connect(self._errors)

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Load folds", "", "Python files (*.py)")
        if path:
            self.load(path)

    def load(self, path: str | Path) -> None:
        """Load a fold file or folder; remembered for later sessions (``--folds`` is not)."""
        names = self.folds.add(path)
        self.settings.set_fold_files(self.folds.remembered)
        problem = self.folds.errors().get(str(Path(path).resolve()))
        if problem:
            self.failure(f"Fold file {Path(path).name} failed: {problem}")
        else:
            self.status(f"Loaded {Path(path).name}: {', '.join(names) or 'no folds'}")

    def _changed(self, paths: list[str]) -> None:
        self.inspector.set_registry(self.folds.registry)
        self.status(f"Folds reloaded: {', '.join(Path(p).name for p in paths)}")

    def _errors(self, errors: dict[str, str]) -> None:
        if errors:
            source, message = next(iter(errors.items()))
            self.failure(f"Fold file {Path(source).name} failed: {message}")
