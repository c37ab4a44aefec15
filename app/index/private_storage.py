"""Columns in files nobody else can see: the index of a topic that must not be kept.

A profile whose masking forbids keeping unmasked values on disk still wants an index
whose memory does not grow with the topic.  Its columns are files mapped like a saved
index's (``app.index.mapped``), but each file is unlinked as soon as it is open: it has
no name in any folder, only this process's descriptor keeps it alive, and the kernel
frees it when the index is closed or the process ends however it ends (a crash, a kill).
Nothing of it is ever in the cache folder, and no ``meta.json`` could ever list it.

Where unlinking an open file is refused (Windows), the file is deleted when the index
is closed or collected instead.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from app.index.mapped import FileBlob, FileColumn
from app.index.storage import Blob, Column


def _forget(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


class PrivateStorage:
    """Columns in anonymous files of ``scratch`` (the system's temporary folder if
    None); never saved (``persistent`` is False, ``app.index.store.save`` refuses)."""

    persistent = False
    private = True

    def __init__(self, scratch: Path | None = None) -> None:
        self.scratch = scratch or Path(tempfile.gettempdir())
        self.files: dict[str, FileColumn] = {}
        self._undeleted: list[Path] = []
        # Runs at close() or when the storage is collected, whichever comes first.
        self._finalizer = weakref.finalize(self, _forget, self._undeleted)

    def _new_file(self) -> Path:
        fd, name = tempfile.mkstemp(prefix="event-explorer-", suffix=".bin", dir=self.scratch)
        os.close(fd)
        return Path(name)

    def _hide(self, col: FileColumn) -> None:
        try:
            col.path.unlink()
        except OSError:
            self._undeleted.append(col.path)

    def column(self, name: str, dtype: Any) -> Column:
        col = FileColumn(self._new_file(), dtype)
        self._hide(col)
        self.files[name] = col
        return col

    def new_column(self, name: str, dtype: Any) -> Column:
        return self.column(name, dtype)

    def blob(self, name: str) -> Blob:
        blob = FileBlob(self._new_file())
        self._hide(blob.column)
        self.files[name] = blob.column
        return blob

    def close(self) -> None:
        for col in self.files.values():
            col.close()
        self._finalizer()


def private_storage(scratch: Path | None = None) -> PrivateStorage | None:
    """A PrivateStorage, or None when its folder cannot hold files (the caller keeps
    the index in memory then)."""
    storage = PrivateStorage(scratch)
    try:
        storage.column("probe", np.uint8)
    except OSError:
        return None
    storage.files.pop("probe").close()
    return storage
