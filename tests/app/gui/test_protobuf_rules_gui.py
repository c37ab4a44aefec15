"""Topic > Rules… takes a descriptor set and a message type for a topic of plain Protobuf
values: driven through the window's menu, the topic is read again, decoded."""

from __future__ import annotations

import os
from pathlib import Path

from gui_helpers import loaded, pump_until
from proto_helpers import descriptor_set, message_classes
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot
from test_topic_rules import new_window, shown

from kafka_io.event import Event
from kafka_io.eventfile import write_event_file
from widgets.topic_rules_dialog import TopicRulesDialog

PROTO = """syntax = "proto3";
package ship;
message Shipped { string eventType = 1; string parcelId = 2; int64 grams = 3; }
"""


def test_rules_dialog_reads_a_topic_as_plain_protobuf(qtbot: QtBot, tmp_path: Path) -> None:
    data = descriptor_set(tmp_path, {"ship.proto": PROTO}, "ship.proto")
    descriptors = tmp_path / "ship.pb"
    descriptors.write_bytes(data)
    cls = message_classes(data)["ship.Shipped"]
    kinds = ["ParcelShipped", "ParcelDelivered"]
    records = [
        Event("shipments", 0, i, 1_757_000_000_000 + i, f"p-{i % 3}", "", None, (), None, None,
              None, cls(eventType=kinds[i % 2], parcelId=f"p-{i % 3}", grams=(1 << 33) + i)
              .SerializeToString())
        for i in range(12)
    ]  # fmt: skip
    path = tmp_path / "shipments.avro"
    write_event_file(path, records)
    window = new_window(qtbot, tmp_path / "s.ini")
    window.open_file(path)
    pump_until(lambda: loaded(window) and window.topic_view.topic == "shipments", 30)
    assert all(e.data is None or isinstance(e.data, str) for e in shown(window))  # type: ignore[attr-defined]

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, TopicRulesDialog)
        dialog.proto_descriptors.setText(str(descriptors))
        dialog.proto_message.setText("ship.Shipped")
        shot = os.environ.get("EVENT_EXPLORER_SHOT_DIR")
        if shot:
            dialog.grab().save(str(Path(shot) / "protobuf-rules.png"))
        dialog._accept()

    QTimer.singleShot(0, fill)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Topic")
    assert isinstance(menu, QMenu)
    next(a for a in menu.actions() if a.text() == "&Rules…").trigger()
    pump_until(lambda: loaded(window) and {e.type for e in shown(window)} == set(kinds), 30)  # type: ignore[attr-defined]

    events = shown(window)
    assert sorted(e.data["grams"] for e in events) == [(1 << 33) + i for i in range(12)]  # type: ignore[attr-defined]
