"""Parts of an index that only some rows have: headers, and errors seen as a mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np

from app.index.storage import Blob, Column


class SparseBytes:
    """Byte strings for a few rows: row ids ascending, their end offsets, one blob.

    Headers use it (most records have none): a lookup is one binary search.
    """

    def __init__(self, rows: Column, ends: Column, blob: Blob) -> None:
        self.rows = rows
        self.ends = ends
        self.blob = blob

    def extend(self, rows: np.ndarray, ends: np.ndarray, data: bytes) -> None:
        """``ends`` relative to ``data``; the blob's current size is added here."""
        if len(rows) == 0:
            return
        self.blob.extend(data)
        self.ends.extend(ends + (self.blob.size - len(data)))
        self.rows.extend(rows)

    def truncate(self, rows_before: int) -> None:
        """Drop the entries of rows >= ``rows_before`` (a batch that failed to land)."""
        rows = self.rows.view()
        keep = int(np.searchsorted(rows, rows_before))
        self.rows.truncate(keep)
        self.ends.truncate(keep)
        self.blob.truncate(int(self.ends.view()[keep - 1]) if keep else 0)

    def get(self, row: int) -> bytes | None:
        rows = self.rows.view()
        i = int(np.searchsorted(rows, row))
        if i == len(rows) or rows[i] != row:
            return None
        ends = self.ends.view()
        start = int(ends[i - 1]) if i else 0
        return self.blob.read(start, int(ends[i]))

    @property
    def private_bytes(self) -> int:
        return self.rows.private_bytes + self.ends.private_bytes + self.blob.private_bytes


class ErrorRows(Mapping[int, str]):
    """Rows that failed to read or decode -> the error, over the ``error`` column.

    Lookups are O(1); iteration and ``len`` find the rows once per index generation.
    """

    def __init__(self, column: Callable[[], np.ndarray], names: list[str]) -> None:
        self._column = column
        self._names = names
        self._rows: np.ndarray | None = None
        self._rows_of: int = -1

    def rows(self) -> np.ndarray:
        col = self._column()
        if self._rows is None or self._rows_of != len(col):
            self._rows = np.flatnonzero(col >= 0)
            self._rows_of = len(col)
        return self._rows

    def changed(self) -> None:
        self._rows = None

    def __getitem__(self, row: int) -> str:
        col = self._column()
        if not isinstance(row, int | np.integer) or not 0 <= row < len(col):
            raise KeyError(row)
        code = int(col[row])
        if code < 0:
            raise KeyError(row)
        return self._names[code]

    def __contains__(self, row: object) -> bool:
        col = self._column()
        return bool(
            isinstance(row, int | np.integer) and 0 <= row < len(col) and int(col[row]) >= 0
        )

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows().tolist())

    def __len__(self) -> int:
        return len(self.rows())
