"""The cache folder's files: where an index lives, its lock, meta.json, checksums.

Layout under the cache root (platformdirs' user cache dir, ``EVENT_EXPLORER_CACHE_DIR``
or an explicit ``cache_dir``)::

    <root>/<cluster slug>-<hash>/<topic slug>-<hash>/
        lock                      held (flock) by the one process that writes this index
        meta.json                 format, identity, rows, positions, each file's checksums
        gen-<token>/<column>.bin  one raw little-endian file per column, values.bin,
                                  headers.bin, names-<token>.json, order-<token>.bin ...

``meta.json`` is replaced atomically (temp file + ``os.replace``); what it lists is the
saved index, and nothing else in the folder is trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import orjson
import platformdirs

from app.index.storage import CRC_CHUNK, read_at

FORMAT_VERSION = 3  # 3: the saved files are the working form (mapped, appended in place)
APP_NAME = "event-explorer"
META = "meta.json"
LOCK = "lock"
_STALE_S = 3600.0  # temp files of a crashed save older than this are removed
# Filesystems whose locks and shared maps cannot be relied on.
_NETWORK_FS = (
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "afs",
    "fuse.sshfs",
    "ceph",
    "glusterfs",
)


class CacheError(Exception):
    """A stored index that cannot be used (the message says why)."""


def default_cache_dir() -> Path:
    override = os.environ.get("EVENT_EXPLORER_CACHE_DIR")
    if override:
        return Path(override)
    return platformdirs.user_cache_path(APP_NAME) / "index"


def _slug(text: str) -> str:
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', text)[:60]}-{digest}"


def index_dir(cluster_id: str, topic: str, cache_dir: Path | None = None) -> Path:
    """The folder of one cluster + topic's index."""
    return (cache_dir or default_cache_dir()) / _slug(cluster_id) / _slug(topic)


def token() -> str:
    return secrets.token_hex(6)


# ---------------------------------------------------------------------- the lock


class TopicLock:
    """The right to write one topic's index, held as long as this object lives.

    ``flock`` conflicts between two opens even in one process, so two windows of the
    same app are told apart too; the kernel releases it when the process dies.
    """

    # Locks held by this process: a read of the topic that was just replaced (a topic
    # opened again at once) lets go in a moment, so it is waited for, briefly.
    _here: ClassVar[set[str]] = set()
    _here_changed = threading.Condition()

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK
        self._fd = -1

    def acquire(self, own_wait_s: float = 5.0) -> bool:
        """``try_acquire``, waiting up to ``own_wait_s`` while this process holds it."""
        deadline = time.monotonic() + own_wait_s
        with TopicLock._here_changed:
            while str(self.path) in TopicLock._here and time.monotonic() < deadline:
                TopicLock._here_changed.wait(max(0.0, deadline - time.monotonic()))
        return self.try_acquire()

    def try_acquire(self, *, touch: bool = True) -> bool:
        """Take the lock if it is free; ``touch``: mark the index as used now (not when
        only probing whether someone holds it)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_fd(fd)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        with TopicLock._here_changed:
            TopicLock._here.add(str(self.path))
        if touch:
            with contextlib.suppress(OSError):
                os.utime(self.path)  # "last used", for the cache's eviction
        return True

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def release(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing the descriptor drops the flock
            with TopicLock._here_changed:
                TopicLock._here.discard(str(self.path))
                TopicLock._here_changed.notify_all()

    def __del__(self) -> None:
        self.release()


def _lock_fd(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def is_locked(folder: Path) -> bool:
    """Whether some process holds the topic's lock now."""
    probe = TopicLock(folder)
    if not (folder / LOCK).exists():
        return False
    try:
        if probe.try_acquire(touch=False):
            probe.release()
            return False
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------- usability


def unusable_reason(root: Path) -> str | None:
    """Why the cache folder cannot hold mapped indexes (None: it can)."""
    fstype = filesystem_type(root)
    if fstype in _NETWORK_FS:
        return f"the cache folder {root} is on a network filesystem ({fstype})"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{token()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"the cache folder {root} cannot be written ({exc.strerror or exc})"
    return None


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding ``path`` (Linux: from /proc/mounts)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, found = -1, None
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        if (target == point or target.startswith(point.rstrip("/") + "/")) and len(point) > best:
            best, found = len(point), fields[2]
    return found


# ---------------------------------------------------------------------- meta.json


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The folder's meta.json; None when there is none; CacheError when unreadable."""
    path = folder / META
    if not path.exists():
        return None
    try:
        meta = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CacheError(f"unreadable meta.json: {exc}") from exc
    if not isinstance(meta, dict):
        raise CacheError("meta.json is not an object")
    return meta


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    tmp = folder / f"{META}.tmp-{token()}"
    tmp.write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    os.replace(tmp, folder / META)


def referenced_files(meta: dict[str, Any]) -> set[str]:
    """The file names (inside the generation folder) a meta lists."""
    names = {e["file"] for e in meta.get("files", {}).values()}
    for key in ("names", "aggregates"):
        entry = meta.get(key)
        if isinstance(entry, dict) and "file" in entry:
            names.add(entry["file"])
    tail = (meta.get("order") or {}).get("tail")
    if isinstance(tail, dict) and "file" in tail:
        names.add(tail["file"])
    return names


def prune(folder: Path, meta: dict[str, Any] | None, working: str | None = None) -> None:
    """Remove what no saved meta lists: other generations, and token files of earlier
    saves in the current one (``working``: a generation being written, kept)."""
    keep_gen = meta.get("generation") if meta else None
    keep_files = referenced_files(meta) if meta else set()
    now = time.time()
    for path in folder.glob("gen-*"):
        if path.name in (keep_gen, working):
            continue
        shutil.rmtree(path, ignore_errors=True)
    if keep_gen:
        for path in (folder / keep_gen).glob("*-*.*"):
            if path.name not in keep_files and path.suffix in (".json", ".bin"):
                with contextlib.suppress(OSError):
                    path.unlink()
    for tmp in folder.glob(f"{META}.tmp-*"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_S:
                tmp.unlink()


def disk_bytes(path: Path) -> int:
    """Bytes a folder takes on disk (blocks really allocated: the files are sparse)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.stat(os.path.join(root, name))
                total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total


# ---------------------------------------------------------------------- checksums


def file_entry(name: str, nbytes: int, crcs: list[int], items: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": name, "bytes": nbytes, "chunk": CRC_CHUNK, "crcs": crcs}
    if items is not None:
        entry["items"] = items
    return entry


def crc_chunks(data: Any) -> list[int]:
    """Chunk checksums of bytes-like ``data`` (as ``FileColumn.checksums`` makes them)."""
    view = memoryview(data).cast("B")
    return [zlib.crc32(view[lo : lo + CRC_CHUNK]) for lo in range(0, len(view), CRC_CHUNK)]


def check_entry(path: Path, entry: dict[str, Any]) -> None:
    """The file holds at least the bytes its entry lists (it may hold more: appends
    after the save that listed it)."""
    try:
        size = path.stat().st_size
    except OSError:
        raise CacheError(f"{path.name} is missing") from None
    if size < int(entry["bytes"]):
        raise CacheError(f"{path.name} has {size} bytes, {entry['bytes']} expected")


class Verification:
    """Checks every listed file's checksums in a background thread.

    The files are opened when this is made, so a later copy-on-write of a column (a
    new file under the same name) does not change what is being checked.
    """

    def __init__(
        self,
        gen_dir: Path,
        entries: list[dict[str, Any]],
        then: Callable[[], None] | None = None,
    ) -> None:
        """``then``: further checks once the checksums matched (CacheError: damaged)."""
        self.result: str | None = None
        self._then = then
        self._done = threading.Event()
        self._jobs: list[tuple[int, dict[str, Any]]] = []
        for entry in entries:
            self._jobs.append((os.open(gen_dir / entry["file"], os.O_RDONLY), entry))
        self._thread = threading.Thread(target=self._run, name="verify index", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for fd, entry in self._jobs:
                if self.result is None:
                    self.result = _check_crcs(fd, entry)
            if self.result is None and self._then is not None:
                self._then()
        except CacheError as exc:
            self.result = str(exc)
        finally:
            for fd, _entry in self._jobs:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> str | None:
        """None when every checksum matched; else what is damaged."""
        self._done.wait(timeout)
        return self.result


def _check_crcs(fd: int, entry: dict[str, Any]) -> str | None:
    chunk = int(entry.get("chunk", CRC_CHUNK))
    nbytes = int(entry["bytes"])
    crcs = entry.get("crcs", [])
    if len(crcs) != (nbytes + chunk - 1) // chunk:
        return f"{entry['file']}: its checksum list does not cover it"
    for i, expected in enumerate(crcs):
        lo = i * chunk
        data = read_at(fd, min(chunk, nbytes - lo), lo)
        if len(data) != min(chunk, nbytes - lo) or zlib.crc32(data) != expected:
            return f"{entry['file']} is corrupt (checksum mismatch at byte {lo})"
    return None
