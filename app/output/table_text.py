"""Events as text to paste elsewhere: JSON lines (the same objects as ``events --json``)
or tab-separated columns for a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable

from app.output.event_json import dumps, event_record
from kafka_io.event import Event, iso_utc

TSV_COLUMNS = (
    "topic",
    "partition",
    "offset",
    "timestamp",
    "key",
    "aggregate",
    "type",
    "data",
    "error",
)


def as_json_lines(events: Iterable[Event]) -> str:
    return "".join(dumps(event_record(ev)) + "\n" for ev in events)


def as_tsv(events: Iterable[Event]) -> str:
    """A header row, then one row per event; data as compact JSON; tabs and line breaks
    inside a field become spaces, so every event stays one row."""
    rows = ["\t".join(TSV_COLUMNS)]
    for ev in events:
        record = event_record(ev)
        fields = [
            ev.topic,
            str(ev.partition),
            str(ev.offset),
            iso_utc(ev.timestamp_ms),
            "" if record["key"] is None else _text(record["key"]),
            ev.aggregate or "",
            ev.type,
            "" if ev.data is None else dumps(ev.data),
            ev.error or "",
        ]
        rows.append("\t".join(_flat(f) for f in fields))
    return "\n".join(rows) + "\n"


def _text(value: object) -> str:
    return value if isinstance(value, str) else dumps(value)


def _flat(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
