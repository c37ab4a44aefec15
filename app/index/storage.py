"""Where an index's columns live: in memory, or in files mapped into memory.

Both kinds offer the same small interface (``extend``, ``view``, ``put``, ``truncate``) so
the index does not care which it has:

* ``MemColumn`` / ``MemBlob`` (here): growable numpy arrays and a bytearray, for indexes
  that are never saved (a file read, a cold read, a cache folder that cannot be used).
* ``FileColumn`` / ``FileBlob`` (``app.index.mapped``): files of the cache folder,
  appended with writes and read through memory maps.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import sys
from pathlib import Path
from typing import Any, Protocol

import numpy as np

CRC_CHUNK = 1 << 24  # bytes per checksum: a modified row re-checks 16 MiB, not the file


class DiskFullError(OSError):
    """The cache folder's disk is full: the build stopped, the last saved index stays."""


def write_at(fd: int, data: memoryview, offset: int) -> int:
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows: one writer per file, so seek + write
    return os.write(fd, data)


def read_at(fd: int, n: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


def release_free_memory() -> None:
    """Hand memory freed by a big read back to the OS.

    glibc keeps freed heap memory for reuse; after a build has allocated and freed
    gigabytes in batch-sized pieces, most of the process's private memory is such free
    space (a million-event build: 90 MB before, 30 MB after).  No-op elsewhere."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl...)


def raise_disk_full(path: Path, exc: OSError) -> None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFullError(
            exc.errno, f"the disk holding the index cache is full (writing {path.name})"
        ) from exc
    raise exc


class Column(Protocol):
    """A growable typed column."""

    dtype: np.dtype
    size: int

    def extend(self, values: np.ndarray) -> None: ...
    def view(self) -> np.ndarray: ...
    def put(self, row: int, value: Any) -> None: ...
    def truncate(self, size: int) -> None: ...
    @property
    def private_bytes(self) -> int: ...


class Blob(Protocol):
    """Growable bytes: the values (or headers) back to back."""

    @property
    def size(self) -> int: ...

    def extend(self, data: bytes | bytearray | memoryview) -> None: ...
    def find(self, needle: bytes, start: int, end: int) -> int: ...
    def read(self, start: int, end: int) -> bytes: ...
    def truncate(self, size: int) -> None: ...
    @property
    def private_bytes(self) -> int: ...


# ---------------------------------------------------------------------- memory


class MemColumn:
    """A growable numpy column in memory (amortised 1.5x growth)."""

    __slots__ = ("data", "dtype", "size")

    def __init__(self, dtype: Any, data: np.ndarray | None = None) -> None:
        self.dtype = np.dtype(dtype)
        if data is None:
            self.data = np.empty(1024, dtype=self.dtype)
            self.size = 0
        else:
            self.data = np.array(data, dtype=self.dtype)  # a private, writable copy
            self.size = len(data)

    def extend(self, values: np.ndarray) -> None:
        n = len(values)
        need = self.size + n
        if need > len(self.data):
            # A new array, never a resize: views handed out keep the old one intact.
            grown = np.empty(max(need, len(self.data) * 3 // 2), dtype=self.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : need] = values
        self.size = need

    def view(self) -> np.ndarray:
        return self.data[: self.size]

    def put(self, row: int, value: Any) -> None:
        self.data[row] = value

    def truncate(self, size: int) -> None:
        self.size = min(self.size, size)

    @property
    def private_bytes(self) -> int:
        return int(self.data.nbytes)


class MemBlob:
    """Bytes in memory.  Never exported as a buffer, so it stays free to grow."""

    __slots__ = ("data",)

    def __init__(self, data: bytearray | bytes | None = None) -> None:
        self.data = bytearray(data or b"")

    @property
    def size(self) -> int:
        return len(self.data)

    def extend(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def find(self, needle: bytes, start: int, end: int) -> int:
        return self.data.find(needle, start, end)

    def read(self, start: int, end: int) -> bytes:
        return bytes(self.data[start:end])

    def truncate(self, size: int) -> None:
        del self.data[size:]

    @property
    def private_bytes(self) -> int:
        return len(self.data)


# ---------------------------------------------------------------------- storages


class Storage(Protocol):
    """Makes the columns and blobs of one index."""

    @property
    def persistent(self) -> bool: ...
    def column(self, name: str, dtype: Any) -> Column: ...
    def new_column(self, name: str, dtype: Any) -> Column: ...
    def blob(self, name: str) -> Blob: ...


class MemoryStorage:
    persistent = False

    def column(self, name: str, dtype: Any) -> Column:
        return MemColumn(dtype)

    def new_column(self, name: str, dtype: Any) -> Column:
        return MemColumn(dtype)

    def blob(self, name: str) -> Blob:
        return MemBlob()
