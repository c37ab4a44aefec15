"""Schemas shown beside an event: descriptors written back as .proto text, the message
type a frame names, and nothing made up from bytes that are not a frame."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from proto_helpers import descriptor_set, frame

from kafka_io.decode import Decoder
from kafka_io.proto_schema import load_descriptor_set
from kafka_io.proto_text import file_text
from kafka_io.schema_view import SchemaViews

PROTO2 = """syntax = "proto2";
package legacy;
message Order {
  required string id = 1;
  optional int32 qty = 2;
  repeated string tags = 3;
  message Line { optional string sku = 1; }
  oneof pay { string card = 4; string iban = 5; }
  map<int64, Line> lines = 6;
}
"""
PROTO3 = """syntax = "proto3";
package ship;
message Empty {}
message Shipped { optional string note = 1; string id = 2; }
"""


def test_descriptors_read_back_as_the_proto_they_came_from(tmp_path: Path) -> None:
    text = file_text(
        load_descriptor_set(descriptor_set(tmp_path, {"o.proto": PROTO2}, "o.proto")).main
    )
    lines = text.splitlines()
    for expected in (
        'syntax = "proto2";',
        "package legacy;",
        "  required string id = 1;",
        "  optional int32 qty = 2;",
        "  repeated string tags = 3;",
        "  message Line {",
        "    optional string sku = 1;",
        "  oneof pay {",
        "    string card = 4;",
        "    string iban = 5;",
        "  map<int64, legacy.Order.Line> lines = 6;",
    ):
        assert expected in lines, expected
    assert "LinesEntry" not in text  # a map's entry type is the map, not a message of its own
    # The text is a schema protoc accepts again, with the same message.
    again = load_descriptor_set(descriptor_set(tmp_path / "again", {"o.proto": text}, "o.proto"))
    assert [f.name for f in again.main.message_type[0].field] == [
        "id",
        "qty",
        "tags",
        "card",
        "iban",
        "lines",
    ]


def test_proto3_optional_is_shown_and_the_message_comes_from_the_frame(tmp_path: Path) -> None:
    data = descriptor_set(tmp_path, {"s.proto": PROTO3}, "s.proto")
    stored = {
        "schemaType": "PROTOBUF",
        "file": "s.proto",
        "descriptors": base64.b64encode(data).decode(),
    }
    decoder = Decoder(schemas={3: json.dumps(stored)})
    framed = decoder.decode("t", 0, 0, 0, None, frame(3, [1], b"\x12\x02s1"), None)
    assert framed.error is None and framed.data == {"note": None, "id": "s1"}
    views = SchemaViews()

    view = views.of_event(decoder, framed)

    assert view is not None and view.title == "Protobuf · ship.Shipped · schema id 3"
    assert "  optional string note = 1;" in view.text.splitlines()
    # A masked event's value is the masked JSON, not a frame: no message is made up.
    masked = framed._replace(value=b'{"id":"[masked]"}')
    assert views.of_event(decoder, masked).title == "Protobuf · schema id 3"  # type: ignore[union-attr]
    assert views.of_event(decoder, framed._replace(schema_id=None)) is None
