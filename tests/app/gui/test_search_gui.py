"""The one search box on the demo data: an id typed, every event for it across topics,
the state from its fold, and a click that opens the event in its topic."""

from __future__ import annotations

from gui_helpers import pump_until

from app.gui.main_window import MainWindow


def test_search_finds_every_event_of_an_id_and_opens_one(window: MainWindow) -> None:
    panel = window.panes.search
    window.focus_search()
    task = window.search.search("ACC-100007")
    assert task is not None
    pump_until(lambda: panel.result is not None and panel.result.aggregate == "ACC-100007", 60)
    result = panel.result
    assert result is not None
    indexes = window.loader.dataset.indexes  # type: ignore[union-attr]
    expected = sum(len(ix.rows_for_aggregate("ACC-100007")) for ix in indexes.values())
    assert panel.timeline.topLevelItemCount() == expected > 0
    times = [e.timestamp_ms for e in result.timeline()]
    assert times == sorted(times)
    assert panel.topic.currentText() == "bank-accounts"
    assert panel.state.item_at_path("balance") is not None  # the bank-account fold ran
    # A double click on the last event opens its topic with that event selected.
    last = panel.timeline.topLevelItem(expected - 1)
    assert last is not None
    panel._chosen(last)
    event = result.timeline()[-1]
    pump_until(
        lambda: window.detail.current is not None and window.detail.current.offset == event.offset
    )
    assert window.topic_view.topic == event.topic
    window.panes.inspector_dock.raise_()


def test_an_unknown_id_says_nothing_was_found(window: MainWindow) -> None:
    panel = window.panes.search
    window.search.search("NOBODY-AT-ALL")
    pump_until(lambda: panel.result is not None and panel.result.aggregate == "NOBODY-AT-ALL", 60)
    assert panel.summary.text().startswith("No event for 'NOBODY-AT-ALL' in the 5 topics")
    assert panel.timeline.topLevelItemCount() == 0
