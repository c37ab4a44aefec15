"""Deciding what a reopen must read: the stored index against the topic as it is now.

``catch_up_plan`` compares the stored per-partition positions with the topic's current
watermarks, and ``check_fingerprints`` the first record of each partition with what was
indexed there, to spot a truncated or deleted-and-recreated topic.  ``reconcile`` does
both and, when the stored index is stale, starts a fresh one (deleting the stored copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.index.columns import record_crc
from app.index.store import discard, index_dir, new_live, release
from app.index.topic_index import TopicIndex
from kafka_io.event import Event


class StaleIndexError(Exception):
    """The topic changed under the stored index (truncated, recreated...): rebuild it."""


def catch_up_plan(index: TopicIndex, watermarks: Mapping[int, tuple[int, int]]) -> dict[int, int]:
    """Where to start reading each partition to bring ``index`` up to date.

    ``watermarks`` maps partition -> (low, high) as the cluster reports them now.  The
    result maps partition -> first offset to read, only for partitions with something
    new.  Raises StaleIndexError when the watermarks contradict what is stored: a
    partition gone, a high watermark below what was indexed (truncated or recreated),
    or a low watermark past the first indexed offset (records deleted under us).
    """
    for p, held in index.partitions.items():
        if p not in watermarks and (held.count or held.next_offset):
            raise StaleIndexError(f"partition {p} no longer exists (topic recreated?)")
    plan: dict[int, int] = {}
    for p, (low, high) in sorted(watermarks.items()):
        st = index.partitions.get(p)
        if st is None:
            start = low
        else:
            if high < st.next_offset:
                raise StaleIndexError(
                    f"partition {p}: high watermark {high} is below offset {st.next_offset}"
                    " already indexed (topic truncated or recreated)"
                )
            if st.first_offset >= 0 and low > st.first_offset:
                raise StaleIndexError(
                    f"partition {p}: low watermark {low} moved past the first indexed offset"
                    f" {st.first_offset} (records deleted or topic recreated)"
                )
            start = max(st.next_offset, low)
        if start < high:
            plan[p] = start
    return plan


def fingerprint_offsets(index: TopicIndex) -> dict[int, list[int]]:
    """partition -> offsets of the first and last indexed records: read these to check
    the fingerprints (the topic may have been recreated under the same names)."""
    out: dict[int, list[int]] = {}
    for p, s in index.partitions.items():
        if s.first_offset >= 0:
            out[p] = sorted({s.first_offset, max(s.last_offset, s.first_offset)})
    return out


def check_fingerprints(index: TopicIndex, records: Mapping[tuple[int, int], Event | None]) -> None:
    """Compare the records now at ``fingerprint_offsets`` with what was indexed there.

    ``records`` maps (partition, offset) -> the record read there (None: not found).
    Raises StaleIndexError on the first difference.
    """
    for (p, offset), ev in sorted(records.items()):
        st = index.partitions.get(p)
        if st is None or st.first_offset < 0:
            continue
        if offset == st.first_offset:
            which, ts, crc = "first", st.first_timestamp_ms, st.first_crc
        elif offset == st.last_offset:
            which, ts, crc = "last", st.last_timestamp_ms, st.last_crc
        else:
            continue
        if ev is None or ev.offset != offset:
            raise StaleIndexError(f"partition {p}: record {offset} is gone")
        if ev.timestamp_ms != ts or record_crc(ev.key, ev.value) != crc:
            raise StaleIndexError(
                f"partition {p}: the {which} record indexed (offset {offset}) differs from "
                "the one there now (topic recreated)"
            )


@dataclass
class CatchUp:
    """What ``reconcile`` decided: the index to use and what to read into it."""

    index: TopicIndex
    plan: dict[int, int]
    rebuilt: str | None = None  # why the stored index was dropped, if it was


def reconcile(
    index: TopicIndex,
    watermarks: Mapping[int, tuple[int, int]],
    first_records: Mapping[tuple[int, int], Event | None] | None = None,
    *,
    cache_dir: Path | None = None,
) -> CatchUp:
    """``catch_up_plan`` + ``check_fingerprints``; on a stale index, a fresh one (the
    stored copy is deleted) and a plan that reads everything."""
    try:
        if first_records is not None:
            check_fingerprints(index, first_records)
        return CatchUp(index, catch_up_plan(index, watermarks))
    except StaleIndexError as exc:
        fresh = start_over(index, cache_dir)
        return CatchUp(fresh, catch_up_plan(fresh, watermarks), f"stored index discarded: {exc}")


def start_over(index: TopicIndex, cache_dir: Path | None = None) -> TopicIndex:
    """An empty index in place of ``index``, whose stored copy is deleted: in a new
    generation of the cache folder when ``index`` held the topic's lock, else in memory."""
    lock = index.lock
    if index.persistent and not index.read_only and lock is not None and lock.held:
        release(index, keep_lock=True)
        discard(index.cluster_id, index.topic, cache_dir, lock=lock)
        folder = index_dir(index.cluster_id, index.topic, cache_dir)
        fresh = new_live(folder, index.topic, index.decoder, index.cluster_id)
        fresh.lock = lock
        return fresh
    if not index.read_only:
        discard(index.cluster_id, index.topic, cache_dir)  # not if another window writes it
    return TopicIndex(index.topic, index.decoder, cluster_id=index.cluster_id)
