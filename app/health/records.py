"""Checks of single records: repeated event ids, records that do not decode, events
without a correlation id, and event types no fold handles."""

from __future__ import annotations

import numpy as np

from app.health.context import TopicData
from app.health.coverage import handler_check
from app.health.findings import Finding, Kind
from app.replay.folds import FoldRegistry
from app.trace.rules import Role
from kafka_io.decode import TOMBSTONE, UNKNOWN

# Errors that say the schema could not be had (as kafka_io.registry and decode word them),
# as opposed to a body that does not decode with a schema that was found.
_SCHEMA_MISSING = ("unknown schema id", "but no schema registry", "schema registry")


def duplicate_findings(td: TopicData) -> list[Finding]:
    """Every event whose id an earlier event (in log order) already had, with where.

    Also records those rows in ``td.copies`` so the later checks leave them alone.
    """
    td.copies = np.zeros(td.n, bool)
    if not td.ids.has(Role.EVENT_ID):
        return []
    ids = td.ids.column(Role.EVENT_ID)
    # A record that did not decode is reported as such, even when its headers carry
    # the id of the event it was meant to be.
    rows = np.flatnonzero((ids != 0) & _readable(td))
    rows = rows[np.lexsort((td.rank[rows], ids[rows]))]
    sorted_ids = ids[rows]
    again = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1]) + 1
    if not len(again):
        return []
    td.copies[rows[again]] = True
    if not td.config.wants(Kind.DUPLICATE_EVENT_ID):
        return []
    # The first row of each run of equal ids is the original every copy points at.
    run_start = np.maximum.accumulate(np.where(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]],
                                               np.arange(len(rows)), 0))  # fmt: skip
    copies = rows[again].tolist()
    originals = rows[run_start[again]].tolist()
    texts = td.id_texts(copies)
    out = []
    for row, original, ids_text in zip(copies, originals, texts, strict=True):
        detail = (
            f"event id {ids_text[Role.EVENT_ID]!r} also at {td.where(original)}: the same "
            "event written or delivered twice"
        )
        out.append(td.finding(Kind.DUPLICATE_EVENT_ID, row, detail, other=original))
    return out


def decode_findings(td: TopicData) -> list[Finding]:
    """Records that did not decode, and those whose schema could not be found."""
    out = []
    for row, error in sorted(td.index.error_rows.items()):
        if row >= td.n:
            continue
        kind = Kind.UNKNOWN_SCHEMA if _schema_missing(error) else Kind.UNDECODABLE
        if td.config.wants(kind):
            out.append(td.finding(kind, row, error))
    return out


def _schema_missing(error: str) -> bool:
    return any(marker in error for marker in _SCHEMA_MISSING) and "decode failed" not in error


def _readable(td: TopicData) -> np.ndarray:
    """Rows that hold an event (not an undecodable record, not a tombstone)."""
    mask = np.ones(td.n, bool)
    errors = [r for r in td.index.error_rows if r < td.n]
    mask[np.asarray(errors, np.int64)] = False
    tomb = td.index.type_id(TOMBSTONE)
    if tomb is not None:
        mask &= td.index.type_col[: td.n] != tomb
    return mask


def correlation_findings(td: TopicData) -> list[Finding]:
    """Events without a correlation id in a topic where most events have one."""
    if not td.ids.has(Role.CORRELATION) or not td.config.wants(Kind.MISSING_CORRELATION):
        return []
    readable = _readable(td)
    total = int(readable.sum())
    present = td.ids.present(Role.CORRELATION) & readable
    have = int(present.sum())
    if not total or have == total or have < td.config.correlation_share * total:
        return []
    rule = td.ids.rules.describe(Role.CORRELATION)
    share = f"{have / total:.1%}"
    rows = np.flatnonzero(readable & ~present)
    rows = rows[np.argsort(td.rank[rows], kind="stable")]
    detail = f"no correlation id, while {share} of the topic's events have one ({rule})"
    return [td.finding(Kind.MISSING_CORRELATION, int(r), detail) for r in rows.tolist()]


def unhandled_findings(td: TopicData, registry: FoldRegistry | None) -> list[Finding]:
    """Event types that no fold written for this topic handles (one finding per type,
    at its first event).  Only class folds say which types they handle; a topic with a
    function fold, or with no fold of its own, is not judged."""
    if registry is None or not td.config.wants(Kind.UNHANDLED_TYPE):
        return []
    specs = [s for s in registry.matching(td.topic) if s.source != "built-in"]
    if not specs:
        return []
    checks = []
    for spec in specs:
        check = handler_check(spec)
        if check is None:
            return []  # this fold takes every type
        checks.append(check)
    types_col = td.index.type_col[: td.n]
    counts = np.bincount(types_col, minlength=len(td.index.type_names))
    names = ", ".join(s.name for s in specs)
    out = []
    for tid in np.flatnonzero(counts).tolist():
        etype = td.index.type_names[tid]
        if etype in (TOMBSTONE, UNKNOWN) or any(check(etype) for check in checks):
            continue
        rows = np.flatnonzero(types_col == tid)
        row = int(rows[np.argmin(td.rank[rows])])
        count = int(counts[tid])
        detail = (
            f"no fold for this topic handles {etype} ({count} event{'s' * (count != 1)}; "
            f"folds: {names})"
        )
        out.append(td.finding(Kind.UNHANDLED_TYPE, row, detail))
    return out
