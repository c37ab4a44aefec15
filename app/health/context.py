"""What every check of one topic works from: its index, its id columns, the rows in
per-aggregate order, and the way a finding is made at a row."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.health.config import HealthConfig
from app.health.findings import Finding, Kind, Other
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.trace.ids import IdColumns
from app.trace.masking import mask_ids, mask_value, masked_roles
from app.trace.records import RecordReader
from app.trace.rules import Role
from app.trace.space import TraceSpace


@dataclass
class TopicData:
    """One checked topic: rows ``0..n`` of its index and their id columns."""

    topic: str
    index: TopicIndex
    ids: IdColumns
    config: HealthConfig
    space: TraceSpace
    _rank: np.ndarray | None = field(default=None, repr=False)
    _reader: RecordReader | None = field(default=None, repr=False)
    # rows that repeat an earlier event's id (set by the duplicate check, which runs
    # first): a redelivered event is reported once, not again as a version or clock fault
    copies: np.ndarray | None = None
    # Ids and versions read from masked fields are shown as marks (checked on real values).
    masker: Masker = field(default_factory=Masker)

    @property
    def n(self) -> int:
        return self.ids.size

    @property
    def rank(self) -> np.ndarray:
        """Each row's place in log order."""
        if self._rank is None:
            self._rank = self.index.rank()[: self.n]
        return self._rank

    def reader(self) -> RecordReader:
        if self._reader is None:
            self._reader = self.space.reader(self.topic)
        return self._reader

    def id_texts(self, rows: Sequence[int]) -> list[dict[Role, Any]]:
        """The ids of ``rows`` as they may be shown."""
        texts = self.ids.texts(self.reader(), [int(r) for r in rows])
        roles = masked_roles(self.masker, self.ids.rules)
        return [mask_ids(self.masker, roles, ids) for ids in texts]

    def version_text(self, version: Any) -> str:
        masked = Role.VERSION in masked_roles(self.masker, self.ids.rules)
        return str(mask_value(self.masker, masked, int(version)))

    def finding(
        self,
        kind: Kind,
        row: int | None,
        detail: str,
        *,
        other: int | None = None,
        aggregate: str | None = None,
        correlation: str | None = None,
    ) -> Finding:
        """A finding at ``row`` (None: about the whole topic), ``other`` a second row."""
        severity = self.config.severity(kind)
        if row is None:
            return Finding(kind, severity, self.topic, aggregate, None, None, detail)
        ref = self.index.ref(row)
        other_at = None
        if other is not None:
            o = self.index.ref(other)
            other_at = Other(self.topic, o.partition, o.offset)
        agg = aggregate if aggregate is not None else self.index.aggregate_of(row)
        return Finding(
            kind, severity, self.topic, agg, ref.partition, ref.offset, detail, other_at,
            correlation,
        )  # fmt: skip

    def where(self, row: int) -> str:
        ref = self.index.ref(row)
        return f"p{ref.partition}@{ref.offset}"

    def by_aggregate(self, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows with an aggregate (and ``mask``), sorted by aggregate then log order, and
        a flag for the first row of each aggregate."""
        aggs = self.index.aggregate_col[: self.n]
        keep = aggs >= 0
        if mask is not None:
            keep &= mask
        if self.copies is not None:
            keep &= ~self.copies
        rows = np.flatnonzero(keep)
        rows = rows[np.lexsort((self.rank[rows], aggs[rows]))]
        sorted_aggs = aggs[rows]
        first = np.ones(len(rows), bool)
        if len(rows) > 1:
            first[1:] = sorted_aggs[1:] != sorted_aggs[:-1]
        return rows, first


def previous_max(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For each element, the largest value before it in its group (groups start where
    ``first`` is set); the group's first element gets its own value."""
    n = len(values)
    if n == 0:
        return values.copy()
    group = np.cumsum(first) - 1
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    groups = int(group[-1]) + 1
    if span * groups < 2**62:
        # One accumulate over all groups: each group is lifted above the ones before it,
        # so a running max never carries from one group into the next.
        lifted = (values - lo) + group * span
        running = np.maximum.accumulate(lifted) - group * span + lo
    else:  # versions too far apart to lift: one accumulate per group
        running = values.copy()
        starts = [*np.flatnonzero(first).tolist(), n]
        for a, b in itertools.pairwise(starts):
            np.maximum.accumulate(running[a:b], out=running[a:b])
    before = np.empty_like(values)
    before[0] = values[0]
    before[1:] = running[:-1]
    before[first] = values[first]
    return before
