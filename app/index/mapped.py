"""Columns in files mapped into memory: the working form of a saved index.

A column is one raw little-endian file, appended with plain writes and read through a
read-only ``mmap``.  What the index holds is then in the page cache, not in the
process's private memory: resident memory follows what is being looked at, and the
kernel drops clean pages under pressure.

Why writes and not a writable map: a write into a full disk fails with ENOSPC, which
becomes a clear message; a store through a map into a sparse page of a full disk kills
the process with SIGBUS.  A file is grown by ``ftruncate`` (sparse: the disk holds only
what was written) and mapped again; arrays handed out earlier keep the old map alive.

Files of a saved generation may be read by another window at the same time: bytes past
the committed size are free to append to, but bytes before it are never written in
place.  ``put`` on such a file first copies it (copy-on-write: a new inode replaces the
name; readers keep the old one).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from app.index.storage import (
    CRC_CHUNK,
    Blob,
    Column,
    raise_disk_full,
    read_at,
    write_at,
)

_MIN_CAPACITY_BYTES = 1 << 16


class FileColumn:
    """A column in its own file: appended by writes, read through a read-only map."""

    def __init__(self, path: Path, dtype: Any, size: int = 0, *, read_only: bool = False) -> None:
        self.path = path
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.size = size
        self.read_only = read_only
        flags = (os.O_RDONLY if read_only else os.O_RDWR | os.O_CREAT) | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o644)
        self._map: mmap.mmap | None = None
        self._arr = np.empty(0, self.dtype)
        # The file is part of a saved generation: copy it before writing in place.
        self.shared = False
        # Checksums of whole CRC_CHUNK pieces (the last one may be partial) valid for
        # the first ``crc_bytes`` bytes; see ``checksums``.
        self.crcs: list[int] = []
        self.crc_bytes = 0
        self._remap(max(os.fstat(self._fd).st_size, size * self.dtype.itemsize))

    # -- mapping ------------------------------------------------------------------------

    def _remap(self, nbytes: int) -> None:
        itemsize = self.dtype.itemsize
        if self.read_only:
            nbytes = os.fstat(self._fd).st_size
            if nbytes == 0:  # an empty file cannot be mapped
                self._map, self._arr = None, np.empty(0, self.dtype)
                return
            self._map = mmap.mmap(self._fd, nbytes, access=mmap.ACCESS_READ)
            self._arr = np.frombuffer(self._map, self.dtype, nbytes // itemsize)
            return
        nbytes = max(nbytes, _MIN_CAPACITY_BYTES)
        nbytes += -nbytes % mmap.ALLOCATIONGRANULARITY
        if os.fstat(self._fd).st_size < nbytes:
            os.ftruncate(self._fd, nbytes)  # sparse: only written blocks take disk space
        self._map = mmap.mmap(self._fd, nbytes, access=mmap.ACCESS_READ)
        self._arr = np.frombuffer(self._map, self.dtype, nbytes // itemsize)

    @property
    def capacity(self) -> int:
        return len(self._arr)

    def _write(self, offset: int, data: Any) -> None:
        view = memoryview(data).cast("B")
        try:
            while len(view):
                written = write_at(self._fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as exc:
            raise_disk_full(self.path, exc)

    # -- the column interface -----------------------------------------------------------

    def extend(self, values: np.ndarray) -> None:
        n = len(values)
        if n == 0:
            return
        if self.read_only:
            raise OSError(f"{self.path.name} is open read-only")
        need = self.size + n
        if need > self.capacity:
            grown = max(need, self.capacity * 2) * self.dtype.itemsize
            try:
                self._remap(grown)
            except OSError as exc:
                raise_disk_full(self.path, exc)
        data = np.ascontiguousarray(values, dtype=self.dtype)
        offset = self.size * self.dtype.itemsize
        self._write(offset, data)
        self.size = need
        if offset == self.crc_bytes:  # the checksums go along with the appends
            self._feed_checksums(data)

    def view(self) -> np.ndarray:
        return self._arr[: self.size]

    def put(self, row: int, value: Any) -> None:
        if self.read_only:
            raise OSError(f"{self.path.name} is open read-only")
        if self.shared:
            self._copy_on_write()
        item = np.asarray([value], dtype=self.dtype)
        start = row * self.dtype.itemsize
        self._write(start, item)
        self.invalidate_checksums(start)

    def truncate(self, size: int) -> None:
        self.size = min(self.size, size)
        self.invalidate_checksums(self.size * self.dtype.itemsize)

    @property
    def private_bytes(self) -> int:
        return 0  # page cache, not the process's own memory

    # -- copy-on-write and checksums ----------------------------------------------------

    def _copy_on_write(self) -> None:
        """Give this column a file of its own before changing saved bytes in place."""
        used = self.size * self.dtype.itemsize
        tmp = self.path.with_name(self.path.name + ".cow")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
        try:
            copied = 0
            while copied < used:
                chunk = read_at(self._fd, min(CRC_CHUNK, used - copied), copied)
                write_at(fd, memoryview(chunk), copied)
                copied += len(chunk)
            os.replace(tmp, self.path)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise_disk_full(self.path, exc)
        os.close(self._fd)
        self._fd = fd
        self._remap(self.capacity * self.dtype.itemsize)
        self.shared = False

    def invalidate_checksums(self, from_byte: int) -> None:
        """Bytes from ``from_byte`` on changed (or went): forget their checksums."""
        if from_byte >= self.crc_bytes:
            return
        keep = from_byte // CRC_CHUNK
        del self.crcs[keep:]
        self.crc_bytes = min(self.crc_bytes, keep * CRC_CHUNK)

    def checksums(self, nbytes: int) -> list[int]:
        """CRC32 of each CRC_CHUNK of the first ``nbytes``.

        Appends at the end feed them as they are written (a whole build's files need
        no reading back at its save); what they did not cover is read with ``pread``,
        not through the map: the pages then stay out of this process's resident set."""
        if nbytes < self.crc_bytes:
            self.invalidate_checksums(nbytes)
        while self.crc_bytes < nbytes:
            lo = self.crc_bytes
            self._feed_checksums(read_at(self._fd, min(nbytes - lo, CRC_CHUNK), lo))
        return list(self.crcs)

    def _feed_checksums(self, data: Any) -> None:
        """Extend the checksums with ``data``, the bytes right after ``crc_bytes``
        (``crcs`` holds one checksum per chunk begun, the last one maybe partial)."""
        view = memoryview(data).cast("B")
        at = 0
        while at < len(view):
            begun = self.crc_bytes % CRC_CHUNK
            piece = view[at : at + CRC_CHUNK - begun]
            if begun:
                self.crcs[-1] = zlib.crc32(piece, self.crcs[-1])
            else:
                self.crcs.append(zlib.crc32(piece))
            self.crc_bytes += len(piece)
            at += len(piece)

    def close(self) -> None:
        # The map holds a descriptor of its own: it goes once no array uses it.
        self._map, self._arr = None, np.empty(0, self.dtype)
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        self.close()


class FileBlob:
    """Bytes in their own file, as a FileColumn of uint8 with byte-string helpers."""

    def __init__(self, path: Path, size: int = 0, *, read_only: bool = False) -> None:
        self.column = FileColumn(path, np.uint8, size, read_only=read_only)

    @property
    def size(self) -> int:
        return self.column.size

    @property
    def path(self) -> Path:
        return self.column.path

    def extend(self, data: bytes | bytearray | memoryview) -> None:
        self.column.extend(np.frombuffer(data, np.uint8))

    def find(self, needle: bytes, start: int, end: int) -> int:
        if self.column._map is None:
            return -1
        return self.column._map.find(needle, start, min(end, self.size))

    def read(self, start: int, end: int) -> bytes:
        if self.column._map is None:
            return b""
        return self.column._map[start : min(end, self.size)]

    def view(self) -> np.ndarray:
        return self.column.view()

    def truncate(self, size: int) -> None:
        self.column.truncate(size)

    @property
    def private_bytes(self) -> int:
        return 0


class FileStorage:
    """Columns as files in one generation folder.

    ``files`` maps a column's name to its file name and committed item count: what a
    saved generation holds (those files are opened at that size and copied before any
    write in place).  A column not listed gets a new file (named with ``fresh``, so a
    file some saved meta lists is never reused from its start)."""

    persistent = True

    def __init__(
        self,
        folder: Path,
        files: dict[str, tuple[str, int]] | None = None,
        *,
        read_only: bool = False,
        fresh: str = "",
    ) -> None:
        self.folder = folder
        self.saved = dict(files or {})
        self.read_only = read_only
        self.fresh = fresh
        self.files: dict[str, FileColumn] = {}

    def _path(self, name: str) -> tuple[Path, int, bool]:
        if name in self.saved:
            file, size = self.saved[name]
            return self.folder / file, size, True
        suffix = f"-{self.fresh}" if self.fresh else ""
        path = self.folder / f"{name}{suffix}.bin"
        if not self.read_only and path.exists():
            path.unlink()  # left by a save that never committed
        return path, 0, False

    def column(self, name: str, dtype: Any) -> Column:
        path, size, shared = self._path(name)
        col = FileColumn(path, dtype, size, read_only=self.read_only)
        col.shared = shared
        self.files[name] = col
        return col

    def new_column(self, name: str, dtype: Any) -> Column:
        """A column that replaces ``name`` from its first row (in a new file)."""
        self.saved.pop(name, None)
        col = FileColumn(self.folder / f"{name}-{secrets.token_hex(6)}.bin", dtype)
        self.files[name] = col
        return col

    def blob(self, name: str) -> Blob:
        path, size, shared = self._path(name)
        blob = FileBlob(path, size, read_only=self.read_only)
        blob.column.shared = shared
        self.files[name] = blob.column
        return blob

    def mark_saved(self) -> None:
        """Everything up to now is part of a saved generation (see ``put``)."""
        for col in self.files.values():
            col.shared = True

    def close(self) -> None:
        for col in self.files.values():
            col.close()
