"""Cross-checks of a reopened index: a cache that passes cannot index out of bounds.

Cheap enough to run before the table is shown (passes over the id columns, none over
the values); the checksums of every byte are checked in the background
(``store_files.Verification``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.index.store_files import CacheError
from app.index.topic_index import TopicIndex

_CHUNK = 1 << 20


def _checker(ok: bool, what: str) -> None:
    if not ok:
        raise CacheError(f"inconsistent index: {what}")


def validate_quick(index: TopicIndex) -> None:
    """What a reopen checks before showing anything: sizes, each partition's first and
    last rows, the log order's tail — a few hundred values whatever the size."""
    n = len(index)
    check = _checker
    for name, col in index._cols.items():
        check(len(col.view()) >= n, f"column {name} is short")
    ends = index.value_end_col
    check((int(ends[-1]) if n else 0) == index._values.size, "value blob size")
    hends = index._headers.ends.view()
    check(len(index._headers.rows.view()) == len(hends), "header arrays differ in length")
    check((int(hends[-1]) if len(hends) else 0) == index._headers.blob.size, "header blob size")
    if index._eff is not None:
        check(len(index._eff.view()) >= n, "effective timestamps length")
    _check_positions(index, check, counts=None)
    prefix, tail, covered = index._order.saved_form()
    check(covered in (-1, n), "log order does not cover the rows")
    if len(tail):
        check(int(tail.min()) >= prefix and int(tail.max()) < n, "log order rows out of range")
        check(bool(np.all(np.bincount(tail - prefix, minlength=len(tail)) == 1)), "log order")
    agg = index.agg_index
    if agg is not None:
        check(agg.covered <= n, "aggregate index covers rows the index lacks")


def validate(index: TopicIndex) -> None:
    """Raise CacheError on the first inconsistency: every id in range, ends ascending,
    partition counts.  Passes over whole columns (run in the background on a reopen,
    after the checksums)."""
    n = len(index)
    check = _checker
    validate_quick(index)

    def within(col: np.ndarray, lo: int, hi: int, what: str) -> None:
        check(n == 0 or (int(col.min()) >= lo and int(col.max()) < hi), f"{what} ids out of range")

    within(index.type_col, 0, len(index.type_names), "type")
    within(index.aggregate_col, -1, len(index.aggregate_names), "aggregate")
    within(index.key_col, -2, len(index.key_names), "key")
    within(index.topic_col, 0, len(index.topic_names), "topic")
    within(index.error_col, -1, len(index.error_names), "error")
    ends = index.value_end_col
    check(_ascending(ends, strict=False) and (n == 0 or ends[0] >= 0), "value ends decrease")
    rows, hends = index._headers.rows.view(), index._headers.ends.view()
    check(_ascending(rows, strict=True), "header rows not increasing")
    check(len(rows) == 0 or (rows[0] >= 0 and rows[-1] < n), "header rows out of range")
    check(_ascending(hends, strict=False), "header ends decrease")
    parts = index.partition_col
    if n:
        check(int(parts.min()) >= 0, "negative partition")
        states = index._book.states
        counts = np.bincount(parts, minlength=max(states, default=-1) + 1)
        _check_positions(index, check, counts=counts)


def _ascending(a: np.ndarray, *, strict: bool) -> bool:
    """Whether ``a`` ascends, checked in pieces (no temporary as large as the column)."""
    for lo in range(0, max(len(a) - 1, 0), _CHUNK):
        piece = a[lo : lo + _CHUNK + 1]
        d = np.diff(piece)
        if bool(np.any(d <= 0)) if strict else bool(np.any(d < 0)):
            return False
    return True


def _check_positions(
    index: TopicIndex, check: Callable[[bool, str], None], counts: np.ndarray | None
) -> None:
    """Each partition's stored positions against the partition and offset columns
    (``counts``: rows per partition, when a pass over the column was made)."""
    n = len(index)
    parts, offsets = index.partition_col, index.offset_col
    states = index._book.states
    check(sum(st.count for st in states.values()) == n, "partition counts")
    if counts is not None:
        present = {int(p) for p in np.flatnonzero(counts)}
        check(present <= set(states), f"rows of partitions {sorted(present - set(states))}")
    for p, st in states.items():
        if counts is not None:
            have = int(counts[p]) if p < len(counts) else 0
            check(have == st.count, f"partition {p}: {have} rows, {st.count} stored")
        if not st.count:
            continue
        for row, offset, what in ((st.first_row, st.first_offset, "first"),
                                  (st.last_row, st.last_offset, "last")):  # fmt: skip
            check(0 <= row < n, f"partition {p}: {what} row {row} out of range")
            check(
                int(parts[row]) == p and int(offsets[row]) == offset,
                f"partition {p}: {what} offset {offset} not at row {row}",
            )
        check(st.next_offset > st.last_offset, f"partition {p}: resumes at {st.next_offset}")
