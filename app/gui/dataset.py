"""What the window has loaded: one TopicIndex per topic of the open file or cluster.

Indexes are written only on the GUI thread (batches arrive from workers as signals), so
a query or a table repaint never sees a half-appended batch.  Replays read them from the
replay worker, which TopicIndex allows between appends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.index.topic_index import TopicIndex
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import GroupInfo, PartitionInfo, TopicInfo

DecoderFactory = Callable[[], Decoder]


@dataclass
class Dataset:
    """The indexes of one source (a file or a cluster) and how to decode their values."""

    name: str
    make_decoder: DecoderFactory
    kind: str = "file"  # "file" or "cluster"
    indexes: dict[str, TopicIndex] = field(default_factory=dict)
    topics: dict[str, TopicInfo] = field(default_factory=dict)  # cluster metadata
    groups: list[GroupInfo] = field(default_factory=list)

    def index(self, topic: str) -> TopicIndex:
        found = self.indexes.get(topic)
        if found is None:
            # The index re-decodes values for display: its own decoder, because a
            # Decoder caches per thread and the reading worker has another.
            found = TopicIndex(topic, self.make_decoder())
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
        return self.index(topic)

    def topic_infos(self) -> list[TopicInfo]:
        """Topics for the cluster tree: cluster metadata, or what a file's indexes hold."""
        if self.kind == "cluster":
            return [self.topics[name] for name in sorted(self.topics)]
        infos = []
        for name in sorted(self.indexes):
            index = self.indexes[name]
            parts = tuple(
                PartitionInfo(p, state.low, state.next_offset)
                for p, state in sorted(index.partitions.items())
            )
            infos.append(TopicInfo(name, parts, cleanup_policy="file"))
        return infos
