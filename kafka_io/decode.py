"""Kafka records -> Events: value decoding (JSON, Confluent Avro, text, bytes) and labels.

Decoding never raises: a record that does not decode in its topic's format is still an
Event, with ``error`` saying what failed in one line, ``data`` None and the raw bytes
kept in ``value``.

A tombstone (null value) has ``data`` None and no error; its type comes from the rules
like any record (e.g. a type header) and is ``"tombstone"`` when they find none, and its
aggregate is normally its key, so compaction deletes show up in an aggregate's history.
With the BYTES format ``data`` is None too: the raw bytes are already in ``value``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from typing import Any

import orjson
from fastavro import schemaless_reader

from kafka_io.decode_errors import avro_message, json_message
from kafka_io.event import Event, Headers
from kafka_io.framed_keys import FramedKeys
from kafka_io.gc_pause import gc_paused
from kafka_io.proto_decode import PlainProto
from kafka_io.registry import Registry, SchemaCache, SchemaError
from kafka_io.registry_kinds import decode_framed
from kafka_io.rules import DEFAULT_RULES, EventRules, RuleBook

TOMBSTONE = "tombstone"
UNKNOWN = "unknown"
# JSON-looking failures before an undecided topic is text (log lines may start with "[").
JSON_ATTEMPTS = 3
_WIRE_HEADER = 5  # magic byte + 4-byte big-endian schema id


class ValueFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    AVRO = "avro"
    TEXT = "text"
    BYTES = "bytes"
    PROTOBUF = "protobuf"  # plain messages, read with a descriptor set (PlainProto)


@dataclass
class _Topic:
    """What the decoder knows about one topic."""

    fmt: ValueFormat  # AUTO until the first decodable record decides it
    rules: EventRules
    default_rules: bool
    keys: FramedKeys
    proto: PlainProto | None = None
    json_misses: int = 0


# topic, partition, offset, timestamp_ms, key, value, headers: a record as read
Row = tuple[
    str, int, int, int, bytes | None, bytes | None, Sequence[tuple[str, bytes | None]] | None
]
# data, schema_id, record_name, error
_Decoded = tuple[Any, int | None, str | None, str | None]


class Decoder:
    """Decodes records of any number of topics; one per reading thread (it caches)."""

    def __init__(
        self,
        fmt: ValueFormat | str = ValueFormat.AUTO,
        rules: EventRules | RuleBook | None = None,
        registry: Registry | None = None,
        schemas: Mapping[int, str] | None = None,
        formats: Mapping[str, ValueFormat | str] | None = None,
        protos: Mapping[str | None, PlainProto] | None = None,
    ) -> None:
        """``schemas``: schema id -> Avro schema JSON (an event file's own table).

        ``formats``: per-topic formats that win over ``fmt`` (an event file stores the
        formats its topics were read with).  ``protos``: per-topic descriptors for plain
        Protobuf values (the key None: for every topic without its own).
        """
        self._fmt = ValueFormat(fmt)
        if isinstance(rules, RuleBook):
            self._rulebook = rules
        else:
            self._rulebook = RuleBook(default=rules or DEFAULT_RULES)
        self._schemas = SchemaCache(registry, schemas)
        self._given = {topic: ValueFormat(f) for topic, f in (formats or {}).items()}
        self._topics: dict[str, _Topic] = {}
        self._protos = dict(protos or {})

    # -- what this decoder has learned -------------------------------------------------

    @property
    def format(self) -> ValueFormat:
        """The configured format; with AUTO, the one format every seen topic resolved to
        (still AUTO when topics differ or none has decided yet)."""
        if self._fmt is not ValueFormat.AUTO:
            return self._fmt
        found = set(self.formats.values())
        return ValueFormat(found.pop()) if len(found) == 1 else ValueFormat.AUTO

    @property
    def formats(self) -> dict[str, str]:
        """Topic -> decided format, for every topic seen whose format is known."""
        return {
            name: str(t.fmt) for name, t in self._topics.items() if t.fmt is not ValueFormat.AUTO
        }

    def format_for(self, topic: str) -> ValueFormat:
        return self._topic(topic).fmt

    def rules_for(self, topic: str) -> EventRules:
        return self._topic(topic).rules

    def bulk_json(self, topic: str) -> tuple[bool, bool]:
        """(``topic`` is decided JSON with the default rules: envelopes may be labelled in
        bulk, a key starting with a zero byte may be framed: such keys need ``decode``)."""
        state = self._topic(topic)
        return state.fmt is ValueFormat.JSON and state.default_rules, state.keys.framed is not False

    @property
    def schemas_used(self) -> dict[int, str]:
        """Schema id -> self-contained schema JSON, for every id resolved so far."""
        return {sid: s.text for sid, s in self._schemas.resolved.items()}

    @property
    def protos_used(self) -> dict[str, PlainProto]:
        """Topic -> the descriptors its plain Protobuf values were read with."""
        return {name: t.proto for name, t in self._topics.items() if t.proto is not None}

    # -- decoding ------------------------------------------------------------------------

    def decode(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp_ms: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
    ) -> Event:
        row = (topic, partition, offset, timestamp_ms, key, value, headers)
        return self._decode_rows((row,))[0]

    def decode_messages(self, messages: Sequence[Any]) -> list[Event]:
        """Decode confluent_kafka Messages (the reader has already dropped error messages)."""
        # A generator, not a list: each row tuple dies as soon as it is decoded, so the
        # next one reuses its memory (about a quarter faster than building all rows).
        rows = ((m.topic(), m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value(),
                 m.headers()) for m in messages)  # fmt: skip
        with gc_paused():
            return self._decode_rows(rows)

    def key_data(self, key: str | bytes | None) -> Any:
        """A registry-framed key decoded, from schemas already resolved (no registry call:
        the detail pane asks on the GUI thread); None when it is not one."""
        raw = key.encode() if isinstance(key, str) else key
        sid = int.from_bytes(raw[1:_WIRE_HEADER], "big") if raw and raw[0] == 0 else -1
        if raw is None or len(raw) < _WIRE_HEADER or sid not in self._schemas.resolved:
            return None
        data, _, _, error = self._avro(raw)
        return data if error is None else None

    def decode_rows(self, rows: Iterable[Row]) -> list[Event]:
        """Decode ``(topic, partition, offset, timestamp_ms, key, value, headers)`` tuples."""
        with gc_paused():
            return self._decode_rows(rows)

    def _decode_rows(self, rows: Iterable[Row]) -> list[Event]:
        """The hot path of every read.

        Attribute lookups are bound to locals, JSON and Avro of the last schema id are
        decoded inline, and the common envelope (default rules, no headers, a string
        ``eventType``) is labelled without a call.
        """
        out: list[Event] = []
        append = out.append
        loads = orjson.loads
        json_error = orjson.JSONDecodeError
        read_avro = schemaless_reader
        # NamedTuple's generated __new__ is a Python function; the tuple constructor it
        # wraps builds the same Event a third faster.
        new_event = tuple.__new__
        value_of = self._value
        type_of = self._type
        avro_frame = self._avro
        can_resolve = self._schemas.can_resolve
        json_fmt = ValueFormat.JSON
        avro_fmt = ValueFormat.AVRO
        last_topic: str | None = None
        state: _Topic | None = None
        fast_labels = False
        # The last schema seen: consecutive Avro records nearly always share one.
        wire_id: bytes | None = None
        avro_id: int | None = None
        avro_parsed: Any = None
        avro_name: str | None = None
        # The last Protobuf frame's header and message-index path, and how to read the rest.
        proto_prefix: bytes | None = None
        proto_at, proto_id, proto_name = 0, avro_id, avro_name
        proto_cls: Any = None
        proto_convert: Any = None
        key: Any
        data: Any
        aggregate: str | None
        for topic, partition, offset, timestamp_ms, key, value, raw_headers in rows:
            if topic != last_topic or state is None:
                state = self._topics.get(topic) or self._topic(topic)
                last_topic = topic
                fast_labels = state.default_rules
            fmt = state.fmt
            schema_id = record_name = error = None
            if value is None:
                data = None
            elif fmt is json_fmt:
                try:
                    data = loads(value)
                except json_error as exc:
                    data = None
                    error = json_message(value, exc)
            elif fmt is avro_fmt and value[1:_WIRE_HEADER] == wire_id and value[0] == 0:
                body = BytesIO(value)
                body.seek(_WIRE_HEADER)
                try:
                    data = read_avro(body, avro_parsed, None)
                    schema_id, record_name = avro_id, avro_name
                except Exception:  # the slow path words the error
                    data, schema_id, record_name, error = value_of(state, value)
            elif fmt is avro_fmt and proto_prefix is not None and value.startswith(proto_prefix):
                try:  # the path's varints are prefix-free: the same bytes, the same message
                    data = proto_convert(proto_cls.FromString(value[proto_at:]))
                    schema_id, record_name = proto_id, proto_name
                except Exception:
                    data, schema_id, record_name, error = value_of(state, value)
            else:
                data, schema_id, record_name, error = value_of(state, value)
                if schema_id is not None and schema_id != avro_id:
                    known = self._schemas.resolved.get(schema_id)
                    # Guarded schemas always take the slow path, which vets each value.
                    if known is not None and known.guard is None and known.kind == "AVRO":
                        wire_id = value[1:_WIRE_HEADER]
                        avro_id, avro_parsed, avro_name = schema_id, known.parsed, known.record_name
                    elif known is not None and known.kind == "PROTOBUF" and error is None:
                        proto_at, proto_cls, proto_convert = known.reader.last
                        proto_prefix, proto_id, proto_name = (
                            value[:proto_at],
                            schema_id,
                            record_name,
                        )
            key_data = None
            if key is not None:
                if key[:1] == b"\x00" and state.keys.framed is not False:
                    key_data, key_error = state.keys.decode(key, avro_frame, can_resolve)
                    if key_error is not None and error is None:
                        error = key_error
                try:  # noqa: SIM105 - suppress() would add a context manager per record
                    key = key.decode()
                except UnicodeDecodeError:
                    pass
            headers: Headers = tuple(raw_headers) if raw_headers else ()
            etype = None
            if fast_labels and not headers and data.__class__ is dict:
                etype = data.get("eventType")
                if etype.__class__ is not str or not etype:
                    etype = None
            if etype is None:
                etype = type_of(state, key, headers, data, record_name, value, key_data)
            if fast_labels and key_data is None and key.__class__ is str and key:
                aggregate = key
            else:
                aggregate = state.rules.aggregate_of(key, headers, data, key_data)
            append(
                new_event(
                    Event,
                    (
                        topic,
                        partition,
                        offset,
                        timestamp_ms,
                        key,
                        etype,
                        aggregate,
                        headers,
                        data,
                        schema_id,
                        error,
                        value,
                    ),
                )
            )
        return out

    # -- internals -----------------------------------------------------------------------

    def _topic(self, topic: str) -> _Topic:
        state = self._topics.get(topic)
        if state is None:
            rules = self._rulebook.for_topic(topic)
            fmt = self._given.get(topic, self._fmt)
            proto = self._protos.get(topic) or self._protos.get(None)
            if proto is not None and fmt is ValueFormat.AUTO:
                fmt = ValueFormat.PROTOBUF
            state = _Topic(fmt, rules, rules.is_default, FramedKeys(rules.reads_key_fields), proto)
            self._topics[topic] = state
        return state

    @staticmethod
    def _type(
        state: _Topic, key: str | bytes | None, headers: Headers, data: Any,
        record_name: str | None, value: bytes | None, key_data: Any = None,
    ) -> str:  # fmt: skip
        found = state.rules.type_of(key, headers, data, record_name, key_data)
        if found:
            return found
        return TOMBSTONE if value is None else UNKNOWN

    def _value(self, state: _Topic, value: bytes | None) -> _Decoded:
        if value is None:
            return None, None, None, None
        fmt = state.fmt
        if fmt is ValueFormat.JSON:
            try:
                return orjson.loads(value), None, None, None
            except orjson.JSONDecodeError as exc:
                return None, None, None, json_message(value, exc)
        if fmt is ValueFormat.AVRO:
            return self._avro(value)
        if fmt is ValueFormat.TEXT:
            try:
                return value.decode(), None, None, None
            except UnicodeDecodeError as exc:
                return None, None, None, f"not UTF-8 text: invalid byte at {exc.start}"
        if fmt is ValueFormat.BYTES:
            return None, None, None, None
        if fmt is ValueFormat.PROTOBUF:
            if state.proto is None:
                return None, None, None, "Protobuf topic without descriptors (--proto-descriptors)"
            return state.proto.decode(value)
        return self._detect(state, value)

    def _avro(self, value: bytes) -> _Decoded:
        if len(value) < _WIRE_HEADER or value[0] != 0:
            if value[:1] == b"\x00":
                return None, None, None, f"not Avro: {len(value)} bytes, shorter than the header"
            return None, None, None, "not Avro: missing magic byte"
        schema_id = int.from_bytes(value[1:_WIRE_HEADER], "big")
        try:
            schema = self._schemas.lookup(schema_id)
        except SchemaError as exc:
            return None, schema_id, None, str(exc)
        if schema.kind != "AVRO":  # Protobuf or JSON Schema: never read as Avro
            return decode_framed(schema, value)
        # A value fastavro must not see (too deep, or a bomb of empty items)?
        why = schema.guard and schema.guard.check(value, _WIRE_HEADER).error
        if why:
            return None, schema_id, schema.record_name, avro_message(schema_id, why)
        body = BytesIO(value)  # shares the bytes; seek skips the header without a copy
        body.seek(_WIRE_HEADER)
        try:
            data = schemaless_reader(body, schema.parsed, None)
        except Exception as exc:  # fastavro raises many types (EOFError, ValueError, ...)
            return None, schema_id, schema.record_name, avro_message(schema_id, exc)
        return data, schema_id, schema.record_name, None

    def _detect(self, state: _Topic, value: bytes) -> _Decoded:
        """Decide an AUTO topic's format from this record, if it is decodable."""
        if not value:
            return None, None, None, None  # an empty value says nothing about the format
        if value[0] == 0 and len(value) >= _WIRE_HEADER:
            schema_id = int.from_bytes(value[1:_WIRE_HEADER], "big")
            if not self._schemas.can_resolve:
                why = f"Confluent wire format with schema id {schema_id}, but no schema registry"
                return None, schema_id, None, why + " configured"
            decoded = self._avro(value)
            if schema_id in self._schemas.resolved:
                state.fmt = ValueFormat.AVRO  # a known id: Avro even if this body is bad
            return decoded
        first = value.lstrip()[:1]
        if first in (b"{", b"[") and state.json_misses < JSON_ATTEMPTS:
            try:
                data = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                state.json_misses += 1
                return None, None, None, json_message(value, exc)
            state.fmt = ValueFormat.JSON
            return data, None, None, None
        try:
            text = value.decode()
        except UnicodeDecodeError:
            state.fmt = ValueFormat.BYTES
            return None, None, None, None
        state.fmt = ValueFormat.TEXT
        return text, None, None, None
