"""The manifest of an audit report: what was asked, what was read, what it proves.

``manifest.json`` is written with sorted keys (and indented, for a person); its hashes
are over the canonical encodings of ``app.audit.canonical``.  A signature, when there
is one, is over the file's exact bytes (``manifest.sig``, see ``app.audit.signing``).
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit.as_of import AsOf
from app.audit.canonical import ENCODING_VERSION, chain_sha256, event_sha256, json_form
from app.audit.canonical import state_sha256 as state_hash
from app.audit.collect import Collected
from app.audit.errors import AuditError
from app.audit.fold_source import FoldSource
from app.sources import TopicSettings
from kafka_io.event import Event, iso_utc

MANIFEST_VERSION = 1
MANIFEST = "manifest.json"
EVENTS_FILE = "events.avro"
REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"
DIST_NAME = "kafka-event-explorer"
REQUIRED = (
    "manifest_version", "tool_version", "created_at", "source", "aggregate", "as_of",
    "fold", "rules", "events", "chain_sha256", "completeness", "state", "state_sha256",
)  # fmt: skip


def tool_version() -> str:
    try:
        return importlib.metadata.version(DIST_NAME)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def event_entry(event: Event) -> dict[str, Any]:
    return {
        "partition": event.partition,
        "offset": event.offset,
        "timestamp_ms": event.timestamp_ms,
        "timestamp": iso_utc(event.timestamp_ms),
        "type": event.type,
        "sha256": event_sha256(event),
    }


def rules_of(settings: TopicSettings, placement: str) -> dict[str, Any]:
    """How type, aggregate and partition were decided (``null``: not used yet)."""
    return {
        "type_rule": settings.type_rule
        or "default: eventType/type header or field, or the Avro record name",
        "aggregate_rule": settings.aggregate_rule
        or "default: the record key (text), else an aggregateId header or field",
        "value_format": str(settings.value_format),
        "partitions": placement,
        "order": "log order: offsets within a partition; across partitions by timestamp",
        "record_encoding": f"canonical record encoding version {ENCODING_VERSION}",
        "versions": None,
        "upcasters": None,
    }


def completeness_of(collected: Collected) -> dict[str, Any]:
    """Per partition what was scanned, and whether the history is provably complete."""
    reasons = [
        f"partition {scan.partition} starts at offset {scan.scanned_from}: records "
        "before it were deleted (retention or compaction) or are not in the source, "
        "so the state may be built from a truncated history"
        for scan in collected.scans
        if scan.history_gone
    ]
    policy = collected.cleanup_policy
    if policy is not None and "compact" in policy:
        reasons.append(
            f"the topic's cleanup.policy is {policy!r}: compaction may have removed older "
            "records of this key inside the scanned range"
        )
    if not collected.scans:
        reasons.append("no partition was scanned")
    match = (
        "records whose key is the aggregate id"
        if collected.placement.startswith("murmur2")
        else "records whose aggregate (by the aggregate rule) is the aggregate id"
    )
    return {
        "provable": not reasons,
        "not_provable_because": reasons,
        "match": match,
        "cleanup_policy": policy,
        "partitions": [scan.to_json() for scan in collected.scans],
    }


def build_manifest(
    collected: Collected,
    settings: TopicSettings,
    fold: FoldSource,
    state: Any,
    *,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Everything but ``files`` (added once the files are written)."""
    entries = [event_entry(e) for e in collected.applied]
    excluded = [
        {**event_entry(e), "reason": "stamped at or before T but written after a later-stamped "
         "event of the aggregate (log order stops at the first event after T)"}
        for e in collected.excluded
    ]  # fmt: skip
    when = created_at or datetime.now(UTC)
    return {
        "manifest_version": MANIFEST_VERSION,
        "tool": "event-explorer",
        "tool_version": tool_version(),
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "question": question(collected.aggregate, collected.topic, collected.as_of),
        "source": collected.source,
        "aggregate": collected.aggregate,
        "as_of": collected.as_of.to_json(),
        "fold": fold.to_json(),
        "rules": rules_of(settings, collected.placement),
        "events": entries,
        "excluded_events": excluded,
        "events_applied": len(entries),
        "chain_sha256": chain_sha256(e["sha256"] for e in entries),
        "completeness": completeness_of(collected),
        "state": json_form(state),
        "state_sha256": state_hash(state),
    }


def question(aggregate: str, topic: str, as_of: AsOf) -> str:
    when = as_of.label().replace("As of", "as of", 1)
    return f"What was the state of {aggregate} on topic {topic}, {when}?"


def write_manifest(path: Path, manifest: Mapping[str, Any]) -> bytes:
    data = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    path.write_bytes(data)
    return data


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a report folder, checked for shape and version (AuditError)."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise AuditError(f"{folder} is not a folder")
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise AuditError(f"{folder} is not an audit report: it has no {MANIFEST}") from None
    except (OSError, ValueError) as exc:
        raise AuditError(f"{path} is not readable JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise AuditError(f"{path} is not a manifest (not a JSON object)")
    version = doc.get("manifest_version")
    if version != MANIFEST_VERSION:
        made_by = doc.get("tool_version", "an unknown version")
        raise AuditError(
            f"the report was made by event-explorer {made_by} with manifest version "
            f"{version}; this event-explorer {tool_version()} reads version "
            f"{MANIFEST_VERSION}: verify it with the version that made it"
        )
    missing = [key for key in REQUIRED if key not in doc]
    if missing:
        raise AuditError(f"{path} lacks {', '.join(missing)}: not a complete manifest")
    return doc
