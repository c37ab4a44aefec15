"""A painted cell asks the model once for all its roles (``multiData``), and the table
looks exactly as it does when each role is asked for on its own (``data``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from evfactory import random_events
from PySide6.QtCore import QAbstractTableModel, QModelRoleData, QModelRoleDataSpan
from PySide6.QtGui import QIcon, QImage
from pytestqt.qtbot import QtBot

from kafka_io.event import Event
from widgets.event_table import EventTableModel, ModelIndex
from widgets.event_table_view import EventTable

EVENTS = random_events(200)
# Plain rows, an undecodable one (red, an icon), tombstones (grey italics), both at once.
ROWS = np.array([0, 1, 2, 53, 61, 106, 122, 3, 4, 5, 159, 183], np.int64)


class ListStore:
    def event(self, row: int) -> Event:
        return EVENTS[row]


class PerRoleModel(EventTableModel):
    """Qt's own multiData: one ``data()`` call per role."""

    def multiData(
        self, index: ModelIndex, roleDataSpan: QModelRoleDataSpan | QModelRoleData
    ) -> None:
        QAbstractTableModel.multiData(self, index, roleDataSpan)


class CountingModel(EventTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.calls = {"data": 0, "multiData": 0}

    def data(self, index: ModelIndex, role: int = 0) -> Any:
        self.calls["data"] += 1
        return super().data(index, role)

    def multiData(
        self, index: ModelIndex, roleDataSpan: QModelRoleDataSpan | QModelRoleData
    ) -> None:
        self.calls["multiData"] += 1
        super().multiData(index, roleDataSpan)


def painted(qtbot: QtBot, model: EventTableModel) -> QImage:
    model.set_rows(ListStore(), ROWS)
    table = EventTable()
    qtbot.addWidget(table)
    table.setModel(model)
    table.resize(900, 320)
    table.show()
    qtbot.waitExposed(table)
    return table.grab().toImage()


def test_one_call_per_cell_paints_what_one_call_per_role_paints(qtbot: QtBot) -> None:
    assert any(EVENTS[r].error for r in ROWS) and any(EVENTS[r].value is None for r in ROWS)
    assert painted(qtbot, EventTableModel()) == painted(qtbot, PerRoleModel())


def test_a_paint_goes_through_multi_data(qtbot: QtBot) -> None:
    model = CountingModel()
    image = painted(qtbot, model)
    assert not image.isNull()
    cells = len(ROWS) * model.columnCount()
    assert model.calls["multiData"] >= cells
    assert model.calls["data"] < model.calls["multiData"]  # not seven per cell


def test_the_answers_made_once_per_row_are_what_data_answers(qtbot: QtBot) -> None:
    """``multiData`` answers a paint's roles from what it made once per row: for every
    kind of row, column and role a paint asks for, that is exactly ``data()``'s answer."""
    from PySide6.QtCore import QModelRoleData, Qt

    model = EventTableModel()
    model.set_rows(ListStore(), ROWS)
    roles = [
        Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.CheckStateRole,
    ]  # fmt: skip
    compared = 0
    for row in range(model.rowCount()):
        for col in range(model.columnCount()):
            index = model.index(row, col)
            for role in roles:
                item = QModelRoleData(int(role))
                model.multiData(index, item)
                expected = model.data(index, int(role))
                got = item.data()
                if isinstance(expected, QIcon):
                    assert isinstance(got, QIcon) and got.cacheKey() == expected.cacheKey()
                else:
                    assert got == expected, (row, col, role)
                compared += expected is not None
    assert compared > len(ROWS) * model.columnCount()  # not only empty answers
