"""Folds in the window: a failing fold is shown at its event; saving a fold file updates
the state shown."""

from __future__ import annotations

import os
from pathlib import Path

from gui_helpers import pump_until

from app.gui.main_window import MainWindow

AGGREGATE = "ACC-100007"

FRAGILE = """
from app.folds import fold

@fold("fragile", topics=["bank-*"])
def fragile(state, event):
    state = dict(state or {"movements": 0})
    if event.type == "MoneyWithdrawn":
        raise ValueError("withdrawals are not supported")
    state["movements"] += 1
    return state
"""

FIXED = """
from app.folds import fold

@fold("fragile", topics=["bank-*"])
def fragile(state, event):
    state = dict(state or {"movements": 0, "version": 2})
    state["movements"] += 1
    state["last"] = event.type
    return state
"""


def select_aggregate_with_fold(window: MainWindow, fold: str) -> None:
    window.filter_bar.set_aggregate(AGGREGATE)
    window.filter_bar.flush()
    window.topic_view.select_model_row(window.topic_view.model.rowCount() - 1)
    pump_until(lambda: window.inspector.aggregate == AGGREGATE, 30)
    window.inspector.fold_combo.setCurrentText(fold)
    pump_until(
        lambda: window.inspector_ctl.fold is not None and window.inspector_ctl.fold.name == fold, 30
    )


def test_fold_error_is_shown_not_raised(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "fragile_fold.py"
    path.write_text(FRAGILE)
    window.fold_actions.load(path)
    assert "fragile" in window.folds.registry
    select_aggregate_with_fold(window, "fragile")
    inspector = window.inspector
    pump_until(lambda: inspector.failure.isVisible(), 30)
    text = inspector.failure.text()
    assert "withdrawals are not supported" in text
    assert "MoneyWithdrawn" in text
    failed_step = inspector.timeline_model.failure_step
    assert failed_step is not None
    assert inspector.timeline_model.refs[failed_step].type == "MoneyWithdrawn"
    # The state shown stops before the failing event: every movement before it counted.
    pump_until(lambda: inspector.state_tree.item_at_path("movements") is not None, 30)
    movements = inspector.state_tree.item_at_path("movements")
    assert movements is not None and int(movements.text(1)) == failed_step


def test_saving_the_fold_file_updates_the_state(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "fragile_fold.py"
    path.write_text(FRAGILE)
    window.fold_actions.load(path)
    select_aggregate_with_fold(window, "fragile")
    inspector = window.inspector
    pump_until(lambda: inspector.failure.isVisible(), 30)
    path.write_text(FIXED)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    window.folds.poll()  # what the 1 s timer does
    pump_until(lambda: inspector.state_tree.item_at_path("version") is not None, 30)
    assert not inspector.failure.isVisible()
    last = inspector.state_tree.item_at_path("movements")
    assert last is not None and int(last.text(1)) == inspector.step + 1


def test_broken_fold_file_reports_error(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "broken_fold.py"
    path.write_text("def oops(:\n")
    errors: list[dict[str, str]] = []
    window.folds.errors_changed.connect(errors.append)
    window.fold_actions.load(path)
    assert errors and any("broken_fold.py" in source for source in errors[-1])
    assert "broken_fold.py" in window.statusBar().currentMessage()
