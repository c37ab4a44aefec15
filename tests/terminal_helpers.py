"""Running the installed ``event-explorer`` as a person would: on a terminal (a pseudo
terminal), answering its prompts."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from pathlib import Path


def installed_binary() -> str:
    """The installed command: EVENT_EXPLORER_BIN (a packaged install), else the one in
    this virtual environment."""
    given = os.environ.get("EVENT_EXPLORER_BIN")
    return given or str(Path(sys.executable).with_name("event-explorer"))


class Terminal:
    """A command whose stdin and stderr are a pseudo terminal (stdout stays a pipe, for
    the data).  It starts a session of its own, so it can never reach the terminal the
    tests were started from."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self._master, slave = os.openpty()
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = b""

    def expect(self, text: str, timeout: float = 60) -> None:
        """Wait until ``text`` is on the terminal."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                raise AssertionError(f"{text!r} never came; the terminal shows {self.text!r}")

    def type(self, line: str) -> None:
        os.write(self._master, line.encode() + b"\n")

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """Exit code and stdout once the command ends."""
        out, _ = self.proc.communicate(timeout=timeout)
        while self._read(0.2):
            pass
        os.close(self._master)
        return self.proc.returncode, out.decode()

    @property
    def text(self) -> str:
        return self.screen.decode(errors="replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        chunk = b""
        with contextlib.suppress(OSError):  # EIO: the command closed the terminal
            chunk = os.read(self._master, 4096)
        self.screen += chunk
        return bool(chunk)
