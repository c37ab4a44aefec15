"""What the index knows of each partition: counts, positions, fingerprints, clocks.

Kept apart from the columns because it is what decides whether a stored index still
matches the topic (``app.index.catch_up``) and where a catch-up read resumes.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable

import numpy as np

from app.index.columns import PartitionState


class PartitionBook:
    """Per-partition state of one index, updated batch by batch."""

    def __init__(
        self,
        states: dict[int, PartitionState] | None = None,
        max_ts: dict[int, int] | None = None,
    ) -> None:
        self.states: dict[int, PartitionState] = dict(states or {})
        # Running max of each partition's timestamps: where log order's clock stands.
        self.max_ts: dict[int, int] = dict(max_ts or {})
        # A partition's offsets arrived unsorted: log order must be recomputed.
        self.out_of_order = False
        # Rows whose record fingerprint is still to be taken (first/last of a partition):
        # taken when asked for, from the stored key and value, not per appended batch.
        self._unresolved: set[int] = set()

    def track(
        self, part_arr: np.ndarray, off_arr: np.ndarray, ts_arr: np.ndarray, base: int
    ) -> np.ndarray | None:
        """Account for rows ``base..base+len``; the batch's effective timestamps
        (running max per partition) when some partition's clock stepped back, else None."""
        if len(part_arr) == 0:
            return None
        eff: np.ndarray | None = None
        first_p = int(part_arr[0])
        groups: list[tuple[int, np.ndarray | None]]
        if bool(np.all(part_arr == first_p)):
            groups = [(first_p, None)]
        else:
            by_part = np.argsort(part_arr, kind="stable")
            sorted_parts = part_arr[by_part]
            cuts = np.flatnonzero(np.diff(sorted_parts)) + 1
            bounds = [0, *cuts.tolist(), len(by_part)]
            groups = [
                (int(sorted_parts[lo]), by_part[lo:hi]) for lo, hi in itertools.pairwise(bounds)
            ]
        for p, sel in groups:
            offs = off_arr if sel is None else off_arr[sel]
            tss = ts_arr if sel is None else ts_arr[sel]
            state = self.states.setdefault(p, PartitionState())
            if state.first_offset < 0:
                state.first_offset = state.low = int(offs[0])
                state.first_timestamp_ms = int(tss[0])
                state.first_row = base + (0 if sel is None else int(sel[0]))
                self._unresolved.add(state.first_row)
            if offs[0] < state.next_offset or (len(offs) > 1 and bool(np.any(np.diff(offs) <= 0))):
                self.out_of_order = True
            state.count += len(offs)
            state.next_offset = max(state.next_offset, int(offs.max()) + 1)
            last = int(np.argmax(offs))
            if int(offs[last]) > state.last_offset:
                if state.last_row != state.first_row:
                    # No longer the last row: its fingerprint is not owed any more (a
                    # follow moves it every batch; the set must not grow with the log).
                    self._unresolved.discard(state.last_row)
                state.last_offset = int(offs[last])
                state.last_timestamp_ms = int(tss[last])
                state.last_row = base + (last if sel is None else int(sel[last]))
                self._unresolved.add(state.last_row)
            running = np.maximum.accumulate(tss)
            prev = self.max_ts.get(p)
            if prev is not None:
                np.maximum(running, prev, out=running)
            self.max_ts[p] = int(running[-1])
            if not np.array_equal(running, tss):
                eff = ts_arr.copy() if eff is None else eff
                eff[slice(None) if sel is None else sel] = running
        return eff

    def resolve(self, fingerprint: Callable[[int], int]) -> None:
        """Take the fingerprints still owed (``fingerprint(row)``: the record's CRC)."""
        if not self._unresolved:
            return
        rows, self._unresolved = self._unresolved, set()
        for state in self.states.values():
            if state.first_row in rows:
                state.first_crc = fingerprint(state.first_row)
            if state.last_row in rows:
                state.last_crc = fingerprint(state.last_row)

    def checkpoint(self) -> tuple[object, ...]:
        """What ``rollback`` needs to undo the next ``track`` (a batch that failed)."""
        states = {p: copy.copy(s) for p, s in self.states.items()}  # flat: a copy will do
        return states, dict(self.max_ts), set(self._unresolved), self.out_of_order

    def rollback(self, checkpoint: tuple[object, ...]) -> None:
        states, max_ts, unresolved, out_of_order = checkpoint
        self.states = states  # type: ignore[assignment]
        self.max_ts = max_ts  # type: ignore[assignment]
        self._unresolved = unresolved  # type: ignore[assignment]
        self.out_of_order = bool(out_of_order)

    def mark_position(self, partition: int, next_offset: int, low: int | None = None) -> None:
        """A read of ``partition`` got up to ``next_offset``; ``low``: its low watermark."""
        state = self.states.setdefault(partition, PartitionState())
        state.next_offset = max(state.next_offset, next_offset)
        if low is not None and state.first_offset < 0:
            state.low = low
