"""Topic > Open a window of it… in the main window, against the real broker: the dialog
opens with its shortcut, the chosen window is what the table shows, and the choice is
remembered for the topic the next time the app opens it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest
from gui_helpers import loaded, must, pump_until
from kafka_helpers import BASE_MS, Rec, produce
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.index.window import HistoryBefore, Window
from app.masking.masker import MARK, Masker
from app.masking.rules import MaskingRules
from widgets.aggregate_inspector import StateView
from widgets.event_table import Role

pytestmark = pytest.mark.kafka

PER_PARTITION = 40
KEEP = 6


def window_on(bootstrap: str, settings: Path) -> MainWindow:
    args = argparse.Namespace(bootstrap=bootstrap, x_options=[], config=None, registry=None,
                              registry_auth=None, file=None, folds=[])  # fmt: skip
    window = build_window(args, Settings(settings), use_user_folds=False)
    window.show()
    return window


def shown(window: MainWindow) -> set[tuple[int, int]]:
    model = window.topic_view.model
    events = [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]
    return {(e.partition, e.offset) for e in events}


def action(window: MainWindow, text: str) -> QAction:
    found = [a for a in window.findChildren(QAction) if a.text() == text]
    assert len(found) == 1, text
    return found[0]


def test_open_a_window_of_a_topic_from_the_menu(
    qapp: QApplication,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = make_topic(partitions=3, prefix="ledger")
    records = [
        Rec(
            f'{{"eventType":"Booked","aggregateId":"L-{i % 9}","i":{i},"note":"n-{i}"}}'.encode(),
            f"L-{i % 9}".encode(),
            i % 3,
            BASE_MS + i * 1000,
        )
        for i in range(3 * PER_PARTITION)
    ]
    written = produce(kafka_bootstrap, topic, records)
    last = {(p, o) for p, o in written if o >= PER_PARTITION - KEEP}
    assert len(last) == 3 * KEEP
    window = window_on(kafka_bootstrap, tmp_path / "s.ini")
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        window.activate_topic(topic)
        pump_until(lambda: loaded(window) and len(shown(window)) == 3 * PER_PARTITION, 60)

        opening = action(window, "Open a &window of it…")
        assert opening.shortcut() == QKeySequence("Ctrl+Shift+W")
        opening.trigger()
        dialog = must(window.windows.shown)
        assert dialog.choice().everything  # nothing chosen for this topic yet
        dialog.events_count.setValue(KEEP)
        dialog.grab().save(str(tmp_path / "open-window-dialog.png"))
        dialog.accept()
        pump_until(lambda: loaded(window) and shown(window) == last, 60)
        index = must(window.loader.dataset).indexes[topic]
        assert isinstance(index.window, Window)
        summary = window.filter_bar.summary
        assert summary.text() == f"{3 * KEEP} events (incomplete)"
        assert "holds the last 6 events of each partition" in summary.toolTip()
        # Whole-history answers are refused on a window, and say why.
        action(window, "&States of every aggregate").trigger()
        assert window.banner.isVisible()
        assert "needs the whole history of" in window.statusBar().currentMessage()

        # The inspector says its aggregate may have earlier events, and reads them.
        row = next(r for r in range(window.topic_view.model.rowCount())
                   if window.topic_view.model.data(window.topic_view.model.index(r, 0),
                                                   Role.EVENT).aggregate == "L-3")  # fmt: skip
        window.topic_view.select_model_row(row)
        note = window.inspector.note
        pump_until(lambda: "may have earlier events" in note.text(), 30)
        read: list[HistoryBefore] = []
        window.windows.earlier_read.connect(read.append)
        earlier = action(window, "&Earlier events of aggregate")
        assert earlier.shortcut() == QKeySequence("Ctrl+Shift+B")
        earlier.trigger()
        pump_until(lambda: bool(read), 30)
        # Record i went to partition i % 3 at offset i // 3, stamped in order of i.
        expected = [(i % 3, i // 3) for i, r in enumerate(records)
                    if r.key == b"L-3" and i // 3 < PER_PARTITION - KEEP]  # fmt: skip
        assert expected
        assert [(e.partition, e.offset) for e in read[0].events] == expected
        message = window.statusBar().currentMessage()
        assert message.startswith(f"L-3 has {len(expected)} events before the window, Booked at")
        assert message.endswith("the inspector replays them first")
        # They are replayed: the timeline starts with them, then the window's events.
        ctl = window.inspector_ctl
        in_window = [(i % 3, i // 3) for i, r in enumerate(records)
                     if r.key == b"L-3" and i // 3 >= PER_PARTITION - KEEP]  # fmt: skip
        pump_until(lambda: len(must(ctl.replayer)) == len(expected) + len(in_window), 30)
        refs = must(ctl.replayer).refs()
        assert [(r.partition, r.offset) for r in refs] == expected + in_window
        assert "the timeline starts with this aggregate's" in note.text()
        # The state at the first (earlier) event is that event's, through the masker.
        window.masking.set(Masker(MaskingRules(fields=("note",))))
        states: list[StateView] = []
        ctl.state_shown.connect(states.append)
        window.inspector.select_step(0)
        pump_until(lambda: any(v.step == 0 for v in states), 30)
        first = next(v for v in states if v.step == 0).state
        assert first["i"] == next(i for i, r in enumerate(records) if r.key == b"L-3")
        assert first["note"] == MARK
        assert "n-" not in repr(states)
        window.grab().save(str(tmp_path / "earlier-events-replayed.png"))

        # The search box says its answer for the topic came from the window.
        # Only this topic: other tests' topics of the broker are no concern here.
        monkeypatch.setattr(window.search, "topics", lambda: [topic])
        panel = window.panes.search
        window.focus_search()
        panel.query.setText("L-3")
        panel.button.click()
        pump_until(lambda: panel.result is not None and panel.result.aggregate == "L-3", 60)
        assert panel.timeline.topLevelItemCount() == len(in_window)
        assert panel.summary.text().endswith("(from a window of 1 topic: see below)")
        assert (
            f"{topic}: answered from the window open on it (the last 6 events of each "
            "partition); earlier events were not searched" in panel.notes.text()
        )
        panel.grab().save(str(tmp_path / "search-from-a-window.png"))
        window.masking.set(Masker())
        window.grab().save(str(tmp_path / "window-of-a-topic.png"))
    finally:
        window.close()

    # Opened again, the topic is read with the window chosen for it.
    again = window_on(kafka_bootstrap, tmp_path / "s.ini")
    try:
        pump_until(lambda: topic in again.cluster_tree.topic_names(), 60)
        again.activate_topic(topic)
        pump_until(lambda: loaded(again) and len(shown(again)) >= 3 * KEEP, 60)
        assert shown(again) == last
        opening = action(again, "Open a &window of it…")
        opening.trigger()
        dialog = must(again.windows.shown)
        assert dialog.choice() == must(again.windows.window_for(topic))
        dialog.everything.setChecked(True)
        dialog.accept()
        pump_until(lambda: loaded(again) and len(shown(again)) == 3 * PER_PARTITION, 60)
        assert again.windows.window_for(topic) is None
        assert again.filter_bar.summary.text() == f"{3 * PER_PARTITION} events"
    finally:
        again.close()
