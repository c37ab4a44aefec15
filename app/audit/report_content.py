"""What an audit report says to a person, once, for the HTML and the PDF alike.

Built from the manifest (so the report can never say something the manifest does not),
the events (their data, for the timeline), the blame and the fold's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.audit.as_of import format_moment
from app.audit.fold_source import FoldSource
from app.output.event_json import dumps
from app.replay.diff import leaf_paths
from kafka_io.event import Event, EventRef, iso_utc

DATA_CHARS = 4000  # an event's data beyond this is cut in the report (it is whole in events.avro)

PROVES = [
    "The records listed have not changed since the report was made: each one's SHA-256 "
    "is over its key, value, headers, timestamp and position, and the chain over them "
    "catches any event removed, added or reordered.",
    "The state is what this fold's code (kept here byte for byte) gives for exactly these "
    "records, in log order.",
    "With a cluster, verify also proves that the same records are still at the same "
    "offsets, and that the scanned range holds no other record of the aggregate.",
    "With a signature, that the manifest is the one the key's holder signed.",
]
DOES_NOT_PROVE = [
    "That the producers were honest, or that the events describe what really happened.",
    "That the fold is the right business rule: it proves what this code computes.",
    "Anything about history that was gone when the report was made (see Completeness).",
    "Without a signature, who made the report: anyone can rebuild a consistent folder.",
]


@dataclass(frozen=True)
class BlameRow:
    path: str
    value: str
    event: str  # "0:17" (partition:offset)
    timestamp: str
    type: str


@dataclass(frozen=True)
class TimelineRow:
    n: int
    partition: int
    offset: int
    timestamp: str
    type: str
    sha256: str
    data: str
    sets: list[str]  # state fields whose current value this event set


@dataclass
class ReportContent:
    title: str
    question: str
    answer_line: str
    facts: list[tuple[str, str]]  # label, value: the header table
    state_text: str
    blame: list[BlameRow]
    timeline: list[TimelineRow]
    fold_title: str
    fold_code: str
    completeness: list[str]
    provable: bool
    verify_commands: list[str]
    proves: list[str] = field(default_factory=lambda: list(PROVES))
    does_not_prove: list[str] = field(default_factory=lambda: list(DOES_NOT_PROVE))


def _where(ref: EventRef) -> str:
    return f"{ref.partition}:{ref.offset}"


def _data_text(event: Event) -> str:
    text = dumps(event.data) if event.error is None else f"(undecodable: {event.error})"
    if len(text) > DATA_CHARS:
        rest = len(text) - DATA_CHARS
        text = (
            text[:DATA_CHARS] + f"\n… ({rest} more characters: the whole value is in events.avro)"
        )
    return text


def report_content(
    manifest: Mapping[str, Any],
    events: list[Event],
    blame: Mapping[str, EventRef],
    fold: FoldSource,
) -> ReportContent:
    source = manifest["source"]
    aggregate, topic = manifest["aggregate"], source["topic"]
    values = leaf_paths(manifest["state"])
    blame_rows = [
        BlameRow(
            path or "(the state)",
            dumps(values.get(path)),
            _where(ref),
            format_moment(ref.timestamp_ms),
            ref.type,
        )
        for path, ref in blame.items()
    ]
    sets: dict[tuple[int, int], list[str]] = {}
    for path, ref in blame.items():
        sets.setdefault((ref.partition, ref.offset), []).append(path or "(the state)")
    entries = manifest["events"]
    timeline = [
        TimelineRow(
            i + 1, e.partition, e.offset, iso_utc(e.timestamp_ms), e.type, entry["sha256"],
            _data_text(e), sets.get((e.partition, e.offset), []),
        )
        for i, (e, entry) in enumerate(zip(events, entries, strict=True))
    ]  # fmt: skip
    where = (
        f"cluster {source['cluster_id']} ({source.get('bootstrap', '')})"
        if source["kind"] == "cluster"
        else f"event file {source['file_name']} (SHA-256 {source['file_sha256']})"
    )
    completeness = manifest["completeness"]
    lines = [
        f"Partition {p['partition']}: offsets {p['scanned_from']} to {p['scanned_to'] - 1} "
        f"scanned for {aggregate}; low watermark {_mark(p['low_watermark'])}, high watermark "
        f"{_mark(p['high_watermark'])}; {p['records_found']} records of the aggregate found."
        for p in completeness["partitions"]
    ]
    if completeness["provable"]:
        lines.append("Provably complete: every partition scanned starts at offset 0.")
    else:
        lines += [f"Not provably complete: {why}." for why in completeness["not_provable_because"]]
    fold_doc = manifest["fold"]
    return ReportContent(
        title=f"Audit report: {aggregate}",
        question=manifest["question"],
        answer_line=f"{manifest['events_applied']} events applied by fold "
        f"{fold_doc['name']!r}; state SHA-256 {manifest['state_sha256']}",
        facts=[
            ("Aggregate", aggregate),
            ("Topic", topic),
            ("Source", where),
            ("As of", _as_of_text(manifest["as_of"])),
            (
                "Fold",
                f"{fold_doc['name']} ({fold_doc['kind']}, {fold_doc['file']}, "
                f"SHA-256 {fold_doc['sha256']})",
            ),
            ("Events applied", str(manifest["events_applied"])),
            ("Chain SHA-256", manifest["chain_sha256"]),
            ("Made", f"{manifest['created_at']} by event-explorer {manifest['tool_version']}"),
        ],
        state_text=dumps(manifest["state"], pretty=True),
        blame=blame_rows,
        timeline=timeline,
        fold_title=f"{fold_doc['file']} (SHA-256 {fold_doc['sha256']})",
        fold_code=fold.data.decode("utf-8", "replace"),
        completeness=lines,
        provable=bool(completeness["provable"]),
        verify_commands=[
            "event-explorer verify THIS_FOLDER",
            "event-explorer verify THIS_FOLDER -b HOST:PORT      # also against the cluster",
            "event-explorer verify THIS_FOLDER --key SIGNER.pub  # if manifest.sig is present",
        ],
    )


def _mark(value: int | None) -> str:
    return "unknown (event file)" if value is None else str(value)


def _as_of_text(doc: Mapping[str, Any]) -> str:
    if doc["kind"] == "time":
        return f"{doc['timestamp']} ({doc['rule']})"
    offsets = ", ".join(f"partition {p}: {o}" for p, o in doc["offsets"].items())
    return f"offsets {offsets} ({doc['rule']})"
