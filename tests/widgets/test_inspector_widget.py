"""The aggregate inspector and state tree on their own (no window, no replay)."""

from __future__ import annotations

from gui_helpers import must
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.replay.diff import diff_states
from kafka_io.event import EventRef
from widgets.aggregate_inspector import AggregateInspector, StateView
from widgets.state_tree import CHANGED_BG, StateTree

REFS = [
    EventRef(0, 10 + i, "MoneyDeposited" if i else "AccountOpened", 1_757_000_000_000 + i)
    for i in range(5)
]


def test_timeline_steps_with_keys_and_slider(qtbot: QtBot) -> None:
    inspector = AggregateInspector()
    qtbot.addWidget(inspector)
    inspector.set_folds(["bank-account", "merge"], "bank-account")
    inspector.set_timeline("ACC-1", REFS)
    steps: list[int] = []
    inspector.step_selected.connect(steps.append)
    inspector.select_step(0)
    inspector.timeline.setFocus()
    qtbot.keyClick(inspector.timeline, Qt.Key.Key_Right)
    qtbot.keyClick(inspector.timeline, Qt.Key.Key_Down)
    qtbot.keyClick(inspector.timeline, Qt.Key.Key_Left)
    inspector.slider.setValue(4)
    assert steps == [0, 1, 2, 1, 4]
    assert inspector.position.text() == "5 / 5"
    inspector.step_by(10)
    assert inspector.step == 4  # clamped at the last event
    assert "ACC-1" in inspector.aggregate_label.text()


def test_failure_is_marked_at_its_event(qtbot: QtBot) -> None:
    inspector = AggregateInspector()
    qtbot.addWidget(inspector)
    inspector.set_timeline("ACC-1", REFS)
    inspector.show_failure("fold 'x' failed at partition 0 offset 12: KeyError: 'amount'", 2)
    model = inspector.timeline_model
    assert not inspector.failure.isHidden()
    assert model.data(model.index(2), Qt.ItemDataRole.DisplayRole).startswith("⚠")
    assert model.data(model.index(2), Qt.ItemDataRole.BackgroundRole) is not None
    assert model.data(model.index(3), Qt.ItemDataRole.ForegroundRole) is not None  # after it
    assert model.data(model.index(1), Qt.ItemDataRole.BackgroundRole) is None
    inspector.set_timeline("ACC-2", REFS)
    assert inspector.failure.isHidden()


def test_diff_is_listed(qtbot: QtBot) -> None:
    inspector = AggregateInspector()
    qtbot.addWidget(inspector)
    inspector.set_timeline("ACC-1", REFS)
    diff = diff_states({"balance": 1, "owner": "a"}, {"balance": 5, "status": "open"})
    inspector.show_diff(0, 3, diff.changes)
    rows = [
        [must(inspector.diff_tree.topLevelItem(i)).text(c) for c in range(4)]
        for i in range(inspector.diff_tree.topLevelItemCount())
    ]
    assert ["changed", "balance", "1", "5"] in rows
    assert ["removed", "owner", '"a"', ""] in rows
    assert ["added", "status", "", '"open"'] in rows
    assert "3 changes" in inspector.diff_summary.text()
    assert inspector.tabs.currentIndex() == 1


def test_state_tree_highlights_changes_and_blames(qtbot: QtBot) -> None:
    tree = StateTree()
    qtbot.addWidget(tree)
    state = {"balance": 10, "owner": {"name": "Ada"}, "tags": ["a", "b"]}
    blame = {"balance": REFS[3], "owner.name": REFS[0]}
    tree.show_state(state, {"balance", "tags"}, blame)
    changed = {item.data(0, Qt.ItemDataRole.UserRole + 1) for item in tree.changed_items()}
    assert changed == {"balance", "tags", "tags[0]", "tags[1]"}
    balance = tree.item_at_path("balance")
    assert balance is not None and balance.background(1).color() == CHANGED_BG
    assert balance.text(2) == "MoneyDeposited · p0@13"
    name = tree.item_at_path("owner.name")
    assert name is not None and "AccountOpened" in name.toolTip(2)
    assert not any(
        i.data(0, Qt.ItemDataRole.UserRole + 1) == "owner.name" for i in tree.changed_items()
    )


def test_show_state_title(qtbot: QtBot) -> None:
    inspector = AggregateInspector()
    qtbot.addWidget(inspector)
    inspector.set_timeline("ACC-1", REFS)
    inspector.show_state(StateView(step=2, state={"balance": 3}, changed=frozenset({"balance"})))
    assert "event 3 of 5" in inspector.state_title.text()
    assert "1 field changed" in inspector.state_title.text()
    inspector.show_message("Select an event")
    assert inspector.step_count == 0 and inspector.state_tree.topLevelItemCount() == 0


def test_events_added_live_update_the_counts_of_the_event_shown(qtbot: QtBot) -> None:
    """Following live, with an earlier event picked: the timeline grows, and the slider's
    position and the state's title count the new events, on the event still picked."""
    inspector = AggregateInspector()
    qtbot.addWidget(inspector)
    inspector.set_timeline("ACC-1", REFS)
    inspector.select_step(1)
    inspector.show_state(StateView(step=1, state={"balance": 1}))
    later = [EventRef(0, 20 + i, "MoneyDeposited", 1_757_000_001_000 + i) for i in range(3)]
    inspector.extend_timeline(later)
    assert inspector.step == 1 and inspector.step_count == 8
    assert inspector.position.text() == "2 / 8"
    assert inspector.state_title.text().startswith("State after event 2 of 8: MoneyDeposited")
    assert inspector.slider.maximum() == 7
