"""The dialog that opens a window of a topic, and the choice remembered per topic."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.gui.settings import Settings
from app.gui.window_jobs import remember_window, remembered_window
from app.index.window import WindowSpec
from widgets.open_window_dialog import OpenWindowDialog


def test_every_choice_reads_back(qtbot: QtBot) -> None:
    specs = [WindowSpec(), WindowSpec.last_hours(6), WindowSpec.last_days(3),
             WindowSpec("since_ms", 1_700_000_040_000), WindowSpec.last_events(5000)]  # fmt: skip
    for spec in specs:
        dialog = OpenWindowDialog("orders", spec, events=12_000_000, partitions=12)
        qtbot.addWidget(dialog)
        assert dialog.choice() == spec


def test_editing_a_field_picks_its_choice(qtbot: QtBot) -> None:
    dialog = OpenWindowDialog("orders")
    qtbot.addWidget(dialog)
    assert dialog.choice().everything
    dialog.events_count.setValue(250)
    assert dialog.choice() == WindowSpec.last_events(250)
    dialog.recent_unit.setCurrentIndex(dialog.recent_unit.findText("days"))
    dialog.recent_count.setValue(2)
    assert dialog.choice() == WindowSpec.last_days(2)
    dialog.everything.setChecked(True)
    assert dialog.choice() == WindowSpec()


def test_the_choice_is_remembered_per_source_and_topic(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.ini")
    assert remembered_window(settings, "broker:9092", "orders").everything
    remember_window(settings, "broker:9092", "orders", WindowSpec.last_days(7))
    remember_window(settings, "broker:9092", "payments", WindowSpec.last_events(10))
    again = Settings(tmp_path / "s.ini")
    assert remembered_window(again, "broker:9092", "orders") == WindowSpec.last_days(7)
    assert remembered_window(again, "other:9092", "orders").everything
    remember_window(again, "broker:9092", "orders", WindowSpec())
    assert remembered_window(again, "broker:9092", "orders").everything
    assert remembered_window(again, "broker:9092", "payments") == WindowSpec.last_events(10)
