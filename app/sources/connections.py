"""What a user types to reach a cluster, and the part of it the app may remember.

One definition for the connect dialog, the recent-connections menu and the settings
store: a request holds everything (passwords too, for this session only); a recent
connection holds only what is not secret, decided in one place (``kafka_io.profile``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kafka_io.profile import ConnectionProfile
from kafka_io.sensitive import public_properties, strip_url_credentials


@dataclass(frozen=True)
class RecentConnection:
    """A connection as remembered between runs: never a secret."""

    bootstrap: str
    properties: Mapping[str, str] = field(default_factory=dict)
    config: str | None = None
    registry: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", public_properties(self.properties))
        if self.registry is not None:
            object.__setattr__(self, "registry", strip_url_credentials(self.registry))

    @property
    def label(self) -> str:
        if not self.registry:
            return self.bootstrap
        return f"{self.bootstrap}  (registry {self.registry})"

    def to_request(self) -> ConnectionRequest:
        options = tuple(f"{k}={v}" for k, v in self.properties.items())
        return ConnectionRequest(self.bootstrap, options, self.config, self.registry)

    def to_json(self) -> dict[str, object]:
        return {
            "bootstrap": self.bootstrap,
            "properties": dict(self.properties),
            "config": self.config,
            "registry": self.registry,
        }

    @classmethod
    def from_json(cls, item: object) -> RecentConnection | None:
        if not isinstance(item, dict) or not isinstance(item.get("bootstrap"), str):
            return None
        props = item.get("properties") or {}
        config, registry = item.get("config"), item.get("registry")
        return cls(
            item["bootstrap"],
            {str(k): str(v) for k, v in props.items()} if isinstance(props, dict) else {},
            config if isinstance(config, str) else None,
            registry if isinstance(registry, str) else None,
        )


@dataclass(frozen=True)
class ConnectionRequest:
    """What the user typed, in the CLI's terms (``-X`` options, ``--config``...)."""

    bootstrap: str
    x_options: tuple[str, ...] = ()
    config: str | None = None
    registry: str | None = None
    registry_auth: str | None = None

    def to_profile(self, timeout_s: float = 10.0) -> ConnectionProfile:
        """The profile to connect with (raises ProfileError on bad input)."""
        return ConnectionProfile.from_args(
            self.bootstrap or None, self.x_options, self.config, self.registry,
            self.registry_auth, timeout_s=timeout_s,
        )  # fmt: skip

    def to_recent(self) -> RecentConnection:
        """The part that may be remembered: everything but secrets."""
        props: dict[str, str] = {}
        for opt in self.x_options:
            key, sep, value = opt.partition("=")
            if sep:  # a malformed option is not remembered (nor shown)
                props[key.strip()] = value
        return RecentConnection(self.bootstrap, props, self.config, self.registry)
