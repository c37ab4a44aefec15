"""The event table model on its own, with no view (roles, lazy reads, appends)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kafka_io.event import Event, iso_utc
from widgets.event_table import EventTableModel, Role, TableColumn, local_time, preview


class CountingStore:
    """A store that records which rows were read, to prove the model reads lazily."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.reads: list[int] = []

    def event(self, row: int) -> Event:
        self.reads.append(row)
        return self.events[row]


def make_event(offset: int, *, error: str | None = None, tombstone: bool = False) -> Event:
    data = None if (error or tombstone) else {"amount": offset, "currency": "EUR"}
    return Event(
        topic="bank-accounts",
        partition=offset % 3,
        offset=offset,
        timestamp_ms=1_756_710_000_000 + offset * 1000,
        key=f"ACC-{offset % 7}",
        type="MoneyDeposited" if data else "unknown",
        aggregate=f"ACC-{offset % 7}",
        headers=(),
        data=data,
        schema_id=None,
        error=error,
        value=None if tombstone else b"{}",
    )


@pytest.fixture
def store() -> CountingStore:
    events = [make_event(i) for i in range(100)]
    events[5] = make_event(5, error="JSON: unexpected end of data")
    events[6] = make_event(6, tombstone=True)
    return CountingStore(events)


def cell(
    model: EventTableModel, row: int, col: TableColumn, role: int = Qt.ItemDataRole.DisplayRole
) -> Any:
    return model.data(model.index(row, int(col)), role)


def test_rows_and_columns_come_from_the_row_array(qapp: QApplication, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.array([3, 10, 42], dtype=np.int64))
    assert model.rowCount() == 3
    assert model.columnCount() == len(TableColumn)
    assert cell(model, 1, TableColumn.OFFSET) == 10
    assert cell(model, 2, TableColumn.PARTITION) == 42 % 3
    assert cell(model, 0, TableColumn.AGGREGATE) == "ACC-3"
    assert cell(model, 0, TableColumn.TYPE) == "MoneyDeposited"
    assert cell(model, 2, TableColumn.VALUE, Role.ROW_ID) == 42
    assert cell(model, 0, TableColumn.VALUE, Role.EVENT) is store.events[3]


def test_reads_only_rows_asked_for(qapp: QApplication, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.arange(100, dtype=np.int64))
    assert store.reads == []
    for col in TableColumn:
        cell(model, 50, col)
    assert store.reads == [50]  # one read for the whole row: the entry is cached


def test_timestamp_local_display_utc_tooltip(qapp: QApplication, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.arange(10, dtype=np.int64))
    ms = store.events[2].timestamp_ms
    assert cell(model, 2, TableColumn.TIMESTAMP) == local_time(ms)
    assert (
        cell(model, 2, TableColumn.TIMESTAMP, Qt.ItemDataRole.ToolTipRole) == f"{iso_utc(ms)} (UTC)"
    )
    assert cell(model, 2, TableColumn.TIMESTAMP, Role.TIMESTAMP_MS) == ms


def test_undecodable_row_is_marked(qapp: QApplication, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.arange(10, dtype=np.int64))
    assert cell(model, 5, TableColumn.VALUE, Role.ERROR) == "JSON: unexpected end of data"
    assert "unexpected end of data" in cell(model, 5, TableColumn.VALUE)
    assert "unexpected end" in cell(model, 5, TableColumn.TYPE, Qt.ItemDataRole.ToolTipRole)
    assert cell(model, 5, TableColumn.VALUE, Qt.ItemDataRole.DecorationRole) is not None
    assert cell(model, 5, TableColumn.TYPE, Qt.ItemDataRole.ForegroundRole) is not None
    assert cell(model, 4, TableColumn.VALUE, Role.ERROR) is None
    assert cell(model, 4, TableColumn.VALUE, Qt.ItemDataRole.ForegroundRole) is None
    assert "tombstone" in cell(model, 6, TableColumn.VALUE)


def test_append_rows_inserts_at_end(qtbot: QtBot, qapp: QApplication, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.arange(10, dtype=np.int64))
    with qtbot.waitSignal(model.rowsInserted) as blocker:
        model.append_rows(np.arange(10, 25, dtype=np.int64))
    assert blocker.args[1:] == [10, 24]
    assert model.rowCount() == 25
    assert cell(model, 24, TableColumn.OFFSET) == 24
    assert model.model_row(17) == 17
    assert model.model_row(1000) is None


def test_rows_appended_many_times_are_all_there_and_rows_handed_out_stay(
    qapp: QApplication, store: CountingStore
) -> None:
    """Appending grows the rows in place (a live topic appends a few times a second):
    the rows are every appended row in order, and an array handed out earlier keeps
    what it held, across regrowths and a reset."""
    model = EventTableModel()
    model.set_rows(store, np.array([5, 2], dtype=np.int64))
    expected = [5, 2]
    handed: list[tuple[np.ndarray, list[int]]] = []
    for step in range(40):
        new = np.arange(100 * step, 100 * step + 37, dtype=np.int64)
        model.append_rows(new)
        expected += new.tolist()
        handed.append((model.rows, list(expected)))
    assert model.rows.tolist() == expected and model.rowCount() == len(expected)
    model.set_rows(store, np.array([1], dtype=np.int64))
    model.append_rows(np.array([9], dtype=np.int64))
    assert model.rows.tolist() == [1, 9]
    assert all(rows.tolist() == held for rows, held in handed)


def test_rows_replaced_after_a_kept_prefix_without_a_reset(
    qtbot: QtBot, qapp: QApplication, store: CountingStore
) -> None:
    """A followed topic's newest events can sort among the last ones shown: the rows
    after the kept ones are removed and the new ones inserted, never a model reset, and
    an array handed out before keeps what it held."""
    model = EventTableModel()
    model.set_rows(store, np.arange(10, dtype=np.int64))
    handed = model.rows
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    new = np.array([0, 1, 2, 3, 4, 5, 6, 12, 7, 8, 9, 13], dtype=np.int64)
    with (
        qtbot.waitSignal(model.rowsRemoved) as removed,
        qtbot.waitSignal(model.rowsInserted) as inserted,
    ):
        model.replace_from(7, new)
    assert removed.args[1:] == [7, 9] and inserted.args[1:] == [7, 11]
    assert model.rows.tolist() == new.tolist() and model.rowCount() == 12
    assert cell(model, 7, TableColumn.OFFSET) == 12
    assert not resets
    assert handed.tolist() == list(range(10))
    model.replace_from(12, np.append(new, 14))  # nothing replaced: an append
    assert model.rows.tolist() == [*new.tolist(), 14]


def test_model_row_finds_unsorted_rows(qapp: QApplication, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.array([9, 3, 7], dtype=np.int64))
    assert model.model_row(7) == 2
    assert model.model_row(3) == 1


def test_model_passes_qt_model_tester(qtmodeltester: ModelTester, store: CountingStore) -> None:
    model = EventTableModel()
    model.set_rows(store, np.arange(100, dtype=np.int64))
    qtmodeltester.check(model)


def test_million_rows_cost_an_array(qapp: QApplication) -> None:
    class Synthetic:
        def event(self, row: int) -> Event:
            return make_event(row)

    model = EventTableModel()
    model.set_rows(Synthetic(), np.arange(1_000_000, dtype=np.int64))
    assert model.rowCount() == 1_000_000
    assert cell(model, 999_999, TableColumn.OFFSET) == 999_999
    assert model.rowCount(model.index(0, 0)) == 0
    assert not model.index(0, 0).parent().isValid()
    assert model.rowCount(QModelIndex()) == 1_000_000


def test_preview_truncates_long_values() -> None:
    ev = make_event(1)._replace(data={"text": "x" * 1000})
    text = preview(ev)
    assert len(text) <= 160 and text.endswith("…")
