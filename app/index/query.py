"""Filters over a TopicIndex: aggregate, types, time range, text — as numpy masks.

One query path for the GUI, the CLI and the tests.  Every criterion becomes a boolean
mask over the index's columns (a lookup table indexed by type / aggregate id answers
"is this id wanted" for a million rows in one gather), the masks are and-ed, and the
surviving rows come back in log order.

Text search (``app.index.text_search``) looks in the key and in the raw value bytes.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace

import numpy as np

from app.index.text_search import ROWWISE_LIMIT, key_mask, lut_mask, text_mask
from app.index.topic_index import TopicIndex

__all__ = [
    "Query",
    "complete_aggregate",
    "count_by_aggregate",
    "count_by_type",
    "key_mask",
    "query_mask",
    "run_query",
    "text_mask",
]


@dataclass(frozen=True)
class Query:
    """What to show.  Every field left at its default matches everything.

    ``since_ms`` and ``until_ms`` are both inclusive (record timestamps, ms since the
    epoch).  ``aggregate`` matches exactly, or as a prefix with ``aggregate_prefix``.
    ``types`` is the set of event types wanted.  ``text`` is looked for in the key and
    the raw value.  ``errors_only`` keeps only records that failed to read or decode.
    """

    aggregate: str | None = None
    aggregate_prefix: bool = False
    types: frozenset[str] | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    text: str | None = None
    ignore_case: bool = False
    errors_only: bool = False

    @property
    def is_everything(self) -> bool:
        return self == Query(ignore_case=self.ignore_case)

    def replace_text(self) -> Query:
        return replace(self, text=None)


def run_query(index: TopicIndex, query: Query) -> np.ndarray:
    """Row ids (int64) of the events matching ``query``, in log order.

    Works on log order as an ordered prefix plus a tail (``TopicIndex.order_parts``):
    on the prefix, a time range is a binary search (timestamps ascend there unless a
    producer's clock stepped back) and one aggregate's rows come from the aggregate
    index, so a selective query reads a few pages of the columns, not all of them.
    """
    n = len(index)
    prefix, tail = index.order_parts()
    prefix = min(prefix, n)
    if len(tail) and int(tail.max()) >= n:
        tail = tail[tail < n]
    lo, hi = 0, prefix
    time_done = False
    if (query.since_ms is not None or query.until_ms is not None) and not index.clock_steps_back:
        ts = index.timestamp_col[:prefix]
        if query.since_ms is not None:
            lo = int(np.searchsorted(ts, query.since_ms, "left"))
        if query.until_ms is not None:
            hi = max(lo, int(np.searchsorted(ts, query.until_ms, "right")))
        time_done = True
    head: np.ndarray | None = None  # explicit prefix rows within [lo, hi); None: all
    if query.aggregate is not None and not query.aggregate_prefix:
        aid = index.aggregate_id(query.aggregate)
        if aid is None:
            return np.empty(0, np.int64)
        rows = index.rows_of_aggregate_id(aid, n)
        head = rows[(rows >= lo) & (rows < hi)]
        tail = tail[index.aggregate_col[tail] == aid]
    rest = replace(query, aggregate=None) if head is not None else query
    if time_done:
        rest = replace(rest, since_ms=None, until_ms=None)
    text = rest.text
    rest = replace(rest, text=None)
    if head is not None:
        head = head[_row_mask(index, rest, head)]
    elif not rest.is_everything:
        mask = query_mask(index, rest, hi, start=lo)
        head = None if mask is None else np.flatnonzero(mask) + lo
    if not rest.is_everything or time_done:
        time_query = replace(rest, since_ms=query.since_ms, until_ms=query.until_ms)
        tail = tail[_row_mask(index, time_query, tail)]
    if text:
        head_rows = np.arange(lo, hi, dtype=np.int64) if head is None else head
        both = np.concatenate([head_rows, tail])
        hits = _text_rows(index, text, n, both, query.ignore_case)
        return both[hits]
    if head is None:
        head = np.arange(lo, hi, dtype=np.int64)
    return np.concatenate([head, tail]) if len(tail) else head


def _row_mask(index: TopicIndex, query: Query, rows: np.ndarray | slice) -> np.ndarray:
    """Which of ``rows`` (row ids, or a slice of them) match the query's column criteria
    (not text)."""
    count = len(rows) if isinstance(rows, np.ndarray) else len(range(len(index))[rows])
    keep = np.ones(count, bool)
    if count == 0:
        return keep
    if query.aggregate is not None:
        ids = (
            aggregate_ids_with_prefix(index, query.aggregate)
            if query.aggregate_prefix
            else [a for a in [index.aggregate_id(query.aggregate)] if a is not None]
        )
        keep &= lut_mask(ids, len(index.aggregate_names), index.aggregate_col[rows])
    if query.types is not None:
        keep &= type_mask_of(index, query.types, index.type_col[rows])
    if query.since_ms is not None:
        keep &= index.timestamp_col[rows] >= query.since_ms
    if query.until_ms is not None:
        keep &= index.timestamp_col[rows] <= query.until_ms
    if query.errors_only:
        keep &= index.error_col[rows] >= 0
    return keep


def _text_rows(
    index: TopicIndex, text: str, n: int, rows: np.ndarray, ignore_case: bool
) -> np.ndarray:
    """Which of ``rows`` have ``text`` in their key or value."""
    if len(rows) <= ROWWISE_LIMIT:
        within = np.zeros(n, bool)
        within[rows] = True
        mask = text_mask(index, text, n, ignore_case=ignore_case, within=within)
    else:
        mask = text_mask(index, text, n, ignore_case=ignore_case)
    return mask[rows]


def query_mask(
    index: TopicIndex, query: Query, n: int | None = None, *, start: int = 0
) -> np.ndarray | None:
    """A boolean mask over rows ``start..n-1`` (None when the query matches all)."""
    n = len(index) if n is None else n
    if start:
        return _range_mask(index, query, start, n)
    mask: np.ndarray | None = None

    def narrow(m: np.ndarray) -> None:
        nonlocal mask
        mask = m if mask is None else np.logical_and(mask, m, out=mask)

    if query.aggregate is not None:
        narrow(aggregate_mask(index, query.aggregate, query.aggregate_prefix, n))
    if query.types is not None:
        narrow(type_mask(index, query.types, n))
    if query.since_ms is not None:
        narrow(index.timestamp_col[:n] >= query.since_ms)
    if query.until_ms is not None:
        narrow(index.timestamp_col[:n] <= query.until_ms)
    if query.errors_only:
        narrow(index.error_col[:n] >= 0)
    if query.text:
        narrow(text_mask(index, query.text, n, ignore_case=query.ignore_case, within=mask))
    return mask


def _range_mask(index: TopicIndex, query: Query, start: int, stop: int) -> np.ndarray | None:
    """``query_mask`` over rows ``start..stop-1`` only (text is not looked at here)."""
    if query.replace_text().is_everything:
        return None
    return _row_mask(index, query, slice(start, stop))


def aggregate_ids_with_prefix(index: TopicIndex, prefix: str) -> list[int]:
    names = index.sorted_aggregates()
    start = bisect_left(names, prefix)
    ids = []
    for name in names[start:]:
        if not name.startswith(prefix):
            break
        aid = index.aggregate_id(name)
        if aid is not None:
            ids.append(aid)
    return ids


def aggregate_mask(index: TopicIndex, aggregate: str, prefix: bool, n: int) -> np.ndarray:
    col = index.aggregate_col[:n]
    if not prefix:
        aid = index.aggregate_id(aggregate)
        return np.zeros(n, bool) if aid is None else col == aid
    return lut_mask(aggregate_ids_with_prefix(index, aggregate), len(index.aggregate_names), col)


def type_mask(index: TopicIndex, types: frozenset[str], n: int) -> np.ndarray:
    return type_mask_of(index, types, index.type_col[:n])


def type_mask_of(index: TopicIndex, types: frozenset[str], col: np.ndarray) -> np.ndarray:
    ids = [tid for t in types if (tid := index.type_id(t)) is not None]
    if len(ids) == 1:
        return col == ids[0]
    return lut_mask(ids, len(index.type_names), col)


def complete_aggregate(index: TopicIndex, prefix: str, limit: int = 20) -> list[str]:
    """Up to ``limit`` aggregate names starting with ``prefix``, sorted."""
    names = index.sorted_aggregates()
    start = bisect_left(names, prefix)
    out: list[str] = []
    for name in names[start : start + limit]:
        if not name.startswith(prefix):
            break
        out.append(name)
    return out


# ---------------------------------------------------------------------- counts


def count_by_type(index: TopicIndex, rows: np.ndarray) -> dict[str, int]:
    """Events per type among ``rows`` (types with no event are left out)."""
    counts = np.bincount(index.type_col[rows], minlength=len(index.type_names))
    return {index.type_names[i]: int(counts[i]) for i in np.flatnonzero(counts)}


class TypeCounts:
    """Events per type of a growing index (what the filter's type list shows), counting
    only the rows appended since it was last asked: a followed topic asks every couple
    of seconds, and counting a million rows each time stalls the window."""

    def __init__(self) -> None:
        self._index: TopicIndex | None = None
        self._rows = 0
        self._counts = np.zeros(0, np.int64)

    def of(self, index: TopicIndex) -> dict[str, int]:
        n = len(index)
        if index is not self._index or n < self._rows:
            self._index, self._rows, self._counts = index, 0, np.zeros(0, np.int64)
        grown = np.bincount(index.type_col[self._rows : n], minlength=len(index.type_names))
        if len(self._counts) < len(grown):  # types first seen since
            self._counts = np.pad(self._counts, (0, len(grown) - len(self._counts)))
        self._counts[: len(grown)] += grown
        self._rows = n
        names = index.type_names
        return {names[i]: int(self._counts[i]) for i in np.flatnonzero(self._counts)}


def count_by_aggregate(
    index: TopicIndex, rows: np.ndarray, limit: int | None = None
) -> list[tuple[str, int]]:
    """(aggregate, events) among ``rows``, most events first.

    Ties keep the order in which the aggregates first appeared (cheap and stable; a
    sort by name over a million tied names would not be).  Events without an
    aggregate are not counted.  With ``limit`` only the top entries come back.
    """
    aggs = index.aggregate_col[rows]
    counts = np.bincount(aggs[aggs >= 0], minlength=len(index.aggregate_names))
    ids = np.flatnonzero(counts)
    if limit is not None and len(ids) > limit:
        kth = np.partition(counts[ids], len(ids) - limit)[len(ids) - limit]
        ids = ids[counts[ids] >= kth]  # everything that can make the cut, ties included
    ids = ids[np.lexsort((ids, -counts[ids]))]
    if limit is not None:
        ids = ids[:limit]
    names = index.aggregate_names
    return [(names[i], int(counts[i])) for i in ids.tolist()]
