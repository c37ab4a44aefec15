"""From a profile to a connection: its secrets from the keyring (or asked for), its
properties, its per-topic rules, and its topic lock.

``profile_to_source(profile, password_provider)`` is the one way the CLI and the GUI
turn a profile into a source.  The provider is asked only for what the keyring does not
give: a secret not stored yet (stored once given, so it is asked for once), or every
secret when the keyring is locked or missing (then asked each time, and never written
anywhere).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.profiles.credentials import Credentials, KeyringUnavailable
from app.profiles.lock import LockedClusterSource, TopicLock
from app.profiles.model import REGISTRY_SECRET, Profile
from app.sources import ClusterSource, SourceSettings
from kafka_io.profile import ConnectionProfile
from kafka_io.properties import ProfileError


@dataclass(frozen=True)
class SecretRequest:
    """What a password provider is asked for, and why now."""

    profile: str
    name: str  # the property (or basic.auth.user.info: the registry's user:password)
    reason: str  # one line: why it is asked for
    remembered: bool  # whether the keyring keeps what is given

    @property
    def label(self) -> str:
        if self.name == REGISTRY_SECRET:
            return "schema registry user:password"
        return self.name


# Returns the secret, or None when the user gives none (cancel, no terminal).
PasswordProvider = Callable[[SecretRequest], str | None]


class SecretMissing(ProfileError):
    """A secret the profile needs that neither the keyring nor the user gave."""


def gather_secrets(
    profile: Profile,
    ask: PasswordProvider,
    credentials: Credentials | None = None,
    given: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], str | None]:
    """Every secret of the profile, and why the keyring could not be used (or None).

    ``given``: values supplied otherwise (``-X``), neither looked up nor stored."""
    credentials = credentials or Credentials()
    given = given or {}
    values: dict[str, str] = {}
    broken: str | None = None
    for name in profile.secret_names:
        if name in given:
            continue
        value = None
        if broken is None:
            try:
                value = credentials.get(profile.name, name)
            except KeyringUnavailable as exc:
                broken = str(exc)
        if value is None:
            value = _ask(profile, name, ask, broken)
            if broken is None:
                try:
                    credentials.set(profile.name, name, value)
                except KeyringUnavailable as exc:
                    broken = str(exc)
        values[name] = value
    return values, broken


def _ask(profile: Profile, name: str, ask: PasswordProvider, broken: str | None) -> str:
    if broken is None:
        request = SecretRequest(profile.name, name, "not in the keyring yet", remembered=True)
    else:
        reason = f"{broken}: asked for each time and kept in memory only"
        request = SecretRequest(profile.name, name, reason, remembered=False)
    value = ask(request)
    if value is None:
        raise SecretMissing(f"profile {profile.name}: no value given for {request.label}")
    return value


def connection_profile(
    profile: Profile,
    secrets: Mapping[str, str],
    *,
    extra: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> ConnectionProfile:
    """The kafka_io profile: the profile's properties, its secrets, then ``extra``."""
    props = dict(profile.properties)
    props.update({k: v for k, v in secrets.items() if k != REGISTRY_SECRET})
    props.update(extra or {})
    return ConnectionProfile(
        bootstrap=profile.bootstrap,
        properties=props,
        registry_url=profile.registry_url,
        registry_auth=secrets.get(REGISTRY_SECRET) if profile.registry_auth else None,
        timeout_s=timeout_s,
    )


def source_for(
    profile: Profile, connection: ConnectionProfile, settings: SourceSettings | None = None
) -> ClusterSource:
    """The cluster source of a profile, locked to its topics when it says so."""
    settings = settings or profile.source_settings()
    if profile.locked:
        return LockedClusterSource(
            connection, settings, lock=TopicLock(profile.locked_topics, profile.name)
        )
    return ClusterSource(connection, settings)


def profile_to_source(
    profile: Profile,
    password_provider: PasswordProvider,
    credentials: Credentials | None = None,
    *,
    timeout_s: float = 10.0,
) -> ClusterSource:
    """The profile as a source, its secrets from the keyring or the provider."""
    secrets, _broken = gather_secrets(profile, password_provider, credentials)
    return source_for(profile, connection_profile(profile, secrets, timeout_s=timeout_s))
