"""Indexing the topics a trace or a health check looks at, for the headless commands.

A file is read in one pass into one index per topic; a cluster's topics each go through
their persisted index (``open_topic``), so a second run reads only what is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from app.index.topic_cache import CachedSource, open_topic
from app.index.topic_index import TopicIndex
from app.sources import Source
from kafka_io.event import Event


@dataclass
class Indexed:
    indexes: dict[str, TopicIndex]
    # topic ("" for the whole file) -> why its read stopped before the end
    incomplete: dict[str, str] = field(default_factory=dict)


def pick_topics(available: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """The topics matching any of ``patterns`` (globs, or comma-separated lists of them);
    every topic when none are given.  ValueError names what was there when none match."""
    if not patterns:
        return sorted(available)
    globs = [g.strip() for p in patterns for g in p.split(",") if g.strip()]
    chosen = sorted(t for t in available if any(fnmatchcase(t, g) for g in globs))
    if not chosen:
        there = ", ".join(sorted(available)) or "none"
        raise ValueError(f"no topic matches {', '.join(globs)} (topics: {there})")
    return chosen


def index_topics(
    source: Source, patterns: Sequence[str] | None, *, use_cache: bool = True
) -> Indexed:
    """One index per chosen topic of ``source``."""
    chosen = pick_topics(source.topic_names(), patterns)
    if source.preloads:
        return _read_file(source, set(chosen))
    indexed = Indexed({})
    for topic in chosen:
        if isinstance(source, CachedSource) and use_cache:
            cached = open_topic(source, topic)
            index, report = cached.index, cached.report
        else:
            index = TopicIndex(topic, decoder=source.make_decoder())
            read = source.read(topic)
            for batch in read:
                index.append(batch)
            report = read.report
        indexed.indexes[topic] = index
        if report.incomplete is not None:
            indexed.incomplete[topic] = report.incomplete
    return indexed


def _read_file(source: Source, wanted: set[str]) -> Indexed:
    decoder = source.make_decoder()
    indexes = {t: TopicIndex(t, decoder=decoder) for t in sorted(wanted)}
    read = source.read(None, decoder=decoder)
    for batch in read:
        by_topic: dict[str, list[Event]] = {}
        for ev in batch:
            if ev.topic in wanted:
                by_topic.setdefault(ev.topic, []).append(ev)
        for topic, events in by_topic.items():
            indexes[topic].append(events)
    incomplete = {"": read.report.incomplete} if read.report.incomplete else {}
    return Indexed(indexes, incomplete)
