"""Filters over a TopicIndex: aggregate, types, time range, text — as numpy masks.

One query path for the GUI, the CLI and the tests.  Every criterion becomes a boolean
mask over the index's columns (a lookup table indexed by type / aggregate id answers
"is this id wanted" for a million rows in one gather), the masks are and-ed, and the
surviving rows come back in log order.

Text search looks in the key and in the raw value bytes (JSON text, Avro strings).  It
is a substring search, case-sensitive unless ``ignore_case`` (which folds ASCII letters
only).  Values are scanned in the blob itself — ``bytes.find`` when hits are few, a
chunked vectorised byte comparison when they are many — and hits are mapped to rows
with ``np.searchsorted`` over the value end offsets.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from app.index.topic_index import KEY_IS_AGGREGATE, TopicIndex

# Below this many candidate rows, text is checked row by row instead of over the blob.
_ROWWISE_LIMIT = 20_000
# Above this many occurrences, bytes.find in a loop loses to the vectorised scan.
_FIND_LOOP_LIMIT = 50_000
_SCAN_CHUNK = 1 << 24


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
        return self == Query()


def run_query(index: TopicIndex, query: Query) -> np.ndarray:
    """Row ids (int64) of the events matching ``query``, in log order."""
    n = len(index)
    mask = query_mask(index, query, n)
    order = index.log_order()
    if len(order) != n:  # rows appended meanwhile (by another thread): not ours to show
        order = order[order < n]
    if mask is None:
        return order.copy()
    if int(np.count_nonzero(mask)) * 8 < n:
        # Few hits: sorting them by rank beats gathering the mask over all rows.
        return index.sort_log_order(np.flatnonzero(mask))
    result: np.ndarray = order[mask[order]]
    return result


def query_mask(index: TopicIndex, query: Query, n: int | None = None) -> np.ndarray | None:
    """A boolean mask over the first ``n`` rows (None when the query matches all)."""
    n = len(index) if n is None else n
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
        err = np.zeros(n, bool)
        rows = np.fromiter((r for r in index.error_rows if r < n), np.int64)
        err[rows] = True
        narrow(err)
    if query.text:
        narrow(text_mask(index, query.text, n, ignore_case=query.ignore_case, within=mask))
    return mask


def _lut_mask(ids: list[int], n_names: int, column: np.ndarray) -> np.ndarray:
    # One spare False slot at the end: id -1 ("none") indexes it.
    lut = np.zeros(n_names + 1, bool)
    if ids:
        lut[np.asarray(ids, np.int64)] = True
    result: np.ndarray = lut[column]
    return result


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
    return _lut_mask(aggregate_ids_with_prefix(index, aggregate), len(index.aggregate_names), col)


def type_mask(index: TopicIndex, types: frozenset[str], n: int) -> np.ndarray:
    col = index.type_col[:n]
    ids = [tid for t in types if (tid := index.type_id(t)) is not None]
    if len(ids) == 1:
        return col == ids[0]
    return _lut_mask(ids, len(index.type_names), col)


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


# ---------------------------------------------------------------------- text


def _contains(hay: str | bytes, needle: str, needle_b: bytes, ignore_case: bool) -> bool:
    if isinstance(hay, str):
        return needle.lower() in hay.lower() if ignore_case else needle in hay
    return needle_b.lower() in hay.lower() if ignore_case else needle_b in hay


def key_mask(index: TopicIndex, text: str, n: int, *, ignore_case: bool = False) -> np.ndarray:
    """Rows whose key contains ``text`` (keys equal to the aggregate are the aggregate)."""
    needle_b = text.encode()
    agg_ids = [
        i for i, name in enumerate(index.aggregate_names)
        if _contains(name, text, needle_b, ignore_case)
    ]  # fmt: skip
    key_ids = [
        i for i, key in enumerate(index.key_names) if _contains(key, text, needle_b, ignore_case)
    ]
    keys = index.key_col[:n]
    by_agg = _lut_mask(agg_ids, len(index.aggregate_names), index.aggregate_col[:n])
    by_agg &= keys == KEY_IS_AGGREGATE
    if key_ids:
        # Two spare False slots at the end: codes -1 (no key) and -2 (key is the
        # aggregate, handled above) index them.
        lut = np.zeros(len(index.key_names) + 2, bool)
        lut[np.asarray(key_ids, np.int64)] = True
        by_agg |= lut[keys]
    return by_agg


def text_mask(
    index: TopicIndex,
    text: str,
    n: int | None = None,
    *,
    ignore_case: bool = False,
    within: np.ndarray | None = None,
) -> np.ndarray:
    """Rows whose key or raw value contains ``text``.

    ``within`` (a mask from the other criteria) lets a selective query check only its
    candidate rows instead of scanning every value.
    """
    n = len(index) if n is None else n
    mask = key_mask(index, text, n, ignore_case=ignore_case)
    needle = text.encode()
    ends = index.value_end_col[:n]
    candidates = None if within is None else np.flatnonzero(within)
    if candidates is not None and len(candidates) <= _ROWWISE_LIMIT:
        blob = index.value_blob
        starts = np.concatenate([[0], ends[:-1]]) if n else ends
        if ignore_case:
            low = needle.lower()
            for row in candidates.tolist():
                if low in blob[starts[row] : ends[row]].lower():
                    mask[row] = True
        else:
            for row in candidates.tolist():
                if blob.find(needle, int(starts[row]), int(ends[row])) >= 0:
                    mask[row] = True
        return mask
    limit = int(ends[-1]) if n else 0
    positions = _find_all(index.value_blob, needle, limit, ignore_case)
    if len(positions):
        rows = np.searchsorted(ends, positions, side="right")
        # A match straddling two values is not a match.
        keep = positions + len(needle) <= ends[np.minimum(rows, n - 1)]
        mask[rows[keep & (rows < n)]] = True
    return mask


def _find_all(blob: bytearray, needle: bytes, limit: int, ignore_case: bool) -> np.ndarray:
    """Start positions of ``needle`` in ``blob[:limit]`` (overlapping matches included)."""
    if not needle or limit == 0:
        return np.empty(0, np.int64)
    if not ignore_case or needle.lower() == needle.upper():
        count = blob.count(needle, 0, limit)
        if count == 0:
            return np.empty(0, np.int64)
        if count <= _FIND_LOOP_LIMIT:
            found = []
            pos = blob.find(needle, 0, limit)
            while pos >= 0:
                found.append(pos)
                pos = blob.find(needle, pos + 1, limit)
            return np.asarray(found, np.int64)
    return _scan(blob, needle, limit, ignore_case)


def _scan(blob: bytearray, needle: bytes, limit: int, ignore_case: bool) -> np.ndarray:
    """Vectorised search: anchor on the needle's first byte, then verify the rest.

    Works in chunks copied out of the blob (bounded memory, and no exported buffer
    that would stop the blob from growing during a concurrent append).
    """
    m = len(needle)
    alts = [_byte_alternatives(b, ignore_case) for b in needle]
    found: list[np.ndarray] = []
    for start in range(0, limit, _SCAN_CHUNK):
        stop = min(limit, start + _SCAN_CHUNK + m - 1)
        chunk = np.frombuffer(bytes(blob[start:stop]), np.uint8)
        cand = _positions_of(chunk[: max(0, len(chunk) - m + 1)], alts[0])
        for j in range(1, m):
            if not len(cand):
                break
            cand = cand[_is_one_of(chunk[cand + j], alts[j])]
        cand = cand[cand < _SCAN_CHUNK]  # the overlap belongs to the next chunk
        found.append(cand.astype(np.int64) + start)
    return np.concatenate(found) if found else np.empty(0, np.int64)


def _byte_alternatives(b: int, ignore_case: bool) -> tuple[int, ...]:
    if ignore_case and (65 <= b <= 90 or 97 <= b <= 122):
        return (b | 0x20, b & ~0x20)
    return (b,)


def _is_one_of(values: np.ndarray, alts: tuple[int, ...]) -> np.ndarray:
    hit: np.ndarray = values == alts[0]
    for other in alts[1:]:
        hit |= values == other
    return hit


def _positions_of(chunk: np.ndarray, alts: tuple[int, ...]) -> np.ndarray:
    return np.flatnonzero(_is_one_of(chunk, alts))


# ---------------------------------------------------------------------- counts


def count_by_type(index: TopicIndex, rows: np.ndarray) -> dict[str, int]:
    """Events per type among ``rows`` (types with no event are left out)."""
    counts = np.bincount(index.type_col[rows], minlength=len(index.type_names))
    return {index.type_names[i]: int(counts[i]) for i in np.flatnonzero(counts)}


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
