"""A Protobuf file descriptor written back as ``.proto`` text, for people to read.

Schemas are kept as descriptor sets (a registry's ``.proto`` text is compiled, an event
file stores descriptors), so the text shown beside an event is rendered from the
descriptor: one form whatever the schema came from.  Options and comments are not kept
by descriptors and are not shown.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2

_Field = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    getattr(_Field, f"TYPE_{name.upper()}"): name
    for name in [
        "double",
        "float",
        "int64",
        "uint64",
        "int32",
        "fixed64",
        "fixed32",
        "bool",
        "string",
        "bytes",
        "uint32",
        "sfixed32",
        "sfixed64",
        "sint32",
        "sint64",
    ]
}
_INDENT = "  "


def file_text(file: descriptor_pb2.FileDescriptorProto) -> str:
    """The whole file: syntax, package, imports, then its enums and messages."""
    lines = [f'syntax = "{file.syntax or "proto2"}";']
    if file.package:
        lines.append(f"package {file.package};")
    lines += [f'import "{name}";' for name in file.dependency]
    for enum in file.enum_type:
        lines += ["", *_enum(enum, 0)]
    for message in file.message_type:
        lines += ["", *_message(message, 0, file.syntax == "proto3")]
    return "\n".join(lines) + "\n"


def _enum(enum: descriptor_pb2.EnumDescriptorProto, depth: int) -> list[str]:
    pad = _INDENT * depth
    body = [f"{pad}{_INDENT}{v.name} = {v.number};" for v in enum.value]
    return [f"{pad}enum {enum.name} {{", *body, f"{pad}}}"]


def _message(message: descriptor_pb2.DescriptorProto, depth: int, proto3: bool) -> list[str]:
    pad, inner = _INDENT * depth, _INDENT * (depth + 1)
    maps = {n.name: n for n in message.nested_type if n.options.map_entry}
    lines = [f"{pad}message {message.name} {{"]
    for enum in message.enum_type:
        lines += _enum(enum, depth + 1)
    for nested in message.nested_type:
        if nested.name not in maps:
            lines += _message(nested, depth + 1, proto3)
    oneofs: dict[int, list[str]] = {}
    for field in message.field:
        real_oneof = field.HasField("oneof_index") and not field.proto3_optional
        line = _field(field, maps, proto3 or real_oneof)  # a oneof's members have no label
        if real_oneof:
            oneofs.setdefault(field.oneof_index, []).append(line)
            if len(oneofs[field.oneof_index]) > 1:
                continue
            name = message.oneof_decl[field.oneof_index].name
            lines.append(f"{inner}oneof {name} {{")
            lines.append(f"{inner}}}")  # filled below, so fields keep their order
            continue
        lines.append(f"{inner}{line}")
    for index, members in oneofs.items():
        close = lines.index(f"{inner}oneof {message.oneof_decl[index].name} {{") + 1
        lines[close:close] = [f"{inner}{_INDENT}{m}" for m in members]
    lines.append(f"{pad}}}")
    return lines


def _field(
    field: descriptor_pb2.FieldDescriptorProto,
    maps: dict[str, descriptor_pb2.DescriptorProto],
    unlabelled: bool,
) -> str:
    """One field; ``unlabelled``: a proto3 or oneof field, optional only if said so."""
    kind = _type_name(field)
    entry = maps.get(kind.rsplit(".", 1)[-1]) if field.type == _Field.TYPE_MESSAGE else None
    if entry is not None and field.label == _Field.LABEL_REPEATED:
        key, value = (_type_name(f) for f in entry.field)
        return f"map<{key}, {value}> {field.name} = {field.number};"
    label = ""
    if field.label == _Field.LABEL_REPEATED:
        label = "repeated "
    elif field.label == _Field.LABEL_REQUIRED:
        label = "required "
    elif field.proto3_optional or not unlabelled:
        label = "optional "
    return f"{label}{kind} {field.name} = {field.number};"


def _type_name(field: descriptor_pb2.FieldDescriptorProto) -> str:
    return _SCALARS.get(field.type) or field.type_name.lstrip(".")
