"""The cache folder's size budget (least recently used first, never an index in use),
and ``event-explorer cache list|clear``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest
from evfactory import random_events

from app.cli.main import main
from app.index.cache_budget import clear, enforce_budget, list_cached, parse_size
from app.index.store import load_or_new, release, save
from app.index.topic_index import TopicIndex


def _saved(folder: Path, topic: str, n: int = 3000, age_s: float = 0.0) -> Path:
    index = TopicIndex(topic, cluster_id="c1")
    index.append(random_events(n, topic=topic))
    where = save(index, folder)
    then = time.time() - age_s
    for name in ("lock", "meta.json"):
        os.utime(where / name, (then, then))
    return where


def test_least_recently_used_go_first_and_an_index_in_use_stays(tmp_path: Path) -> None:
    old = _saved(tmp_path, "old", age_s=300)
    middle = _saved(tmp_path, "middle", age_s=200)
    _saved(tmp_path, "new", age_s=100)
    held, _ = load_or_new("c1", "middle", cache_dir=tmp_path)  # a window has it open
    sizes = {e.topic: e.disk_bytes for e in list_cached(tmp_path)}
    assert [e.topic for e in list_cached(tmp_path)][-1] == "old"
    evicted = enforce_budget(tmp_path, budget=sizes["new"] + sizes["middle"])
    assert [e.topic for e in evicted] == ["old"] and not old.exists()
    evicted = enforce_budget(tmp_path, budget=1)  # far too small: all but what is in use
    assert [e.topic for e in evicted] == ["new"]
    assert middle.exists() and held is not None
    assert [e.topic for e in list_cached(tmp_path)] == ["middle"]


def test_sizes_are_read_as_people_write_them() -> None:
    assert parse_size("20G") == 20 * 2**30
    assert parse_size("500M") == 500 * 2**20
    assert parse_size("1.5GiB") == int(1.5 * 2**30)
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_clear_by_topic(tmp_path: Path) -> None:
    _saved(tmp_path, "a")
    _saved(tmp_path, "b")
    removed, busy = clear(tmp_path, topic="a")
    assert [e.topic for e in removed] == ["a"] and busy == []
    assert [e.topic for e in list_cached(tmp_path)] == ["b"]


def test_the_cache_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVENT_EXPLORER_CACHE_DIR", str(tmp_path))
    _saved(tmp_path, "orders", n=1000)
    _saved(tmp_path, "accounts", n=2000)
    held, _ = load_or_new("c1", "accounts", cache_dir=tmp_path)
    assert main(["cache", "list", "--json"]) == 0
    listed = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(e["topic"], e["events"], e["in_use"]) for e in listed} == {
        ("orders", 1000, False), ("accounts", 2000, True)
    }  # fmt: skip
    assert main(["cache", "clear"]) == 1  # the one in use is kept, and said so
    err = capsys.readouterr().err
    assert "removed 1 cached indexes" in err and "kept c1 accounts" in err
    release(held)  # the window closes the topic
    assert main(["cache", "clear", "--topic", "accounts"]) == 0
    assert list_cached(tmp_path) == []
