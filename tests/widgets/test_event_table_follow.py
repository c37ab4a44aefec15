"""The table's tail -f behaviour on its own: following the end, and letting the user leave."""

from __future__ import annotations

import numpy as np
from evfactory import random_events
from pytestqt.qtbot import QtBot

from kafka_io.event import Event
from widgets.event_table import EventTableModel
from widgets.event_table_view import EventTable


class ListStore:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def event(self, row: int) -> Event:
        return self.events[row]


def table_with(qtbot: QtBot, rows: int) -> tuple[EventTable, EventTableModel]:
    store = ListStore(random_events(200))
    model = EventTableModel()
    model.set_rows(store, np.arange(rows, dtype=np.int64))
    table = EventTable()
    qtbot.addWidget(table)
    table.setModel(model)
    table.resize(600, 300)
    table.show()
    qtbot.waitExposed(table)
    return table, model


def append(table: EventTable, model: EventTableModel, start: int, count: int) -> None:
    was_at_end = table.at_end()
    model.append_rows(np.arange(start, start + count, dtype=np.int64))
    table.rows_added(count, was_at_end)


def test_follows_the_end_while_at_the_end(qtbot: QtBot) -> None:
    table, model = table_with(qtbot, 100)
    table.scrollToBottom()
    append(table, model, 100, 50)
    qtbot.waitUntil(lambda: table.at_end())
    assert not table.new_rows.isVisible()


def test_scrolling_away_before_the_relayout_is_respected(qtbot: QtBot) -> None:
    # The second scroll to the end waits for the event loop; a user who scrolls up in
    # between must stay where they went, and the next rows are counted, not followed.
    table, model = table_with(qtbot, 100)
    table.scrollToBottom()
    append(table, model, 100, 50)
    table.scrollToTop()
    qtbot.wait(50)  # the deferred scroll runs here
    assert table.verticalScrollBar().value() == 0
    append(table, model, 150, 1)
    assert table.new_rows.isVisible() and table.new_rows.text() == "1 new event ↓"
    append(table, model, 151, 2)
    assert table.new_rows.text() == "3 new events ↓"
    table.new_rows.click()
    qtbot.waitUntil(lambda: table.at_end())
    assert not table.new_rows.isVisible() and table.new_rows.unseen == 0
