"""Opening a window of a topic, against the real broker: where it starts, what it
refuses, one aggregate's earlier events by the cold path, and reuse or rebuild."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_helpers import BASE_MS, Rec, produce

from app.index.topic_cache import open_topic, plan_topic
from app.index.window import (
    WindowedIndexError,
    WindowSpec,
    events_before_window,
    require_whole_history,
    window_of,
)
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka


def _topic(bootstrap: str, make_topic: Callable[..., str]) -> str:
    """300 records, one a second, keyed a0..a59 and placed by their key (murmur2)."""
    topic = make_topic(3)
    produce(bootstrap, topic, [
        Rec(f'{{"eventType":"E","i":{i}}}'.encode(), f"a{i % 60}".encode(),
            timestamp_ms=BASE_MS + i * 1000)
        for i in range(300)
    ])  # fmt: skip
    return topic


def test_the_last_events_of_each_partition(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = _topic(kafka_bootstrap, make_topic)
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    highs = {p.partition: p.high for p in source.partitions(topic)}
    opened = open_topic(source, topic, cache_dir=tmp_path, window=WindowSpec.last_events(20))
    index = opened.index
    assert len(index) == 60 and opened.read == 60
    assert {p: s.first_offset for p, s in index.partitions.items()} == {
        p: high - 20 for p, high in highs.items()
    }
    window = window_of(index)
    assert window is not None and window.describe() == "the last 20 events of each partition"
    with pytest.raises(WindowedIndexError, match="the state of every aggregate needs the whole"):
        require_whole_history(index, "the state of every aggregate")
    # One aggregate's history before the window: its partition, its key, up to the start.
    before = events_before_window(source, index, "a4")
    expected = [(e.partition, e.offset) for e in source.read(topic).events()
                if e.aggregate == "a4" and e.offset < highs[e.partition] - 20]  # fmt: skip
    assert sorted((e.partition, e.offset) for e in before.events) == sorted(expected)
    assert expected and before.complete and len(before.partitions) == 1  # one partition read
    # The same window again: nothing new to read; a wider one: read again.
    again = open_topic(source, topic, cache_dir=tmp_path, window=WindowSpec.last_events(20))
    assert (again.read, again.reused) == (0, 60)
    whole = open_topic(source, topic, cache_dir=tmp_path)
    assert whole.read == 300 and whole.note is not None and "held the last 20" in whole.note
    assert window_of(whole.index) is None
    require_whole_history(whole.index, "an audit")  # no refusal on the whole topic
    # A narrower window of a whole index: the whole index is reused.
    narrow = open_topic(source, topic, cache_dir=tmp_path, window=WindowSpec.last_events(5))
    assert (narrow.read, narrow.reused) == (0, 300)


def test_from_a_time(kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path) -> None:
    topic = _topic(kafka_bootstrap, make_topic)
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    spec = WindowSpec("since_ms", BASE_MS + 150_500)  # records 151.. onwards
    first: dict[int, int] = {}
    for e in source.read(topic).events():
        if e.timestamp_ms >= spec.value:
            first[e.partition] = min(first.get(e.partition, e.offset), e.offset)
    plan = plan_topic(source, topic, tmp_path, window=spec)
    assert {r.partition: r.start for r in plan.ranges} == first
    assert plan.window is not None and plan.window.describe().startswith("from 2023-11-14")


def test_window_specs_read_back() -> None:
    for spec in (WindowSpec.last_hours(6), WindowSpec.last_days(7), WindowSpec.last_events(10)):
        assert WindowSpec.from_json(spec.to_json()) == spec
    assert WindowSpec.last_days(7).describe() == "the last 7 days"
    assert WindowSpec.last_hours(6).describe() == "the last 6 hours"
    assert WindowSpec.from_json({"kind": "bogus"}).everything
    with pytest.raises(ValueError):
        WindowSpec("last_per_partition", 0)
