"""Avro values that used to kill the process: recursive schemas nested thousands deep, and
arrays of items that take no bytes.

fastavro's C reader overflowed the C stack on a 5,000-deep value of a recursive schema
(exit 139, no message), through the registry, through an event file's own schemas and
through a foreign container's writer schema.  Each case runs the real command in a child
process under a memory limit and a timeout (``hostile.run_app``), so a regression fails
the test instead of ending the run.
"""

from __future__ import annotations

import json
import struct
import sys
import textwrap
from pathlib import Path
from typing import Any

from hostile import container, run_app, run_limited, zigzag

from kafka_io.avro_guard import MAX_DEPTH
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

NODE: dict[str, Any] = {
    "type": "record",
    "name": "Node",
    "namespace": "com.example",
    "fields": [{"name": "next", "type": ["null", "Node"]}],
}
NULLS: dict[str, Any] = {"type": "array", "items": "null"}
DEEP = 5000  # past what fastavro's reader survives (about 4,000 on an 8 MB stack)
EXPECTED = f"nests deeper than {MAX_DEPTH} levels (recursive schema Node)"


def chain(depth: int) -> bytes:
    """A Node value ``depth`` records deep: union branch 1 each level, then null."""
    return b"\x02" * (depth - 1) + b"\x00"


def nested(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = {"next": value}
    return value


def wire(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + body


def export_of(tmp_path: Path, values: list[bytes], schemas: dict[int, str]) -> Path:
    (sid,) = schemas
    events = [
        Event("nodes", 0, i, 1_700_000_000_000 + i, f"n-{i}", "", None, (), None, sid, None, v)
        for i, v in enumerate(values)
    ]
    path = tmp_path / "nodes.avro"
    write_event_file(path, events, schemas, {"nodes": "avro"})
    return path


def test_the_registry_path_survives_a_deep_value(tmp_path: Path) -> None:
    script = tmp_path / "decode.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, struct, uuid
            from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
            from kafka_io.decode import Decoder

            registry = SchemaRegistryClient.new_client({{"url": "mock://" + uuid.uuid4().hex}})
            sid = registry.register_schema("nodes-value", Schema({json.dumps(NODE)!r}, "AVRO"))
            head = b"\\0" + struct.pack(">I", sid)
            values = [head + {chain(3)!r}, head + b"\\2" * {DEEP} + b"\\0", head + {chain(2)!r}]
            rows = [("nodes", 0, i, 0, None, v, None) for i, v in enumerate(values)]
            for ev in Decoder(registry=registry).decode_rows(rows):
                print(json.dumps({{"data": ev.data, "error": ev.error, "type": ev.type}}))
            """
        )
    )
    done = run_limited([sys.executable, str(script)])
    assert done.returncode == 0, done.describe()
    shallow, deep, short = done.lines
    assert shallow == {"data": nested(3), "error": None, "type": "Node"}
    assert deep["data"] is None and EXPECTED in deep["error"]
    assert short["data"] == nested(2)


def test_an_event_file_with_a_deep_value_prints_every_event(tmp_path: Path) -> None:
    path = export_of(
        tmp_path,
        [wire(7, chain(4)), wire(7, chain(DEEP)), wire(7, chain(1))],
        {7: json.dumps(NODE)},
    )
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 0, done.describe()
    first, deep, last = done.lines
    assert first["data"] == nested(4) and first["error"] is None
    assert deep["data"] is None and EXPECTED in deep["error"]
    assert deep["offset"] == 1 and deep["key"] == "n-1"
    assert last["data"] == nested(1)


def test_state_over_a_deep_value_replays_the_rest(tmp_path: Path) -> None:
    values = [wire(7, chain(2)), wire(7, chain(DEEP)), wire(7, chain(3))]
    events = [
        Event("nodes", 0, i, 1_700_000_000_000 + i, "n", "", None, (), None, 7, None, v)
        for i, v in enumerate(values)
    ]
    path = tmp_path / "one.avro"
    write_event_file(path, events, {7: json.dumps(NODE)}, {"nodes": "avro"})
    done = run_app("state", "--file", path, "-a", "n", "--fold", "events", "--history")
    assert done.returncode == 0, done.describe()
    assert [row["event"]["offset"] for row in done.lines] == [0, 1, 2]


def test_a_foreign_container_with_a_recursive_writer_schema(tmp_path: Path) -> None:
    records = [chain(2), chain(DEEP), chain(MAX_DEPTH), chain(MAX_DEPTH + 1), chain(1)]
    path = tmp_path / "tree.avro"
    path.write_bytes(container(NODE, [(len(records), b"".join(records))]))
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 0, done.describe()
    rows = done.lines
    assert [r["offset"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r["error"] is None for r in rows] == [True, False, True, False, True]
    assert EXPECTED in rows[1]["error"] and EXPECTED in rows[3]["error"]
    # The CLI's index keeps no data for foreign records; read them where they are made.
    script = (
        "import sys\n"
        "from app.output.event_json import dumps, event_record\n"
        "from kafka_io.eventfile import open_event_file\n"
        "for ev in open_event_file(sys.argv[1]).iter_events():\n"
        "    print(dumps(event_record(ev)))\n"
    )
    done = run_limited([sys.executable, "-c", script, str(path)])
    assert done.returncode == 0, done.describe()
    rows = done.lines
    assert [r["data"] for r in rows] == [nested(2), None, nested(MAX_DEPTH), None, nested(1)]
    assert EXPECTED in rows[1]["error"] and EXPECTED in rows[3]["error"]


def test_a_fifteen_byte_array_of_nulls_is_an_error_not_a_memory_bomb(tmp_path: Path) -> None:
    bomb = wire(9, zigzag(1 << 61))  # 2^61 nulls claimed in 10 bytes
    assert len(bomb) == 14
    path = export_of(tmp_path, [bomb, wire(9, zigzag(3) + b"\x00")], {9: json.dumps(NULLS)})
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 0, done.describe()
    bad, good = done.lines
    assert bad["data"] is None and "items that take no bytes" in bad["error"]
    assert good["data"] == [None, None, None] and good["error"] is None
