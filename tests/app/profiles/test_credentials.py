"""Secrets in the OS keyring: a real Secret Service (gnome-keyring on a private D-Bus),
a locked one, and no keyring at all; in every case never a secret on disk."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
import secretstorage
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail
from keyring_fixtures import MemoryKeyring, SecretServiceSession, start_secret_service

from app.profiles import (
    Credentials,
    KeyringUnavailable,
    Profile,
    ProfileStore,
    SecretMissing,
    SecretRequest,
    gather_secrets,
)

SECRET = "s3cret-Kafka-pw-9f2c"


def _profile(name: str = "team") -> Profile:
    return Profile(name, "b:9093", {"security.protocol": "SASL_SSL"}, ("sasl.password",))


class Asker:
    def __init__(self, value: str | None = SECRET) -> None:
        self.value = value
        self.requests: list[SecretRequest] = []

    def __call__(self, request: SecretRequest) -> str | None:
        self.requests.append(request)
        return self.value


def test_secrets_are_stored_in_and_read_from_a_real_secret_service(
    real_keyring: KeyringBackend, secret_service: SecretServiceSession
) -> None:
    credentials = Credentials(real_keyring)
    assert credentials.unavailable() is None
    credentials.set("team-a", "sasl.password", SECRET)
    assert credentials.get("team-a", "sasl.password") == SECRET
    assert credentials.get("team-b", "sasl.password") is None
    # The entry as another Secret Service client sees it: service and user as documented.
    with secretstorage.dbus_init() as bus:
        items = list(
            secretstorage.search_items(
                bus, {"service": "event-explorer", "username": "team-a/sasl.password"}
            )
        )
        assert [item.get_secret().decode() for item in items] == [SECRET]
    assert credentials.delete("team-a", "sasl.password")
    assert credentials.get("team-a", "sasl.password") is None
    assert not credentials.delete("team-a", "sasl.password")


def test_a_secret_is_asked_for_once_then_comes_from_the_keyring(
    real_keyring: KeyringBackend,
) -> None:
    profile, asker = _profile("asked-once"), Asker()
    first, broken = gather_secrets(profile, asker, Credentials(real_keyring))
    assert first == {"sasl.password": SECRET} and broken is None
    assert [(r.name, r.remembered) for r in asker.requests] == [("sasl.password", True)]
    again = Asker(value=None)  # would refuse: must not be asked
    assert gather_secrets(profile, again, Credentials(real_keyring))[0] == first
    assert again.requests == []
    # What -X gives is neither looked up nor stored.
    given = gather_secrets(profile, again, Credentials(real_keyring), {"sasl.password": "x"})
    assert given == ({}, None)


# keyring's Secret Service backend leaves its D-Bus connection open when a collection
# stays locked; collected here so the warning about it stays with this test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_locked_secret_service_means_asking_each_time_and_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = start_secret_service(tmp_path / "locked", "unlock-pw")
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.env["DBUS_SESSION_BUS_ADDRESS"])
        backend = SecretService.Keyring()
        Credentials(backend).set("team", "sasl.password", "stored-before-the-lock")
        with secretstorage.dbus_init() as bus:
            secretstorage.get_default_collection(bus).lock()
        # No prompt can unlock it here (as when the user dismisses the prompt).
        reason = Credentials(backend).unavailable()
        assert reason is not None and "locked" in reason
        profile = _profile()
        for round_ in (1, 2):
            asker = Asker()
            values, broken = gather_secrets(profile, asker, Credentials(backend))
            assert values == {"sasl.password": SECRET}, round_
            assert broken is not None and "locked" in broken
            [request] = asker.requests
            assert not request.remembered
            assert "locked" in request.reason and "each time" in request.reason
        _assert_nowhere(SECRET, session.home, tmp_path)
    finally:
        session.stop()
        gc.collect()


def test_no_keyring_means_asking_each_time_with_the_reason_and_nothing_on_disk(
    tmp_path: Path,
) -> None:
    credentials = Credentials(fail.Keyring())
    reason = credentials.unavailable()
    assert reason is not None and "no OS keyring" in reason
    assert "keyrings.alt" not in reason  # keyring's own advice would be to write a file
    profile = _profile()
    store = ProfileStore(tmp_path / "profiles")
    store.save(profile)
    for _ in range(2):
        asker = Asker()
        assert gather_secrets(profile, asker, credentials)[0] == {"sasl.password": SECRET}
        assert len(asker.requests) == 1 and "no OS keyring" in asker.requests[0].reason
    with pytest.raises(SecretMissing, match=r"no value given for sasl\.password"):
        gather_secrets(profile, Asker(value=None), credentials)
    store.save(profile)
    written = list(tmp_path.rglob("*"))
    assert [p.name for p in written if p.is_file()] == ["team.evx-profile"]
    _assert_nowhere(SECRET, tmp_path, Path(os.environ["EVENT_EXPLORER_CONFIG_DIR"]))


class _FileKeyring(MemoryKeyring):
    """Stands for keyrings.alt's file backends, which keep secrets in a file."""


_FileKeyring.__module__ = "keyrings.alt.file"


def test_a_keyring_that_keeps_secrets_in_a_file_is_not_used() -> None:
    credentials = Credentials(_FileKeyring())
    with pytest.raises(KeyringUnavailable, match="keeps secrets in a file"):
        credentials.set("team", "sasl.password", SECRET)
    reason = credentials.unavailable()
    assert reason is not None and "does not write secrets to disk" in reason


def test_in_a_chain_the_first_keyring_that_keeps_secrets_off_disk_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memory = MemoryKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [_FileKeyring(), memory])
    credentials = Credentials(chainer.ChainerBackend())
    credentials.set("team", "sasl.password", SECRET)
    assert memory.values == {("event-explorer", "team/sasl.password"): SECRET}


class _BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise OSError(f"D-Bus went away while reading {username}")


def test_a_failing_keyring_is_one_line_and_the_secret_is_asked_for() -> None:
    credentials = Credentials(_BrokenKeyring())
    reason = credentials.unavailable()
    assert reason is not None and reason.startswith("the keyring failed: D-Bus went away")
    asker = Asker()
    assert gather_secrets(_profile(), asker, credentials)[0] == {"sasl.password": SECRET}
    assert not asker.requests[0].remembered


def _assert_nowhere(secret: str, *roots: Path) -> None:
    """No file under ``roots`` holds ``secret`` (as text, or in UTF-16 as some stores do)."""
    needles = [secret.encode(), secret.encode("utf-16-le")]
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                assert not any(n in data for n in needles), f"{secret!r} is in {path}"
