"""Where an event's id, correlation id, causation id and aggregate version are.

Rule strings follow ``kafka_io.rules`` (``field:dotted.path``, ``header:NAME``, ``key``)
plus two of their own:

* ``traceparent`` - the trace id of a W3C ``traceparent`` header (a correlation id that
  tracing libraries add to every message of one request);
* ``none`` - the topic has no such id: do not look for one.

With no rule a role is detected per topic from a sample of its records: the common
names below are tried as fields (at the top level and under ``metadata``/``meta``) and as
headers (whatever their case), and the one found in most records wins.  Detection picks
one rule per topic, not per record, so every record of a topic is read the same way and
a topic where nothing matched can say which names were looked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from kafka_io.rules import HeaderList, Rule, field_at, header_text, key_text


class Role(StrEnum):
    EVENT_ID = "event_id"
    CORRELATION = "correlation"
    CAUSATION = "causation"
    VERSION = "version"


ROLES = tuple(Role)
CONTAINERS = ("", "metadata.", "meta.")
# Names tried, most specific first (a tie in the sample goes to the earlier one).  A bare
# ``version`` field is left out on purpose: envelopes use it for the schema version
# ("eventVersion": "2.0"), which would read as duplicate versions everywhere.
FIELD_NAMES: dict[Role, tuple[str, ...]] = {
    Role.EVENT_ID: ("eventId", "event_id", "id", "messageId"),
    Role.CORRELATION: ("correlationId", "correlation_id", "$correlationId"),
    Role.CAUSATION: ("causationId", "causation_id", "$causationId"),
    Role.VERSION: ("aggregateVersion", "aggregate_version", "streamVersion", "sequenceNumber"),
}
HEADER_NAMES: dict[Role, tuple[str, ...]] = {
    Role.EVENT_ID: ("eventId", "event_id", "id", "ce_id", "message-id"),
    Role.CORRELATION: ("correlationId", "correlation_id", "x-correlation-id", "traceparent"),
    Role.CAUSATION: ("causationId", "causation_id", "x-causation-id"),
    Role.VERSION: ("aggregateVersion", "aggregate_version", "version"),
}
# 2 hex version, 32 hex trace id, 16 hex parent id, 2 hex flags (W3C Trace Context).
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_NO_TRACE = "0" * 32


def trace_id(value: str | None) -> str | None:
    """The trace id of a W3C traceparent header value, None if it is not one."""
    if not value:
        return None
    found = _TRACEPARENT.match(value.strip().lower())
    if found is None or found.group(1) == _NO_TRACE:
        return None
    return found.group(1)


# What a getter returns: the raw value (a str, a number, or anything a payload holds).
Getter = Callable[[Any, HeaderList, "str | bytes | None"], Any]


@dataclass(frozen=True)
class IdRule:
    """One parsed id rule; ``getter`` reads it from (data, headers, key)."""

    text: str
    kind: str  # key | header | field | traceparent
    name: str = ""
    path: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> IdRule:
        spec = text.strip()
        if spec == "traceparent":
            return cls(spec, "traceparent", "traceparent")
        if spec.startswith("traceparent:") and spec.removeprefix("traceparent:"):
            return cls(spec, "traceparent", spec.removeprefix("traceparent:"))
        try:
            rule = Rule.parse(spec)
        except ValueError as exc:
            raise ValueError(f"{exc}, 'traceparent' or 'none'") from None
        return cls(str(rule), rule.kind, rule.name, rule.path)

    @property
    def uses_headers(self) -> bool:
        return self.kind in ("header", "traceparent")

    @property
    def uses_key(self) -> bool:
        return self.kind == "key"

    def getter(self) -> Getter:
        """A fast reader of this rule (called once per record when columns are built)."""
        name, path = self.name, self.path
        if self.kind == "key":
            return lambda data, headers, key: key_text(key)
        if self.kind == "header":
            return lambda data, headers, key: header_text(headers, name) if headers else None
        if self.kind == "traceparent":
            return lambda data, headers, key: (
                trace_id(header_text(headers, name)) if headers else None
            )
        if len(path) == 1:
            top = path[0]
            return lambda data, headers, key: data.get(top) if data.__class__ is dict else None
        return lambda data, headers, key: field_at(data, path)

    def __str__(self) -> str:
        return self.text


def as_id(value: Any) -> str | None:
    """An id as text: strings as they are, integers in decimal; anything else is not an id."""
    if value.__class__ is str:
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_version(value: Any) -> int | None:
    """A version number: an integer, or text of one (headers carry text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**62) < value < 2**62 else None  # must fit the int64 column
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            number = int(text)
            return number if -(2**62) < number < 2**62 else None
    return None


def usable(role: Role, value: Any) -> bool:
    if value is None:
        return False
    return (as_version(value) if role is Role.VERSION else as_id(value)) is not None


@dataclass(frozen=True)
class IdRules:
    """The rules a user gives for one topic (None: detect; "none": there is no such id)."""

    event_id: str | None = None
    correlation: str | None = None
    causation: str | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        for role in ROLES:
            self.given(role)  # parse now, so a bad rule fails where it is given

    def text(self, role: Role) -> str | None:
        value: str | None = getattr(self, role.value)
        return value.strip() if value is not None and value.strip() else None

    def given(self, role: Role) -> IdRule | bool | None:
        """The rule given for ``role``; False when it is switched off; None: detect."""
        text = self.text(role)
        if text is None:
            return None
        if text == "none":
            return False
        return IdRule.parse(text)

    def over(self, base: IdRules) -> IdRules:
        return IdRules(*(self.text(r) or base.text(r) for r in ROLES))


@dataclass(frozen=True)
class IdRuleBook:
    """Per-topic id rules (exact names or globs) over a default for every other topic."""

    default: IdRules = IdRules()
    topics: Mapping[str, IdRules] = field(default_factory=dict)

    def for_topic(self, topic: str) -> IdRules:
        own = self.topics.get(topic)
        if own is None:
            own = next((r for p, r in self.topics.items() if fnmatchcase(topic, p)), None)
        return self.default if own is None else own.over(self.default)


@dataclass(frozen=True)
class ResolvedRules:
    """What one topic's ids are read with: a rule per role (None: none found or off)."""

    rules: Mapping[Role, IdRule | None]
    detected: frozenset[Role] = frozenset()
    off: frozenset[Role] = frozenset()
    sample: int = 0  # records the detection looked at

    def rule(self, role: Role) -> IdRule | None:
        return self.rules.get(role)

    def describe(self, role: Role) -> str:
        """One phrase for a person: the rule used, or what was looked for."""
        rule = self.rules.get(role)
        if rule is not None:
            return f"{rule} (detected)" if role in self.detected else str(rule)
        if role in self.off:
            return "none (switched off)"
        return f"none found in {self.sample:,} records (looked for {looked_for(role)})"

    @property
    def uses_headers(self) -> bool:
        return any(r is not None and r.uses_headers for r in self.rules.values())

    @property
    def uses_key(self) -> bool:
        return any(r is not None and r.uses_key for r in self.rules.values())


def looked_for(role: Role) -> str:
    fields = ", ".join(FIELD_NAMES[role])
    headers = ", ".join(HEADER_NAMES[role])
    return f"fields {fields} (also under metadata/meta); headers {headers}"


Sample = tuple[Any, HeaderList, "str | bytes | None"]  # (data, headers, key)


def _candidates(role: Role, header_names: Iterable[str]) -> list[IdRule]:
    """Every rule detection tries for ``role``, headers matched whatever their case."""
    found = [
        IdRule.parse(f"field:{prefix}{name}") for prefix in CONTAINERS for name in FIELD_NAMES[role]
    ]
    by_lower: dict[str, str] = {}
    for name in header_names:
        by_lower.setdefault(name.lower(), name)
    for wanted in HEADER_NAMES[role]:
        actual = by_lower.get(wanted.lower())
        if actual is None:
            continue
        if wanted == "traceparent":
            found.append(IdRule.parse(f"traceparent:{actual}"))
        else:
            found.append(IdRule.parse(f"header:{actual}"))
    return found


def resolve(rules: IdRules, samples: Sequence[Sample]) -> ResolvedRules:
    """The rules a topic is read with: given ones as they are, the others detected."""
    header_names = {name for _data, headers, _key in samples for name, _v in headers or ()}
    chosen: dict[Role, IdRule | None] = {}
    detected: set[Role] = set()
    off: set[Role] = set()
    for role in ROLES:
        given = rules.given(role)
        if given is False:
            chosen[role] = None
            off.add(role)
            continue
        if isinstance(given, IdRule):
            chosen[role] = given
            continue
        best, best_hits = None, 0
        for candidate in _candidates(role, header_names):
            get = candidate.getter()
            hits = sum(usable(role, get(d, h, k)) for d, h, k in samples)
            if hits > best_hits:
                best, best_hits = candidate, hits
        chosen[role] = best
        if best is not None:
            detected.add(role)
    return ResolvedRules(chosen, frozenset(detected), frozenset(off), len(samples))
