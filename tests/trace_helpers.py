"""Small traces for the trace tests: JSON events with ids, in indexes per topic."""

from __future__ import annotations

import orjson

from app.index.topic_index import TopicIndex
from app.trace.space import TraceSpace
from kafka_io.event import Event


def ev(topic: str, offset: int, ts: int, eid: str, corr: str | None, cause: str | None,
       etype: str = "T") -> Event:  # fmt: skip
    data = {"eventId": eid, "eventType": etype, "correlationId": corr, "causationId": cause}
    return Event(topic, 0, offset, ts, eid, etype, eid, (), data, None, None, orjson.dumps(data))


def space_of(*events: Event) -> TraceSpace:
    indexes: dict[str, TopicIndex] = {}
    for e in events:
        indexes.setdefault(e.topic, TopicIndex(e.topic)).append([e])
    return TraceSpace(indexes)
