"""A growable 2-D float ring: the storage behind ``LagHistory``.

One row per series (a group's committed offsets on a partition, a partition's high
watermarks), one column per sample slot; NaN marks a slot without a value.  A ring
may carry a second plane of the same shape, indexed by the same rows (the measured
lag in seconds beside the committed offsets), so both are read with one row lookup.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class Rows:
    """A growable 2-D float ring: one row per series, one column per sample slot."""

    def __init__(self, capacity: int, second_plane: bool = False) -> None:
        self.capacity = capacity
        self.index: dict[object, int] = {}
        self.data: FloatArray = np.full((8, capacity), np.nan)
        self._second: FloatArray | None = self.data.copy() if second_plane else None

    @property
    def second(self) -> FloatArray:
        if self._second is None:
            raise ValueError("this ring has no second plane")
        return self._second

    def row(self, key: object) -> int:
        row = self.index.get(key)
        if row is None:
            row = self.index[key] = len(self.index)
            if row >= self.data.shape[0]:
                self.data = _grown(self.data)
                if self._second is not None:
                    self._second = _grown(self._second)
        return row

    def compact(self) -> dict[int, int]:
        """Drop rows with no data left in the ring; returns old row -> new row."""
        alive = [(k, r) for k, r in self.index.items() if np.isfinite(self.data[r]).any()]
        remap = {r: i for i, (_, r) in enumerate(alive)}
        rows = [r for _, r in alive]
        self.data = self._kept(self.data, rows)
        if self._second is not None:
            self._second = self._kept(self._second, rows)
        self.index = {k: remap[r] for k, r in alive}
        return remap

    def _kept(self, plane: FloatArray, rows: list[int]) -> FloatArray:
        out = np.full((max(8, len(rows)), self.capacity), np.nan)
        if rows:
            out[: len(rows)] = plane[rows]
        return out


def _grown(plane: FloatArray) -> FloatArray:
    grown = np.full((plane.shape[0] * 2, plane.shape[1]), np.nan)
    grown[: plane.shape[0]] = plane
    return grown
