"""``verify -b``: does the cluster still hold what the report says it read?

After the offline check, against the cluster:

* it is the same cluster (its id) and the topic still exists;
* no partition now ends before what the report read (a topic deleted and recreated, or
  truncated, ends earlier);
* every record of the report is re-read at its offset and must hash the same;
* the recorded range of each partition is re-scanned: a record of the aggregate there
  that the report does not list is named;
* records of the report that retention or compaction removed since are counted: the
  report is then no longer provable against the cluster (exit 1), while the offline
  check still stands.

Reads are the app's read-only reads (assign, private group id, no commits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.audit.canonical import event_sha256
from app.audit.verify import Mismatch, Verdict, topic_settings
from app.sources import ClusterSource, SourceSettings
from kafka_io.errors import TopicNotFound
from kafka_io.event import Event


@dataclass
class ClusterCheck:
    checked: list[str] = field(default_factory=list)
    problem: str | None = None


def verify_on_cluster(verdict: Verdict, source: ClusterSource) -> ClusterCheck:
    """Check an offline-verified report against ``source`` (its settings are replaced
    by the report's rules)."""
    result = ClusterCheck()
    try:
        _check(
            verdict.manifest, source.clone(SourceSettings(topic_settings(verdict.manifest))), result
        )
    except Mismatch as exc:
        result.problem = str(exc)
    return result


def _check(manifest: dict[str, Any], source: ClusterSource, result: ClusterCheck) -> None:
    made_on = manifest["source"]
    topic = made_on["topic"]
    if made_on["kind"] == "cluster" and source.identity != made_on["cluster_id"]:
        raise Mismatch(
            f"this is cluster {source.identity}; the report was made on cluster "
            f"{made_on['cluster_id']}"
        )
    try:
        now = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
    except TopicNotFound:
        raise Mismatch(f"topic {topic} no longer exists on the cluster") from None
    listed = {(e["partition"], e["offset"]): e for e in manifest["events"]}
    listed.update({(e["partition"], e["offset"]): e for e in manifest.get("excluded_events", [])})
    by_key = manifest["completeness"]["match"].startswith("records whose key")
    gone: list[str] = []
    for scan in manifest["completeness"]["partitions"]:
        p, start, stop = scan["partition"], scan["scanned_from"], scan["scanned_to"]
        if p not in now:
            raise Mismatch(f"partition {p} of {topic} no longer exists: the topic was recreated")
        low, high = now[p]
        if high < stop:
            raise Mismatch(
                f"partition {p} now ends at offset {high}, before offset {stop - 1} that the "
                "report read: the topic was deleted and recreated, or truncated"
            )
        on_cluster = _rescan(source, topic, manifest["aggregate"], p, max(start, low), stop, by_key)
        compacted = "compact" in str(manifest["completeness"].get("cleanup_policy"))
        _compare(p, low, listed, on_cluster, gone, compacted)
    if gone:
        raise Mismatch(
            f"no longer provable against the cluster: {len(gone)} of the report's records "
            f"were removed by retention or compaction since ({', '.join(gone[:5])}"
            f"{', …' if len(gone) > 5 else ''}); the offline check still stands"
        )
    result.checked.append(
        f"cluster {source.identity}: every record of the report is still there, byte for "
        "byte, and the scanned range holds no other record of the aggregate"
    )


def _rescan(
    source: ClusterSource, topic: str, aggregate: str, p: int, start: int, stop: int, by_key: bool
) -> dict[int, Event]:
    if stop <= start:
        return {}
    read = source.read(
        topic, partitions=[p], key=aggregate.encode() if by_key else None, end_offset=stop - 1
    )
    found = {
        e.offset: e for e in read.events() if e.aggregate == aggregate and start <= e.offset < stop
    }
    if not read.report.complete:
        raise Mismatch(f"re-reading partition {p} did not complete: {read.report.incomplete}")
    return found


def _compare(
    p: int,
    low: int,
    listed: dict[tuple[int, int], dict[str, Any]],
    on_cluster: dict[int, Event],
    gone: list[str],
    compacted: bool,
) -> None:
    # The report's records first: a recreated topic shows there before anywhere else.
    for lp, offset in sorted(listed):
        if lp != p:
            continue
        event = on_cluster.get(offset)
        if event is None:
            if offset >= low and not compacted:
                # Retention deletes from the front only; nothing compacts this topic.
                raise Mismatch(
                    f"the record at partition {p} offset {offset} is no longer on the cluster "
                    f"although the partition still starts at offset {low}: the topic was "
                    "deleted and recreated"
                )
            gone.append(f"partition {p} offset {offset}")
        elif event_sha256(event) != listed[(lp, offset)]["sha256"]:
            raise Mismatch(
                f"the record at partition {p} offset {offset} on the cluster is not the one "
                "in the report (the topic was deleted and recreated, or the record rewritten)"
            )
    for offset in sorted(on_cluster):
        if (p, offset) not in listed:
            raise Mismatch(
                f"partition {p} offset {offset} holds a record of the aggregate that the "
                "report does not list (left out, or the topic was recreated)"
            )
