"""Protobuf messages -> the plain values a fold sees, by code built once per message type.

``json_format.MessageToDict`` walks every field through generic reflection on every call
(tens of thousands of small messages a second).  Here each message type gets one Python
function, generated from its descriptor and compiled once, that reads its fields by
attribute: several times faster, and the shape is ours to choose:

* field names as written in the ``.proto``; every field is present (a proto3 scalar left
  at its default is its default, an unset message or ``optional`` field is None), except
  the members of a ``oneof`` that are not set;
* enums as their names (an unknown number stays a number), 64-bit integers as integers,
  bytes as base64 text, map keys as text (as JSON has them);
* Timestamp as ISO 8601 UTC, Duration as its JSON form (``"1.5s"``), wrappers as their
  value, Struct/Value/ListValue as the JSON they hold, Any and FieldMask as in JSON.
"""

from __future__ import annotations

import base64
import keyword
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

Converter = Callable[[Any], dict[str, Any]]

_WRAPPERS = {
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String")
}
_TO_JSON = {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
_AS_JSON = {
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
    "google.protobuf.Any",
    "google.protobuf.Empty",
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _shortest_float(value: float) -> float:
    """A 32-bit float as the decimal it was written as (0.1, not 0.10000000149011612)."""
    return float(f"{value:.7g}") if value == value else value


def _iso_timestamp(ts: Any) -> str:
    return str(ts.ToJsonString())


def _to_json_string(msg: Any) -> str:
    return str(msg.ToJsonString())


class ConverterBuilder:
    """Converters for the message types of one descriptor pool, built on first use."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._names: dict[str, str] = {}  # message full name -> its function's name
        self._built: set[str] = set()
        self._ns: dict[str, Any] = {
            "_b64": b64,
            "_f32": _shortest_float,
            "_json": self._json_value,
            "_tojs": _to_json_string,
        }

    def converter(self, desc: Descriptor) -> Converter:
        """The converter for ``desc`` (and, on the way, for every type it contains)."""
        if desc.full_name not in self._built:
            pending = [desc]
            sources: list[str] = []
            while pending:
                current = pending.pop()
                if current.full_name in self._built:
                    continue
                self._built.add(current.full_name)
                sources.append(self._source(current, pending))
            # Functions find each other by name at call time, so recursive types work.
            exec(compile("\n".join(sources), f"<protobuf {desc.full_name}>", "exec"), self._ns)
        converter: Converter = self._ns[self._name(desc)]
        return converter

    def _name(self, desc: Descriptor) -> str:
        return self._names.setdefault(desc.full_name, f"_c{len(self._names)}")

    def _json_value(self, msg: Any) -> Any:
        return json_format.MessageToDict(
            msg, preserving_proto_field_name=True, descriptor_pool=self._pool
        )

    def _source(self, desc: Descriptor, pending: list[Descriptor]) -> str:
        fname = self._name(desc)
        plain: list[str] = []
        oneof_lines: list[str] = []
        for oneof in desc.oneofs:
            if _synthetic(oneof):
                continue
            oneof_lines.append(f"    w = m.WhichOneof({oneof.name!r})")
            for i, field in enumerate(oneof.fields):
                word = "if" if i == 0 else "elif"
                expr = self._expr(field, pending, presence=False)
                oneof_lines.append(f"    {word} w == {field.name!r}: d[{field.name!r}] = {expr}")
        for field in desc.fields:
            oneof = field.containing_oneof
            if oneof is not None and not _synthetic(oneof):
                continue
            expr = self._expr(field, pending, presence=True)
            plain.append(f"{field.name!r}: {expr}")
        lines = [f"def {fname}(m):", f"    d = {{{', '.join(plain)}}}"]
        lines += oneof_lines
        lines.append("    return d")
        return "\n".join(lines)

    def _expr(self, field: FieldDescriptor, pending: list[Descriptor], presence: bool) -> str:
        value = _read(field.name)
        if _is_map(field):
            entry = field.message_type
            key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
            item = self._scalar_or_message(value_field, "v", pending)
            key = "k" if key_field.type == FieldDescriptor.TYPE_STRING else "str(k)"
            return f"{{{key}: {item} for k, v in {value}.items()}}"
        if _is_repeated(field):
            item = self._scalar_or_message(field, "x", pending)
            return f"list({value})" if item == "x" else f"[{item} for x in {value}]"
        if field.type == FieldDescriptor.TYPE_MESSAGE or (presence and _optional(field)):
            inner = self._scalar_or_message(field, value, pending)
            return f"({inner} if m.HasField({field.name!r}) else None)"
        return self._scalar_or_message(field, value, pending)

    def _scalar_or_message(
        self, field: FieldDescriptor, value: str, pending: list[Descriptor]
    ) -> str:
        kind = field.type
        if kind == FieldDescriptor.TYPE_MESSAGE:
            msg = field.message_type
            full = msg.full_name
            if full in _WRAPPERS:
                return f"{value}.value"
            if full == "google.protobuf.BytesValue":
                return f"_b64({value}.value)"
            if full in _TO_JSON:
                return f"_tojs({value})"
            if full in _AS_JSON:
                return f"_json({value})"
            if full not in self._built:
                pending.append(msg)
            return f"{self._name(msg)}({value})"
        if kind == FieldDescriptor.TYPE_ENUM:
            names = {v.number: v.name for v in field.enum_type.values}
            table = f"_e{len(self._ns)}"
            self._ns[table] = names
            return f"{table}.get({value}, {value})"
        if kind == FieldDescriptor.TYPE_BYTES:
            return f"_b64({value})"
        if kind == FieldDescriptor.TYPE_FLOAT:
            return f"_f32({value})"
        return value


def _read(name: str) -> str:
    # A field called ``from`` or ``class`` is a valid .proto name but not an attribute
    # Python's syntax allows: it is read with getattr.
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"m.{name}"
    return f"getattr(m, {name!r})"


def _synthetic(oneof: Any) -> bool:
    """The hidden oneof proto3 makes for an ``optional`` field: not a real choice."""
    fields = oneof.fields
    return (
        len(fields) == 1
        and bool(getattr(fields[0], "has_presence", False))
        and (oneof.name == f"_{fields[0].name}")
    )


def _optional(field: FieldDescriptor) -> bool:
    oneof = field.containing_oneof
    return oneof is not None and _synthetic(oneof)


def _is_repeated(field: FieldDescriptor) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf 6 and later; ``label`` is gone in upb
        return bool(field.is_repeated)
    return bool(field.label == FieldDescriptor.LABEL_REPEATED)


def _is_map(field: FieldDescriptor) -> bool:
    return (
        _is_repeated(field)
        and field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type.GetOptions().map_entry
    )
