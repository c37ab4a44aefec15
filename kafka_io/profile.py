"""Connection profiles: one type that says how to reach a cluster and its registry.

Uses the conventions Kafka users already have: librdkafka properties as repeated
``-X key=value`` and a properties file (the format of kcat ``-F`` and Java's
``client.properties``), which is how SASL, SSL and OAUTHBEARER are configured.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

# Keys a Java-style properties file may carry for the registry rather than the broker.
_REGISTRY_KEYS = {
    "schema.registry.url": "url",
    "basic.auth.user.info": "basic.auth.user.info",
    "schema.registry.basic.auth.user.info": "basic.auth.user.info",
}
# Java-only settings librdkafka would reject; dropped so a client.properties just works.
_JAVA_ONLY = {
    "basic.auth.credentials.source",
    "key.deserializer",
    "value.deserializer",
    "key.serializer",
    "value.serializer",
}
# Properties whose values must never be shown or stored in plain text.
SECRET_HINTS = ("password", "secret", "token", "user.info", "sasl.jaas.config")


class ProfileError(ValueError):
    """A profile that cannot be used as given (bad -X syntax, unreadable file)."""


def parse_properties(text: str) -> dict[str, str]:
    """Parse ``key=value`` lines (``#``/``!`` comments, blank lines, ``key: value``)."""
    props: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        sep = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if sep < 0:
            raise ProfileError(f"line {lineno}: expected key=value, got {raw!r}")
        props[line[:sep].strip()] = line[sep + 1 :].strip()
    return props


def parse_x_options(options: Iterable[str]) -> dict[str, str]:
    """Parse kcat-style ``-X key=value`` arguments."""
    props: dict[str, str] = {}
    for opt in options:
        key, sep, value = opt.partition("=")
        if not sep or not key.strip():
            raise ProfileError(f"-X {opt!r}: expected key=value")
        props[key.strip()] = value
    return props


def is_secret(key: str) -> bool:
    return any(hint in key for hint in SECRET_HINTS)


@dataclass(frozen=True)
class ConnectionProfile:
    """How to reach one cluster (and optionally its schema registry)."""

    bootstrap: str
    properties: Mapping[str, str] = field(default_factory=dict)
    registry_url: str | None = None
    registry_auth: str | None = None  # "user:password", as basic.auth.user.info
    timeout_s: float = 10.0  # how long a metadata request may go unanswered

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))

    @classmethod
    def from_args(
        cls,
        bootstrap: str | None,
        x_options: Iterable[str] = (),
        config_file: str | Path | None = None,
        registry: str | None = None,
        registry_auth: str | None = None,
        timeout_s: float = 10.0,
    ) -> ConnectionProfile:
        """Build a profile from CLI-style arguments; ``-X`` wins over the file."""
        props: dict[str, str] = {}
        if config_file is not None:
            try:
                props.update(parse_properties(Path(config_file).read_text()))
            except OSError as exc:
                raise ProfileError(f"cannot read config file {config_file}: {exc}") from exc
        props.update(parse_x_options(x_options))
        registry_props: dict[str, str] = {}
        for key in list(props):
            if key in _REGISTRY_KEYS:
                registry_props[_REGISTRY_KEYS[key]] = props.pop(key)
            elif key in _JAVA_ONLY:
                props.pop(key)
        servers = bootstrap or props.pop("bootstrap.servers", None)
        props.pop("bootstrap.servers", None)
        if not servers:
            raise ProfileError("no bootstrap servers: give --bootstrap HOST:PORT")
        return cls(
            bootstrap=servers,
            properties=props,
            registry_url=registry or registry_props.get("url"),
            registry_auth=registry_auth or registry_props.get("basic.auth.user.info"),
            timeout_s=timeout_s,
        )

    def client_config(self) -> dict[str, Any]:
        """Settings shared by every librdkafka client made from this profile."""
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap}
        conf.update(self.properties)
        return conf

    def consumer_config(self, **overrides: Any) -> dict[str, Any]:
        """A read-only consumer: private group, never commits, never stores offsets.

        confluent-kafka commits to whatever group.id it is given unless told not to,
        even with assign(); these settings (and never calling commit) keep every
        real group's offsets untouched.
        """
        conf: dict[str, Any] = {
            # librdkafka's default backoff (1000 ms) stalls bounded reads between fetches.
            "fetch.queue.backoff.ms": 10,
            # The defaults buffer up to 64 MB per partition: a 12-partition topic could
            # hold most of a gigabyte in the fetch queues. These keep reads as fast and
            # memory bounded.  The user's own properties may still change them.
            "queued.min.messages": 10000,
            "queued.max.messages.kbytes": 8192,
        }
        conf.update(self.client_config())
        # The read-only guarantees come last: no property can turn them off.
        conf.update(
            {
                "group.id": f"event-explorer-{secrets.token_hex(6)}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": False,
                "auto.offset.reset": "earliest",
            }
        )
        conf.update(overrides)
        return conf

    def registry_config(self) -> dict[str, Any] | None:
        if not self.registry_url:
            return None
        conf: dict[str, Any] = {"url": self.registry_url}
        if self.registry_auth:
            conf["basic.auth.user.info"] = self.registry_auth
        return conf

    def redacted(self) -> dict[str, str]:
        """Properties with secrets masked, for display and for saving in settings."""
        return {k: ("***" if is_secret(k) else v) for k, v in self.properties.items()}

    @property
    def display_name(self) -> str:
        return self.bootstrap
