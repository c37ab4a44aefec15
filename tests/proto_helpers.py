"""Protobuf test data: .proto text compiled by protoc (grpcio-tools), message classes at
run time, schemas registered in the real registry, records framed in the Confluent wire
format (magic byte, schema id, message-index path, message)."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc_tools
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_tools import protoc

WELL_KNOWN = str(Path(grpc_tools.__file__).parent / "_proto")


def descriptor_set(tmp: Path, files: Mapping[str, str], main: str) -> bytes:
    """``protoc --descriptor_set_out --include_imports`` over the given .proto texts."""
    src = tmp / "proto-src"
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    out = tmp / f"{Path(main).stem}.pb"
    code = protoc.main(
        [
            "protoc",
            f"-I{src}",
            f"-I{WELL_KNOWN}",
            f"--descriptor_set_out={out}",
            "--include_imports",
            main,
        ]
    )
    assert code == 0, f"protoc failed on {main}"
    return out.read_bytes()


def message_classes(data: bytes) -> dict[str, Any]:
    """Full name -> message class for every message of a descriptor set (own pool)."""
    pool = descriptor_pool.DescriptorPool()
    fds = descriptor_pb2.FileDescriptorSet.FromString(data)
    for f in fds.file:
        pool.Add(f)
    classes: dict[str, Any] = {}
    for f in fds.file:
        for m in pool.FindFileByName(f.name).message_types_by_name.values():
            _collect(m, classes)
    return classes


def _collect(desc: Any, classes: dict[str, Any]) -> None:
    classes[desc.full_name] = message_factory.GetMessageClass(desc)
    for nested in desc.nested_types:
        _collect(nested, classes)


def register_proto(
    client: SchemaRegistryClient,
    subject: str,
    text: str,
    references: Mapping[str, str] | None = None,
) -> int:
    """Register .proto text as Java and Go producers do, each reference under its own
    subject (``SUBJECT-NAME``), and return the schema id.  (confluent-kafka's Python
    ProtobufSerializer registers a base64 descriptor instead, which Apicurio refuses.)"""
    refs = []
    for name, body in (references or {}).items():
        ref_subject = f"{subject}-{name}"
        client.register_schema(ref_subject, Schema(body, "PROTOBUF"))
        version = client.get_latest_version(ref_subject).version
        refs.append(SchemaReference(name, ref_subject, version))
    return int(client.register_schema(subject, Schema(text, "PROTOBUF", refs)))


def frame(schema_id: int, indexes: list[int], body: bytes) -> bytes:
    """A Confluent Protobuf frame written by hand (as a Java producer would)."""

    def zigzag(n: int) -> bytes:
        n = (n << 1) ^ (n >> 63)
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    path = b"\x00" if indexes == [0] else zigzag(len(indexes)) + b"".join(map(zigzag, indexes))
    return b"\x00" + struct.pack(">I", schema_id) + path + body
