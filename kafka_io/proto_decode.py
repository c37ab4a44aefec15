"""Protobuf record values -> event data: the Confluent wire format, or plain messages.

A Confluent Protobuf frame is the magic byte, the 4-byte schema id, then the message
index path (zigzag varints: a count, then one index per nesting level; a lone 0 byte
means the file's first message), then the message itself.  Decoding never raises: the
caller gets ``(data, message name, error)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_io.proto_schema import (
    ProtoError,
    ProtoSchema,
    load_descriptor_set,
    read_descriptor_file,
)

_WIRE_HEADER = 5
_MAX_VARINT_BYTES = 10
# data, full message name, error
ProtoDecoded = tuple[Any, str | None, str | None]


@dataclass
class ProtoReader:
    """Reads one schema's records; message-index paths are resolved once each."""

    schema: ProtoSchema
    label: str  # "schema id 7" or the descriptor file, for error messages
    _paths: dict[bytes, tuple[str, Any, Callable[[Any], Any]]] = field(default_factory=dict)
    # Where the last framed message began, its class and converter: the decoder's fast path.
    last: tuple[int, Any, Callable[[Any], Any]] = (0, None, None)  # type: ignore[assignment]

    def framed(self, value: bytes) -> ProtoDecoded:
        """A Confluent wire-format value (header included)."""
        try:
            indexes, start = _read_indexes(value, _WIRE_HEADER)
        except ProtoError as exc:
            return None, None, f"Protobuf decode failed for {self.label}: {exc}"
        path = value[_WIRE_HEADER:start]
        found = self._paths.get(path)
        if found is None:
            try:
                name = self.schema.message_at(indexes)
                cls, convert = self.schema.reader(name)
            except ProtoError as exc:
                return None, None, f"Protobuf decode failed for {self.label}: {exc}"
            found = self._paths[path] = (name, cls, convert)
        self.last = (start, found[1], found[2])
        return self._parse(found, value[start:])

    def plain(self, message: str, value: bytes) -> ProtoDecoded:
        """A bare serialized message of type ``message``."""
        found = self._paths.get(message.encode())
        if found is None:
            try:
                cls, convert = self.schema.reader(message)
            except ProtoError as exc:
                return None, None, f"Protobuf decode failed for {self.label}: {exc}"
            found = self._paths[message.encode()] = (message, cls, convert)
        return self._parse(found, value)

    def _parse(self, found: tuple[str, Any, Callable[[Any], Any]], body: bytes) -> ProtoDecoded:
        name, cls, convert = found
        try:
            msg = cls.FromString(body)
        except Exception as exc:  # upb raises DecodeError; keep any other parse failure too
            why = " ".join(str(exc).split()) or type(exc).__name__
            return None, name, f"Protobuf decode failed for {self.label}: not a {name}: {why}"
        try:
            return convert(msg), name, None
        except Exception as exc:  # a value JSON cannot hold (an Any of an unknown type, ...)
            why = " ".join(str(exc).split()) or type(exc).__name__
            return None, name, f"Protobuf decode failed for {self.label}: {name}: {why}"


def _read_indexes(value: bytes, pos: int) -> tuple[list[int], int]:
    if value[pos : pos + 1] == b"\x00":  # the usual case: the file's first message
        return [0], pos + 1
    count, pos = _zigzag(value, pos)
    if count == 0:
        return [0], pos
    if not 0 < count <= 32:
        raise ProtoError(f"message index count {count} is not a usable path")
    indexes = []
    for _ in range(count):
        index, pos = _zigzag(value, pos)
        indexes.append(index)
    return indexes, pos


def _zigzag(value: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    for i in range(pos, min(len(value), pos + _MAX_VARINT_BYTES)):
        byte = value[i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), i + 1
        shift += 7
    raise ProtoError("the message index is truncated")


@dataclass
class PlainProto:
    """How one topic's plain (unframed) Protobuf values are read: a descriptor set, from a
    file or stored in an event file, and the message type.  Loaded on first use; a set
    that cannot be loaded makes every value an undecodable event saying why."""

    message: str
    path: str | None = None
    descriptors: bytes | None = None
    _reader: ProtoReader | None = field(default=None, repr=False)
    _error: str | None = field(default=None, repr=False)

    def decode(self, value: bytes) -> tuple[Any, None, str | None, str | None]:
        reader = self._reader or self._load()
        if reader is None:
            return None, None, None, self._error
        data, name, error = reader.plain(self.message, value)
        return data, None, name and name.rsplit(".", 1)[-1], error

    def descriptor_set(self) -> bytes | None:
        """The self-contained descriptor set, for an event file (None if it cannot load)."""
        reader = self._reader or self._load()
        return None if reader is None else reader.schema.descriptor_set

    def _load(self) -> ProtoReader | None:
        if self._error is not None:
            return None
        try:
            if self.descriptors is not None:
                schema = load_descriptor_set(self.descriptors)
                label = "the stored descriptors"
            elif self.path is not None:
                schema = read_descriptor_file(self.path)
                label = Path(self.path).name
            else:
                raise ProtoError("no descriptor set given")
            schema.reader(self.message)  # a type the set lacks is said once, here
        except ProtoError as exc:
            self._error = f"Protobuf descriptors unusable: {exc}"
            return None
        self._reader = ProtoReader(schema, label)
        return self._reader
