"""The window's side of the fold guard (``app.replay.fold_guard``): ``os._exit`` in a
fold is a failure of the fold, and a fold that cannot be interrupted is said in the
banner; such a fold's thread can never be joined, so the app then leaves at once when
its window closes instead of waiting for that thread for ever."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.gui.main_window import MainWindow
from app.replay import fold_guard


class FoldSafety(QObject):
    unstoppable = Signal(str)  # emitted from the watchdog's thread, shown on the GUI's

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.stuck = False
        fold_guard.install_exit_guard()
        fold_guard.on_unstoppable(self.unstoppable.emit)
        self.unstoppable.connect(self._show)
        self._window = window

    def _show(self, message: str) -> None:
        self.stuck = True
        self._window.show_failure_text(
            f"{message}. It keeps one core busy until the app is closed; fix the fold "
            "(do not catch BaseException) and reload the folds."
        )

    def leave_if_stuck(self, code: int) -> int:
        """After the event loop: a thread that cannot end would hold the exit."""
        if self.stuck:
            fold_guard.exit_now(code)
        return code
