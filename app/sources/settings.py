"""How to read a topic: where its type and aggregate id are, its value format, its
partitioner.  One ``TopicSettings`` per topic, defaults for the rest (``SourceSettings``).

The CLI's ``--type-rule``, ``--aggregate-rule``, ``--format`` and ``--partitioner`` give
the defaults; the GUI's topic rules dialog sets one topic's and remembers them per cluster
and topic.  Everything here changes what a record decodes to, so it is part of the
persisted index's identity (``signature``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from app.sources.proto_rule import ProtoRule
from kafka_io.decode import ValueFormat
from kafka_io.proto_decode import PlainProto
from kafka_io.rules import EventRules, RuleBook
from kafka_io.version_rules import VersionRule

VALUE_FORMATS = tuple(f.value for f in ValueFormat)


@dataclass(frozen=True)
class TopicSettings:
    """How to read one topic; None/AUTO: detect, or use the defaults."""

    type_rule: str | None = None
    aggregate_rule: str | None = None
    value_format: ValueFormat = ValueFormat.AUTO
    partitioner: str | None = None
    # Where the event's schema version is (kafka_io.version_rules); None: the defaults.
    version_rule: str | None = None
    proto: ProtoRule | None = None  # plain Protobuf values: descriptor set and message

    def __post_init__(self) -> None:
        # Parse now, so a bad rule fails where it is given, not on the first record.
        EventRules(self.type_rule, self.aggregate_rule)
        VersionRule.parse(self.version_rule)
        object.__setattr__(self, "value_format", ValueFormat(self.value_format))

    @classmethod
    def parse(
        cls,
        type_rule: str | None,
        aggregate_rule: str | None,
        value_format: str = "auto",
        partitioner: str | None = None,
        version_rule: str | None = None,
    ) -> TopicSettings:
        """Settings from text as a user gives them (ValueError names what is wrong)."""
        try:
            fmt = ValueFormat(value_format)
        except ValueError:
            choices = ", ".join(VALUE_FORMATS)
            raise ValueError(f"format {value_format!r}: expected one of {choices}") from None
        return cls(
            type_rule or None,
            aggregate_rule or None,
            fmt,
            partitioner or None,
            version_rule or None,
        )

    @property
    def rules(self) -> EventRules:
        return EventRules(self.type_rule, self.aggregate_rule)

    @property
    def is_default(self) -> bool:
        return self == TopicSettings()

    def over(self, base: TopicSettings) -> TopicSettings:
        """These settings, with anything left unset taken from ``base``."""
        return TopicSettings(
            self.type_rule if self.type_rule is not None else base.type_rule,
            self.aggregate_rule if self.aggregate_rule is not None else base.aggregate_rule,
            self.value_format if self.value_format is not ValueFormat.AUTO else base.value_format,
            self.partitioner if self.partitioner is not None else base.partitioner,
            self.version_rule if self.version_rule is not None else base.version_rule,
            self.proto if self.proto is not None else base.proto,
        )

    @property
    def versions(self) -> VersionRule:
        return VersionRule.parse(self.version_rule)

    def signature(self) -> str:
        """What the decoded columns depend on (the partitioner and the version rule do
        not change them: versions are read from the values when replayed)."""
        sig = f"{self.value_format}|{self.type_rule}|{self.aggregate_rule}"
        return sig if self.proto is None else f"{sig}|{self.proto.descriptors}|{self.proto.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "type_rule": self.type_rule,
            "aggregate_rule": self.aggregate_rule,
            "value_format": str(self.value_format),
            "partitioner": self.partitioner,
            "version_rule": self.version_rule,
            **({"proto": self.proto.to_json()} if self.proto is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TopicSettings:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        return cls(
            text("type_rule"),
            text("aggregate_rule"),
            ValueFormat(text("value_format") or "auto"),
            text("partitioner"),
            text("version_rule"),
            ProtoRule.from_json(data.get("proto")),
        )


@dataclass(frozen=True)
class SourceSettings:
    """Per-topic settings over defaults for every other topic of a source."""

    default: TopicSettings = TopicSettings()
    topics: Mapping[str, TopicSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topics", MappingProxyType(dict(self.topics)))

    def for_topic(self, topic: str) -> TopicSettings:
        own = self.topics.get(topic)
        return self.default if own is None else own.over(self.default)

    def with_topic(self, topic: str, settings: TopicSettings) -> SourceSettings:
        topics = dict(self.topics)
        if settings.is_default:
            topics.pop(topic, None)
        else:
            topics[topic] = settings
        return replace(self, topics=topics)

    def rulebook(self) -> RuleBook:
        overrides = {t: s.rules for t, s in self.topics.items()}
        return RuleBook(overrides, self.default.rules)

    def formats(self) -> dict[str, ValueFormat]:
        """Topics whose format is given (the decoder detects the others)."""
        return {
            t: s.value_format
            for t, s in self.topics.items()
            if s.value_format is not ValueFormat.AUTO
        }

    def protos(self) -> dict[str | None, PlainProto]:
        """Descriptors for plain Protobuf topics (None: the default for every topic)."""
        found: dict[str | None, PlainProto] = {
            t: s.proto.plain() for t, s in self.topics.items() if s.proto is not None
        }
        if self.default.proto is not None:
            found[None] = self.default.proto.plain()
        return found
