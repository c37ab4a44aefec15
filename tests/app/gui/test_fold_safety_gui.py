"""The window around a misbehaving fold: os._exit and a state it cannot keep are the
inspector's failure naming the fold (the app lives on); a fold that swallows every
interrupt is said in the banner, and the app then leaves without waiting for it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gui_helpers import pump_until

from app.gui.fold_safety import FoldSafety
from app.gui.main_window import MainWindow
from app.replay import fold_guard


def _load(window: MainWindow, tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(
        "import os, threading\nfrom app.folds import fold\n\n"
        f"@fold({name!r}, topics=['bank-*'])\ndef {name}(state, event):\n{body}"
    )
    window.fold_actions.load(path)


def _inspect_with(window: MainWindow, fold: str) -> None:
    window.topic_view.select_model_row(0)
    pump_until(lambda: window.inspector.aggregate is not None, 30)
    window.inspector.fold_combo.setCurrentText(fold)
    pump_until(lambda: window.inspector.failure.isVisible(), 30)


def test_os_exit_and_unkeepable_states_are_the_folds_failures(
    window: MainWindow, tmp_path: Path
) -> None:
    FoldSafety(window)
    try:
        _load(window, tmp_path, "quitter", "    os._exit(3)\n")
        _inspect_with(window, "quitter")
        text = window.inspector.failure.text()
        assert "os._exit(3)" in text and "quitter.py, line 6" in text
        _load(window, tmp_path, "holder", "    return {'lock': threading.Lock()}\n")
        _inspect_with(window, "holder")
        assert "cannot keep" in window.inspector.failure.text()
        assert window.isVisible()  # still here
    finally:
        window.inspector.fold_combo.setCurrentText("bank-account")


def test_a_fold_that_cannot_be_interrupted_is_said_in_the_banner(
    window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    release = threading.Event()
    monkeypatch.setattr("builtins.fold_guard_test_release", release, raising=False)
    safety = FoldSafety(window)
    # The inspector's budget is the default 5 s: reported after that and four re-sends.
    _load(
        window, tmp_path, "stubborn",
        "    import builtins\n    done = builtins.fold_guard_test_release\n"
        "    while not done.is_set():\n        try:\n            while not done.is_set():\n"
        "                pass\n        except BaseException:\n            pass\n"
        "    return state\n",
    )  # fmt: skip
    try:
        window.topic_view.select_model_row(0)
        pump_until(lambda: window.inspector.aggregate is not None, 30)
        window.inspector.fold_combo.setCurrentText("stubborn")
        pump_until(lambda: safety.stuck, 60)
        assert "'stubborn'" in window.banner.text.text()
        assert "BaseException" in window.banner.text.text()
    finally:
        release.set()  # the test's way out; a user's fold has none
        safety.stuck = False
        fold_guard.on_unstoppable(lambda _m: None)
        window.inspector.fold_combo.setCurrentText("bank-account")
