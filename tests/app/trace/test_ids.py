"""Id columns beside an index: built from the stored values, grown with the index,
looked up by hash; ids that are not text are counted, not crashed on."""

from __future__ import annotations

import itertools

import orjson
import pytest

from app.index.topic_index import TopicIndex
from app.trace.fields import FieldReader
from app.trace.ids import NO_VERSION, build_columns, id_hash, ids_for, sample_rows
from app.trace.rules import IdRules, Role
from kafka_io.decode import Decoder
from kafka_io.event import Event, Headers


def event(offset: int, data: object, headers: Headers = (), topic: str = "t") -> Event:
    value = orjson.dumps(data)
    return Event(topic, 0, offset, 1000 + offset, "k", "T", "k", headers, data, None, None, value)


def index_of(rows: list[object], headers: Headers = (), topic: str = "t") -> TopicIndex:
    index = TopicIndex(topic, Decoder())
    index.append([event(i, d, headers, topic) for i, d in enumerate(rows)])
    return index


def test_columns_hold_each_rows_ids() -> None:
    rows = [
        {"eventId": "e0", "correlationId": "c", "aggregateVersion": 1},
        {"eventId": "e1", "correlationId": "c", "causationId": "e0", "aggregateVersion": 2},
        {"eventId": "e2", "correlationId": "d", "causationId": "e1"},
    ]
    cols = ids_for(index_of(rows))
    assert cols.column(Role.EVENT_ID).tolist() == [id_hash("e0"), id_hash("e1"), id_hash("e2")]
    assert cols.column(Role.CAUSATION).tolist() == [0, id_hash("e0"), id_hash("e1")]
    assert cols.column(Role.VERSION).tolist() == [1, 2, NO_VERSION]
    assert cols.rows_with(Role.CORRELATION, id_hash("c")).tolist() == [0, 1]
    assert cols.rows_with(Role.CORRELATION, id_hash("nope")).tolist() == []
    found = cols.first_rows(Role.EVENT_ID, cols.column(Role.CAUSATION))
    assert found.tolist() == [-1, 0, 1]


def test_numbers_match_their_text_and_objects_are_counted_not_used() -> None:
    rows = [
        {"eventId": 42, "correlationId": {"nested": "no"}},
        {"eventId": "e", "correlationId": ["no"]},
        {"eventId": "x", "correlationId": "c", "causationId": "42"},
    ]
    cols = ids_for(index_of(rows), IdRules(correlation="field:correlationId"))
    assert cols.column(Role.EVENT_ID)[0] == id_hash("42")
    assert cols.first_rows(Role.EVENT_ID, cols.column(Role.CAUSATION)[2:]).tolist() == [0]
    assert cols.present(Role.CORRELATION).tolist() == [False, False, True]
    assert cols.unusable[Role.CORRELATION] == 2


def test_columns_grow_with_the_index_and_match_a_fresh_build() -> None:
    index = index_of([{"eventId": f"e{i}", "correlationId": f"c{i % 3}"} for i in range(500)])
    first = ids_for(index)
    assert first.size == 500
    index.append([event(500 + i, {"eventId": f"n{i}", "correlationId": "c1"}) for i in range(50)])
    grown = ids_for(index)
    assert grown.size == 550
    fresh = build_columns(index, IdRules(), Decoder())
    for role in (Role.EVENT_ID, Role.CORRELATION):
        assert grown.column(role).tolist() == fresh.column(role).tolist()
    assert len(grown.rows_with(Role.CORRELATION, id_hash("c1"))) == 167 + 50


def test_ids_in_headers_and_undecodable_values() -> None:
    index = TopicIndex("h", Decoder())
    good = event(0, {"x": 1}, (("eventId", b"h0"), ("correlationId", b"c")), "h")
    broken = good._replace(offset=1, data=None, value=b"\xff\xfe", error="invalid JSON")
    index.append([good, broken])
    cols = ids_for(index)
    assert str(cols.rules.rule(Role.EVENT_ID)) == "header:eventId"
    # Headers are read even when the value is not JSON.
    assert cols.column(Role.EVENT_ID).tolist() == [id_hash("h0"), id_hash("h0")]


def test_an_empty_topic_says_what_was_looked_for_and_detects_again_later() -> None:
    index = TopicIndex("later", Decoder())
    cols = ids_for(index)
    assert cols.size == 0 and not cols.has(Role.EVENT_ID)
    assert "looked for fields eventId" in cols.rules.describe(Role.EVENT_ID)
    index.append([event(0, {"eventId": "e"}, topic="later")])
    assert ids_for(index).has(Role.EVENT_ID)


def test_other_rules_make_other_columns() -> None:
    index = index_of([{"eventId": "e", "id": "i"}])
    assert ids_for(index).column(Role.EVENT_ID)[0] == id_hash("e")
    assert ids_for(index, IdRules(event_id="field:id")).column(Role.EVENT_ID)[0] == id_hash("i")


@pytest.mark.parametrize("size", [0, 3, 200, 201, 10_000])
def test_sample_rows_start_with_the_head_and_spread(size: int) -> None:
    rows = sample_rows(size, 400)
    assert rows == sorted(set(rows)) and all(0 <= r < size for r in rows)
    assert len(rows) == min(size, 400)
    if size > 400:
        assert rows[:200] == list(range(200)) and rows[-1] > size * 0.9


def test_field_reader_reads_what_a_full_parse_reads() -> None:
    values = [
        b'{"eventId":"a","metadata":{"correlationId":"c"},"x":[1,{"eventId":"no"}]}',
        b"[1,2]",
        b"not json",
        b"",
        b'{"$correlationId": 5, "eventId": null}',
        b'{"metadata": "flat", "eventId": {"nested": true}}',
    ]
    paths = [("eventId",), ("metadata", "correlationId"), ("$correlationId",)]
    ends = list(itertools.accumulate(len(v) for v in values))
    got = FieldReader(paths).read(b"".join(values), ends)

    def slow(value: bytes, path: tuple[str, ...]) -> object:
        try:
            node = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    assert got == {p: [slow(v, p) for v in values] for p in paths}


def test_readers_of_the_same_names_share_one_type_and_read_alike_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = [("eventId",), ("meta", "correlationId")]
    assert FieldReader(paths)._struct is FieldReader(paths)._struct
    assert FieldReader(paths)._struct is not FieldReader([("id",)])._struct
    values = [
        orjson.dumps({"eventId": f"e{i}", "meta": {"correlationId": f"c{i % 7}"}})
        for i in range(500)
    ]
    ends = list(itertools.accumulate(len(v) for v in values))
    raw = b"".join(values)
    expected = {
        ("eventId",): [f"e{i}" for i in range(500)],
        ("meta", "correlationId"): [f"c{i % 7}" for i in range(500)],
    }

    def read(_: int) -> dict[tuple[str, ...], list[object]]:
        return FieldReader(paths).read(raw, ends)

    with ThreadPoolExecutor(4) as pool:
        assert all(got == expected for got in pool.map(read, range(64)))
