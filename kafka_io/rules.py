"""Where an event's type and aggregate come from: the key, a header, or a payload field.

Rule strings are what a user types in a dialog or on the command line:

* ``key`` - the record key (text; a binary key as lowercase hex);
* ``key:dotted.path`` - a field of the key, for keys written through a registry
  serializer (Avro, Protobuf, JSON Schema), which are decoded like values;
* ``header:NAME`` - the last header called NAME (Kafka allows repeats);
* ``field:dotted.path`` - a field of the decoded value (list items by index).

With no rule the defaults below cover the common conventions (CloudEvents headers,
``eventType``/``aggregateId`` envelopes, Avro record names).  An explicit rule is
taken literally: when it finds nothing the event is ``unknown`` rather than falling
back to a guess, so a typo in a rule shows up instead of hiding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

import orjson

RuleKind = Literal["key", "header", "field", "key_field"]
HeaderList = Sequence[tuple[str, bytes | None]]

TYPE_HEADERS = ("eventType", "event_type", "type", "ce_type")
TYPE_FIELDS = ("eventType", "event_type", "type")
AGGREGATE_HEADERS = ("aggregateId",)
AGGREGATE_FIELDS = ("aggregateId", "aggregate_id")


@dataclass(frozen=True)
class Rule:
    """One parsed rule string."""

    kind: RuleKind
    name: str = ""  # the header name, or the dotted field path as typed
    path: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, key_fields: bool = False) -> Rule:
        """``key_fields``: accept ``key:PATH`` too (event rules do; trace ids do not)."""
        spec = text.strip()
        if spec == "key":
            return cls("key")
        prefix, sep, rest = spec.partition(":")
        if sep and prefix == "key" and key_fields:
            return cls("key_field", rest, _path(text, rest, "key:orderId"))
        if sep and prefix == "header":
            if not rest:
                raise ValueError(f"rule {text!r}: header rule needs a name, e.g. header:eventType")
            return cls("header", rest)
        if sep and prefix == "field":
            return cls("field", rest, _path(text, rest, "field:payload.orderId"))
        expected = "'key', 'key:dotted.path', " if key_fields else "'key', "
        raise ValueError(f"rule {text!r}: expected {expected}'header:NAME' or 'field:dotted.path'")

    def __str__(self) -> str:
        if self.kind == "key_field":
            return f"key:{self.name}"
        return self.kind if self.kind == "key" else f"{self.kind}:{self.name}"

    def extract(
        self, key: str | bytes | None, headers: HeaderList, data: Any, key_data: Any = None
    ) -> str | None:
        if self.kind == "key":
            return key_text(key)
        if self.kind == "header":
            return header_text(headers, self.name)
        if self.kind == "key_field":
            return as_text(field_at(key_data, self.path))
        return as_text(field_at(data, self.path))


def _path(text: str, rest: str, example: str) -> tuple[str, ...]:
    path = tuple(rest.split("."))
    if not rest or any(not part for part in path):
        raise ValueError(f"rule {text!r}: a field rule needs a dotted path, e.g. {example}")
    return path


def key_text(key: str | bytes | None) -> str | None:
    """A key as text: UTF-8 keys arrive as str already, binary keys become hex."""
    if key is None or isinstance(key, str):
        return key
    return key.hex()


def header_text(headers: HeaderList, name: str) -> str | None:
    for hname, hvalue in reversed(headers):
        if hname == name:
            return None if hvalue is None else hvalue.decode("utf-8", "replace")
    return None


def field_at(data: Any, path: Sequence[str]) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def as_text(value: Any) -> str | None:
    """Scalars only: a nested object is not a usable type or aggregate name."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None


def _first_named(
    headers: HeaderList, header_names: Sequence[str], data: Any, field_names: Sequence[str]
) -> str | None:
    """The first non-empty header of ``header_names``, else top-level field of ``field_names``."""
    if headers:
        for name in header_names:
            found = header_text(headers, name)
            if found:
                return found
    if isinstance(data, dict):
        for name in field_names:
            found = as_text(data.get(name))
            if found:
                return found
    return None


def default_type(headers: HeaderList, data: Any, record_name: str | None) -> str | None:
    return _first_named(headers, TYPE_HEADERS, data, TYPE_FIELDS) or record_name


def default_aggregate(
    key: str | bytes | None, headers: HeaderList, data: Any, key_data: Any = None
) -> str | None:
    if key_data is not None:  # a registry-framed key: its decoded value names the aggregate
        return as_text(key_data) or orjson.dumps(key_data, option=orjson.OPT_SORT_KEYS).decode()
    if isinstance(key, str) and key:
        return key
    found = _first_named(headers, AGGREGATE_HEADERS, data, AGGREGATE_FIELDS)
    if found:
        return found
    # A binary key still identifies the aggregate; hex is its readable, stable name.
    return key.hex() if isinstance(key, bytes) and key else None


@dataclass(frozen=True)
class EventRules:
    """How to find one topic's event type and aggregate id (None = the defaults)."""

    type_rule: str | None = None
    aggregate_rule: str | None = None
    _type: Rule | None = field(init=False, repr=False, compare=False, default=None)
    _aggregate: Rule | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        # Parsed once here so a bad rule fails where it is configured, not per record.
        if self.type_rule is not None:
            object.__setattr__(self, "_type", Rule.parse(self.type_rule, key_fields=True))
        if self.aggregate_rule is not None:
            object.__setattr__(self, "_aggregate", Rule.parse(self.aggregate_rule, key_fields=True))

    @property
    def is_default(self) -> bool:
        return self._type is None and self._aggregate is None

    @property
    def reads_key_fields(self) -> bool:
        """Whether a rule reads a field of a decoded key (``key:PATH``)."""
        return any(r is not None and r.kind == "key_field" for r in (self._type, self._aggregate))

    def type_of(
        self,
        key: str | bytes | None,
        headers: HeaderList,
        data: Any,
        record_name: str | None = None,
        key_data: Any = None,
    ) -> str | None:
        """The event type, or None when nothing names it (the caller picks a fallback)."""
        rule = self._type
        if rule is None:
            return default_type(headers, data, record_name)
        return rule.extract(key, headers, data, key_data)

    def aggregate_of(
        self, key: str | bytes | None, headers: HeaderList, data: Any, key_data: Any = None
    ) -> str | None:
        """``key_data``: the decoded key, when the key was written through a registry."""
        rule = self._aggregate
        if rule is None:
            return default_aggregate(key, headers, data, key_data)
        return rule.extract(key, headers, data, key_data)

    def merged_over(self, base: EventRules) -> EventRules:
        """These rules, with anything left unset taken from ``base``."""
        return EventRules(
            self.type_rule if self.type_rule is not None else base.type_rule,
            self.aggregate_rule if self.aggregate_rule is not None else base.aggregate_rule,
        )


DEFAULT_RULES = EventRules()


@dataclass(frozen=True)
class RuleBook:
    """Per-topic rules: topic glob -> EventRules, over a default for every other topic.

    An exact topic name wins over globs; among globs the first one given wins.  An
    override that leaves a rule unset inherits it from ``default``.
    """

    overrides: Mapping[str, EventRules] = field(default_factory=dict)
    default: EventRules = DEFAULT_RULES
    _cache: dict[str, EventRules] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def for_topic(self, topic: str) -> EventRules:
        found = self._cache.get(topic)
        if found is None:
            found = self._lookup(topic)
            self._cache[topic] = found
        return found

    def _lookup(self, topic: str) -> EventRules:
        exact = self.overrides.get(topic)
        if exact is not None:
            return exact.merged_over(self.default)
        for pattern, rules in self.overrides.items():
            if fnmatchcase(topic, pattern):
                return rules.merged_over(self.default)
        return self.default
