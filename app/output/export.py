"""Writing a selection of events to a file: an event file (Avro container, the format
that reads back anywhere with no cluster) or JSON lines (``events --json``'s format)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from app.output.event_json import dumps, event_record
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

FORMATS = {".avro": "event file (Avro)", ".jsonl": "JSON lines", ".json": "JSON lines"}


def export_events(
    path: Path,
    events: Iterable[Event],
    decoder: Decoder | None = None,
    on_each: Callable[[int], None] | None = None,
) -> int:
    """Write ``events`` to ``path`` (format by extension); returns how many.

    ``decoder`` is the one that decoded the events: an event file stores the schemas and
    formats it learned, so the file decodes later with no registry.
    """
    count = 0

    def counted() -> Iterable[Event]:
        nonlocal count
        for ev in events:
            count += 1
            if on_each is not None and count % 1000 == 0:
                on_each(count)
            yield ev

    suffix = path.suffix.lower()
    if suffix == ".avro":
        write_event_file(path, counted(), decoder=decoder)
    elif suffix in (".jsonl", ".json"):
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for ev in counted():
                out.write(dumps(event_record(ev)) + "\n")
        tmp.replace(path)
    else:
        known = ", ".join(FORMATS)
        raise ValueError(f"cannot export to {path.name}: use one of {known}")
    return count
