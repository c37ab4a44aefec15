"""Avro writer schemas by id: from an event file's own table or a schema registry, cached.

Every Avro record in the Confluent wire format names its writer schema by id.  Looking
one up is a network round trip, so parsed schemas are cached for the life of the cache,
and failures are remembered for a short while so a topic of a million records does not
ask a million times.  The registry client gets a bounded timeout and one quick retry
(``CLIENT_DEFAULTS``): confluent-kafka's own defaults wait forever for a registry that
accepts connections but never answers, and up to 7 s of back-off for one that is gone.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fastavro import parse_schema

from kafka_io.avro_guard import SchemaShapeError, guard_for
from kafka_io.registry_kinds import from_stored, resolve_other
from kafka_io.schema_types import ResolvedSchema, SchemaError

NEGATIVE_TTL_S = 30.0
# Under the caller's own settings: a lookup against a dead or hung registry ends within
# about 2 x timeout + one back-off, instead of never (no timeout) or after 7 s of retries.
CLIENT_DEFAULTS: Mapping[str, Any] = {
    "timeout": 3.0,
    "max.retries": 1,
    "retries.wait.ms": 200,
    "retries.max.wait.ms": 1000,
}
CCOMPAT_HINT = "an Apicurio registry serves it under /apis/ccompat/v7"
_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


class Registry(Protocol):
    """The part of confluent-kafka's SchemaRegistryClient this module uses."""

    def get_schema(self, schema_id: int) -> Any: ...

    def get_version(self, subject_name: str, version: int) -> Any: ...


def make_registry(config: Mapping[str, Any] | None) -> Registry | None:
    """A registry client for ``ConnectionProfile.registry_config()`` (``mock://`` works too)."""
    if not config:
        return None
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return RegistryClient(SchemaRegistryClient.new_client({**CLIENT_DEFAULTS, **config}))


class RegistryClient:
    """confluent-kafka's client, whose HTTP connections close when it is dropped.

    A decoder has no end of life to close its client at, and confluent-kafka's keeps a
    keep-alive connection open until the garbage collector finds it (with a
    ResourceWarning); this closes it as soon as the last reference goes.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._closer = weakref.finalize(self, client.close)

    def get_schema(self, schema_id: int) -> Any:
        return self._client.get_schema(schema_id)

    def get_version(self, subject_name: str, version: int) -> Any:
        return self._client.get_version(subject_name, version)

    def close(self) -> None:
        self._closer()


def record_name_of(parsed: Any) -> str | None:
    if isinstance(parsed, dict) and parsed.get("type") == "record":
        return str(parsed["name"]).rsplit(".", 1)[-1]
    return None


class SchemaCache:
    """Resolve schema ids: the local table first, then the registry."""

    def __init__(
        self,
        registry: Registry | None = None,
        schemas: Mapping[int, str] | None = None,
        negative_ttl_s: float = NEGATIVE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._local = dict(schemas or {})
        self._ttl = negative_ttl_s
        self._clock = clock
        self._resolved: dict[int, ResolvedSchema] = {}
        self._failed: dict[int, tuple[str, float]] = {}
        # A registry that is down is down for every id: one wait, not one per new id.
        self._down: tuple[str, float] | None = None

    @property
    def can_resolve(self) -> bool:
        """False when there is nowhere to look ids up (no registry, no local schemas)."""
        return self._registry is not None or bool(self._local)

    @property
    def resolved(self) -> dict[int, ResolvedSchema]:
        return self._resolved

    def lookup(self, schema_id: int) -> ResolvedSchema:
        """The schema for ``schema_id``; raises SchemaError (cached for a while) if none."""
        found = self._resolved.get(schema_id)
        if found is not None:
            return found
        failed = self._failed.get(schema_id)
        if failed is not None and self._clock() < failed[1]:
            raise SchemaError(failed[0])
        try:
            found = self._resolve(schema_id)
        except SchemaError as exc:
            self._failed[schema_id] = (str(exc), self._clock() + self._ttl)
            raise
        self._failed.pop(schema_id, None)
        self._down = None
        self._resolved[schema_id] = found
        return found

    def _resolve(self, schema_id: int) -> ResolvedSchema:
        text = self._local.get(schema_id)
        if text is not None:
            return from_stored(schema_id, text) or _parse(schema_id, text, {})
        if self._registry is None:
            where = "not in the event file" if self._local else "no schema registry configured"
            raise SchemaError(f"unknown schema id {schema_id} ({where})")
        if self._down is not None and self._clock() < self._down[1]:
            raise SchemaError(
                f"schema registry unavailable for schema id {schema_id}: {self._down[0]}"
            )
        schema = self._fetch(schema_id, lambda reg: reg.get_schema(schema_id))
        kind = (getattr(schema, "schema_type", None) or "AVRO").upper()
        if kind != "AVRO":
            fetch = self._fetch  # references are looked up for this schema id's sake
            return resolve_other(
                schema_id,
                kind,
                schema,
                lambda s, v: fetch(schema_id, lambda r: r.get_version(s, v)),
            )
        named: dict[str, Any] = {}
        for ref in getattr(schema, "references", None) or []:
            self._add_reference(schema_id, ref, named, depth=0)
        return _parse(schema_id, schema.schema_str, named)

    def _add_reference(self, schema_id: int, ref: Any, named: dict[str, Any], depth: int) -> None:
        if depth > 32:
            raise SchemaError(f"schema id {schema_id}: schema references nest too deeply")
        registered = self._fetch(schema_id, lambda reg: reg.get_version(ref.subject, ref.version))
        schema = registered.schema
        for inner in getattr(schema, "references", None) or []:
            self._add_reference(schema_id, inner, named, depth + 1)
        try:
            parse_schema(json.loads(schema.schema_str), named)
        except Exception as exc:  # fastavro raises several types for one meaning: bad schema
            raise SchemaError(
                f"schema id {schema_id}: referenced schema {ref.name!r} is not valid Avro: {exc}"
            ) from exc

    def _fetch(self, schema_id: int, call: Callable[[Registry], Any]) -> Any:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        assert self._registry is not None
        try:
            result = call(self._registry)
        except SchemaRegistryError as exc:
            if _not_found(exc):
                raise SchemaError(f"unknown schema id {schema_id} (not in registry)") from exc
            reason = _registry_reason(exc)
            self._down = (reason, self._clock() + self._ttl)
            raise SchemaError(f"schema registry error for schema id {schema_id}: {reason}") from exc
        except Exception as exc:  # network layers raise their own types; all mean "unreachable"
            # The type says what the text alone does not ("timed out": connecting or reading?).
            reason = f"{type(exc).__name__}: {_one_line(exc)}"
            self._down = (reason, self._clock() + self._ttl)
            raise SchemaError(
                f"schema registry unreachable for schema id {schema_id}: {reason}"
            ) from exc
        if result is None:
            raise SchemaError(f"unknown schema id {schema_id} (not in registry)")
        return result


def _parse(schema_id: int, text: str, named: dict[str, Any]) -> ResolvedSchema:
    has_references = bool(named)  # checked first: parsing adds the schema itself to named
    try:
        parsed = parse_schema(json.loads(text), named)
        guard = guard_for(parsed, named)
        if has_references:
            # Inline the referenced types so the stored text needs no registry to parse.
            text = json.dumps(_inline(parsed, named, set()), separators=(",", ":"))
    except (RecursionError, SchemaShapeError) as exc:
        raise SchemaError(f"schema id {schema_id} is not a usable Avro schema: {exc}") from exc
    except Exception as exc:  # json and fastavro raise several types for one meaning
        raise SchemaError(f"schema id {schema_id} is not a valid Avro schema: {exc}") from exc
    return ResolvedSchema(schema_id, text, parsed, record_name_of(parsed), guard)


def _inline(node: Any, named: Mapping[str, Any], defined: set[str]) -> Any:
    """Replace each named-type reference with its definition at its first use.

    fastavro's own ``expand`` repeats a definition at every use, which Avro rejects
    ("redefined named type") when the text is parsed again.
    """
    if isinstance(node, str):
        if node in _PRIMITIVES or node in defined or node not in named:
            return node
        defined.add(node)
        return _inline(named[node], named, defined)
    if isinstance(node, list):
        return [_inline(item, named, defined) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if not k.startswith("__")}
    kind = out.get("type")
    if kind in ("record", "error", "enum", "fixed") and "name" in out:
        defined.add(out["name"])
    if kind in ("record", "error"):
        out["fields"] = [
            {**f, "type": _inline(f["type"], named, defined)} for f in out.get("fields", [])
        ]
    elif kind == "array":
        out["items"] = _inline(out["items"], named, defined)
    elif kind == "map":
        out["values"] = _inline(out["values"], named, defined)
    elif isinstance(kind, dict | list):
        out["type"] = _inline(kind, named, defined)
    return out


def _not_found(exc: Any) -> bool:
    """A registry's own "no such schema": HTTP 404 with a Confluent 404xx error code.

    A 404 without one is a server with no Confluent API at that path (an Apicurio
    registry given its root URL, a web server): every id would look unknown.
    """
    code = exc.error_code
    return exc.http_status_code == 404 and isinstance(code, int) and 40400 <= code <= 40499


def _registry_reason(exc: Any) -> str:
    status = exc.http_status_code
    if status == 404:
        return f"no Confluent schema registry API at this URL (HTTP 404; {CCOMPAT_HINT})"
    if status in (401, 403):
        word = "Unauthorized" if status == 401 else "Forbidden"
        return f"access refused (HTTP {status} {word}): check the registry credentials"
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


TRANSIENT_PREFIXES = (
    "schema registry unavailable",
    "schema registry unreachable",
    "schema registry error",
)


def is_transient_error(error: str | None) -> bool:
    """Whether a decode error came from a registry that could not answer (down, refused,
    timed out) rather than from the record: such a record may decode later."""
    return error is not None and error.startswith(TRANSIENT_PREFIXES)
