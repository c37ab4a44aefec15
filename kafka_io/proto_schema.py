"""Protobuf schemas -> descriptors at run time, with no generated code.

A schema arrives in one of three forms: ``.proto`` text from a registry (as Java and Go
producers register it), a base64 ``FileDescriptorProto`` (as confluent-kafka's Python
serializer registers it), or a descriptor set file (``protoc --descriptor_set_out
--include_imports``).  Text is compiled by protoc itself, the one in the ``grpcio-tools``
wheel, run in-process: a hand-written parser would drift from the language.  Every form
ends as a ``ProtoSchema``: a private descriptor pool, the main file, and the
self-contained descriptor set an event file stores.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from kafka_io.proto_convert import Converter, ConverterBuilder

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_PROTOC_LOCK = threading.Lock()  # protoc writes its errors to fd 2, captured per call
_MAX_INDEX_DEPTH = 32


class ProtoError(ValueError):
    """A schema or descriptor set that cannot be used; one line, ready for Event.error."""


@dataclass
class ProtoSchema:
    """One compiled schema: the pool its types live in and the file that declares them."""

    pool: Any
    main: descriptor_pb2.FileDescriptorProto
    descriptor_set: bytes  # FileDescriptorSet with every import: decodes with nothing else
    _builder: ConverterBuilder = field(init=False, repr=False)
    _types: dict[str, tuple[Any, Converter]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._builder = ConverterBuilder(self.pool)

    def message_at(self, indexes: Sequence[int]) -> str:
        """The full name of the message a Confluent message-index path points to."""
        if not indexes or len(indexes) > _MAX_INDEX_DEPTH:
            raise ProtoError(f"message index {list(indexes)} is not a usable path")
        messages = self.main.message_type
        names = [self.main.package] if self.main.package else []
        for depth, i in enumerate(indexes):
            if not 0 <= i < len(messages):
                where = "the file" if depth == 0 else ".".join(names)
                raise ProtoError(
                    f"message index {list(indexes)} points past the {len(messages)} "
                    f"message(s) of {where}"
                )
            names.append(messages[i].name)
            messages = messages[i].nested_type
        return ".".join(names)

    def first_message(self) -> str:
        return self.message_at([0])

    def reader(self, full_name: str) -> tuple[Any, Converter]:
        """The message class and its converter for a type of this schema (cached)."""
        found = self._types.get(full_name)
        if found is None:
            try:
                desc = self.pool.FindMessageTypeByName(full_name)
            except KeyError:
                raise ProtoError(f"no message type {full_name!r} in the descriptors") from None
            found = message_factory.GetMessageClass(desc), self._builder.converter(desc)
            self._types[full_name] = found
        return found


def load_descriptor_set(data: bytes, main: str | None = None) -> ProtoSchema:
    """A schema from a serialized FileDescriptorSet (``main``: the file that matters, by
    default the last one, which protoc writes after its imports)."""
    fds = descriptor_pb2.FileDescriptorSet()
    try:
        fds.ParseFromString(data)
    except DecodeError as exc:
        raise ProtoError(f"not a protobuf descriptor set: {exc}") from exc
    files = {f.name: f for f in fds.file}
    if not files:
        raise ProtoError("the descriptor set holds no files")
    return _build(files, main or fds.file[-1].name)


def read_descriptor_file(path: str | Path) -> ProtoSchema:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ProtoError(f"cannot read descriptor set {path}: {exc.strerror or exc}") from exc
    try:
        return load_descriptor_set(data)
    except ProtoError as exc:
        raise ProtoError(f"{path}: {exc}") from exc


def from_registry(main_text: str, references: Mapping[str, str]) -> ProtoSchema:
    """A registry's schema: its text (either form) and its references' texts by import name."""
    main_name = "__registry_schema__.proto"
    binary: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    text: dict[str, str] = {}
    for name, body in [*references.items(), (main_name, main_text)]:
        parsed = _serialized_form(body)
        if parsed is None:
            text[name] = body
        else:
            if name == main_name:
                main_name = parsed.name or main_name
            binary[parsed.name or name] = parsed
    files = dict(binary)
    if text:
        files.update(_compile(text, binary))
    return _build(files, main_name)


def _serialized_form(body: str) -> descriptor_pb2.FileDescriptorProto | None:
    """The FileDescriptorProto of a base64 schema, or None for .proto text."""
    compact = body.strip()
    if not compact or not _BASE64.fullmatch(compact):
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
        proto = descriptor_pb2.FileDescriptorProto()
        proto.ParseFromString(raw)
    except (binascii.Error, DecodeError):
        return None
    return proto


def _compile(
    sources: Mapping[str, str], known: Mapping[str, descriptor_pb2.FileDescriptorProto]
) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Compile .proto texts with protoc; ``known`` files satisfy imports as descriptors."""
    import grpc_tools
    from grpc_tools import _protoc_compiler  # heavy: only when a schema is text

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory(prefix="event-explorer-proto-") as tmp:
        root = Path(tmp, "src")
        for name, body in sources.items():
            target = (root / name).resolve()
            if not target.is_relative_to(root.resolve()):
                raise ProtoError(f"reference name {name!r} is not a relative .proto path")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        out = Path(tmp, "out.pb")
        args = [b"protoc", f"-I{root}".encode(), f"-I{well_known}".encode()]
        if known:
            given = descriptor_pb2.FileDescriptorSet(file=list(known.values()))
            Path(tmp, "known.pb").write_bytes(given.SerializeToString())
            args.append(f"--descriptor_set_in={Path(tmp, 'known.pb')}".encode())
        args += [f"--descriptor_set_out={out}".encode(), b"--include_imports"]
        args += [name.encode() for name in sources]
        code, errors = _run_protoc(_protoc_compiler.run_main, args, Path(tmp, "stderr"))
        if code != 0 or not out.exists():
            first = next((ln for ln in errors.splitlines() if ln.strip()), f"exit {code}")
            raise ProtoError(f"the schema does not compile: {first.strip()}")
        compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return {f.name: f for f in compiled.file}


def _run_protoc(run: Any, args: list[bytes], stderr_file: Path) -> tuple[int, str]:
    """protoc's exit code and what it wrote to stderr (its errors), kept off the terminal."""
    with _PROTOC_LOCK, stderr_file.open("w+b") as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            code = int(run(args))
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return code, sink.read().decode("utf-8", "replace")


def _build(files: Mapping[str, descriptor_pb2.FileDescriptorProto], main: str) -> ProtoSchema:
    if main not in files:
        raise ProtoError(f"the descriptors lack {main!r}")
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    order: list[descriptor_pb2.FileDescriptorProto] = []

    def add(name: str, needed_by: str, depth: int) -> None:
        if name in added:
            return
        if depth > 64:
            raise ProtoError(f"imports of {needed_by!r} nest too deeply")
        proto = files.get(name) or _well_known(name)
        if proto is None:
            raise ProtoError(f"the descriptors lack the import {name!r} of {needed_by!r}")
        added.add(name)
        for dep in proto.dependency:
            add(dep, name, depth + 1)
        try:
            pool.Add(proto)
        except (TypeError, ValueError) as exc:  # upb's words for a file it cannot link
            raise ProtoError(f"{name!r} is not a usable descriptor: {exc}") from exc
        order.append(proto)

    add(main, main, 0)
    main_proto = files[main]
    data = descriptor_pb2.FileDescriptorSet(file=order).SerializeToString()
    return ProtoSchema(pool, main_proto, data)


def _well_known(name: str) -> descriptor_pb2.FileDescriptorProto | None:
    """google/protobuf/*.proto, which serializers leave out of the references."""
    if not name.startswith("google/protobuf/"):
        return None
    from google.protobuf import (  # noqa: F401 - importing registers them in the default pool
        any_pb2,
        api_pb2,
        duration_pb2,
        empty_pb2,
        field_mask_pb2,
        source_context_pb2,
        struct_pb2,
        timestamp_pb2,
        type_pb2,
        wrappers_pb2,
    )

    try:
        found = descriptor_pool.Default().FindFileByName(name)
    except KeyError:
        return None
    proto = descriptor_pb2.FileDescriptorProto()
    found.CopyToProto(proto)
    return proto
