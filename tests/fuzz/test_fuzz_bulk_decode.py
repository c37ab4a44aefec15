"""Fuzzing the bulk decode (kafka_io.bulk_decode) against the whole decode: for any batch
of records, labelling JSON envelopes in bulk gives exactly the columns decoding every
record whole gives — same types, aggregates, keys, errors, bytes — whatever the values
(hostile numbers, bytes that are not UTF-8, nesting, mutations), keys and headers."""

from __future__ import annotations

import orjson
import pytest
from confluent_kafka import Message
from fuzz_settings import examples
from hypothesis import assume, given
from hypothesis import strategies as st

from kafka_io.bulk_decode import decode_columns
from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event_columns import EventColumns

pytestmark = pytest.mark.fuzz

TOPIC = "t"
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_type = st.one_of(
    st.text(max_size=6), st.integers(0, 9), st.none(), st.just(""), st.lists(st.integers(0, 9))
)
# Fragments msgspec skips but orjson may refuse, or that look like what it refuses.
_hostile = st.sampled_from(
    [b"1e999", b"-1E+400", b"1" * 310, b"1" * 250 + b".5", b"2.5e-400", b"123e4567", b'"\xff"',
     b'"\xed\xa0\x80"', b'"\\ud800"', b"[" * 300 + b"]" * 300, b"NaN", b"01", b'"e1800"', b'"\x01"']
)  # fmt: skip


@st.composite
def values(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return None
    envelope = draw(st.dictionaries(st.sampled_from(["eventId", "payload", "type", "x"]), _json))
    if draw(st.booleans()):
        envelope["eventType"] = draw(_type)
    body = orjson.dumps(envelope)
    if kind <= 5:
        return body
    if kind <= 7:  # a hostile fragment as a field's value
        return b'{"eventType":"T","x":' + draw(_hostile) + b"," + body[1:]
    raw = bytearray(body)  # a few random byte edits
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        raw[at:at] = draw(st.binary(min_size=1, max_size=2))
    return bytes(raw)


_keys = st.one_of(
    st.builds(lambda i: f"acc-{i}".encode(), st.integers(0, 5)),
    st.none(), st.just(b""), st.just(b"\x00\x00\x00\x00\x01k"), st.just(b"\xff\xfe"),
)  # fmt: skip
_headers: st.SearchStrategy[list[tuple[str, str | bytes | None]] | None] = st.one_of(
    st.none(), st.just([("eventType", b"FromHeader")]), st.just([])
)


@st.composite
def batches(draw: st.DrawFn) -> list[Message]:
    rows = draw(st.lists(st.tuples(_keys, values(), _headers), min_size=1, max_size=30))
    return [
        Message(topic=TOPIC, partition=i % 3, offset=i, key=k, value=v, headers=h,
                timestamp=(1, 1_700_000_000_000 + i))
        for i, (k, v, h) in enumerate(rows)
    ]  # fmt: skip


def whole(records: list[Message], fmt: ValueFormat) -> EventColumns:
    return EventColumns.of_events(Decoder(fmt).decode_messages(records))


def bulk(records: list[Message], fmt: ValueFormat) -> EventColumns:
    decoder = Decoder(fmt)
    if fmt is ValueFormat.AUTO:  # decide the format first, as a read's first batch does
        decoder.decode_messages(records)
    return decode_columns(decoder, records)


def same(a: EventColumns, b: EventColumns) -> None:
    fields = ("topics", "partitions", "offsets", "timestamps", "keys", "types", "aggregates",
              "headers", "errors", "values")  # fmt: skip
    for name in fields:
        assert getattr(a, name) == getattr(b, name), name
    if b.joined is not None:
        assert b.joined == b"".join(v for v in a.values if v is not None)


@examples(400)
@given(records=batches())
def test_bulk_labels_are_the_whole_decodes_labels(records: list[Message]) -> None:
    same(whole(records, ValueFormat.JSON), bulk(records, ValueFormat.JSON))


@examples(100)
@given(records=batches())
def test_an_undecided_topic_decodes_in_bulk_once_it_is_decided(records: list[Message]) -> None:
    decided = Decoder(ValueFormat.AUTO)
    decided.decode_messages(records)
    # A topic is decided by its first decodable record; JSON-looking misses may make it
    # text instead, and each pass over them moves the decoder on: only decided JSON.
    assume(decided.format_for(TOPIC) is ValueFormat.JSON)
    same(EventColumns.of_events(decided.decode_messages(records)), decode_columns(decided, records))
