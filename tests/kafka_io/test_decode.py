"""Decoder: JSON, text and bytes, every failure, and nothing ever raises (Avro and the
registry: test_decode_avro.py)."""

from __future__ import annotations

import gc
import random
from typing import Any

import orjson
from confluent_kafka import Message
from decode_helpers import (
    decode,
    envelope,
    mock_registry,
    register,
    wire,
)

from kafka_io.decode import JSON_ATTEMPTS, Decoder, ValueFormat, gc_paused
from kafka_io.rules import EventRules, RuleBook

# -- JSON ------------------------------------------------------------------------------


def test_json_envelope_gives_type_aggregate_and_data() -> None:
    dec = Decoder()
    ev = decode(dec, envelope(4), key=None)
    assert ev.type == "OrderPlaced"
    assert ev.aggregate == "order-1"
    assert ev.data["payload"] == {"qty": 4}
    assert ev.error is None and ev.schema_id is None
    assert ev.value == envelope(4)
    assert dec.format_for("orders") is ValueFormat.JSON
    assert dec.format is ValueFormat.JSON


def test_truncated_json_in_a_json_topic_is_an_error_event() -> None:
    dec = Decoder()
    decode(dec, envelope(1))
    cut = envelope(2)[:-7]
    ev = decode(dec, cut, offset=1)
    assert ev.error == f"invalid JSON: unexpected end of data at byte {len(cut)}"
    assert ev.data is None and ev.value == cut
    assert ev.type == "unknown" and ev.aggregate == "k1"


def test_json_error_position_counts_bytes_not_characters() -> None:
    dec = Decoder(ValueFormat.JSON)
    value = '{"name": "héllo" oops}'.encode()
    ev = decode(dec, value)
    assert ev.error is not None and ev.error.endswith(f"at byte {value.index(b'oops')}")


def test_json_topic_keeps_its_format_for_text_records() -> None:
    dec = Decoder()
    decode(dec, b'["a", 1]')
    ev = decode(dec, b"hello world", offset=1)
    assert ev.error is not None and ev.error.startswith("invalid JSON:")
    assert dec.format_for("orders") is ValueFormat.JSON


def test_explicit_json_accepts_scalars_and_rejects_empty() -> None:
    dec = Decoder(ValueFormat.JSON)
    assert decode(dec, b"42").data == 42
    assert decode(dec, b"").error == "invalid JSON: empty value"


def test_decode_messages_matches_decode() -> None:
    values: list[bytes | None] = [envelope(i) for i in range(5)]
    values += [b'{"type": "Other", "aggregate_id": "x"}', b"{broken", None]
    headers: list[Any] = [None] * 7 + [[("eventType", b"Deleted")]]
    msgs = [
        Message(
            topic="orders",
            partition=2,
            offset=i,
            key=None if i % 2 else f"k{i}".encode(),
            value=v,
            headers=headers[i],
            timestamp=(1, 1_700_000_000_000 + i),
        )
        for i, v in enumerate(values)
    ]
    batch = Decoder().decode_messages(msgs)
    one_by_one = Decoder()
    singles = [
        one_by_one.decode("orders", 2, i, 1_700_000_000_000 + i, m.key(), m.value(), headers[i])
        for i, m in enumerate(msgs)
    ]
    assert batch == singles
    assert [e.type for e in batch][-3:] == ["Other", "unknown", "Deleted"]
    assert batch[5].aggregate == "x"
    assert batch[1].aggregate == "order-1"  # no key: the envelope's aggregateId
    assert batch[-1].data is None and batch[-1].error is None


# -- keys, headers, tombstones, odd values -----------------------------------------------


def test_non_utf8_key_stays_bytes() -> None:
    dec = Decoder()
    ev = decode(dec, b'{"x": 1}', key=b"\xff\x00\x10")
    assert ev.key == b"\xff\x00\x10"
    assert ev.aggregate == "ff0010"
    ev = decode(dec, b'{"aggregateId": "a-7"}', key=b"\xff\x00\x10")
    assert ev.aggregate == "a-7"
    assert decode(dec, b"{}", key="ключ".encode()).key == "ключ"


def test_tombstone_is_a_clean_event() -> None:
    dec = Decoder()
    ev = decode(dec, None, key=b"order-9")
    assert (ev.data, ev.error, ev.value, ev.schema_id) == (None, None, None, None)
    assert ev.type == "tombstone" and ev.aggregate == "order-9"
    typed = decode(dec, None, headers=[("eventType", b"OrderDeleted")])
    assert typed.type == "OrderDeleted"
    assert dec.format_for("orders") is ValueFormat.AUTO  # a tombstone decides nothing


def test_headers_are_kept_exactly_and_feed_the_type() -> None:
    dec = Decoder()
    headers = [("ce_type", b"com.shop.Placed"), ("trace", None), ("trace", b"\x00\xff")]
    ev = decode(dec, b'{"eventType": "Field"}', headers=headers)
    assert ev.headers == tuple(headers)
    assert ev.type == "com.shop.Placed"
    assert ev.header("trace") == "\x00\ufffd"


def test_random_bytes_in_each_format() -> None:
    rng = random.Random(11)
    blob = b"\xfe" + rng.randbytes(300)
    auto = Decoder()
    ev = decode(auto, blob)
    assert (ev.data, ev.error, ev.value) == (None, None, blob)
    assert auto.format_for("orders") is ValueFormat.BYTES
    assert decode(Decoder(ValueFormat.TEXT), blob).error == "not UTF-8 text: invalid byte at 0"
    json_error = decode(Decoder(ValueFormat.JSON), blob).error
    assert json_error is not None and json_error.startswith("invalid JSON")
    avro = decode(Decoder(ValueFormat.AVRO, registry=mock_registry()), blob)
    assert avro.error == "not Avro: missing magic byte"
    assert decode(Decoder(ValueFormat.AVRO), b"\x00\x01").error == (
        "not Avro: 2 bytes, shorter than the header"
    )


def test_text_topic_sticks_and_flags_binary() -> None:
    dec = Decoder()
    assert decode(dec, b"plain line").data == "plain line"
    ev = decode(dec, b"\xc3\x28 broken", offset=1)
    assert ev.error == "not UTF-8 text: invalid byte at 0"
    assert dec.format_for("orders") is ValueFormat.TEXT


def test_log_lines_that_look_like_json_end_up_text() -> None:
    dec = Decoder()
    lines = [f"[INFO] line {i}".encode() for i in range(JSON_ATTEMPTS + 2)]
    events = [decode(dec, line, offset=i) for i, line in enumerate(lines)]
    assert all(e.error and e.error.startswith("invalid JSON") for e in events[:JSON_ATTEMPTS])
    assert [e.data for e in events[JSON_ATTEMPTS:]] == [
        line.decode() for line in lines[JSON_ATTEMPTS:]
    ]
    assert dec.format_for("orders") is ValueFormat.TEXT


def test_five_megabyte_values() -> None:
    big = "x" * (5 * 1024 * 1024)
    ev = decode(Decoder(), orjson.dumps({"eventType": "Blob", "body": big}))
    assert ev.error is None and len(ev.data["body"]) == len(big)
    registry = mock_registry()
    schema = {"type": "record", "name": "Blob", "fields": [{"name": "body", "type": "bytes"}]}
    sid = register(registry, schema)
    raw = bytes(range(256)) * (5 * 4096)
    ev = decode(Decoder(registry=registry), wire(sid, schema, {"body": raw}))
    assert ev.error is None and ev.data["body"] == raw and ev.type == "Blob"


# -- the collector pause --------------------------------------------------------------------


def test_gc_state_is_restored_around_a_batch() -> None:
    msgs = [Message(topic="t", partition=0, offset=0, value=b'{"a": 1}', timestamp=(1, 5))]
    assert gc.isenabled()
    assert Decoder().decode_messages(msgs)[0].data == {"a": 1}
    assert gc.isenabled()
    gc.disable()
    try:
        Decoder().decode_messages(msgs)
        assert not gc.isenabled()  # the application's choice is left alone
    finally:
        gc.enable()


def test_gc_pause_leaves_an_applications_frozen_objects_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            [{"n": i} for i in range(1000)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# -- rules --------------------------------------------------------------------------------


def test_per_topic_rules_in_the_decoder() -> None:
    book = RuleBook(
        overrides={"payments*": EventRules(type_rule="header:kind", aggregate_rule="field:acct")}
    )
    dec = Decoder(rules=book)
    pay = decode(
        dec,
        b'{"acct": "A-1", "eventType": "X"}',
        topic="payments-eu",
        headers=[("kind", b"Charged")],
    )
    assert (pay.type, pay.aggregate) == ("Charged", "A-1")
    other = decode(dec, b'{"acct": "A-1", "eventType": "X"}', topic="orders")
    assert (other.type, other.aggregate) == ("X", "k1")


def test_per_topic_formats() -> None:
    dec = Decoder(formats={"raw": "bytes", "logs": ValueFormat.TEXT})
    assert decode(dec, b'{"a": 1}', topic="raw").data is None
    assert decode(dec, b'{"a": 1}', topic="logs").data == '{"a": 1}'
    assert decode(dec, b'{"a": 1}', topic="other").data == {"a": 1}
    assert dec.formats == {"raw": "bytes", "logs": "text", "other": "json"}
    assert dec.format is ValueFormat.AUTO
