"""An index as the table may read it while masking is on: each event masked."""

from __future__ import annotations

from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from kafka_io.event import Event


class MaskedEvents:
    """An index as the table may read it: each event masked (``EventStore``)."""

    def __init__(self, index: TopicIndex, masker: Masker) -> None:
        self.index = index
        self.masker = masker

    def event(self, row: int) -> Event:
        return self.masker.event(self.index.event(row))

    def __len__(self) -> int:
        return len(self.index)
