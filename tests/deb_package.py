"""Building, installing and running the .deb, for the packaging tests and benchmarks.

The package is built by ``resources/packaging/build-deb`` (which skips the build when
its inputs have not changed), or taken from ``EVENT_EXPLORER_DEB=path`` for quick local
loops.  Installing uses apt, so the package's Depends are resolved as on a user's machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_DEB = ROOT / "resources" / "packaging" / "build-deb"
PACKAGE = "event-explorer"
APP_DIR = Path("/opt/event-explorer")
COMMAND = Path("/usr/bin/event-explorer")
INTERNAL = APP_DIR / "_internal"
BUILD_TIMEOUT_S = 1800
APT_TIMEOUT_S = 600
# Other work on the machine may hold the dpkg lock for a while: wait rather than fail.
LOCK_WAIT_S = 300
APT_LOCK = ["-o", f"DPkg::Lock::Timeout={LOCK_WAIT_S}"]


class PackagingError(Exception):
    """The package could not be built, installed or removed; the message says why."""


@dataclass(frozen=True)
class Built:
    path: Path
    seconds: float  # 0 when an existing package was reused


def build(log: Path) -> Built:
    """The .deb to test: ``EVENT_EXPLORER_DEB`` if set, else build-deb's (cached) output.
    build-deb's progress goes to ``log``."""
    given = os.environ.get("EVENT_EXPLORER_DEB")
    if given:
        path = Path(given).resolve()
        if not path.is_file():
            raise PackagingError(f"EVENT_EXPLORER_DEB={given}: no such file")
        return Built(path, 0.0)
    started = time.monotonic()
    with log.open("w") as stderr:
        done = subprocess.run(
            [str(BUILD_DEB)], stdout=subprocess.PIPE, stderr=stderr, text=True,
            timeout=BUILD_TIMEOUT_S, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise PackagingError(f"build-deb failed (exit {done.returncode}):\n{tail}")
    return Built(Path(done.stdout.strip().splitlines()[-1]), time.monotonic() - started)


def is_installed() -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True
    )
    return done.returncode == 0 and "installed" in done.stdout.split()


def install(deb: Path) -> float:
    """``apt-get install ./the.deb``; returns the seconds it took."""
    started = time.monotonic()
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", *APT_LOCK, str(deb.resolve())],
        capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )  # fmt: skip
    if done.returncode != 0:
        raise PackagingError(f"apt-get install failed:\n{done.stdout[-2000:]}{done.stderr}")
    return time.monotonic() - started


def remove() -> subprocess.CompletedProcess[str]:
    """``dpkg -r``, waiting while other work on the machine holds the dpkg lock (dpkg
    itself gives up at once)."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        done = subprocess.run(
            ["dpkg", "-r", PACKAGE], capture_output=True, text=True, timeout=APT_TIMEOUT_S
        )
        if done.returncode == 0 or "lock" not in done.stderr or time.monotonic() > deadline:
            return done
        time.sleep(2)


def installed_files() -> list[Path]:
    out = subprocess.run(
        ["dpkg-query", "-L", PACKAGE], capture_output=True, text=True, check=True
    ).stdout
    return [Path(line) for line in out.splitlines() if line.startswith("/")]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a fresh desktop session gives the app: a PATH and a home, no Python at all
    (no PYTHONHOME, PYTHONPATH, virtual environment), and Qt's offscreen platform."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
            "LANG": "C.UTF-8", **extra}  # fmt: skip


def run_installed(
    args: list[str], home: Path, timeout: float = 120, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *args], env=clean_env(home, **extra_env), capture_output=True,
        text=True, timeout=timeout, cwd=home, check=False,
    )  # fmt: skip


def missing_tools() -> list[str]:
    return [tool for tool in ("apt-get", "dpkg", "dpkg-deb") if shutil.which(tool) is None]
