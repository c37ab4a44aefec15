"""Keyring fixtures: a real Secret Service (gnome-keyring on a private D-Bus session)
for the tests that store and read secrets through the OS keyring, and guards that keep
every test away from the user's own keyring and config folder.

No Qt here: the core tests use these too.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, fail
from keyring.errors import PasswordDeleteError

# Only our daemon on the bus: no service activation, so neither a second keyring daemon
# nor a graphical unlock prompt can be started behind the test's back.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
NEEDED = ("dbus-daemon", "gnome-keyring-daemon")


@dataclass
class SecretServiceSession:
    """A private Secret Service: its environment (HOME, XDG dirs, bus address)."""

    env: dict[str, str]
    home: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def start_secret_service(base: Path, password: str) -> SecretServiceSession:
    """dbus-daemon and gnome-keyring-daemon (unlocked with ``password``) in ``base``."""
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no {', '.join(missing)} here (tests/run installs gnome-keyring)")
    home, run = base / "home", base / "run"
    home.mkdir(parents=True)
    run.mkdir(mode=0o700)
    socket = run / "bus"
    (base / "bus.conf").write_text(BUS_CONFIG.format(socket=socket))
    env = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(run),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={socket}",
    }
    full = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | env
    session = SecretServiceSession(env, home)
    log = open(base / "daemons.log", "wb")  # noqa: SIM115 - the daemons keep it
    with log:
        session.procs.append(
            subprocess.Popen(
                ["dbus-daemon", "--nofork", f"--config-file={base / 'bus.conf'}"],
                env=full,
                stdout=log,
                stderr=log,
            )
        )
        _wait(lambda: socket.exists(), "the D-Bus session bus", session)
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            env=full,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
        )
        session.procs.append(keyring_daemon)
    assert keyring_daemon.stdin is not None
    keyring_daemon.stdin.write(password.encode())
    keyring_daemon.stdin.close()
    _wait(lambda: _owned(env["DBUS_SESSION_BUS_ADDRESS"]), "the Secret Service", session)
    return session


def _owned(address: str) -> bool:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    with open_dbus_connection(address) as conn:
        reply = conn.send_and_get_reply(
            new_method_call(bus, "NameHasOwner", "s", ("org.freedesktop.secrets",))
        )
    return bool(reply.body[0])


def _wait(ready: Callable[[], bool], what: str, session: SecretServiceSession) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in session.procs):
            break
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.05)
    session.stop()
    raise RuntimeError(f"{what} did not start")


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretServiceSession]:
    """One unlocked gnome-keyring for the session, on its own bus and in its own HOME."""
    session = start_secret_service(tmp_path_factory.mktemp("secret-service"), secrets.token_hex(8))
    yield session
    session.stop()


@pytest.fixture
def real_keyring(
    secret_service: SecretServiceSession, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KeyringBackend]:
    """The Secret Service backend of ``keyring``, talking to the session's gnome-keyring;
    also the default keyring of this process for the test."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.env["DBUS_SESSION_BUS_ADDRESS"])
    backend = SecretService.Keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An in-memory keyring as this process's default, for tests about the app's own
    logic rather than the OS keyring (those use ``real_keyring``)."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict: for the app's own logic, not the OS keyring's."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError("not stored")


@pytest.fixture(autouse=True, scope="session")
def _no_user_keyring_or_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the user's keyring or profiles: the default keyring is
    one that refuses every call, and profiles go to a temp folder."""
    old_env = {
        k: os.environ.get(k) for k in ("EVENT_EXPLORER_CONFIG_DIR", "PYTHON_KEYRING_BACKEND")
    }
    os.environ["EVENT_EXPLORER_CONFIG_DIR"] = str(tmp_path_factory.mktemp("config"))
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    # Set before anything asks keyring for its backend: the user's is never even probed.
    keyring.set_keyring(fail.Keyring())
    yield
    for key, value in old_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def private_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder of the test's own: profiles saved by one test are not another's."""
    config = tmp_path / "config"
    monkeypatch.setenv("EVENT_EXPLORER_CONFIG_DIR", str(config))
    return config
