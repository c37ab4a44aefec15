"""Text search over an index: in the key and in the raw value bytes (JSON text, Avro
strings).

A substring search, case-sensitive unless ``ignore_case`` (which folds ASCII letters
only).  Values are scanned in the blob itself — ``find`` when hits are few, a chunked
vectorised byte comparison when they are many — and hits are mapped to rows with
``np.searchsorted`` over the value end offsets.
"""

from __future__ import annotations

import numpy as np

from app.index.storage import Blob
from app.index.topic_index import KEY_IS_AGGREGATE, TopicIndex

# Below this many candidate rows, text is checked row by row instead of over the blob.
ROWWISE_LIMIT = 20_000
# Above this many occurrences, find in a loop loses to the vectorised scan.
_FIND_LOOP_LIMIT = 50_000
_SCAN_CHUNK = 1 << 24


def lut_mask(ids: list[int], n_names: int, column: np.ndarray) -> np.ndarray:
    """Rows of ``column`` (name ids) whose id is one of ``ids``."""
    # One spare False slot at the end: id -1 ("none") indexes it.
    lut = np.zeros(n_names + 1, bool)
    if ids:
        lut[np.asarray(ids, np.int64)] = True
    result: np.ndarray = lut[column]
    return result


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
    by_agg = lut_mask(agg_ids, len(index.aggregate_names), index.aggregate_col[:n])
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
    if candidates is not None and len(candidates) <= ROWWISE_LIMIT:
        blob = index.value_blob
        starts = np.concatenate([[0], ends[:-1]]) if n else ends
        if ignore_case:
            low = needle.lower()
            for row in candidates.tolist():
                if low in blob.read(int(starts[row]), int(ends[row])).lower():
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


def _find_all(blob: Blob, needle: bytes, limit: int, ignore_case: bool) -> np.ndarray:
    """Start positions of ``needle`` in the blob's first ``limit`` bytes (overlapping
    matches included)."""
    if not needle or limit == 0:
        return np.empty(0, np.int64)
    if not ignore_case or needle.lower() == needle.upper():
        found: list[int] = []
        pos = blob.find(needle, 0, limit)
        while pos >= 0 and len(found) <= _FIND_LOOP_LIMIT:
            found.append(pos)
            pos = blob.find(needle, pos + 1, limit)
        if pos < 0:
            return np.asarray(found, np.int64)
    return _scan(blob, needle, limit, ignore_case)


def _scan(blob: Blob, needle: bytes, limit: int, ignore_case: bool) -> np.ndarray:
    """Vectorised search: anchor on the needle's first byte, then verify the rest.

    Works in chunks copied out of the blob (bounded memory, and no exported buffer
    that would stop an in-memory blob from growing during a concurrent append).
    """
    m = len(needle)
    alts = [_byte_alternatives(b, ignore_case) for b in needle]
    found: list[np.ndarray] = []
    for start in range(0, limit, _SCAN_CHUNK):
        stop = min(limit, start + _SCAN_CHUNK + m - 1)
        chunk = np.frombuffer(blob.read(start, stop), np.uint8)
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
