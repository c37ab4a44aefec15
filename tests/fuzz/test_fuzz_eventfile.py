"""Fuzzing the event-file reader (kafka_io.eventfile, kafka_io.avro_container).

Any events round-trip byte for byte through every codec; any damage to a file (flipped
bytes, cuts, insertions, random metadata, random bytes after the magic) gives events
and then at most one EventFileError, never another exception; a cut file gives exactly
a prefix of its events.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest
from fuzz_settings import examples
from hypothesis import given
from hypothesis import strategies as st

from kafka_io.event import Event
from kafka_io.eventfile import (
    META_COUNT,
    META_FORMATS,
    META_SCHEMAS,
    META_TOPICS,
    RECORD_SCHEMA,
    EventFileError,
    open_event_file,
    write_event_file,
)

pytestmark = pytest.mark.fuzz

CODECS = ["null", "deflate", "xz", "bzip2"]
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)

events = st.lists(
    st.builds(
        lambda topic, partition, offset, ts, key, headers, value: Event(
            topic, partition, offset, ts, key, "", None, headers, None, None, None, value
        ),
        topic=st.sampled_from(["orders", "payments"]) | _TEXT,
        partition=st.integers(0, 2**31 - 1),
        offset=st.integers(0, 2**63 - 1),
        ts=st.integers(-(2**63), 2**63 - 1),
        key=st.none() | st.binary(max_size=12),
        headers=st.lists(st.tuples(_TEXT, st.none() | st.binary(max_size=8)), max_size=3).map(
            tuple
        ),
        value=st.none() | st.binary(max_size=64),
    ),
    max_size=60,
)


def coordinates(ev: Event) -> tuple[Any, ...]:
    return (ev.topic, ev.partition, ev.offset, ev.timestamp_ms, ev.key_bytes, ev.headers, ev.value)


def read_all(path: Path, batch_size: int = 7) -> tuple[list[Event], EventFileError | None]:
    """Every event the reader gives, and the one EventFileError it may end with."""
    got: list[Event] = []
    try:
        for batch in open_event_file(path).iter_batches(batch_size):
            assert all(isinstance(ev, Event) for ev in batch)
            got += batch
    except EventFileError as exc:
        assert "\n" not in str(exc)
        return got, exc
    return got, None


@functools.cache
def _sample(codec: str) -> tuple[bytes, tuple[Event, ...]]:
    """A small export with a few blocks, and its events as read back."""
    evs = [
        Event("orders", i % 3, i, 1_700_000_000_000 + i, f"k{i}", "", None,
              (("h", b"v"),), None, None, None, orjson.dumps({"i": i, "pad": "x" * (i % 7)}))
        for i in range(120)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.avro"
        write_event_file(path, evs, codec=codec, block_bytes=512, sync_marker=b"S" * 16)
        got, error = read_all(path)
        assert error is None
        return path.read_bytes(), tuple(got)


@contextlib.contextmanager
def written(data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.avro"
        path.write_bytes(data)
        yield path


@examples(60)
@given(evs=events, codec=st.sampled_from(CODECS), block=st.integers(64, 4096))
def test_any_events_round_trip_byte_for_byte(evs: list[Event], codec: str, block: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.avro"
        assert write_event_file(path, evs, codec=codec, block_bytes=block) == len(evs)
        got, error = read_all(path)
    assert error is None
    assert [coordinates(e) for e in got] == [coordinates(e) for e in evs]


@examples(200)
@given(
    codec=st.sampled_from(CODECS),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
    cut=st.none() | st.integers(0, 10**6),
    insert=st.none() | st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=20)),
)
def test_damage_gives_events_then_one_clear_error(
    codec: str,
    flips: list[tuple[int, int]],
    cut: int | None,
    insert: tuple[int, bytes] | None,
) -> None:
    original, _ = _sample(codec)
    data = bytearray(original)
    for where, byte in flips:
        data[where % len(data)] = byte
    if insert is not None:
        where = insert[0] % len(data)
        data[where:where] = insert[1]
    if cut is not None:
        del data[cut % len(data) :]
    with written(bytes(data)) as path:
        try:
            open_event_file(path)
        except EventFileError:
            return
        read_all(path)


@examples(150)
@given(codec=st.sampled_from(CODECS), cut=st.integers(0, 10**6))
def test_a_cut_file_gives_a_prefix_of_its_events(codec: str, cut: int) -> None:
    original, expected = _sample(codec)
    at = cut % len(original)
    with written(original[:at]) as path:
        try:
            open_event_file(path)
        except EventFileError:
            return  # cut inside the header
        got, error = read_all(path)
    assert error is not None and f"damaged after {len(got)} events" in str(error)
    assert [coordinates(e) for e in got] == [coordinates(e) for e in expected[: len(got)]]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)


@examples(200)
@given(
    meta=st.dictionaries(
        st.sampled_from([META_TOPICS, META_SCHEMAS, META_FORMATS, META_COUNT]),
        _JSON.map(json.dumps) | _TEXT,  # json: NaN and integers past 64 bits too
    ),
    topic=st.sampled_from(["orders", "t"]),
)
def test_any_metadata_is_read_or_refused_in_one_line(meta: dict[str, str], topic: str) -> None:
    body = io.BytesIO()
    record = {
        "topic": topic,
        "partition": 0,
        "offset": 1,
        "timestamp_ms": 2,
        "key": None,
        "headers": [],
        "value": b"{}",
    }
    fastavro.writer(body, fastavro.parse_schema(RECORD_SCHEMA), [record], metadata=meta)
    with written(body.getvalue()) as path:
        try:
            opened = open_event_file(path)
        except EventFileError as exc:
            assert "damaged event file metadata" in str(exc) and "\n" not in str(exc)
            return
        got, error = read_all(path)
    assert opened.native
    assert len(got) <= 1
    if error is None:
        assert [coordinates(e)[:3] for e in got] == [(topic, 0, 1)]


@examples(300)
@given(blob=st.binary(max_size=400))
def test_random_bytes_after_the_magic(blob: bytes) -> None:
    with written(b"Obj\x01" + blob) as path:
        try:
            open_event_file(path)
        except EventFileError:
            return
        read_all(path)
