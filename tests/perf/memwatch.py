"""Memory of a process and of its worker processes, sampled while something runs.

"Private" is what the OS cannot drop: RssAnon + RssShmem (Linux ``/proc/PID/status``).
Plain RSS adds RssFile, the mapped files' pages the kernel can drop under pressure
(the index's columns), and is reported beside it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

MB = 2**20


def status(pid: int | None = None) -> dict[str, int]:
    """RssAnon, RssFile, RssShmem, VmRSS, VmHWM in bytes (empty if the process is gone)."""
    try:
        text = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("RssAnon", "RssFile", "RssShmem", "VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def private(st: dict[str, int]) -> int:
    return st.get("RssAnon", 0) + st.get("RssShmem", 0)


def children(pid: int | None = None) -> list[int]:
    """Direct child processes (the read workers) of ``pid``."""
    me = pid or os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append(int(entry.name))
    return found


@dataclass
class Peaks:
    parent_private: int = 0
    parent_rss: int = 0
    workers_private: int = 0
    total_private: int = 0
    samples: int = 0
    worker_pids: set[int] = field(default_factory=set)

    def as_mb(self) -> dict[str, float]:
        return {
            "parent_private_mb": round(self.parent_private / MB, 1),
            "parent_rss_mb": round(self.parent_rss / MB, 1),
            "workers_private_mb": round(self.workers_private / MB, 1),
            "total_private_mb": round(self.total_private / MB, 1),
        }


class MemWatch:
    """Samples every ``every`` seconds in a thread; ``with MemWatch() as w: ...``."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peaks = Peaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        p = self.peaks
        me = status()
        kids = children()
        p.worker_pids.update(kids)
        workers = sum(private(status(k)) for k in kids)
        p.parent_private = max(p.parent_private, private(me))
        p.parent_rss = max(p.parent_rss, me.get("VmRSS", 0))
        p.workers_private = max(p.workers_private, workers)
        p.total_private = max(p.total_private, private(me) + workers)
        p.samples += 1


def now_mb() -> dict[str, float]:
    """This process's memory now: private and plain RSS, in MB."""
    st = status()
    return {
        "private_mb": round(private(st) / MB, 1),
        "rss_mb": round(st.get("VmRSS", 0) / MB, 1),
        "rss_file_mb": round(st.get("RssFile", 0) / MB, 1),
    }
