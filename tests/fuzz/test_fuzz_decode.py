"""Fuzzing the decoders (kafka_io.decode, kafka_io.avro_guard): no input crashes them.

Random schemas (recursive ones too) with random values round-trip; random bytes in every
format give an Event, never an exception; and wherever the guard's walk accepts bytes,
fastavro reads them without error and ends where the walk ended.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import fastavro
import pytest
from avro_strategies import definitions, schemas, values
from fuzz_settings import examples
from hypothesis import given
from hypothesis import strategies as st

from kafka_io.avro_guard import analyse, walker_for
from kafka_io.decode import Decoder, ValueFormat

pytestmark = pytest.mark.fuzz


def wire(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + body


@examples(150)
@given(schema=schemas(), data=st.data())
def test_avro_values_round_trip(schema: Any, data: st.DataObject) -> None:
    value = data.draw(values(schema, definitions(schema)), label="value")
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), value)
    dec = Decoder(ValueFormat.AVRO, schemas={1: json.dumps(schema)})
    (ev,) = dec.decode_rows([("t", 0, 0, 0, None, wire(1, body.getvalue()), None)])
    assert ev.error is None, ev.error
    assert ev.data == value
    assert ev.schema_id == 1


@examples(300)
@given(schema=schemas(), blob=st.binary(max_size=200))
def test_the_guards_walk_agrees_with_fastavro(schema: Any, blob: bytes) -> None:
    named: dict[str, Any] = {}
    parsed = fastavro.parse_schema(schema, named)
    verdict = walker_for(parsed, named).check(blob)
    if verdict.error is None:
        body = io.BytesIO(blob)
        try:
            fastavro.schemaless_reader(body, parsed, None)
        except UnicodeDecodeError:
            return  # the walk checks structure, not whether strings are UTF-8
        assert body.tell() == verdict.end
    elif verdict.error == "record is truncated" and analyse(parsed, named).guard is None:
        # Bytes that end too soon fail fastavro too (an unguarded schema cannot hurt it).
        # The walk is stricter than fastavro elsewhere: fastavro takes union and enum
        # index -1 as the last one, as Python indexing does.
        with pytest.raises(Exception):  # noqa: B017 - fastavro raises several types
            fastavro.schemaless_reader(io.BytesIO(blob), parsed, None)


@examples(300)
@given(schema=schemas(), blob=st.binary(max_size=300))
def test_any_body_for_any_schema_is_an_event(schema: Any, blob: bytes) -> None:
    dec = Decoder(ValueFormat.AVRO, schemas={1: json.dumps(schema)})
    (ev,) = dec.decode_rows([("t", 0, 0, 0, None, wire(1, blob), None)])
    assert ev.value == wire(1, blob)
    assert (ev.error is None) or (ev.data is None)
    if ev.error is not None:
        assert "\n" not in ev.error and ev.error.startswith("Avro decode failed for schema id 1")


@examples(300)
@given(fmt=st.sampled_from(list(ValueFormat)), blob=st.binary(max_size=300), key=st.binary())
def test_any_bytes_in_any_format_are_an_event(fmt: ValueFormat, blob: bytes, key: bytes) -> None:
    (ev,) = Decoder(fmt).decode_rows([("t", 3, 7, 11, key, blob, [("h", blob)])])
    assert (ev.partition, ev.offset, ev.timestamp_ms, ev.value) == (3, 7, 11, blob)
    assert ev.key_bytes == key
    assert ev.error is None or (ev.data is None and "\n" not in ev.error)
    assert isinstance(ev.type, str) and ev.type


# orjson reads integers past 64 bits as floats (a known limit of the JSON decoder).
_JSON_INTS = st.integers(-(2**63), 2**64 - 1)
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | _JSON_INTS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)


@examples(200)
@given(
    text=st.recursive(
        _JSON_SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=30,
    ).map(json.dumps),
    prefix=st.sampled_from(["", " ", "\n", "x"]),
)
def test_json_topics_take_any_json(text: str, prefix: str) -> None:
    raw = (prefix + text).encode()
    (ev,) = Decoder(ValueFormat.JSON).decode_rows([("t", 0, 0, 0, None, raw, None)])
    if prefix in ("", " ", "\n"):
        assert ev.error is None and ev.data == json.loads(raw)
    else:
        assert ev.data is None and ev.error is not None and ev.error.startswith("invalid JSON")
