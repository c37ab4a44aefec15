"""Where an event's schema version is: a payload field, a header, or its registry schema.

The schema version says which shape an event's payload has (``eventVersion: "2.0"``);
it is not the aggregate's sequence number, which many envelopes call ``version``.  Rule
strings, as a user types them:

* ``field:dotted.path`` - a field of the decoded value (``field:eventVersion``);
* ``header:NAME`` - the last header called NAME (``header:version``);
* ``schema`` - the version of the record's writer schema in the schema registry (the
  subject's version number); with no registry to ask, ``id N`` (the schema id).

With no rule, the common spellings are tried: the headers and top-level fields
``eventVersion``, ``event_version`` and ``schemaVersion``.  Never a plain ``version``
field, for the reason above.  An event where the rule finds nothing has no version
(None), which is a version of its own for upcasters and the version facts.

Versions compare as dotted numbers when they are (``"2"``, ``"2.0"`` and ``"v2"`` are
one version), as text otherwise.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kafka_io.rules import as_text, field_at, header_text

RuleKind = Literal["default", "field", "header", "schema"]
HeaderList = Sequence[tuple[str, bytes | None]]
# Schema id -> its version text, or None when it cannot be told.
SchemaVersionLookup = Callable[[int], str | None]

DEFAULT_NAMES = ("eventVersion", "event_version", "schemaVersion")
_NUMERIC = re.compile(r"[vV]?(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class Found:
    """A version and where it was: ``("field", path)``, ``("header", name)`` or
    ``("schema", "")`` (the writer schema's)."""

    version: str
    kind: Literal["field", "header", "schema"]
    where: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionRule:
    """One parsed version rule (``VersionRule.parse(None)`` is the default)."""

    kind: RuleKind = "default"
    name: str = ""  # the header name or the dotted path as typed
    path: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> VersionRule:
        if text is None or not text.strip():
            return cls()
        spec = text.strip()
        if spec == "schema":
            return cls("schema")
        prefix, sep, rest = spec.partition(":")
        if sep and prefix == "header" and rest:
            return cls("header", rest)
        if sep and prefix == "field" and rest and all(rest.split(".")):
            return cls("field", rest, tuple(rest.split(".")))
        raise ValueError(
            f"version rule {text!r}: expected 'field:dotted.path', 'header:NAME' or 'schema'"
        )

    def __str__(self) -> str:
        if self.kind in ("default", "schema"):
            return self.kind
        return f"{self.kind}:{self.name}"

    def locate(
        self,
        headers: HeaderList,
        data: Any,
        schema_id: int | None = None,
        schema_version: SchemaVersionLookup | None = None,
    ) -> Found | None:
        """The version and where it is; None when the rule finds nothing."""
        if self.kind == "field":
            text = version_text(field_at(data, self.path))
            return None if text is None else Found(text, "field", self.path)
        if self.kind == "header":
            text = version_text(header_text(headers, self.name))
            return None if text is None else Found(text, "header", (self.name,))
        if self.kind == "schema":
            if schema_id is None:
                return None
            found = schema_version(schema_id) if schema_version is not None else None
            return Found(found or f"id {schema_id}", "schema")
        for name in DEFAULT_NAMES:
            text = version_text(header_text(headers, name)) if headers else None
            if text is not None:
                return Found(text, "header", (name,))
        if isinstance(data, Mapping):
            for name in DEFAULT_NAMES:
                text = version_text(data.get(name))
                if text is not None:
                    return Found(text, "field", (name,))
        return None


def version_text(value: Any) -> str | None:
    """A version as text: strings stripped, numbers as written (2 -> "2", 2.0 -> "2.0")."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return None
    return as_text(value)


def version_key(version: str | None) -> tuple[Any, ...]:
    """A sort and identity key: ``"2"``, ``"2.0"`` and ``"v2"`` are equal and sort
    numerically; text versions come after numeric ones; None (no version) first."""
    if version is None:
        return (0,)
    match = _NUMERIC.fullmatch(version.strip())
    if match is None:
        return (2, version.strip())
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return (1, *parts)


def same_version(a: str | None, b: str | None) -> bool:
    return version_key(a) == version_key(b)


def with_version(data: Any, headers: HeaderList, found: Found, version: str) -> tuple[Any, Any]:
    """``(data, headers)`` with the version at ``found``'s place set to ``version``, so
    an upcasted event says the version it now has.  ``data`` is changed in place (the
    caller's private copy); headers are a new tuple.  A schema version is left as it
    is (the writer schema did not change)."""
    if found.kind == "field":
        parent = field_at(data, found.where[:-1]) if len(found.where) > 1 else data
        if isinstance(parent, dict):
            old = parent.get(found.where[-1])
            # Keep the version's type: a numeric field stays a number when it can.
            if isinstance(old, int | float) and not isinstance(old, bool):
                try:
                    parent[found.where[-1]] = type(old)(version)
                    return data, headers
                except ValueError:
                    pass
            parent[found.where[-1]] = version
    elif found.kind == "header":
        name = found.where[0]
        items = list(headers)
        last = max(i for i, (k, _v) in enumerate(items) if k == name)
        items[last] = (name, version.encode())
        headers = tuple(items)
    return data, headers


class RegistryVersions:
    """Schema id -> the version of that schema under its subject, asked of the registry
    once per id (a failure is remembered too: the answer is then ``id N``)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        from kafka_io.registry import CLIENT_DEFAULTS

        self._client = SchemaRegistryClient.new_client({**CLIENT_DEFAULTS, **config})
        self._closer = weakref.finalize(self, self._client.close)
        self._known: dict[int, str | None] = {}

    def __call__(self, schema_id: int) -> str | None:
        if schema_id not in self._known:
            try:
                found = self._client.get_schema_versions(schema_id)
            except Exception:  # any registry failure: fall back to the id, never raise
                found = []
            self._known[schema_id] = str(found[0].version) if found else None
        return self._known[schema_id]

    def close(self) -> None:
        self._closer()
