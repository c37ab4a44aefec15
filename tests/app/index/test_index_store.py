"""Persisting indexes: round trip, and never trusting a bad cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from evfactory import random_events

from app.index import store as store
from app.index.query import Query, run_query
from app.index.topic_index import TopicIndex
from kafka_io.event import Event

EVENTS = random_events(2500, seed=17, partitions=3, aggregates=25, step_back=True)
CLUSTER = "cluster-A"


def build(events: list[Event]) -> TopicIndex:
    index = TopicIndex("bank-accounts", cluster_id=CLUSTER)
    for i in range(0, len(events), 400):
        index.append(events[i : i + 400])
    return index


def same_index(a: TopicIndex, b: TopicIndex) -> None:
    assert len(a) == len(b)
    assert all(a.event(r) == b.event(r) for r in range(len(a)))
    assert np.array_equal(a.log_order(), b.log_order())
    for q in (Query(text="rent"), Query(aggregate="acc-01", aggregate_prefix=True),
              Query(errors_only=True)):  # fmt: skip
        assert np.array_equal(run_query(a, q), run_query(b, q))


def watermarks(events: list[Event]) -> dict[int, tuple[int, int]]:
    marks: dict[int, tuple[int, int]] = {}
    for e in events:
        low, high = marks.get(e.partition, (e.offset, e.offset))
        marks[e.partition] = (min(low, e.offset), max(high, e.offset + 1))
    return marks


def test_round_trip(tmp_path: Path) -> None:
    index = build(EVENTS)
    folder = store.save(index, tmp_path)
    back, note = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path)
    assert note is None
    same_index(index, back)
    assert back.partitions == index.partitions
    assert len(list(folder.glob("gen-*"))) == 1


def test_no_cache_gives_an_empty_index(tmp_path: Path) -> None:
    fresh, note = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path)
    assert len(fresh) == 0 and note is None and fresh.cluster_id == CLUSTER


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip", "checksum"),
        ("truncate", "bytes"),
        ("delete", "missing"),
        ("meta-garbage", "unreadable"),
        ("meta-format", "format"),
        ("meta-files", "file list"),
    ],
)
def test_a_corrupt_cache_is_rebuilt(tmp_path: Path, damage: str, reason: str) -> None:
    folder = store.save(build(EVENTS), tmp_path)
    gen = next(folder.glob("gen-*"))
    meta_path = folder / "meta.json"
    if damage == "flip":
        blob = bytearray((gen / "values.bin").read_bytes())
        blob[len(blob) // 2] ^= 0x20
        (gen / "values.bin").write_bytes(blob)
    elif damage == "truncate":
        data = (gen / "offset.bin").read_bytes()
        (gen / "offset.bin").write_bytes(data[:-8])
    elif damage == "delete":
        next(gen.glob("names-*.json")).unlink()
    elif damage == "meta-garbage":
        meta_path.write_bytes(b"{not json")
    else:
        meta = orjson.loads(meta_path.read_bytes())
        if damage == "meta-format":
            meta["format"] = 999
        else:
            del meta["files"]
        meta_path.write_bytes(orjson.dumps(meta))
    index, note = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path)
    assert len(index) == 0
    assert note is not None and reason in note
    # The bad cache is gone, not left to be tried again (a fresh generation replaces it).
    assert not (folder / "meta.json").exists() and not gen.exists()


def test_inconsistent_columns_are_caught_even_with_good_checksums(tmp_path: Path) -> None:
    index = build(EVENTS)
    index.type_names.pop()  # ids now point past the end of the type list
    store.save(index, tmp_path)
    back, note = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path)
    assert len(back) == 0 and "type ids out of range" in (note or "")


def test_a_cache_from_another_cluster_is_not_used(tmp_path: Path) -> None:
    folder = store.save(build(EVENTS), tmp_path)
    other = store.index_dir("cluster-B", "bank-accounts", tmp_path)
    other.parent.mkdir(parents=True)
    shutil.copytree(folder, other)  # say, a cache dir copied between machines
    index, note = store.load_or_new("cluster-B", "bank-accounts", cache_dir=tmp_path)
    assert len(index) == 0 and "cluster-A" in (note or "")


def test_other_decoding_rules_rebuild(tmp_path: Path) -> None:
    store.save(build(EVENTS), tmp_path, signature="type=header:eventType")
    same, _ = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path,
                                signature="type=header:eventType")  # fmt: skip
    assert len(same) == len(EVENTS)
    changed, note = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path, signature="x")
    assert len(changed) == 0 and "rules" in (note or "")
