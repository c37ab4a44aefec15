"""Event files: Avro object-container exports that open with no cluster, and kcat -J output.

(kcat's JSON lines are read by ``kafka_io.kcat``; both kinds are opened from here.)

An export keeps each record's Kafka coordinates and its raw key, header and value bytes,
so export -> file -> events is byte-exact.  The Avro writer schemas its values need and
the value format of each topic travel in the file's metadata, so an exported file
decodes with no schema registry.

Any other Avro container file opens too, as one event per record (the record is the
event's data), so a data-lake dump can be browsed with the same tools.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import fastavro

from kafka_io.decode import Decoder, gc_paused
from kafka_io.event import Event
from kafka_io.jsonl import is_event_json_record, iter_event_jsonl_batches
from kafka_io.kcat import iter_kcat_batches, read_kcat_jsonl
from kafka_io.registry import Registry, record_name_of
from kafka_io.rules import EventRules, RuleBook

__all__ = [
    "EventFile",
    "EventFileError",
    "detect_file_kind",
    "iter_file_batches",
    "iter_kcat_batches",
    "open_event_file",
    "read_kcat_jsonl",
    "write_event_file",
]

FileKind = Literal["avro", "kcat-jsonl", "events-jsonl"]

META_VERSION = "event_explorer.version"
META_SCHEMAS = "event_explorer.schemas"  # JSON object: schema id -> Avro schema JSON
META_FORMATS = "event_explorer.formats"  # JSON object: topic -> value format
META_TOPICS = "event_explorer.topics"  # JSON object: topic -> record count
META_COUNT = "event_explorer.count"
FILE_VERSION = "1"
BLOCK_BYTES = 64 * 1024  # uncompressed bytes per container block
CODEC = "deflate"  # built into fastavro; no extra package to open a file
BATCH = 5000

RECORD_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "KafkaRecord",
    "namespace": "event_explorer",
    "fields": [
        {"name": "topic", "type": "string"},
        {"name": "partition", "type": "int"},
        {"name": "offset", "type": "long"},
        {"name": "timestamp_ms", "type": "long"},
        {"name": "key", "type": ["null", "bytes"]},
        {
            "name": "headers",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Header",
                    "fields": [
                        {"name": "name", "type": "string"},
                        {"name": "value", "type": ["null", "bytes"]},
                    ],
                },
            },
        },
        {"name": "value", "type": ["null", "bytes"]},
    ],
}
_RECORD_FIELDS = {f["name"] for f in RECORD_SCHEMA["fields"]}
_PARSED = fastavro.parse_schema(RECORD_SCHEMA)
_AVRO_MAGIC = b"Obj\x01"


class EventFileError(ValueError):
    """A file that is not an event file, or is damaged beyond reading."""


# -- writing --------------------------------------------------------------------------------


@dataclass
class _Tally:
    count: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    schema_ids: set[int] = field(default_factory=set)
    avro_topics: set[str] = field(default_factory=set)

    def rows(self, events: Iterable[Event]) -> Iterator[dict[str, Any]]:
        topics = self.topics
        for ev in events:
            topics[ev.topic] = topics.get(ev.topic, 0) + 1
            if ev.schema_id is not None:
                self.schema_ids.add(ev.schema_id)
                self.avro_topics.add(ev.topic)
            self.count += 1
            yield {
                "topic": ev.topic,
                "partition": ev.partition,
                "offset": ev.offset,
                "timestamp_ms": ev.timestamp_ms,
                "key": ev.key_bytes,
                "headers": [{"name": n, "value": v} for n, v in ev.headers],
                "value": ev.value,
            }


def write_event_file(
    path: str | Path,
    records: Iterable[Event],
    schemas: Mapping[int, str] | None = None,
    formats: Mapping[str, str] | None = None,
    *,
    decoder: Decoder | None = None,
    codec: str = CODEC,
    block_bytes: int = BLOCK_BYTES,
    sync_marker: bytes | None = None,
) -> int:
    """Write ``records`` to an Avro container file at ``path``; returns the count.

    ``codec`` is any codec fastavro reads without extra packages ("deflate", "xz",
    "bzip2", "null"); bigger ``block_bytes`` compress better.  A fixed 16-byte
    ``sync_marker`` makes the bytes reproducible (the shipped demo file uses one).

    The metadata is written last, so ``records`` may be a lazy stream straight from a
    read: give the ``decoder`` that decodes it and the schemas it resolved and the
    formats it detected are stored once the stream is exhausted.  Explicit ``schemas``
    and ``formats`` are added on top.  Only schemas some record uses are stored.
    The file appears at ``path`` only when complete.
    """
    target = Path(path)
    body = target.with_name(f".{target.name}.body.tmp")
    final = target.with_name(f".{target.name}.tmp")
    marker = os.urandom(16) if sync_marker is None else sync_marker
    if len(marker) != 16:
        raise ValueError("an Avro sync marker is 16 bytes")
    options: dict[str, Any] = {"codec": codec, "sync_marker": marker, "sync_interval": block_bytes}
    tally = _Tally()
    try:
        # The container header (with the metadata) comes first in the file but is known
        # last: write the blocks, then a header with the same sync marker, then append.
        with body.open("wb") as fo:
            fastavro.writer(fo, _PARSED, tally.rows(records), **options)
        bare = io.BytesIO()
        fastavro.writer(bare, _PARSED, [], **options)
        meta = _metadata(tally, schemas, formats, decoder)
        with body.open("rb") as src, final.open("wb") as dst:
            if src.read(len(bare.getvalue())) != bare.getvalue():
                raise EventFileError("unexpected Avro container header; file not written")
            fastavro.writer(dst, _PARSED, [], metadata=meta, **options)
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(final, target)
    finally:
        body.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
    return tally.count


def _metadata(
    tally: _Tally,
    schemas: Mapping[int, str] | None,
    formats: Mapping[str, str] | None,
    decoder: Decoder | None,
) -> dict[str, str]:
    known: dict[int, str] = dict(decoder.schemas_used) if decoder is not None else {}
    known.update(schemas or {})
    used = {str(sid): known[sid] for sid in sorted(tally.schema_ids) if sid in known}
    fmts = {topic: "avro" for topic in tally.avro_topics}
    if decoder is not None:
        fmts.update(decoder.formats)
    fmts.update(formats or {})
    return {
        META_VERSION: FILE_VERSION,
        META_COUNT: str(tally.count),
        META_TOPICS: json.dumps(tally.topics),
        META_SCHEMAS: json.dumps(used),
        META_FORMATS: json.dumps({t: str(f) for t, f in fmts.items() if t in tally.topics}),
    }


# -- reading Avro container files ------------------------------------------------------------


@dataclass(frozen=True)
class EventFile:
    """An opened Avro event file: what it holds, and its events on demand."""

    path: Path
    topics: tuple[str, ...]
    schemas: Mapping[int, str]
    formats: Mapping[str, str]
    count: int | None  # known without a scan for exported files; None otherwise
    native: bool  # records carry Kafka coordinates (an export), not arbitrary data
    record_name: str | None = None  # for a foreign file: its record type's short name

    def decoder(
        self, registry: Registry | None = None, rules: EventRules | RuleBook | None = None
    ) -> Decoder:
        """A decoder for this file: its own schemas and formats (a registry is optional)."""
        return Decoder(rules=rules, registry=registry, schemas=self.schemas, formats=self.formats)

    def iter_batches(
        self, batch_size: int = BATCH, decoder: Decoder | None = None
    ) -> Iterator[list[Event]]:
        """Events in file order, ``batch_size`` at a time (what the index consumes)."""
        dec = decoder or self.decoder()
        convert = self._native_batch if self.native else self._foreign_batch
        with self.path.open("rb") as fo:
            try:
                rows = fastavro.reader(fo)
            except Exception as exc:  # fastavro signals a bad header with several types
                raise EventFileError(f"{self.path}: not a readable Avro file: {exc}") from exc
            numbered = enumerate(rows)
            done = 0
            while True:
                with gc_paused():
                    try:
                        chunk = list(islice(numbered, batch_size))
                    except Exception as exc:  # zlib, EOF, schema errors: all mean damage
                        raise EventFileError(
                            f"{self.path}: damaged after {done} events: {exc}"
                        ) from exc
                    batch = convert(dec, chunk)
                if not batch:
                    return
                done += len(batch)
                yield batch

    def iter_events(self, decoder: Decoder | None = None) -> Iterator[Event]:
        for batch in self.iter_batches(BATCH, decoder):
            yield from batch

    @staticmethod
    def _native_batch(dec: Decoder, rows: list[tuple[int, Any]]) -> list[Event]:
        return dec.decode_rows(
            (
                r["topic"],
                r["partition"],
                r["offset"],
                r["timestamp_ms"],
                r["key"],
                r["value"],
                [(h["name"], h["value"]) for h in r["headers"]],
            )
            for _, r in rows
        )

    def _foreign_batch(self, dec: Decoder, rows: list[tuple[int, Any]]) -> list[Event]:
        topic = self.topics[0]
        rules = dec.rules_for(topic)
        name = self.record_name
        return [
            Event(
                topic,
                0,
                index,
                _row_timestamp(row),
                None,
                rules.type_of(None, (), row, name) or "unknown",
                rules.aggregate_of(None, (), row),
                (),
                row,
                None,
                None,
                None,
            )
            for index, row in rows
        ]


def _row_timestamp(row: Any) -> int:
    """A foreign record's time, if it has an obvious field for it (else 0)."""
    if isinstance(row, dict):
        for name in ("timestamp_ms", "timestamp", "ts", "time"):
            value = row.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, datetime):  # from a timestamp-millis logical type
                return int(value.timestamp() * 1000)
    return 0


def open_event_file(path: str | Path) -> EventFile:
    """Read an Avro event file's header: topics, schemas, formats, count."""
    p = Path(path)
    try:
        with p.open("rb") as fo:
            reader = fastavro.reader(fo)
            meta = dict(reader.metadata)
            writer_schema: Any = reader.writer_schema
    except OSError as exc:
        raise EventFileError(f"cannot open {p}: {exc.strerror or exc}") from exc
    except Exception as exc:  # fastavro signals a bad header with several types
        raise EventFileError(f"{p}: not a readable Avro container file: {exc}") from exc
    fields = (
        {f.get("name") for f in writer_schema.get("fields", [])}
        if _is_record(writer_schema)
        else set()
    )
    native = _RECORD_FIELDS.issubset(fields)
    if not native:
        return EventFile(
            p,
            (p.stem,),
            MappingProxyType({}),
            MappingProxyType({}),
            None,
            False,
            record_name_of(writer_schema),
        )
    try:
        topics = json.loads(meta.get(META_TOPICS, "{}"))
        schemas = {int(k): v for k, v in json.loads(meta.get(META_SCHEMAS, "{}")).items()}
        formats = json.loads(meta.get(META_FORMATS, "{}"))
        count = int(meta[META_COUNT]) if META_COUNT in meta else None
    except (ValueError, TypeError) as exc:
        raise EventFileError(f"{p}: damaged event file metadata: {exc}") from exc
    return EventFile(
        p, tuple(topics), MappingProxyType(schemas), MappingProxyType(formats), count, True
    )


def _is_record(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "record"


# -- either kind ----------------------------------------------------------------------------------


def detect_file_kind(path: str | Path) -> FileKind:
    p = Path(path)
    try:
        with p.open("rb") as fo:
            if fo.read(4) == _AVRO_MAGIC:
                return "avro"
            fo.seek(0)
            # The first record line; kcat status lines ("% ...") may precede it.
            lines = (line.strip() for line in islice(fo, 20))
            first = next((ln for ln in lines if ln and not ln.startswith(b"%")), b"")
    except OSError as exc:
        raise EventFileError(f"cannot open {p}: {exc.strerror or exc}") from exc
    try:
        rec = json.loads(first.decode("utf-8", "surrogateescape"))
    except ValueError:
        rec = None
    if is_event_json_record(rec):  # the app's own ``events --json`` (kafka_io.jsonl)
        return "events-jsonl"
    if isinstance(rec, dict) and "topic" in rec and "partition" in rec:
        return "kcat-jsonl"
    raise EventFileError(
        f"{p}: not an event file (neither an Avro container nor kcat -J JSON lines)"
    )


def iter_file_batches(
    path: str | Path, batch_size: int = BATCH, decoder: Decoder | None = None
) -> Iterator[list[Event]]:
    """Batches of events from either kind of file."""
    kind = detect_file_kind(path)
    if kind == "avro":
        return open_event_file(path).iter_batches(batch_size, decoder)
    if kind == "events-jsonl":
        return iter_event_jsonl_batches(path, batch_size, decoder)
    return iter_kcat_batches(path, batch_size, decoder)
