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

import base64
import io
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import fastavro

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile_meta import (
    FILE_VERSION,
    META_COUNT,
    META_FORMATS,
    META_PROTOS,
    META_SCHEMAS,
    META_TOPICS,
    META_VERSION,
    PARSED_RECORD_SCHEMA,
    RECORD_SCHEMA,
    EventFileError,
)
from kafka_io.eventfile_read import BATCH, EventFile, open_event_file
from kafka_io.jsonl import is_event_json_record, iter_event_jsonl_batches
from kafka_io.kcat import bounded_lines, iter_kcat_batches, read_kcat_jsonl

__all__ = [
    "FILE_VERSION",
    "META_COUNT",
    "META_FORMATS",
    "META_PROTOS",
    "META_SCHEMAS",
    "META_TOPICS",
    "META_VERSION",
    "RECORD_SCHEMA",
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

BLOCK_BYTES = 64 * 1024  # uncompressed bytes per container block
CODEC = "deflate"  # built into fastavro; no extra package to open a file
_PARSED = PARSED_RECORD_SCHEMA
_AVRO_MAGIC = b"Obj\x01"


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
    protos = {
        topic: {"message": proto.message, "descriptors": base64.b64encode(data).decode("ascii")}
        for topic, proto in (decoder.protos_used.items() if decoder is not None else ())
        if topic in tally.topics and (data := proto.descriptor_set()) is not None
    }
    meta = {
        META_VERSION: FILE_VERSION if protos or _has_other_kinds(used) else "1",
        META_COUNT: str(tally.count),
        META_TOPICS: json.dumps(tally.topics),
        META_SCHEMAS: json.dumps(used),
        META_FORMATS: json.dumps({t: str(f) for t, f in fmts.items() if t in tally.topics}),
    }
    if protos:
        meta[META_PROTOS] = json.dumps(protos)
    return meta


def _has_other_kinds(schemas: Mapping[str, str]) -> bool:
    """A file with Protobuf or JSON Schema entries is version 2; others stay version 1,
    byte for byte what earlier versions wrote."""
    return any(text.startswith('{"schemaType":') for text in schemas.values())


# -- either kind ----------------------------------------------------------------------------------


def detect_file_kind(path: str | Path) -> FileKind:
    p = Path(path)
    try:
        with p.open("rb") as fo:
            if fo.read(4) == _AVRO_MAGIC:
                return "avro"
            fo.seek(0)
            # The first record line; kcat status lines ("% ...") may precede it.
            lines = (line.strip() for line in islice(bounded_lines(fo), 20))
            first = next((ln for ln in lines if ln and not ln.startswith(b"%")), b"")
    except OSError as exc:
        raise EventFileError(f"cannot open {p}: {exc.strerror or exc}") from exc
    try:
        rec = json.loads(first.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
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
