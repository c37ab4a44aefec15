"""Where fold B of a comparison comes from besides the loaded folds: another fold file,
or fold A's own file as it was at a git revision ("my change against what runs in
production").  A file taken from git stays on disk while a comparison may use it: the
comparison's worker processes load folds from their files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app.gui.corrections_dialog import Found
from app.replay.discovery import discover_folds, load_definitions
from app.replay.fold_git import FoldAtRevision, GitError
from app.replay.folds import FoldSpec


class CompareChoices:
    def __init__(self, main: QWidget, say_failure: Callable[[str], None]) -> None:
        self.main, self.say_failure = main, say_failure
        self._revisions: list[FoldAtRevision] = []

    def from_file(self) -> list[FoldSpec]:
        path, _ = QFileDialog.getOpenFileName(
            self.main, "The other fold's file", "", "Python files (*.py)"
        )
        return self.folds_in(Path(path)) if path else []

    def folds_in(self, path: Path) -> list[FoldSpec]:
        library = discover_folds(
            [path], use_user_dir=False, use_examples=False, use_entry_points=False
        )
        failed = library.given_errors()
        if failed:
            self.say_failure(f"Could not load {failed[0].message}")
        return list(library.given_specs())

    def at_revision(self, base: FoldSpec, revision: str) -> Found:
        """Fold ``base`` as its file was at git ``revision``, or why it cannot be had."""
        if not revision:
            return "Give a git revision (a branch, a tag, HEAD~1, a commit)."
        if not base.source.endswith(".py"):
            return (
                f"Fold {base.name} comes from {base.source}, not a file: a git revision "
                "needs fold A loaded from a fold file in a git work tree."
            )
        try:
            at = FoldAtRevision(Path(base.source), revision)
        except GitError as exc:
            return f"{exc}."
        try:
            same = [s for s in load_definitions(at.path).folds if s.name == base.name]
        except Exception as exc:  # the old file does not load: one line, nothing else lost
            at.close()
            return f"Could not load {at.label}: {type(exc).__name__}: {exc}"
        if not same:
            at.close()
            return f"{at.label} defines no fold named {base.name!r}."
        self._revisions.append(at)
        return [(spec, f"{spec.name} ({at.label})") for spec in same]

    def close(self) -> None:
        """The files taken from git are no longer needed (a new comparison is chosen)."""
        for at in self._revisions:
            at.close()
        self._revisions.clear()
