"""Running a function inside the installed, frozen app, with its executable as a
multiprocessing worker.

A frozen app starts a worker by running its own executable again with
``--multiprocessing-fork``; ``multiprocessing.freeze_support()`` at the app's entry turns
that start into the worker.  This module starts the installed executable the same way
from an ordinary interpreter, so a test or a benchmark can run one of its functions
inside the bundle (the bundle's Python, Qt and app code), where the app's own workers
will run.

The caller must be a script run as ``__main__``: the worker re-runs it by path (under
``__mp_main__``, so its ``if __name__ == "__main__"`` block stays out) to find the
function, so the script's top-level imports must be the standard library's.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.resource_tracker
import multiprocessing.spawn
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

APP_DIR = Path("/opt/event-explorer")


def bundle_sys_path(app_dir: Path = APP_DIR) -> list[str]:
    """The module search path of a PyInstaller 6 one-folder bundle."""
    internal = app_dir / "_internal"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [str(internal / "base_library.zip"), str(internal / version / "lib-dynload"),
            str(internal)]  # fmt: skip


def start_in_bundle(
    executable: Path, target: Callable[..., None], *args: object, app_dir: Path = APP_DIR
) -> tuple[BaseProcess, Connection]:
    """Start ``target(conn, *args)`` in a worker that is ``executable``; returns the
    process and the parent's end of the pipe ``conn`` belongs to."""
    # The resource tracker stays a process of this interpreter, not of the bundle.
    multiprocessing.resource_tracker.ensure_running()
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    saved_path = sys.path[:]
    was_frozen = hasattr(sys, "frozen")
    # multiprocessing starts a frozen app's worker as `exe --multiprocessing-fork ...`
    # and hands it the parent's sys.path: both as a frozen app of that bundle would.
    setattr(sys, "frozen", True)  # noqa: B010 - no such attribute in the type stubs
    sys.path[:] = bundle_sys_path(app_dir)
    multiprocessing.spawn.set_executable(str(executable))
    try:
        process = context.Process(target=target, args=(child_end, *args), daemon=True)
        process.start()
    finally:
        multiprocessing.spawn.set_executable(sys.executable)
        sys.path[:] = saved_path
        if not was_frozen:
            delattr(sys, "frozen")
    child_end.close()
    return process, parent_end
