"""What a person reads about a trace's events: ids as text, type, aggregate, time.

A trace keeps hashes; the text of an id is read again from the record when a node is
shown (a view asks for the rows on screen, the JSON output for each node in turn), and
kept in a bounded cache.  Ids read from masked fields or headers are given as the
masker's mark (``app.trace.masking``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.trace.ids import IdColumns
from app.trace.masking import mask_ids, mask_value, masked_roles
from app.trace.records import BatchDecoder, RecordReader
from app.trace.rules import Role
from app.trace.space import TraceSpace
from app.trace.tree import Trace
from kafka_io.decode import Decoder
from kafka_io.event import iso_utc

CACHE_SIZE = 20_000


@dataclass(frozen=True)
class NodeText:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    type: str
    aggregate: str | None
    event_id: str | None
    causation_id: str | None
    correlation_id: str | None
    version: int | None

    @property
    def timestamp(self) -> str:
        return iso_utc(self.timestamp_ms)

    @property
    def where(self) -> str:
        return f"{self.topic} p{self.partition}@{self.offset}"


class TraceTexts:
    """Node texts of one trace, read from the indexes it came from (on the calling thread:
    the indexes' own decoders, or the one given)."""

    def __init__(
        self,
        trace: Trace,
        indexes: dict[str, TopicIndex],
        columns: dict[str, IdColumns],
        decoder: BatchDecoder | None = None,
        masker: Masker | None = None,
    ) -> None:
        self.trace = trace
        self._indexes = indexes
        self._columns = columns
        self._decoder = decoder
        self._masker = masker or Masker()
        self._masked = {t: masked_roles(self._masker, c.rules) for t, c in columns.items()}
        self._readers: dict[str, RecordReader] = {}
        self._cache: OrderedDict[int, NodeText] = OrderedDict()

    @property
    def correlation(self) -> str | None:
        """The trace's correlation id as it may be shown (masked where any topic's is)."""
        masked = any(Role.CORRELATION in roles for roles in self._masked.values())
        shown: str | None = mask_value(self._masker, masked, self.trace.correlation)
        return shown

    @classmethod
    def of_space(cls, trace: Trace, space: TraceSpace, masker: Masker | None = None) -> TraceTexts:
        topics = {trace.topics[int(t)] for t in set(trace.topic.tolist())}
        return cls(
            trace,
            {t: space.indexes[t] for t in topics},
            {t: space.columns(t) for t in topics},
            space.decoder(),
            masker,
        )

    def _reader(self, topic: str) -> RecordReader:
        found = self._readers.get(topic)
        if found is None:
            index = self._indexes[topic]
            decoder: Any = self._decoder or index.decoder
            usable = decoder if isinstance(decoder, Decoder) or self._decoder else None
            found = RecordReader(index, usable, headers=True, keys=True)
            self._readers[topic] = found
        return found

    def node(self, node: int) -> NodeText:
        return self.nodes([node])[0]

    def nodes(self, nodes: Sequence[int]) -> list[NodeText]:
        """Texts of ``nodes`` (cached; the missing ones read topic by topic in bulk)."""
        fresh: dict[int, NodeText] = {}
        trace = self.trace
        by_topic: dict[str, list[int]] = {}
        for n in dict.fromkeys(nodes):
            if n not in self._cache:
                by_topic.setdefault(trace.topic_name(n), []).append(n)
        for topic, topic_nodes in by_topic.items():
            rows = [int(trace.row[n]) for n in topic_nodes]
            roles = self._masked[topic]
            texts = self._columns[topic].texts(self._reader(topic), rows)
            texts = [mask_ids(self._masker, roles, ids) for ids in texts]
            index = self._indexes[topic]
            for n, row, ids in zip(topic_nodes, rows, texts, strict=True):
                fresh[n] = _node_text(index, topic, row, ids)
        out = [fresh.get(n) or self._cache[n] for n in nodes]
        for n, text in fresh.items():
            self._remember(n, text)
        return out

    def _remember(self, node: int, text: NodeText) -> None:
        self._cache[node] = text
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def _node_text(index: TopicIndex, topic: str, row: int, ids: dict[Role, Any]) -> NodeText:
    ref = index.ref(row)
    return NodeText(
        topic,
        ref.partition,
        ref.offset,
        ref.timestamp_ms,
        ref.type,
        index.aggregate_of(row),
        ids[Role.EVENT_ID],
        ids[Role.CAUSATION],
        ids[Role.CORRELATION],
        ids[Role.VERSION],
    )
