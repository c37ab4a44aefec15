"""Fuzzing the kcat -J reader (kafka_io.kcat): every line is an event, none is a crash.

Records written the way kcat writes them (control bytes escaped, other bytes raw, so a
binary payload makes the line invalid UTF-8) read back byte for byte; any other line,
random bytes or JSON of any shape, is an error event at its line number.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fuzz_settings import examples
from hypothesis import given
from hypothesis import strategies as st

from kafka_io.decode import Decoder, ValueFormat
from kafka_io.kcat import iter_kcat_batches

pytestmark = pytest.mark.fuzz


@contextmanager
def lines_file(lines: list[bytes]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        yield path


def read(path: Path, batch_size: int = 3) -> list[Any]:
    return [
        ev
        for batch in iter_kcat_batches(path, batch_size, Decoder(ValueFormat.BYTES))
        for ev in batch
    ]


def kcat_string(raw: bytes | None) -> bytes:
    """A JSON string as kcat writes it: quotes, backslashes and control bytes escaped."""
    if raw is None:
        return b"null"
    out = bytearray(b'"')
    for byte in raw:
        if byte in (0x22, 0x5C):
            out += b"\\" + bytes([byte])
        elif byte < 0x20:
            out += b"\\u%04x" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


records = st.tuples(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=10),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.none() | st.binary(max_size=16),
    st.none() | st.binary(max_size=40),
    st.lists(st.tuples(st.binary(max_size=6), st.none() | st.binary(max_size=6)), max_size=3),
)


def kcat_line(rec: tuple[Any, ...]) -> bytes:
    topic, partition, offset, ts, key, payload, headers = rec
    flat = b",".join(kcat_string(n) + b"," + kcat_string(v) for n, v in headers)
    return (
        b'{"topic":%s,"partition":%d,"offset":%d,"tstype":"create","ts":%d,"broker":1,'
        b'"headers":[%s],"key":%s,"payload":%s}'
        % (
            kcat_string(topic.encode()),
            partition,
            offset,
            ts,
            flat,
            kcat_string(key),
            kcat_string(payload),
        )
    )


@examples(200)
@given(st.lists(records, min_size=1, max_size=8))
def test_kcat_records_read_back_byte_for_byte(recs: list[tuple[Any, ...]]) -> None:
    with lines_file([kcat_line(r) for r in recs]) as path:
        got = read(path)
    assert [e.error for e in got] == [None] * len(recs)
    assert [
        (e.topic, e.partition, e.offset, e.timestamp_ms, e.key_bytes, e.value) for e in got
    ] == [(t, p, o, ts, k, v) for t, p, o, ts, k, v, _ in recs]

    def text(raw: bytes) -> str:
        return raw.decode("utf-8", "surrogateescape")

    assert [list(e.headers) for e in got] == [[(text(n), v) for n, v in r[6]] for r in recs]


@examples(300)
@given(st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")), max_size=10))
def test_random_lines_are_each_an_event(lines: list[bytes]) -> None:
    with lines_file(lines) as path:
        got = read(path)
    wanted = [i for i, ln in enumerate(lines, 1) if ln.strip() and not ln.strip().startswith(b"%")]
    assert len(got) == len(wanted)  # one event per line that is not blank or a status line
    assert {e.offset for e in got if e.partition == -1} <= set(wanted)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@examples(300)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            name: _JSON
            for name in ("topic", "partition", "offset", "ts", "key", "payload", "headers")
        },
    ),
    st.integers(1, 1500),
)
def test_json_of_any_shape_is_an_event(rec: dict[str, Any], depth: int) -> None:
    line = json.dumps(rec).encode()  # NaN and integers past 64 bits too
    deep = b'{"topic":"t","partition":0,"offset":1,"payload":' + b"[" * depth + b"]" * depth + b"}"
    with lines_file([line, deep]) as path:
        first, second = read(path)
    assert (first.error is None) == _is_record(rec), first.error
    if first.error is not None:
        assert first.error.startswith("line 1: not a kcat -J record: ")
    if second.error is None:
        assert second.value == b"[" * depth + b"]" * depth
    else:
        assert second.error == "line 2: not a kcat -J record: JSON nests too deeply"


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _is_record(rec: dict[str, Any]) -> bool:
    """What kcat -J writes: the coordinates as integers in Kafka's ranges, text topics."""
    flat = rec.get("headers") or []
    names_ok = isinstance(flat, list) and all(
        isinstance(flat[i], str) for i in range(0, len(flat) - 1, 2)
    )
    return (
        isinstance(rec.get("topic"), str)
        and _is_int(rec.get("partition"), 0, 2**31 - 1)
        and _is_int(rec.get("offset"), 0, 2**63 - 1)
        and _is_int(rec.get("ts", -1), -(2**63), 2**63 - 1)
        and names_ok
    )
