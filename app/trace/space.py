"""The indexed topics a trace looks across, each with its id columns.

A business process crosses topics (orders, payments, shipments), so a trace is looked up
in every topic indexed so far: ``TraceSpace`` holds their indexes, the id rules of each,
and makes (or reuses) their id columns on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.index.topic_index import TopicIndex
from app.trace.ids import IdColumns, id_hash, ids_for
from app.trace.records import BatchDecoder, RecordReader
from app.trace.rules import IdRuleBook, Role

DecoderFactory = Callable[[], BatchDecoder]


@dataclass(frozen=True)
class Position:
    """Where an event is: topic, partition, offset (and its row in the topic's index)."""

    topic: str
    partition: int
    offset: int
    row: int = -1

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def parse_position(text: str) -> tuple[str, int, int]:
    """``TOPIC:PARTITION:OFFSET`` (a topic name may itself hold colons)."""
    topic, _, rest = text.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    try:
        return topic, int(partition), int(rest)
    except ValueError:
        raise ValueError(f"not TOPIC:PARTITION:OFFSET: {text!r}") from None


class TraceSpace:
    """Topics -> indexes, with id columns made on demand (cached beside each index)."""

    def __init__(
        self,
        indexes: Mapping[str, TopicIndex],
        rules: IdRuleBook | None = None,
        decoders: DecoderFactory | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.indexes = dict(sorted(indexes.items()))
        self.rules = rules or IdRuleBook()
        self._decoders = decoders
        self._decoder: BatchDecoder | None = None
        self._cancelled = cancelled
        self._columns: dict[str, IdColumns] = {}

    @property
    def topics(self) -> list[str]:
        return list(self.indexes)

    def decoder(self) -> BatchDecoder | None:
        """This space's own decoder (made once: the space belongs to one thread)."""
        if self._decoder is None and self._decoders is not None:
            self._decoder = self._decoders()
        return self._decoder

    def columns(self, topic: str) -> IdColumns:
        found = self._columns.get(topic)
        index = self.indexes[topic]
        if found is None or found.size != len(index):
            found = ids_for(index, self.rules.for_topic(topic), self.decoder(), self._cancelled)
            self._columns[topic] = found
        return found

    def all_columns(self) -> dict[str, IdColumns]:
        return {topic: self.columns(topic) for topic in self.indexes}

    def reader(self, topic: str) -> RecordReader:
        return RecordReader(self.indexes[topic], self.decoder(), headers=True, keys=True)

    def position(self, topic: str, partition: int, offset: int) -> Position | None:
        """The event at ``topic:partition:offset``, if that topic holds it."""
        index = self.indexes.get(topic)
        if index is None:
            return None
        n = len(index)
        hits = np.flatnonzero(
            (index.offset_col[:n] == offset) & (index.partition_col[:n] == partition)
        )
        return Position(topic, partition, offset, int(hits[0])) if len(hits) else None

    def position_of(self, topic: str, row: int) -> Position:
        ref = self.indexes[topic].ref(row)
        return Position(topic, ref.partition, ref.offset, row)

    def rows_for_correlation(self, correlation: str) -> dict[str, np.ndarray]:
        """Topic -> rows (in row order) of every event carrying ``correlation``."""
        h = id_hash(correlation)
        found = {}
        for topic in self.indexes:
            rows = self.columns(topic).rows_with(Role.CORRELATION, h)
            if len(rows):
                found[topic] = rows
        return found

    def find_events(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each event-id hash, the topic number (in ``topics``) and row of the first
        event with that id, or (-1, -1) where no indexed event has it."""
        topic_of = np.full(len(hashes), -1, np.int64)
        row_of = np.full(len(hashes), -1, np.int64)
        for t, topic in enumerate(self.indexes):
            missing = topic_of < 0
            if not missing.any():
                break
            rows = self.columns(topic).first_rows(Role.EVENT_ID, hashes[missing])
            hit = rows >= 0
            idx = np.flatnonzero(missing)[hit]
            topic_of[idx] = t
            row_of[idx] = rows[hit]
        return topic_of, row_of

    def correlation_text(self, topic: str, row: int) -> str | None:
        texts = self.columns(topic).texts(self.reader(topic), [row])
        value = texts[0][Role.CORRELATION]
        return value if isinstance(value, str) else None
