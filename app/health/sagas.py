"""Checks across the checked topics: causation ids that lead nowhere, and sagas (the
events of one correlation id) that started and never reached an end type."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.health.config import HealthConfig
from app.health.context import TopicData
from app.health.findings import Finding, Kind
from app.trace.export import format_gap
from app.trace.rules import Role
from kafka_io.event import iso_utc


def broken_causation_findings(topics: Sequence[TopicData]) -> list[Finding]:
    """Events whose causation id is the id of no event in any checked topic."""
    if not topics or not topics[0].config.wants(Kind.BROKEN_CAUSATION):
        return []
    space = topics[0].space
    out: list[Finding] = []
    for td in topics:
        if not td.ids.has(Role.CAUSATION):
            continue
        causes = td.ids.column(Role.CAUSATION)
        rows = np.flatnonzero(causes != 0)
        if not len(rows):
            continue
        topic_of, _ = space.find_events(causes[rows])
        lost = rows[topic_of < 0]
        lost = lost[np.argsort(td.rank[lost], kind="stable")]
        texts = td.id_texts(lost.tolist())
        where = ", ".join(t.topic for t in topics)
        for row, ids in zip(lost.tolist(), texts, strict=True):
            detail = (
                f"caused by {ids[Role.CAUSATION]!r}, which is the id of no event in {where}: "
                "a lost or unindexed step"
            )
            out.append(td.finding(Kind.BROKEN_CAUSATION, row, detail,
                                  correlation=ids[Role.CORRELATION]))  # fmt: skip
    return out


def now_of(topics: Sequence[TopicData], config: HealthConfig) -> int:
    """The clock sagas are judged by: given, else the latest event checked."""
    if config.now_ms is not None:
        return config.now_ms
    latest = [int(td.index.timestamp_col[: td.n].max()) for td in topics if td.n]
    return max(latest, default=0)


def unfinished_saga_findings(topics: Sequence[TopicData], config: HealthConfig) -> list[Finding]:
    """Sagas older than the window whose events include none of the end types.

    A saga is every event of one correlation id across the checked topics; it starts
    with its earliest event.  With ``saga_starts`` only sagas whose first event has one
    of those types are judged.  One finding per saga, at its first event.
    """
    if not config.saga_ends or not config.wants(Kind.UNFINISHED_SAGA):
        return []
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("c", "ts", "end", "start", "t", "r")}
    for t, td in enumerate(topics):
        if not td.ids.has(Role.CORRELATION):
            continue
        corr = td.ids.column(Role.CORRELATION)
        rows = np.flatnonzero(corr != 0)
        types = td.index.type_col[rows]
        parts["c"].append(corr[rows])
        parts["ts"].append(td.index.timestamp_col[rows])
        parts["end"].append(_type_mask(td, config.saga_ends)[types])
        parts["start"].append(_type_mask(td, config.saga_starts)[types])
        parts["t"].append(np.full(len(rows), t, np.int64))
        parts["r"].append(rows)
    if not parts["c"]:
        return []
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    order = np.lexsort((cols["r"], cols["t"], cols["ts"], cols["c"]))
    cols = {k: v[order] for k, v in cols.items()}
    first = np.r_[True, cols["c"][1:] != cols["c"][:-1]] if len(order) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    ended = np.logical_or.reduceat(cols["end"], starts) if len(starts) else starts
    sizes = np.diff(np.r_[starts, len(order)])
    now = now_of(topics, config)
    late = (now - cols["ts"][starts]) > config.saga_window_ms
    judged = ~ended & late
    if config.saga_starts:
        judged &= cols["start"][starts]
    out = []
    for g in np.flatnonzero(judged).tolist():
        at, size = int(starts[g]), int(sizes[g])
        td = topics[int(cols["t"][at])]
        row = int(cols["r"][at])
        last_at = at + size - 1
        last = topics[int(cols["t"][last_at])]
        last_row = int(cols["r"][last_at])
        correlation = td.id_texts([row])[0][Role.CORRELATION]
        age = format_gap(now - int(cols["ts"][at])).lstrip("+")
        ends = " or ".join(sorted(config.saga_ends))
        detail = (
            f"saga {correlation} started with {td.index.type_of(row)} at "
            f"{iso_utc(int(cols['ts'][at]))} and has not reached {ends} after {age} "
            f"({size} event{'s' * (size != 1)}, the last {last.index.type_of(last_row)} "
            f"in {last.topic} at {iso_utc(int(cols['ts'][last_at]))})"
        )
        out.append(td.finding(Kind.UNFINISHED_SAGA, row, detail, correlation=correlation))
    return out


def _type_mask(td: TopicData, types: frozenset[str]) -> np.ndarray:
    """A lookup table: type id -> whether it is one of ``types``."""
    lut = np.zeros(len(td.index.type_names) + 1, bool)
    for name in types:
        tid = td.index.type_id(name)
        if tid is not None:
            lut[tid] = True
    return lut
