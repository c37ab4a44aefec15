"""Connection profiles: one type that says how to reach a cluster and its registry.

Uses the conventions Kafka users already have: librdkafka properties as repeated
``-X key=value`` and a properties file (the format of kcat ``-F`` and Java's
``client.properties``), which is how SASL, SSL and OAUTHBEARER are configured.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kafka_io.properties import ProfileError, parse_properties, parse_x_options
from kafka_io.sensitive import (
    MASK,
    is_secret,
    masked_properties,
    public_properties,
    strip_url_credentials,
)

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


@dataclass(frozen=True)
class ConnectionProfile:
    """How to reach one cluster (and optionally its schema registry)."""

    bootstrap: str
    properties: Mapping[str, str] = field(default_factory=dict)
    registry_url: str | None = None
    registry_auth: str | None = None  # "user:password", as basic.auth.user.info
    # How long a metadata request may go unanswered, and a read make no progress.
    timeout_s: float = 10.0

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
                data = Path(config_file).read_bytes()
            except OSError as exc:
                raise ProfileError(f"cannot read config file {config_file}: {exc}") from exc
            try:
                props.update(parse_properties(_decode(data)))
            except ProfileError as exc:
                raise ProfileError(f"config file {config_file}, {exc}") from None
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
                # A metadata request for a deleted topic must not create it again.
                "allow.auto.create.topics": False,
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
        """The whole profile as properties, fit to show: secret values masked, no
        credentials in the registry URL (the keys a Java client.properties would use)."""
        shown = {"bootstrap.servers": self.bootstrap, **masked_properties(self.properties)}
        if self.registry_url:
            shown["schema.registry.url"] = strip_url_credentials(self.registry_url)
        if self.registry_auth:
            shown["basic.auth.user.info"] = MASK
        return shown

    def __repr__(self) -> str:
        # The generated repr would print passwords into any log or traceback.
        return f"ConnectionProfile({self.redacted()!r}, timeout_s={self.timeout_s!r})"

    def public(self) -> ConnectionProfile:
        """This profile without its secrets, fit to save (recent connections): secret
        properties and the registry's credentials left out."""
        return replace(
            self,
            properties=public_properties(self.properties),
            registry_url=strip_url_credentials(self.registry_url) if self.registry_url else None,
            registry_auth=None,
        )

    @property
    def display_name(self) -> str:
        return self.bootstrap


def _decode(data: bytes) -> str:
    """UTF-8, else ISO-8859-1: what Java's Properties.load(InputStream) reads."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


__all__ = [
    "ConnectionProfile",
    "ProfileError",
    "is_secret",
    "parse_properties",
    "parse_x_options",
]
