"""Secrets of profiles in the OS keyring (Secret Service, macOS Keychain, Windows
Credential Locker) through the ``keyring`` package: service ``event-explorer``, user
``<profile>/<property>``.

Never on disk: a keyring backend that keeps secrets in a file of its own (the
``keyrings.alt`` ones) is not used, and when no keyring answers, or it stays locked,
``KeyringUnavailable`` says why in one line; callers then ask for the secret each time
and keep it in memory only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kafka_io.properties import ProfileError
from kafka_io.sensitive import scrub

if TYPE_CHECKING:  # keyring itself is imported on first use: it costs every command ~70 ms
    from keyring.backend import KeyringBackend

SERVICE = "event-explorer"
# Backends that refuse every call, and backends that keep secrets in files of their own.
_NO_KEYRING = ("keyring.backends.fail", "keyring.backends.null")
_FILE_BACKENDS = ("keyrings.alt",)


class KeyringUnavailable(ProfileError):
    """No usable keyring: missing, locked, or one that would write secrets to a file."""


def entry(profile: str, name: str) -> str:
    """The keyring user name of a profile's secret."""
    return f"{profile}/{name}"


class Credentials:
    """A profile's secrets in the keyring.  ``backend``: a given keyring backend (tests,
    embedding); default: the one ``keyring`` picks for this machine, checked."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._given = backend
        self._backend: KeyringBackend | None = None

    def backend(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            self._backend = usable_backend(self._given or keyring.get_keyring())
        return self._backend

    def unavailable(self) -> str | None:
        """Why the keyring cannot be used, or None when it answers."""
        try:
            self.get("-", "-")
        except KeyringUnavailable as exc:
            return str(exc)
        return None

    def get(self, profile: str, name: str) -> str | None:
        return self._call("get_password", SERVICE, entry(profile, name))

    def set(self, profile: str, name: str, value: str) -> None:
        self._call("set_password", SERVICE, entry(profile, name), value, secret=value)

    def delete(self, profile: str, name: str) -> bool:
        try:
            self._call("delete_password", SERVICE, entry(profile, name))
        except _NotStored:
            return False
        return True

    def _call(self, method: str, *args: str, secret: str = "") -> Any:
        import keyring.errors

        backend = self.backend()
        try:
            return getattr(backend, method)(*args)
        except keyring.errors.PasswordDeleteError:
            raise _NotStored() from None
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailable("the keyring is locked (its unlock was dismissed)") from None
        except keyring.errors.NoKeyringError:
            raise KeyringUnavailable(_NONE) from None
        except Exception as exc:  # a D-Bus error, a refused prompt, a broken backend
            # from None: a chained exception could carry the value into a traceback.
            raise KeyringUnavailable(f"the keyring failed: {_one_line(exc, secret)}") from None


class _NotStored(Exception):
    pass


_NONE = "no OS keyring is available (no Secret Service, Keychain or Credential Locker answered)"


def usable_backend(backend: KeyringBackend) -> KeyringBackend:
    """``backend``, or the usable one inside a chain; raises ``KeyringUnavailable``
    when there is none or only ones that write secrets to a file."""
    chained = getattr(backend, "backends", None)
    candidates = list(chained) if isinstance(chained, list | tuple) else [backend]
    refused = []
    for candidate in candidates:
        module = type(candidate).__module__
        if module.startswith(_NO_KEYRING):
            continue
        if module.startswith(_FILE_BACKENDS):
            refused.append(f"{module}.{type(candidate).__name__}")
            continue
        return candidate
    if refused:
        raise KeyringUnavailable(
            f"the only keyring found ({refused[0]}) keeps secrets in a file; "
            "Event Explorer does not write secrets to disk"
        )
    raise KeyringUnavailable(_NONE)


def _one_line(exc: BaseException, secret: str) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return scrub(text, [secret] if secret else [])
