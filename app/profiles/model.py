"""A named connection profile: everything needed to reach a cluster and read its topics
the way a team reads them, except its secrets.

A ``Profile`` cannot hold a secret value: a property that ``kafka_io.sensitive.is_secret``
flags is refused when the profile is made, so no file written from a profile, and no
message about one, can carry a secret.  Secrets are only *named* here (``secrets``) and
live in the OS keyring (``app.profiles.credentials``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from types import MappingProxyType

from app.masking.rules import MaskingRules
from app.sources.settings import SourceSettings, TopicSettings
from kafka_io.properties import ProfileError
from kafka_io.sensitive import is_secret, strip_url_credentials

# The keyring entry that holds the schema registry's "user:password" (the name the Java
# client's properties use for it).
REGISTRY_SECRET = "basic.auth.user.info"
EXTENSION = ".evx-profile"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SecretInProfile(ProfileError):
    """A secret value where only names of secrets may be: refused, value not repeated."""


def check_name(name: str) -> str:
    """A profile name is a file name on every platform and a keyring user prefix."""
    if not _NAME.match(name):
        raise ProfileError(
            f"profile name {name!r}: use letters, digits, '.', '_' or '-' "
            "(up to 64, starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class Profile:
    name: str
    bootstrap: str
    # librdkafka properties, none of them secret.
    properties: Mapping[str, str] = field(default_factory=dict)
    # Names of the secret properties; their values are in the keyring.
    secrets: tuple[str, ...] = ()
    registry_url: str | None = None  # never with credentials in it
    registry_auth: bool = False  # the registry's user:password is in the keyring
    defaults: TopicSettings = field(default_factory=TopicSettings)
    topics: Mapping[str, TopicSettings] = field(default_factory=dict)
    fold_folder: str | None = None
    masking: MaskingRules = field(default_factory=MaskingRules)
    # Globs; when given the app shows and reads only the topics they match.
    locked_topics: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name)
        if not self.bootstrap.strip():
            raise ProfileError(f"profile {self.name}: no bootstrap servers")
        for key, value in self.properties.items():
            if is_secret(key, value):
                raise SecretInProfile(
                    f"property '{key}' holds a secret: profiles keep secrets in the OS "
                    "keyring, never in a file (list its name under kafka.secrets instead)"
                )
            if key == "bootstrap.servers":
                raise ProfileError("bootstrap.servers belongs in kafka.bootstrap")
        if self.registry_url and strip_url_credentials(self.registry_url) != self.registry_url:
            raise SecretInProfile(
                "the registry URL carries credentials: give registry.auth = true and the "
                "user:password is asked for and kept in the OS keyring"
            )
        for pattern in self.locked_topics:
            if not pattern.strip():
                raise ProfileError("locked_topics: an empty pattern")
        object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))
        object.__setattr__(self, "topics", MappingProxyType(dict(self.topics)))
        object.__setattr__(self, "secrets", tuple(dict.fromkeys(self.secrets)))
        object.__setattr__(self, "locked_topics", tuple(self.locked_topics))

    @property
    def secret_names(self) -> tuple[str, ...]:
        """Every keyring entry the profile needs, in the order they are asked for."""
        registry = (REGISTRY_SECRET,) if self.registry_auth else ()
        return (*self.secrets, *registry)

    @property
    def locked(self) -> bool:
        return bool(self.locked_topics)

    def allows_topic(self, topic: str) -> bool:
        """Whether the profile lets the app show and read ``topic``."""
        return not self.locked_topics or any(fnmatchcase(topic, p) for p in self.locked_topics)

    def source_settings(self) -> SourceSettings:
        return SourceSettings(self.defaults, self.topics)

    def describe(self) -> list[tuple[str, str]]:
        """(what, value) rows saying what the profile holds, for ``profile show`` and
        the import dialog; values of secrets are never part of a profile."""
        rows = [("Name", self.name)]
        if self.description:
            rows.append(("Description", self.description))
        rows.append(("Bootstrap servers", self.bootstrap))
        rows += [(f"Property {k}", v) for k, v in sorted(self.properties.items())]
        if self.secret_names:
            rows.append(("Asked for, kept in the keyring", ", ".join(self.secret_names)))
        if self.registry_url:
            auth = " (with user:password)" if self.registry_auth else ""
            rows.append(("Schema registry", self.registry_url + auth))
        if not self.defaults.is_default:
            rows.append(("Rules for every topic", _rules(self.defaults)))
        rows += [(f"Rules for {t}", _rules(s)) for t, s in sorted(self.topics.items())]
        if self.locked_topics:
            rows.append(("Only these topics", ", ".join(self.locked_topics)))
        if self.fold_folder:
            rows.append(("Fold folder", self.fold_folder))
        if self.masking.active:
            masking = self.masking
            rows.append(("Masked fields", ", ".join(masking.fields)))
            rows.append(
                (
                    "Masking",
                    f"{masking.how}; unmask {'allowed' if masking.allow_unmask else 'not allowed'}"
                    f"; index cache {'used' if masking.use_index_cache else 'not used'}",
                )
            )
        return rows


def _rules(settings: TopicSettings) -> str:
    parts = [
        f"type {settings.type_rule}" if settings.type_rule else "",
        f"aggregate {settings.aggregate_rule}" if settings.aggregate_rule else "",
        f"format {settings.value_format}" if str(settings.value_format) != "auto" else "",
        f"partitioner {settings.partitioner}" if settings.partitioner else "",
    ]
    return ", ".join(p for p in parts if p) or "detected"
