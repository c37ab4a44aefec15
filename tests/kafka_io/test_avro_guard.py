"""The guard in front of fastavro (kafka_io.avro_guard), in process.

Only depths and counts fastavro survives unguarded are used here (a few hundred levels
on the main thread's stack, a hundred thousand nulls); the values that would kill the
process are fed to the real command in a child process by test_hostile_avro.py.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hostile import container, kafka_record, zigzag

from kafka_io.avro_guard import MAX_DEPTH, MAX_EMPTY_ITEMS, analyse, guard_for
from kafka_io.decode import Decoder
from kafka_io.eventfile import open_event_file

NODE: dict[str, Any] = {
    "type": "record",
    "name": "Node",
    "namespace": "com.example",
    "fields": [{"name": "next", "type": ["null", "Node"]}],
}
NULLS: dict[str, Any] = {"type": "array", "items": "null"}
EXPECTED = f"nests deeper than {MAX_DEPTH} levels (recursive schema Node)"


def chain(depth: int) -> bytes:
    return b"\x02" * (depth - 1) + b"\x00"


def nested(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = {"next": value}
    return value


def wire(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + body


def test_depth_at_the_limit_decodes_and_one_more_does_not() -> None:
    dec = Decoder("avro", schemas={7: json.dumps(NODE)})
    ok, over = dec.decode_rows(
        [
            ("t", 0, 0, 0, None, wire(7, chain(MAX_DEPTH)), None),
            ("t", 0, 1, 0, None, wire(7, chain(MAX_DEPTH + 1)), None),
        ]
    )
    assert ok.data == nested(MAX_DEPTH) and ok.error is None
    assert over.data is None and over.error is not None and EXPECTED in over.error
    assert over.value == wire(7, chain(MAX_DEPTH + 1)) and over.schema_id == 7


def test_guarded_values_are_still_decoded_in_full() -> None:
    tree = {
        "type": "record",
        "name": "Tree",
        "fields": [
            {"name": "label", "type": "string"},
            {"name": "kids", "type": {"type": "array", "items": "Tree"}},
            {"name": "attrs", "type": {"type": "map", "values": ["null", "Tree"]}},
        ],
    }
    value = {
        "label": "root",
        "kids": [{"label": "a", "kids": [], "attrs": {}}],
        "attrs": {"x": None, "y": {"label": "b", "kids": [], "attrs": {"z": None}}},
    }
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(tree), value)
    (ev,) = Decoder("avro", schemas={3: json.dumps(tree)}).decode_rows(
        [("t", 0, 0, 0, None, wire(3, body.getvalue()), None)]
    )
    assert ev.error is None and ev.data == value and ev.type == "Tree"


def test_schemas_that_need_no_guard_get_none() -> None:
    flat = {"type": "record", "name": "A", "fields": [{"name": "x", "type": "long"}]}
    assert guard_for(fastavro.parse_schema(flat)) is None
    assert guard_for(fastavro.parse_schema({"type": "array", "items": "long"})) is None
    guard = guard_for(fastavro.parse_schema(NODE))
    assert guard is not None and guard.recursive_name == "com.example.Node"
    facts = analyse(fastavro.parse_schema(NULLS))
    assert facts.guard is not None and facts.guard.recursive_name is None


def test_a_deep_but_finite_schema_is_guarded_too() -> None:
    schema: Any = "long"
    for _ in range(MAX_DEPTH + 5):
        schema = {"type": "array", "items": schema}
    guard = guard_for(fastavro.parse_schema(schema))
    assert guard is not None
    empty = guard.check(b"\x00")  # an empty outer array nests one level
    assert empty.error is None and empty.end == 1
    levels = MAX_DEPTH + 5  # each: a block of one item; then the long; then the ends
    deep = guard.check(b"\x02" * levels + b"\x00" + b"\x00" * levels)
    assert deep.error == f"Avro value nests deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("count", [MAX_EMPTY_ITEMS, MAX_EMPTY_ITEMS + 1])
def test_empty_items_are_counted(count: int) -> None:
    dec = Decoder("avro", schemas={9: json.dumps(NULLS)})
    (ev,) = dec.decode_rows([("t", 0, 0, 0, None, wire(9, zigzag(count) + b"\x00"), None)])
    if count <= MAX_EMPTY_ITEMS:
        assert ev.error is None and ev.data == [None] * count
    else:
        assert ev.data is None and ev.error is not None
        assert f"{count} items that take no bytes" in ev.error


def test_a_record_that_contains_itself_has_no_value() -> None:
    loop = {"type": "record", "name": "Loop", "fields": [{"name": "me", "type": "Loop"}]}
    (ev,) = Decoder("avro", schemas={4: json.dumps(loop)}).decode_rows(
        [("t", 0, 0, 0, None, wire(4, b""), None)]
    )
    assert ev.data is None and ev.error is not None
    assert ev.error.endswith("Avro type Loop has no finite value")


def test_malformed_guarded_values_say_why() -> None:
    dec = Decoder("avro", schemas={7: json.dumps(NODE)})
    cut, bad_branch = dec.decode_rows(
        [
            ("t", 0, 0, 0, None, wire(7, b"\x02\x02"), None),
            ("t", 0, 1, 0, None, wire(7, b"\x04"), None),
        ]
    )
    assert cut.error == "Avro decode failed for schema id 7: record is truncated"
    assert bad_branch.error == "Avro decode failed for schema id 7: union index 2 out of range"


def test_an_export_with_a_recursive_record_schema_stays_readable(tmp_path: Path) -> None:
    """An export-shaped file whose schema adds a recursive field: not trusted as native."""
    schema = {
        "type": "record",
        "name": "KafkaRecord",
        "namespace": "event_explorer",
        "fields": [
            {"name": "topic", "type": "string"},
            {"name": "partition", "type": "int"},
            {"name": "offset", "type": "long"},
            {"name": "timestamp_ms", "type": "long"},
            {"name": "key", "type": ["null", "bytes"]},
            {"name": "headers", "type": {"type": "array", "items": "long"}},
            {"name": "value", "type": ["null", "bytes"]},
            {"name": "extra", "type": ["null", NODE]},
        ],
    }
    # The export's fields (headers an empty array), then extra: branch 1, Node(next=null).
    record = kafka_record("t", 0, 0, 0, b"{}") + b"\x02" + b"\x00"
    path = tmp_path / "odd.avro"
    path.write_bytes(container(schema, [(1, record)]))
    opened = open_event_file(path)
    assert not opened.native  # headers are longs here: not the export schema
    (ev,) = list(opened.iter_events())
    assert ev.error is None and ev.data["extra"] == {"next": None}
    assert ev.data["value"] == b"{}" and ev.data["topic"] == "t"
