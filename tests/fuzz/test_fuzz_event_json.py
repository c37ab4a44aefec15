"""Fuzzing the JSON output (app.output.event_json): any value, any event, any depth.

The text parses back to the value (bytes as base64 objects, tuples and sets as lists,
non-string keys as strings); where orjson can write the value itself, the text is
exactly orjson's; every Event gives one line, its timestamp ISO 8601 when a date can
show it and raw milliseconds with an error when not.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fuzz_settings import examples
from hypothesis import given
from hypothesis import strategies as st

from app.output.event_json import _default, dumps, event_record
from app.output.json_text import nests_within
from kafka_io.event import Event

pytestmark = pytest.mark.fuzz

_LAST_MS = 253_402_300_799_999
_FIRST_MS = -62_135_596_800_000

scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans(), inner, max_size=4)
    ),
    max_leaves=40,
)


@st.composite
def chains(draw: st.DrawFn) -> Any:
    """A value nested up to 3,000 levels: past orjson's 254 and its parser's 1024."""
    depth = draw(st.integers(0, 3000))
    kinds = draw(st.lists(st.sampled_from(["list", "dict", "tuple"]), min_size=1, max_size=5))
    value: Any = draw(scalars)
    for level in range(depth):
        kind = kinds[level % len(kinds)]
        value = {"k": value} if kind == "dict" else [value] if kind == "list" else (value,)
    return value


def expected(value: Any) -> Any:
    """What the JSON of ``value`` parses back to (without recursion: chains are deep)."""
    root: list[Any] = [None]
    todo: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while todo:
        item, parent, slot = todo.pop()
        if isinstance(item, bytes):
            parent[slot] = {"base64": base64.b64encode(item).decode()}
        elif isinstance(item, list | tuple):
            parent[slot] = [None] * len(item)
            todo += [(x, parent[slot], i) for i, x in enumerate(item)]
        elif isinstance(item, dict):
            # Keys printed alike (True and "true") are both written; json.loads keeps
            # the last, so the last one's member is what comes back.
            members = {(k if isinstance(k, str) else json.dumps(k)): m for k, m in item.items()}
            parent[slot] = dict.fromkeys(members)
            todo += [(member, parent[slot], name) for name, member in members.items()]
        else:
            parent[slot] = item
    return root[0]


@contextmanager
def deep_parsing() -> Iterator[None]:
    """json.loads and == recurse once per level (set per example: hypothesis resets it)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@examples(300)
@given(value=values | chains(), pretty=st.booleans())
def test_any_value_prints_and_parses_back(value: Any, pretty: bool) -> None:
    text = dumps(value, pretty=pretty)
    with deep_parsing():
        assert json.loads(text) == expected(value)
    if not nests_within(value):
        return  # orjson itself may crash on it (deep tuples): nothing to compare with
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if pretty else 0)
    try:
        direct = orjson.dumps(value, default=_default, option=option).decode()
    except TypeError:
        return  # too big for orjson: only the fallback can write it
    assert text == direct


events = st.builds(
    Event,
    topic=st.text(max_size=10),
    partition=st.integers(-1, 2**31 - 1),
    offset=st.integers(-1, 2**63 - 1),
    timestamp_ms=st.integers(-(2**63), 2**63 - 1)
    | st.integers(_FIRST_MS - 2, _FIRST_MS + 2)
    | st.integers(_LAST_MS - 2, _LAST_MS + 2),
    key=st.none() | st.text(max_size=8) | st.binary(max_size=8),
    type=st.text(min_size=1, max_size=8),
    aggregate=st.none() | st.text(max_size=8),
    headers=st.lists(st.tuples(st.text(max_size=4), st.none() | st.binary(max_size=6))).map(tuple),
    data=values | chains(),
    schema_id=st.none() | st.integers(0, 2**32 - 1),
    error=st.none() | st.text(max_size=20),
    value=st.none() | st.binary(max_size=8),
)


@examples(150)
@given(ev=events)
def test_any_event_is_one_line_of_json(ev: Event) -> None:
    text = dumps(event_record(ev))
    assert "\n" not in text
    with deep_parsing():
        row = json.loads(text)
        assert row["data"] == expected(ev.data)
    assert (row["topic"], row["partition"], row["offset"]) == (ev.topic, ev.partition, ev.offset)
    if _FIRST_MS <= ev.timestamp_ms <= _LAST_MS:
        assert isinstance(row["timestamp"], str) and row["timestamp"].endswith("Z")
        assert row["error"] == ev.error
    else:
        assert row["timestamp"] == ev.timestamp_ms
        assert row["error"].endswith(
            f"timestamp {ev.timestamp_ms} ms is outside the years 1 to 9999"
        )
