"""Folds in the GUI: discovery at start, File > Load folds..., and reload on save.

The fold library's watcher is polled from a QTimer (a stat per fold file per second);
when a file changed, its folds are re-imported and ``changed`` tells the window, which
replays the open aggregate with the new code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.replay.discovery import FoldLibrary, FoldWatcher, discover_folds
from app.replay.folds import FoldRegistry

POLL_MS = 1000


class FoldFiles(QObject):
    changed = Signal(list)  # the paths reloaded (or dropped)
    errors_changed = Signal(dict)  # source -> message, for every source that failed

    def __init__(
        self,
        paths: Sequence[str | Path] = (),
        *,
        remembered: Sequence[str | Path] = (),
        use_user_dir: bool = True,
        user_dir: Path | None = None,
        poll_ms: int = POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        # ``remembered``: fold files the user loaded in an earlier session (the settings
        # keep them); ``paths``: given for this session only (``--folds``), never saved.
        self.remembered: list[str] = [str(Path(p).resolve()) for p in remembered]
        self.library: FoldLibrary = discover_folds(
            [*remembered, *paths], user_dir=user_dir, use_user_dir=use_user_dir
        )
        self.watcher = FoldWatcher(self.library)
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    @property
    def registry(self) -> FoldRegistry:
        return self.library.registry

    @property
    def paths(self) -> list[str]:
        return [str(p) for p in self.library.paths]

    def errors(self) -> dict[str, str]:
        return {source: err.message for source, err in self.library.errors.items()}

    def add(self, path: str | Path, *, remember: bool = True) -> list[str]:
        """Load a fold file or folder given by the user; the fold names it provides.
        ``remember=False``: for this session only (a profile's fold folder)."""
        resolved = Path(path).resolve()
        if str(resolved) not in {str(Path(p).resolve()) for p in self.library.paths}:
            self.library.paths = (*self.library.paths, resolved)
        if remember and str(resolved) not in self.remembered:
            self.remembered.append(str(resolved))
        before = set(self.registry.names())
        files = [resolved] if resolved.is_file() else sorted(resolved.glob("*.py"))
        names: list[str] = []
        for f in files:
            names += self.library.reload_file(f)
        self.changed.emit([str(f) for f in files])
        self.errors_changed.emit(self.errors())
        return names or sorted(set(self.registry.names()) - before)

    def poll(self) -> list[Path]:
        changed = self.watcher.poll()
        if changed:
            self.changed.emit([str(p) for p in changed])
            self.errors_changed.emit(self.errors())
        return changed
