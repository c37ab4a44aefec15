"""The Event panel shows what a value was written with: for a Protobuf event its message
type and the schema as .proto text, for a JSON Schema event the schema id and type; the
window opens an event file that carries the schemas (no registry)."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
from pathlib import Path

import fastavro
from gui_helpers import loaded, pump_until
from proto_helpers import descriptor_set, frame, message_classes
from pytestqt.qtbot import QtBot
from test_topic_rules import new_window

from app.gui.main_window import MainWindow
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

PROTO = """syntax = "proto3";
package ship;
message Shipped {
  enum Carrier { CARRIER_UNSPECIFIED = 0; DHL = 1; }
  message Parcel { string id = 1; }
  string eventType = 1;
  int64 grams = 2;
  Carrier carrier = 3;
  repeated Parcel parcels = 4;
  map<string, int32> counts = 5;
  oneof destination { string address = 6; string locker = 7; }
}
"""
REFUND = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "Refund"}
PROTO_ID, JSON_ID = 7, 8


def _event_file(tmp: Path) -> Path:
    data = descriptor_set(tmp, {"ship.proto": PROTO}, "ship.proto")
    cls = message_classes(data)["ship.Shipped"]
    body = cls(eventType="ParcelShipped", grams=5, locker="L-1").SerializeToString()
    refund = b"\x00" + struct.pack(">I", JSON_ID) + b'{"eventType":"RefundIssued"}'
    records = [
        Event("shipments", 0, 0, 1_757_000_000_000, "s-1", "", None, (), None, PROTO_ID, None,
              frame(PROTO_ID, [0], body)),
        Event("refunds", 0, 0, 1_757_000_000_001, "r-1", "", None, (), None, JSON_ID, None,
              refund),
    ]  # fmt: skip
    stored = {
        PROTO_ID: json.dumps(
            {
                "schemaType": "PROTOBUF",
                "file": "ship.proto",
                "descriptors": base64.b64encode(data).decode(),
            }
        ),
        JSON_ID: json.dumps({"schemaType": "JSON", "schema": json.dumps(REFUND)}),
    }
    path = tmp / "schemas.avro"
    write_event_file(
        path, records, schemas=stored, formats={"shipments": "avro", "refunds": "avro"}
    )
    return path


def _select_first(window: MainWindow, topic: str) -> None:
    window.activate_topic(topic)
    pump_until(lambda: loaded(window) and window.topic_view.topic == topic, 30)
    assert window.topic_view.select_row_id(0, scroll=True)
    pump_until(lambda: getattr(window.detail.current, "topic", None) == topic, 10)


def test_the_event_panel_shows_the_message_type_and_the_schema(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window = new_window(qtbot, tmp_path / "s.ini")
    window.open_file(_event_file(tmp_path))
    detail = window.detail

    _select_first(window, "shipments")

    assert detail.current is not None and detail.current.data["locker"] == "L-1"
    assert detail.schema.text() == f"Protobuf · ship.Shipped · schema id {PROTO_ID}"
    assert detail.tabs.isTabVisible(4) and detail.tabs.tabText(4) == "Schema"
    text = detail.schema_text.toPlainText()
    for line in (
        "package ship;",
        "message Shipped {",
        "  enum Carrier {",
        "  message Parcel {",
        "  int64 grams = 2;",
        "  repeated ship.Shipped.Parcel parcels = 4;",
        "  map<string, int32> counts = 5;",
        "  oneof destination {",
        "    string locker = 7;",
    ):
        assert line in text.splitlines(), line
    detail.tabs.setCurrentIndex(4)
    shot = os.environ.get("EVENT_EXPLORER_SHOT_DIR")
    if shot:
        window.grab().save(str(Path(shot) / "protobuf-schema.png"))

    _select_first(window, "refunds")

    assert detail.schema.text() == f"JSON Schema · schema id {JSON_ID}"
    assert json.loads(detail.schema_text.toPlainText()) == REFUND


KEY_ID = 9
KEY_SCHEMA = {"type": "record", "name": "OrderKey", "fields": [{"name": "id", "type": "string"}]}


def _framed_key(order: str) -> bytes:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(KEY_SCHEMA), {"id": order})
    return b"\x00" + struct.pack(">I", KEY_ID) + body.getvalue()


def test_a_registry_framed_key_is_shown_decoded(qtbot: QtBot, tmp_path: Path) -> None:
    """A key written through a registry serializer (an Avro record, here with ASCII
    bytes only, so the raw key even reads as text) shows as its fields; a plain key
    shows as it is."""
    key = _framed_key("O-1")
    assert key.isascii()
    # A decoder that has not resolved the key's schema says nothing (and asks no one).
    assert [Decoder().key_data(k) for k in (key, key.decode(), "O-2", None, b"\x00")] == [None] * 5
    records = [
        Event("orders", 0, 0, 1_757_000_000_000, key, "", None, (), None, None, None,
              b'{"eventType":"OrderPlaced","aggregateId":"O-1"}'),
        Event("orders", 0, 1, 1_757_000_000_001, "O-2", "", None, (), None, None, None,
              b'{"eventType":"OrderPlaced","aggregateId":"O-2"}'),
    ]  # fmt: skip
    path = tmp_path / "keys.avro"
    write_event_file(path, records, schemas={KEY_ID: json.dumps(KEY_SCHEMA)})
    window = new_window(qtbot, tmp_path / "s.ini")
    window.open_file(path)
    _select_first(window, "orders")

    assert window.detail.key.text() == '{"id":"O-1"}  (registry-framed key)'
    assert window.detail.key.toolTip() == f"as Kafka holds it: {key.hex(' ')}"

    assert window.topic_view.select_row_id(1, scroll=True)
    pump_until(lambda: getattr(window.detail.current, "offset", None) == 1, 10)
    assert window.detail.key.text() == "O-2" and window.detail.key.toolTip() == ""
