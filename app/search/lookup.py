"""Every event of one aggregate across topics, and its state per topic.

A support engineer has an account or order id from a ticket: this answers "what
happened to it" in one step.  Topics already indexed answer from their index; the others
are read cold, through the partition their partitioner puts the id in (one partition,
only records with that key), so a search over a large cluster stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.index.topic_index import TopicIndex
from app.replay.cold_read import read_aggregate
from app.replay.folds import FoldRegistry
from app.replay.replayer import Replayer
from app.replay.runner import FoldFailure
from app.sources import Source
from kafka_io.cancel import CancelToken
from kafka_io.event import Event

Progress = Callable[[int, int, str], None]  # topics done, topics, the topic now


@dataclass(frozen=True)
class TopicMatch:
    """The aggregate's events in one topic, and its state there."""

    topic: str
    events: list[Event]
    fold: str | None = None
    state: Any = None
    failure: FoldFailure | None = None
    # How the topic was searched: None = its whole index; else the partitions read.
    partitions: list[int] | None = None
    note: str | None = None  # why every partition was read, or why it could not be
    indexed: bool = False


@dataclass
class SearchResult:
    aggregate: str
    matches: list[TopicMatch] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)  # every topic looked in
    problems: dict[str, str] = field(default_factory=dict)  # topic -> why it failed

    @property
    def found(self) -> list[TopicMatch]:
        return [m for m in self.matches if m.events]

    def timeline(self) -> list[Event]:
        """Every event of the aggregate, in time order across topics."""
        events = [ev for m in self.matches for ev in m.events]
        return sorted(events, key=lambda e: (e.timestamp_ms, e.topic, e.partition, e.offset))


def search_aggregate(
    source: Source,
    aggregate: str,
    topics: Iterable[str],
    *,
    indexes: Mapping[str, TopicIndex] | None = None,
    folds: FoldRegistry | None = None,
    cancel: CancelToken | None = None,
    on_progress: Progress | None = None,
) -> SearchResult:
    """Look for ``aggregate`` in ``topics``: from ``indexes`` where a topic has one with
    events in it, else by a cold read; fold each topic's events with its fold."""
    wanted = sorted(topics)
    result = SearchResult(aggregate, searched=wanted)
    for done, topic in enumerate(wanted):
        if cancel is not None and cancel.cancelled:
            break
        if on_progress is not None:
            on_progress(done, len(wanted), topic)
        try:
            match = _search_topic(source, topic, aggregate, (indexes or {}).get(topic))
        except Exception as exc:  # one topic that cannot be read must not hide the others
            result.problems[topic] = _one_line(exc)
            continue
        if folds is not None and match.events:
            match = _with_state(match, folds)
        result.matches.append(match)
    return result


def _search_topic(
    source: Source, topic: str, aggregate: str, index: TopicIndex | None
) -> TopicMatch:
    if index is not None and len(index):
        decoder = source.make_decoder()  # this thread's own (a Decoder caches)
        rows = index.rows_for_aggregate(aggregate)
        events = [index.event(int(row), decoder=decoder) for row in rows]
        return TopicMatch(topic, events, indexed=True)
    found = read_aggregate(source, topic, aggregate)
    return TopicMatch(topic, found.events, partitions=found.partitions, note=found.note)


def _with_state(match: TopicMatch, folds: FoldRegistry) -> TopicMatch:
    spec = folds.for_topic(match.topic)
    result = Replayer.from_events(match.events, spec, aggregate=None).run()
    return TopicMatch(
        match.topic, match.events, spec.name, result.state, result.failure,
        match.partitions, match.note, match.indexed,
    )  # fmt: skip


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
