"""Moving profiles between people: import a file (refusing secrets in it), export one
(never a secret), make one from a working connection, delete one with its secrets."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.profiles.credentials import Credentials, KeyringUnavailable
from app.profiles.fileformat import ProfileFormatError, dumps, loads
from app.profiles.model import REGISTRY_SECRET, Profile
from app.profiles.store import ProfileStore
from kafka_io.profile import ConnectionProfile
from kafka_io.properties import ProfileError
from kafka_io.sensitive import is_secret

# A profile is a few hundred bytes; anything this big is not one (a wrong double-click).
MAX_FILE_BYTES = 1 << 20


class ProfileExists(ProfileError):
    pass


def read_profile_file(path: Path, name: str | None = None) -> tuple[Profile, list[str]]:
    """The profile in a file, and warnings; ``name`` replaces the file's own name."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProfileFormatError(f"{path.name} is {size:,} bytes: not a profile file")
        data = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileFormatError(f"{path.name} is not UTF-8 text: not a profile file") from None
    try:
        return loads(text, name=name)
    except ProfileError as exc:
        raise type(exc)(f"{path.name}: {exc}") from None


def import_profile(store: ProfileStore, profile: Profile, *, replace: bool = False) -> Path:
    if store.exists(profile.name) and not replace:
        raise ProfileExists(
            f"a profile named {profile.name!r} exists: import with another name "
            "(--name), or replace it (--replace)"
        )
    return store.save(profile)


def export_text(store: ProfileStore, name: str) -> str:
    """The profile file to hand out: what the store holds, which has no secret."""
    return dumps(store.load(name))


def from_connection(
    name: str,
    connection: ConnectionProfile,
    *,
    locked_topics: Iterable[str] = (),
    fold_folder: str | None = None,
    description: str = "",
) -> tuple[Profile, dict[str, str]]:
    """A profile made from a working connection (``-b``/``-X``/``--config``), and the
    secrets it holds, which belong in the keyring."""
    public: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in connection.properties.items():
        (secrets if is_secret(key, value) else public)[key] = value
    if connection.registry_auth:
        secrets[REGISTRY_SECRET] = connection.registry_auth
    registry = connection.registry_url
    if registry is not None and "@" in registry.partition("//")[2].partition("/")[0]:
        raise ProfileError(
            "the registry URL carries credentials: give them with --registry-auth instead"
        )
    profile = Profile(
        name=name,
        bootstrap=connection.bootstrap,
        properties=public,
        secrets=tuple(k for k in secrets if k != REGISTRY_SECRET),
        registry_url=registry,
        registry_auth=connection.registry_auth is not None,
        locked_topics=tuple(locked_topics),
        fold_folder=fold_folder,
        description=description,
    )
    return profile, secrets


def delete_profile(store: ProfileStore, name: str, credentials: Credentials) -> str | None:
    """Remove the profile and its keyring entries; returns why the keyring entries could
    not be removed, if they could not."""
    profile = store.load(name)
    store.delete(name)
    try:
        for secret in profile.secret_names:
            credentials.delete(name, secret)
    except KeyringUnavailable as exc:
        return str(exc)
    return None
