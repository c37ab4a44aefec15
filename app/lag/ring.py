"""A growable 2-D float ring: the storage behind ``LagHistory``.

One row per series (a group's committed offsets on a partition, a partition's high
watermarks, a partition's measured lag in seconds), one column per sample slot; NaN
marks a slot without a value.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class Rows:
    """A growable 2-D float ring: one row per series, one column per sample slot."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.index: dict[object, int] = {}
        self.data: FloatArray = np.full((8, capacity), np.nan)

    def row(self, key: object) -> int:
        row = self.index.get(key)
        if row is None:
            row = self.index[key] = len(self.index)
            if row >= self.data.shape[0]:
                grown = np.full((self.data.shape[0] * 2, self.capacity), np.nan)
                grown[: self.data.shape[0]] = self.data
                self.data = grown
        return row

    def compact(self) -> dict[int, int]:
        """Drop rows with no data left in the ring; returns old row -> new row."""
        alive = [(k, r) for k, r in self.index.items() if np.isfinite(self.data[r]).any()]
        remap = {r: i for i, (_, r) in enumerate(alive)}
        data = np.full((max(8, len(alive)), self.capacity), np.nan)
        if alive:
            data[: len(alive)] = self.data[[r for _, r in alive]]
        self.data = data
        self.index = {k: remap[r] for k, r in alive}
        return remap
