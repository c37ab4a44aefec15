"""Reading Avro event files: an export (records with Kafka coordinates) or any container.

The container is read by ``kafka_io.avro_container``, which checks every count and size
against the file; this module turns its records into Events and checks them against
the file's own metadata.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kafka_io.avro_container import ContainerError, ContainerReader, Undecodable, read_header
from kafka_io.decode import Decoder, gc_paused
from kafka_io.event import Event
from kafka_io.eventfile_meta import EventFileError, is_native, parse_metadata
from kafka_io.proto_decode import PlainProto
from kafka_io.registry import Registry, record_name_of
from kafka_io.rules import EventRules, RuleBook

BATCH = 5000


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
    # Topic -> (message type, descriptor set) for plain Protobuf values (file version 2).
    protos: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)

    def decoder(
        self, registry: Registry | None = None, rules: EventRules | RuleBook | None = None
    ) -> Decoder:
        """A decoder for this file: its own schemas and formats (a registry is optional)."""
        return Decoder(
            rules=rules,
            registry=registry,
            schemas=self.schemas,
            formats=self.formats,
            protos=self.plain_protos(),
        )

    def plain_protos(self) -> dict[str | None, PlainProto]:
        """What the decoder needs for the file's plain Protobuf topics."""
        return {t: PlainProto(m, descriptors=d) for t, (m, d) in self.protos.items()}

    def iter_batches(
        self, batch_size: int = BATCH, decoder: Decoder | None = None
    ) -> Iterator[list[Event]]:
        """Events in file order, ``batch_size`` at a time (what the index consumes).

        A damaged or truncated file yields every event before the damage, then raises
        EventFileError saying after how many events it stopped.  So does a file whose
        records are in topics its metadata does not list, or that holds fewer or more
        records than its metadata promises.
        """
        dec = decoder or self.decoder()
        try:
            fo = self.path.open("rb")
        except OSError as exc:
            raise EventFileError(f"cannot open {self.path}: {exc.strerror or exc}") from exc
        with fo:
            size = os.fstat(fo.fileno()).st_size
            try:
                header = read_header(fo, size)
            except ContainerError as exc:
                raise EventFileError(f"{self.path}: not a readable Avro file: {exc}") from exc
            blocks = ContainerReader(fo, size, header).blocks()
            if not self.native:
                convert = self._foreign_batch
            elif header.facts.guard is None:  # no record can be Undecodable
                convert = self._native_batch
            else:
                convert = self._with_undecodable
            done = 0
            failure: str | None = None
            pending: list[tuple[int, Any]] = []
            seen = 0
            while failure is None:
                try:
                    with gc_paused():
                        block = next(blocks, None)
                except ContainerError as exc:
                    failure, block = str(exc), None
                if block is not None:
                    pending += enumerate(block, seen)
                    seen += len(block)
                    if len(pending) < batch_size:
                        continue
                while pending and (block is None or len(pending) >= batch_size):
                    chunk, pending = pending[:batch_size], pending[batch_size:]
                    with gc_paused():
                        batch = convert(dec, chunk)
                    batch, stray = self._listed(batch)
                    if batch:
                        done += len(batch)
                        yield batch
                    if stray is not None:
                        failure = stray
                        break
                if block is None:
                    break
            if failure is None and self.count is not None and seen != self.count:
                failure = f"its metadata promises {self.count} events, it holds {seen}"
            if failure is not None:
                raise EventFileError(f"{self.path}: damaged after {done} events: {failure}")

    def iter_events(self, decoder: Decoder | None = None) -> Iterator[Event]:
        for batch in self.iter_batches(BATCH, decoder):
            yield from batch

    def _listed(self, batch: list[Event]) -> tuple[list[Event], str | None]:
        """The events up to the first whose topic the metadata does not list, and why."""
        if not self.native or not self.topics:
            return batch, None
        listed = set(self.topics)
        if {ev.topic for ev in batch} <= listed:
            return batch, None
        for i, ev in enumerate(batch):
            if ev.topic not in listed:
                names = ", ".join(repr(t) for t in self.topics[:5]) or "none"
                why = f"a record is in topic {ev.topic[:80]!r}, which its metadata does not list"
                return batch[:i], f"{why} (it lists {names})"
        return batch, None

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

    def _with_undecodable(self, dec: Decoder, rows: list[tuple[int, Any]]) -> list[Event]:
        """Records of a guarded schema: some may be Undecodable (kept in file order)."""
        out: list[Event] = []
        run: list[tuple[int, Any]] = []
        for index, row in rows:
            if isinstance(row, Undecodable):
                out += self._native_batch(dec, run)
                run = []
                out.append(self._undecodable(index, row, -1))
            else:
                run.append((index, row))
        return out + self._native_batch(dec, run)

    def _undecodable(self, index: int, row: Undecodable, partition: int) -> Event:
        topic = self.topics[0] if self.topics else self.path.stem
        error = f"record {index} of the file: {row.error}"
        return Event(
            topic, partition, index, 0, None, "unknown", None, (), None, None, error, row.raw
        )

    def _foreign_batch(self, dec: Decoder, rows: list[tuple[int, Any]]) -> list[Event]:
        topic = self.topics[0]
        rules = dec.rules_for(topic)
        name = self.record_name
        return [
            self._undecodable(index, row, 0)
            if row.__class__ is Undecodable
            else Event(
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
            header = read_header(fo, os.fstat(fo.fileno()).st_size)
    except OSError as exc:
        raise EventFileError(f"cannot open {p}: {exc.strerror or exc}") from exc
    except ContainerError as exc:
        raise EventFileError(f"{p}: not a readable Avro container file: {exc}") from exc
    if not is_native(header.parsed):
        return EventFile(
            p,
            (p.stem,),
            MappingProxyType({}),
            MappingProxyType({}),
            None,
            False,
            record_name_of(header.parsed),
        )
    try:
        meta = parse_metadata(header.metadata)
    except ValueError as exc:
        raise EventFileError(f"{p}: damaged event file metadata: {exc}") from exc
    return EventFile(
        p,
        meta.topics,
        MappingProxyType(meta.schemas),
        MappingProxyType(meta.formats),
        meta.count,
        True,
        protos=MappingProxyType(meta.protos),
    )
