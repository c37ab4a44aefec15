"""Checks within each aggregate: versions, partitions, keys and clocks.

All of them sort the topic's rows once by (aggregate, log order) and compare each row
with what came before it in its aggregate, as numpy operations over the whole topic;
Python runs only for the rows found wrong.
"""

from __future__ import annotations

import numpy as np

from app.health.context import TopicData, previous_max
from app.health.findings import Finding, Kind
from app.trace.export import format_gap
from app.trace.ids import NO_VERSION
from app.trace.rules import Role
from kafka_io.event import iso_utc
from kafka_io.rules import key_text


def version_findings(td: TopicData) -> list[Finding]:
    """Gaps (a lost append), repeats (two appends of one version) and versions going back.

    A version is compared with the highest one before it in its aggregate, so one event
    out of place is one finding, not one per event after it.  A redelivered event (same
    event id) is left to the duplicate check.
    """
    if not td.ids.has(Role.VERSION):
        return []
    versions = td.ids.column(Role.VERSION)
    rows, first = td.by_aggregate(versions != NO_VERSION)
    v = versions[rows]
    before = previous_max(v, first)
    out: list[Finding] = []
    wants, vt = td.config.wants, td.version_text
    if wants(Kind.VERSION_DUPLICATE):
        repeats = np.flatnonzero(~first & (v == before)).tolist()
        out += [_repeat(td, rows, first, i, int(v[i])) for i in repeats]
    for i in np.flatnonzero(~first & (v < before)).tolist():
        if wants(Kind.VERSION_BACKWARDS):
            j = _last_with(rows, first, versions, i, int(before[i]))
            detail = (
                f"version {vt(v[i])} comes after version {vt(before[i])} "
                f"({td.where(int(rows[j]))}): versions go backwards"
            )
            out.append(td.finding(Kind.VERSION_BACKWARDS, int(rows[i]), detail))
    for i in np.flatnonzero(~first & (v > before + 1)).tolist():
        if wants(Kind.VERSION_GAP):
            missing = int(v[i] - before[i] - 1)
            what = (
                f"version {vt(before[i] + 1)} is missing"
                if missing == 1
                else f"versions {vt(before[i] + 1)} to {vt(v[i] - 1)} are missing ({missing})"
            )
            detail = f"version {vt(v[i])} follows version {vt(before[i])}: {what}"
            out.append(td.finding(Kind.VERSION_GAP, int(rows[i]), detail))
    return out


def _last_with(
    rows: np.ndarray, first: np.ndarray, versions: np.ndarray, i: int, version: int
) -> int:
    """The last position before ``i`` in the same aggregate holding ``version``."""
    j = i - 1
    while not first[j] and versions[rows[j]] != version:
        j -= 1
    return j


def _repeat(td: TopicData, rows: np.ndarray, first: np.ndarray, i: int, version: int) -> Finding:
    j = _last_with(rows, first, td.ids.column(Role.VERSION), i, version)
    row, other = int(rows[i]), int(rows[j])
    detail = (
        f"version {td.version_text(version)} again (also at {td.where(other)}, a different event): "
        "two appends of the same version"
    )
    return td.finding(Kind.VERSION_DUPLICATE, row, detail, other=other)


def timestamp_findings(td: TopicData) -> list[Finding]:
    """Timestamps more than the tolerance before the previous event of the aggregate."""
    if not td.config.wants(Kind.TIMESTAMP_BACKWARDS):
        return []
    rows, first = td.by_aggregate()
    ts = td.index.timestamp_col[rows]
    prev = np.empty_like(ts)
    if len(ts):
        prev[0] = ts[0]
        prev[1:] = ts[:-1]
    tolerance = td.config.clock_tolerance_ms
    out = []
    for i in np.flatnonzero(~first & (ts < prev - tolerance)).tolist():
        row, before = int(rows[i]), int(rows[i - 1])
        back = format_gap(int(prev[i] - ts[i])).lstrip("+")
        detail = (
            f"timestamp {iso_utc(int(ts[i]))} is {back} before the previous event of the "
            f"aggregate ({td.where(before)}, {iso_utc(int(prev[i]))})"
        )
        out.append(td.finding(Kind.TIMESTAMP_BACKWARDS, row, detail))
    return out


def partition_findings(td: TopicData) -> list[Finding]:
    """Aggregates whose events are on more than one partition: one finding each, at the
    first event that left the partition the aggregate started on."""
    if not td.config.wants(Kind.SPLIT_PARTITION):
        return []
    rows, first = td.by_aggregate()
    parts = td.index.partition_col[rows].astype(np.int64)
    group = np.cumsum(first) - 1
    home = parts[np.flatnonzero(first)][group]  # each row's aggregate's first partition
    away = np.flatnonzero(parts != home)
    out = []
    done: set[int] = set()
    for i in away.tolist():
        g = int(group[i])
        if g in done:
            continue
        done.add(g)
        members = parts[group == g]
        counts = np.bincount(members)
        listing = ", ".join(f"{p} ({counts[p]})" for p in np.flatnonzero(counts).tolist())
        detail = (
            f"events of this aggregate are on partitions {listing}: their order "
            "between partitions is lost"
        )
        out.append(td.finding(Kind.SPLIT_PARTITION, int(rows[i]), detail))
    return out


def key_findings(td: TopicData) -> list[Finding]:
    """Keys that are not the aggregate id: one finding per aggregate, at its first."""
    if not td.config.wants(Kind.KEY_MISMATCH):
        return []
    index, n = td.index, td.n
    keys, aggs = index.key_col[:n], index.aggregate_col[:n]
    candidates = np.flatnonzero((keys >= 0) & (aggs >= 0))
    if not len(candidates):
        return []
    pairs = np.unique(np.stack([keys[candidates], aggs[candidates]], axis=1), axis=0)
    bad = {
        (k, a)
        for k, a in pairs.tolist()
        if key_text(index.key_names[k]) != index.aggregate_names[a]
    }
    if not bad:
        return []
    width = len(index.aggregate_names) + 1
    codes = keys[candidates].astype(np.int64) * width + aggs[candidates]
    bad_codes = np.array([k * width + a for k, a in bad], np.int64)
    rows = candidates[np.isin(codes, bad_codes)]
    rows = rows[np.argsort(td.rank[rows], kind="stable")]
    counts: dict[int, int] = {}
    firsts: dict[int, int] = {}
    for row, agg in zip(rows.tolist(), aggs[rows].tolist(), strict=True):
        counts[agg] = counts.get(agg, 0) + 1
        firsts.setdefault(agg, row)
    out = []
    for agg, row in firsts.items():
        key = key_text(index.key_names[int(keys[row])])
        count = counts[agg]
        detail = (
            f"key {key!r} is not the aggregate id {index.aggregate_names[agg]!r} "
            f"({count} event{'s' * (count != 1)}): the partitioner places these by the key"
        )
        out.append(td.finding(Kind.KEY_MISMATCH, row, detail))
    return out
