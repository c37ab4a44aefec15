"""Reading one aggregate's records for a report, and how much of its log that covers.

For each partition that can hold the aggregate, the scan covers ``[from, to)``: from
the low watermark (a file: its first record of the partition) to the as-of's end (the
first offset stamped after T, as ``offsets_for_times`` finds it, or the offset after
the as-of's last one), never past the high watermark seen when the scan began.  Every
record of the aggregate in that range is ``found``; the state depends on ``applied``:
the replay rule's prefix of them (the same events ``state --at`` folds).

Completeness is a property of the scan, recorded per partition: the low watermark at
the time (a partition that starts above offset 0 lost history to retention or
compaction), the high watermark, the records of the aggregate found.  A compacted
topic can drop older records of a key anywhere in the range, so it is never provably
complete either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.audit.as_of import AsOf
from app.audit.canonical import file_sha256
from app.audit.errors import AuditError
from app.replay.event_sources import ListEvents
from app.sources import ClusterSource, FileSource, Source
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.reader import offsets_for_time


@dataclass
class PartitionScan:
    partition: int
    scanned_from: int
    scanned_to: int  # exclusive
    low_watermark: int | None  # None: unknown (an event file)
    high_watermark: int | None
    records_found: int = 0

    @property
    def history_gone(self) -> bool:
        """Records before the scan's start were deleted (or are not in the file)."""
        return self.scanned_from > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "scanned_from": self.scanned_from,
            "scanned_to": self.scanned_to,
            "low_watermark": self.low_watermark,
            "high_watermark": self.high_watermark,
            "records_found": self.records_found,
            "history_gone": self.history_gone,
        }


@dataclass
class Collected:
    """What a scan found: the aggregate's records, and what it covered."""

    topic: str
    aggregate: str
    as_of: AsOf
    found: list[Event]  # every record of the aggregate in the scanned ranges, log order
    applied: list[Event]  # the events the state depends on
    scans: list[PartitionScan]
    source: dict[str, Any]
    decoder: Decoder
    placement: str  # how the partitions were chosen
    cleanup_policy: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def excluded(self) -> list[Event]:
        """Found in the range but not applied (a producer's clock stepped back past T)."""
        applied = {e.position for e in self.applied}
        return [e for e in self.found if e.position not in applied]


def collect(source: Source, topic: str, aggregate: str, as_of: AsOf) -> Collected:
    """Scan ``source`` for ``aggregate``'s records up to ``as_of``."""
    if isinstance(source, ClusterSource):
        return _collect_cluster(source, topic, aggregate, as_of)
    if isinstance(source, FileSource):
        return _collect_file(source, topic, aggregate, as_of)
    raise TypeError(f"cannot collect evidence from {type(source).__name__}")


def _applied(found: list[Event], as_of: AsOf) -> list[Event]:
    """The replay rule: log order, and for T the longest prefix stamped <= T."""
    ordered = ListEvents(found)
    events = list(ordered.events(0, len(ordered)))
    if as_of.at_ms is None:
        return events
    cut = int(np.searchsorted(ordered.effective, as_of.at_ms, side="right"))
    return events[:cut]


def _collect_cluster(source: ClusterSource, topic: str, aggregate: str, as_of: AsOf) -> Collected:
    marks = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
    decoder = source.make_decoder()
    home = source.partitions_for_aggregate(topic, aggregate)
    placement = "murmur2 of the key, as the Java client's default partitioner"
    if home is None:
        placement = "every partition (the aggregate is not the record key)"
    scans, found = _scan_cluster(source, topic, aggregate, as_of, marks, home, decoder)
    if home is not None and not found:
        placement = f"every partition (none in partition {home[0]}, where murmur2 puts the key)"
        scans, found = _scan_cluster(source, topic, aggregate, as_of, marks, None, decoder)
    try:
        policy: str | None = source.cluster.topic(topic).cleanup_policy
    except Exception:  # configs are an extra (an ACL may hide them); said in the notes
        policy = None
    info = {
        "kind": "cluster",
        "cluster_id": source.identity,
        "bootstrap": source.location,
        "topic": topic,
        "partitions": [
            {"partition": p, "low_watermark": lo, "high_watermark": hi}
            for p, (lo, hi) in sorted(marks.items())
        ],
    }
    return Collected(
        topic, aggregate, as_of, found, _applied(found, as_of), scans, info, decoder,
        placement, policy,
    )  # fmt: skip


def _scan_cluster(
    source: ClusterSource,
    topic: str,
    aggregate: str,
    as_of: AsOf,
    marks: dict[int, tuple[int, int]],
    partitions: list[int] | None,
    decoder: Decoder,
) -> tuple[list[PartitionScan], list[Event]]:
    wanted = sorted(marks) if partitions is None else partitions
    if as_of.offsets is not None:
        wanted = [p for p in wanted if p in as_of.offsets]
    ends = {p: marks[p][1] for p in wanted}
    if as_of.at_ms is not None and wanted:
        after = offsets_for_time(source.profile, topic, wanted, as_of.at_ms + 1)
        for p in wanted:
            stamped_after = after.get(p)
            if stamped_after is not None:
                ends[p] = min(ends[p], stamped_after)
    elif as_of.offsets is not None:
        ends = {p: min(marks[p][1], as_of.offsets[p] + 1) for p in wanted}
    key = aggregate.encode() if partitions is not None else None
    scans: list[PartitionScan] = []
    found: list[Event] = []
    for p in wanted:
        low, high = marks[p]
        scan = PartitionScan(p, low, max(low, ends[p]), low, high)
        if scan.scanned_to > scan.scanned_from:
            read = source.read(
                topic, partitions=[p], key=key, end_offset=scan.scanned_to - 1, decoder=decoder
            )
            mine = [
                e for e in read.events() if e.aggregate == aggregate and _within(scan, e.offset)
            ]
            if read.report.incomplete or read.report.cancelled:
                why = read.report.incomplete or "cancelled"
                raise AuditError(f"reading partition {p} of {topic} did not complete: {why}")
            scan.records_found = len(mine)
            found.extend(mine)
        scans.append(scan)
    return scans, found


def _collect_file(source: FileSource, topic: str, aggregate: str, as_of: AsOf) -> Collected:
    decoder = source.make_decoder()
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    cut: dict[int, int] = {}  # the first offset stamped after T, per partition
    found: list[Event] = []
    read = source.read(topic, decoder=decoder)
    for batch in read:
        for e in batch:
            p = e.partition
            if p not in first:
                first[p] = e.offset
            last[p] = e.offset
            if as_of.at_ms is not None and e.timestamp_ms > as_of.at_ms and p not in cut:
                cut[p] = e.offset
            if e.aggregate == aggregate:
                found.append(e)
    if read.report.incomplete:
        raise AuditError(f"{source.path.name}: {read.report.incomplete}")
    scans: list[PartitionScan] = []
    for p in sorted(first):
        end = last[p] + 1
        if as_of.at_ms is not None:
            end = cut.get(p, end)
        elif as_of.offsets is not None:
            if p not in as_of.offsets:
                continue
            end = min(end, as_of.offsets[p] + 1)
        scans.append(PartitionScan(p, first[p], max(first[p], end), None, None))
    ranges = {s.partition: s for s in scans}
    found = [e for e in found if e.partition in ranges and _within(ranges[e.partition], e.offset)]
    for e in found:
        ranges[e.partition].records_found += 1
    info = {
        "kind": "file",
        "file_name": source.path.name,
        "file_sha256": file_sha256(source.path),
        "topic": topic,
        "partitions": [
            {"partition": p, "first_offset": first[p], "last_offset": last[p]}
            for p in sorted(first)
        ],
    }
    placement = "every partition of the file"
    return Collected(
        topic, aggregate, as_of, found, _applied(found, as_of), scans, info, decoder,
        placement, None,
    )  # fmt: skip


def _within(scan: PartitionScan, offset: int) -> bool:
    return scan.scanned_from <= offset < scan.scanned_to
