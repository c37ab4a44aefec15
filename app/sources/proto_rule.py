"""Where a topic's plain Protobuf values find their types: a descriptor set and a message.

Given on the command line (``--proto-descriptors FILE --proto-message pkg.Type``), in a
profile, or per topic in the window's topic rules; part of ``TopicSettings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka_io.proto_decode import PlainProto


@dataclass(frozen=True)
class ProtoRule:
    descriptors: str  # a descriptor set file: protoc --descriptor_set_out=F --include_imports
    message: str  # the full name of the values' message type, e.g. shop.shipping.Shipment

    def __post_init__(self) -> None:
        if not self.descriptors or not self.message:
            raise ValueError("Protobuf needs both a descriptor set file and a message type")
        name = self.message.lstrip(".")
        if not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"message type {self.message!r}: expected a name like pkg.Type")
        object.__setattr__(self, "message", name)

    @classmethod
    def parse(cls, descriptors: str | None, message: str | None) -> ProtoRule | None:
        """From text as a user gives it: both or neither (ValueError names what is wrong)."""
        if not descriptors and not message:
            return None
        if not descriptors:
            raise ValueError("--proto-message needs --proto-descriptors FILE")
        if not message:
            raise ValueError("--proto-descriptors needs --proto-message pkg.Type")
        if not Path(descriptors).is_file():
            raise ValueError(f"no such descriptor set file: {descriptors}")
        return cls(str(Path(descriptors).expanduser()), message)

    def plain(self) -> PlainProto:
        return PlainProto(self.message, path=self.descriptors)

    def to_json(self) -> dict[str, str]:
        return {"descriptors": self.descriptors, "message": self.message}

    @classmethod
    def from_json(cls, data: Any) -> ProtoRule | None:
        if not isinstance(data, Mapping):
            return None
        descriptors, message = data.get("descriptors"), data.get("message")
        if not isinstance(descriptors, str) or not isinstance(message, str):
            return None
        try:
            return cls(descriptors, message)
        except ValueError:
            return None
