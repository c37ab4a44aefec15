"""What the window has loaded: the open source and one TopicIndex per topic read from it.

Indexes are written only on the GUI thread (batches arrive from workers through a
BatchStream), so a query or a table repaint never sees a half-appended batch.  Replays
read them from the replay worker, which TopicIndex allows between appends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.audit.history import history_notes
from app.index.topic_index import TopicIndex
from app.sources import (
    Listing,
    PartitionInfo,
    Source,
    SourceSettings,
    TopicInfo,
    TopicSettings,
)
from kafka_io.event import Event


@dataclass
class Dataset:
    """The indexes of one source and what is known of its topics."""

    source: Source
    indexes: dict[str, TopicIndex] = field(default_factory=dict)
    listing: Listing | None = None
    # topic -> why its read stopped before the end (a damaged file, a lost broker);
    # "" stands for the whole source (a file is read in one pass).
    incomplete: dict[str, str] = field(default_factory=dict)
    # topic -> how its aggregates' partitions are told (the detected partitioner).
    partitioners: dict[str, str] = field(default_factory=dict)
    # topic -> {partition: (low, high)} watermarks when its read was planned (a cluster).
    watermarks: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.name

    def index(self, topic: str) -> TopicIndex:
        found = self.indexes.get(topic)
        if found is None:
            # The index re-decodes values for display: its own decoder, because a
            # Decoder caches per thread and the reading worker has another.
            found = TopicIndex(topic, self.source.make_decoder())
            self.indexes[topic] = found
        return found

    def append(self, events: Sequence[Event]) -> set[str]:
        """Add a batch (possibly of several topics); returns the topics that grew."""
        if not events:
            return set()
        first = events[0].topic
        if events[-1].topic == first and all(ev.topic == first for ev in events):
            self.index(first).append(events)
            return {first}
        by_topic: dict[str, list[Event]] = {}
        for ev in events:
            by_topic.setdefault(ev.topic, []).append(ev)
        for topic, batch in by_topic.items():
            self.index(topic).append(batch)
        return set(by_topic)

    def reset_topic(self, topic: str) -> TopicIndex:
        """Forget what was read of ``topic`` (a re-read starts from scratch)."""
        self.indexes.pop(topic, None)
        self.incomplete.pop(topic, None)
        return self.index(topic)

    def incomplete_note(self, topic: str | None) -> str | None:
        """Why what is shown of ``topic`` is not all there is, if it is not."""
        if topic is not None and topic in self.incomplete:
            return self.incomplete[topic]
        return self.incomplete.get("")

    def history_notes(self, topic: str, partitions: list[int]) -> list[str]:
        """Why a state built from ``partitions`` of ``topic`` may miss early history:
        a low watermark above 0 on a cluster, a file that starts past offset 0."""
        marks = self.watermarks.get(topic)
        if marks is not None:
            return history_notes(topic, marks, partitions)
        index = self.indexes.get(topic)
        if index is None or not self.source.preloads:
            return []
        starts = {p: s.first_offset for p, s in index.partitions.items() if p in partitions}
        return [
            f"partition {p} of the file starts at offset {first}: earlier records are not "
            "in it, so a state built from it may come from a truncated history"
            for p, first in sorted(starts.items())
            if first > 0
        ]

    def topic_settings(self, topic: str) -> TopicSettings:
        return self.source.settings.for_topic(topic)

    def set_topic_settings(self, topic: str, settings: TopicSettings) -> None:
        """Read ``topic`` with other settings from now on (its index starts again)."""
        updated: SourceSettings = self.source.settings.with_topic(topic, settings)
        self.source = self.source.clone(updated)
        self.reset_topic(topic)

    def topic_infos(self) -> list[TopicInfo]:
        """Topics for the cluster tree: what a one-pass read holds, else the listing."""
        if not self.source.preloads:
            topics = self.listing.topics if self.listing is not None else []
            return sorted(topics, key=lambda t: t.name)
        infos = []
        for name in sorted(self.indexes):
            index = self.indexes[name]
            parts = tuple(
                PartitionInfo(p, state.low, state.next_offset)
                for p, state in sorted(index.partitions.items())
            )
            infos.append(TopicInfo(name, parts, cleanup_policy="file"))
        return infos
