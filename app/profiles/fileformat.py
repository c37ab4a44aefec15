"""The profile file (``NAME.evx-profile``): TOML a person can read and edit.

Read with the standard library's ``tomllib``; written with ``tomli_w`` (tomllib cannot
write, and hand-made TOML gets quoting of dotted keys such as ``"security.protocol"``
wrong).  The file carries a ``format_version``; a file from a newer version is refused
with a clear message rather than half understood.  A file that carries a secret value
(a password, a token, credentials in the registry URL...) is refused, naming the key
but never repeating the value: secrets go to the OS keyring only.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import tomli_w

from app.masking.rules import MaskingRules
from app.profiles.model import Profile, SecretInProfile
from app.sources.settings import TopicSettings
from kafka_io.partitioners import UnknownPartitioner, partitioner
from kafka_io.properties import ProfileError
from kafka_io.sensitive import is_secret

FORMAT_VERSION = 1
HEADER = """\
# Event Explorer connection profile: no secrets in here. Passwords and other secrets
# named under kafka.secrets (and the registry's user:password when registry.auth is
# true) are asked for on import and kept in the OS keyring.
#   event-explorer profile import FILE      or File > Import profile... in the app
"""
_TOP = {"format_version", "name", "description", "locked_topics", "fold_folder"}
_TABLES = {"kafka", "registry", "topic_defaults", "topics", "masking"}
_TOPIC_KEYS = {"type_rule", "aggregate_rule", "format", "partitioner"}
# Keys whose values are names or patterns, never secret values.
_NAMES_ONLY = {("kafka", "secrets"), ("masking", "fields")}


class ProfileFormatError(ProfileError):
    """A profile file that cannot be read: malformed, from a newer version, or invalid."""


def dumps(profile: Profile) -> str:
    """The profile as the text of a profile file (never a secret: a Profile has none)."""
    doc: dict[str, Any] = {"format_version": FORMAT_VERSION, "name": profile.name}
    if profile.description:
        doc["description"] = profile.description
    if profile.locked_topics:
        doc["locked_topics"] = list(profile.locked_topics)
    if profile.fold_folder:
        doc["fold_folder"] = profile.fold_folder
    kafka: dict[str, Any] = {"bootstrap": profile.bootstrap}
    if profile.secrets:
        kafka["secrets"] = list(profile.secrets)
    kafka["properties"] = dict(sorted(profile.properties.items()))
    doc["kafka"] = kafka
    if profile.registry_url:
        doc["registry"] = {"url": profile.registry_url, "auth": profile.registry_auth}
    if not profile.defaults.is_default:
        doc["topic_defaults"] = _topic_toml(profile.defaults)
    if profile.topics:
        doc["topics"] = {t: _topic_toml(s) for t, s in sorted(profile.topics.items())}
    if profile.masking.active:
        doc["masking"] = profile.masking.to_toml()
    _refuse_secrets(doc)  # by construction there is none; checked again on the way out
    return HEADER + "\n" + tomli_w.dumps(doc)


def loads(text: str, *, name: str | None = None) -> tuple[Profile, list[str]]:
    """The profile in ``text`` and warnings about it; ``name`` replaces the file's own.

    Raises ``ProfileFormatError`` (malformed, newer version, invalid) or
    ``SecretInProfile`` (a secret value in the file)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages give line and column, never the text of a value.
        raise ProfileFormatError(f"not a valid profile file: {exc}") from None
    _check_version(doc)
    _refuse_secrets(doc)
    try:
        profile = _profile(doc, name)
    except SecretInProfile:
        raise
    except (ProfileError, ValueError, TypeError) as exc:
        raise ProfileFormatError(str(exc)) from None
    warnings = profile.masking.warnings()
    for topic in profile.topics:
        if not profile.allows_topic(topic):
            warnings.append(f"rules for {topic!r}: the topic is outside locked_topics")
    return profile, warnings


def _check_version(doc: Mapping[str, Any]) -> None:
    version = doc.get("format_version")
    if version is None:
        raise ProfileFormatError("not a profile file: it has no format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProfileFormatError("format_version: expected a whole number from 1")
    if version > FORMAT_VERSION:
        raise ProfileFormatError(
            f"the file is format_version {version}, from a newer Event Explorer; this one "
            f"reads up to {FORMAT_VERSION}: update the app to import it"
        )


def _refuse_secrets(doc: Mapping[str, Any]) -> None:
    for path, value in _leaves(doc, ()):
        if path[:2] in _NAMES_ONLY:
            continue
        if is_secret(path[-1], value) or is_secret(".".join(path[-2:]), value):
            raise SecretInProfile(
                f"{_dotted(path)} holds a secret value, and profile files never carry "
                "secrets: remove it (list the property under kafka.secrets to be asked "
                "for it on import, kept in the OS keyring)"
            )


def _leaves(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item, path)
    elif path:
        yield path, str(node)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(p if p.replace("_", "").isalnum() else f'"{p}"' for p in path)


def _profile(doc: Mapping[str, Any], name: str | None) -> Profile:
    unknown = set(doc) - _TOP - _TABLES
    if unknown:
        raise ProfileFormatError(f"unknown key {sorted(unknown)[0]!r}")
    kafka = _table(doc, "kafka")
    extra = set(kafka) - {"bootstrap", "secrets", "properties"}
    if extra:
        raise ProfileFormatError(f"kafka: unknown key {sorted(extra)[0]!r}")
    registry = _table(doc, "registry")
    if set(registry) - {"url", "auth"}:
        raise ProfileFormatError(
            f"registry: unknown key {sorted(set(registry) - {'url', 'auth'})[0]!r}"
        )
    auth = registry.get("auth", False)
    if not isinstance(auth, bool):
        raise ProfileFormatError("registry.auth: expected true or false")
    topics = _table(doc, "topics")
    return Profile(
        name=name or _required(doc, "name"),
        description=_text(doc, "description") or "",
        bootstrap=_required(kafka, "bootstrap", "kafka.bootstrap"),
        properties=_properties(_table(kafka, "properties", "kafka.properties")),
        secrets=tuple(_strings(kafka, "secrets", "kafka.secrets")),
        registry_url=_text(registry, "url", "registry.url"),
        registry_auth=auth,
        defaults=_topic(_table(doc, "topic_defaults"), "topic_defaults"),
        topics={t: _topic(_table(topics, t, f"topics.{t}"), f"topics.{t}") for t in topics},
        fold_folder=_text(doc, "fold_folder"),
        masking=MaskingRules.from_toml(_table(doc, "masking")),
        locked_topics=tuple(_strings(doc, "locked_topics")),
    )


def _table(doc: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise ProfileFormatError(f"{where or key}: expected a table")
    return value


def _text(doc: Mapping[str, Any], key: str, where: str | None = None) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise ProfileFormatError(f"{where or key}: expected a string")
    return value


def _required(doc: Mapping[str, Any], key: str, where: str | None = None) -> str:
    value = _text(doc, key, where)
    if value is None or not value.strip():
        raise ProfileFormatError(f"{where or key}: required, and not given")
    return value


def _strings(doc: Mapping[str, Any], key: str, where: str | None = None) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileFormatError(f"{where or key}: expected a list of strings")
    return value


def _properties(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """librdkafka properties; ``security.protocol = "X"`` unquoted reads as nested tables
    in TOML, so nested tables are joined back into dotted names."""
    props: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            props.update(_properties(value, f"{name}."))
        elif isinstance(value, bool):
            props[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            props[name] = str(value)
        else:
            raise ProfileFormatError(
                f"kafka.properties.{name}: expected a string, number or boolean"
            )
    return props


def _topic(table: Mapping[str, Any], where: str) -> TopicSettings:
    unknown = set(table) - _TOPIC_KEYS
    if unknown:
        hint = ""
        if all(isinstance(table[k], Mapping) for k in unknown):
            hint = ' (a topic name with dots must be quoted: [topics."a.b"])'
        raise ProfileFormatError(f"{where}: unknown setting {sorted(unknown)[0]!r}{hint}")
    values = {k: _text(table, k, f"{where}.{k}") for k in _TOPIC_KEYS}
    part = values["partitioner"]
    if part is not None:
        try:
            partitioner(part)
        except UnknownPartitioner as exc:
            raise ProfileFormatError(f"{where}.partitioner: {exc}") from None
    try:
        return TopicSettings.parse(
            values["type_rule"], values["aggregate_rule"], values["format"] or "auto", part
        )
    except ValueError as exc:
        raise ProfileFormatError(f"{where}: {exc}") from None


def _topic_toml(settings: TopicSettings) -> dict[str, str]:
    doc = {
        "type_rule": settings.type_rule,
        "aggregate_rule": settings.aggregate_rule,
        "format": None if str(settings.value_format) == "auto" else str(settings.value_format),
        "partitioner": settings.partitioner,
    }
    return {k: v for k, v in doc.items() if v is not None}
