"""What the index knows of each partition: counts, positions, fingerprints, clocks.

Kept apart from the columns because it is what decides whether a stored index still
matches the topic (``app.index.catch_up``) and where a catch-up read resumes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.index.columns import PartitionState, record_crc
from kafka_io.event import Event


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

    def track(
        self, events: Sequence[Event], part_arr: np.ndarray, off_arr: np.ndarray, ts_arr: np.ndarray
    ) -> np.ndarray | None:
        """Account for a batch; the batch's effective timestamps (running max per
        partition) when some partition's clock stepped back, else None."""
        uniq = np.unique(part_arr).tolist()
        eff: np.ndarray | None = None
        for p in uniq:
            sel = None if len(uniq) == 1 else np.flatnonzero(part_arr == p)
            offs = off_arr if sel is None else off_arr[sel]
            tss = ts_arr if sel is None else ts_arr[sel]
            state = self.states.setdefault(p, PartitionState())
            if state.first_offset < 0:
                ev = events[0 if sel is None else int(sel[0])]
                state.first_offset = state.low = int(offs[0])
                state.first_timestamp_ms = int(tss[0])
                state.first_crc = record_crc(ev.key, ev.value)
            if offs[0] < state.next_offset or (len(offs) > 1 and bool(np.any(np.diff(offs) <= 0))):
                self.out_of_order = True
            state.count += len(offs)
            state.next_offset = max(state.next_offset, int(offs.max()) + 1)
            last = int(np.argmax(offs))
            if int(offs[last]) > state.last_offset:
                ev = events[last if sel is None else int(sel[last])]
                state.last_offset = int(offs[last])
                state.last_timestamp_ms = int(tss[last])
                state.last_crc = record_crc(ev.key, ev.value)
            running = np.maximum.accumulate(tss)
            prev = self.max_ts.get(p)
            if prev is not None:
                np.maximum(running, prev, out=running)
            self.max_ts[p] = int(running[-1])
            if not np.array_equal(running, tss):
                eff = ts_arr.copy() if eff is None else eff
                eff[slice(None) if sel is None else sel] = running
        return eff

    def mark_position(self, partition: int, next_offset: int, low: int | None = None) -> None:
        """A read of ``partition`` got up to ``next_offset``; ``low``: its low watermark."""
        state = self.states.setdefault(partition, PartitionState())
        state.next_offset = max(state.next_offset, next_offset)
        if low is not None and state.first_offset < 0:
            state.low = low
