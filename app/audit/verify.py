"""``verify``: does an audit report still prove what it says?

Offline, from the folder alone, in this order (the first thing that does not match is
the answer; nothing after it is trusted):

1. the manifest reads, and its version is one this tool knows;
2. with a public key: the signature over manifest.json's bytes;
3. the events listed in the manifest chain to ``chain_sha256`` (an entry edited,
   added, removed or reordered in the manifest);
4. events.avro holds exactly those records, each hashing to its entry (an event
   edited, removed, added or reordered in the file; a swapped file);
5. the fold file hashes to ``fold.sha256``, and loads;
6. ``state`` in the manifest hashes to ``state_sha256`` (a state edited by hand);
7. the fold, run over the records of events.avro, gives that state (the first field
   that differs is named);
8. the other files (report.html, report.pdf) are the ones written with the manifest.

With a cluster, ``app.audit.verify_cluster`` goes on from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.audit.canonical import (
    canonical_json,
    chain_sha256,
    event_sha256,
    file_sha256,
    json_form,
    sha256_bytes,
    state_sha256,
)
from app.audit.errors import AuditError
from app.audit.fold_source import FoldSourceError, builtin_source, load_report_fold
from app.audit.manifest import EVENTS_FILE, MANIFEST, read_manifest, tool_version
from app.audit.signing import check_signature, signature_key_id
from app.replay.diff import diff_states
from app.replay.replayer import Replayer
from app.sources import FileSource, SourceSettings, TopicSettings
from kafka_io.event import Event
from kafka_io.eventfile import EventFileError


class Mismatch(Exception):
    """The first thing that does not match (exit 1)."""


@dataclass
class Verdict:
    """What verify found: ``problem`` None means verified."""

    folder: Path
    manifest: dict[str, Any]
    checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.problem is None


def topic_settings(manifest: dict[str, Any]) -> TopicSettings:
    """The decoding rules the report was made with (defaults where it used them)."""
    rules = manifest["rules"]

    def given(name: str) -> str | None:
        value = rules.get(name)
        return None if not isinstance(value, str) or value.startswith("default") else value

    try:
        return TopicSettings.parse(
            given("type_rule"), given("aggregate_rule"), rules.get("value_format", "auto")
        )
    except ValueError as exc:
        raise AuditError(f"the manifest's rules cannot be used: {exc}") from exc


def verify_offline(folder: Path, public_key: Path | None = None) -> Verdict:
    """Check a report folder on its own (AuditError: it cannot be checked at all)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    verdict = Verdict(folder, manifest)
    made_by = manifest.get("tool_version")
    if made_by != tool_version():
        verdict.notes.append(
            f"made by event-explorer {made_by}, checked by {tool_version()} (same manifest version)"
        )
    try:
        _check_all(verdict, public_key)
    except Mismatch as exc:
        verdict.problem = str(exc)
    return verdict


def _check_all(verdict: Verdict, public_key: Path | None) -> None:
    folder, manifest = verdict.folder, verdict.manifest
    manifest_bytes = (folder / MANIFEST).read_bytes()
    if public_key is not None:
        check = check_signature(folder, manifest_bytes, public_key)
        if not check.ok:
            raise Mismatch(check.message)
        verdict.checked.append(check.message)
    elif (signer := signature_key_id(folder)) is not None:
        verdict.notes.append(f"signed by key {signer[:16]}…: give --key to check the signature")
    entries = _entries(manifest)
    if chain_sha256(e["sha256"] for e in entries) != manifest["chain_sha256"]:
        raise Mismatch(
            "the manifest's event list does not hash to its chain_sha256: an event entry "
            "was edited, added, removed or reordered in manifest.json"
        )
    found = sum(int(p.get("records_found", 0)) for p in manifest["completeness"]["partitions"])
    excluded = len(manifest.get("excluded_events", []))
    if found != len(entries) + excluded:
        raise Mismatch(
            f"the manifest lists {len(entries)} events (and {excluded} excluded) but its scan "
            f"found {found} records of the aggregate: an event was removed from the report"
        )
    verdict.checked.append(f"chain of {len(entries)} events matches chain_sha256")
    verdict.events = _check_events(folder, manifest, entries)
    verdict.checked.append(f"{EVENTS_FILE} holds exactly those {len(entries)} records")
    _check_state(verdict)
    _check_files(folder, manifest)
    verdict.checked.append("the report's files are the ones written with the manifest")


def _entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    entries = manifest["events"]
    try:
        for e in entries:
            int(e["partition"]), int(e["offset"]), bytes.fromhex(e["sha256"])
    except (TypeError, KeyError, ValueError) as exc:
        raise Mismatch(f"the manifest's event list is damaged: {exc}") from exc
    return list(entries)


def _check_events(
    folder: Path, manifest: dict[str, Any], entries: list[dict[str, Any]]
) -> list[Event]:
    path = folder / EVENTS_FILE
    if not path.is_file():
        raise Mismatch(f"{EVENTS_FILE} is missing")
    settings = SourceSettings(topic_settings(manifest))
    try:
        source = FileSource(path, settings)
        read = source.read(None)
        events = list(read.events())
    except EventFileError as exc:
        raise Mismatch(f"{EVENTS_FILE} is not a readable event file: {exc}") from exc
    if read.report.incomplete:
        raise Mismatch(f"{EVENTS_FILE} is damaged: {read.report.incomplete}")
    swapped = file_sha256(path) != manifest.get("files", {}).get(EVENTS_FILE)
    prefix = f"{EVENTS_FILE} is not the file the report was made with: " if swapped else ""
    listed = {(e["partition"], e["offset"]): i for i, e in enumerate(entries)}
    held = {ev.position: i for i, ev in enumerate(events)}
    for i, e in enumerate(entries):
        if (e["partition"], e["offset"]) not in held:
            raise Mismatch(
                f"{prefix}event #{i + 1} (partition {e['partition']} offset {e['offset']}) "
                f"of the manifest is not in {EVENTS_FILE}: removed"
            )
    for ev in events:
        if ev.position not in listed:
            raise Mismatch(
                f"{prefix}{EVENTS_FILE} holds an event at partition {ev.partition} offset "
                f"{ev.offset} that the manifest does not list: added"
            )
    for i, (ev, e) in enumerate(zip(events, entries, strict=True)):
        if ev.position != (e["partition"], e["offset"]):
            raise Mismatch(
                f"{prefix}{EVENTS_FILE} has the events in another order than the manifest "
                f"(event #{i + 1} is at partition {ev.partition} offset {ev.offset})"
            )
        digest = event_sha256(ev)
        if digest != e["sha256"]:
            raise Mismatch(
                f"{prefix}the event at partition {ev.partition} offset {ev.offset} differs "
                f"from the manifest: its SHA-256 is {digest[:16]}…, the manifest says "
                f"{e['sha256'][:16]}… (edited)"
            )
    if swapped:
        raise Mismatch(f"{prefix}its records match, but its bytes differ from files.{EVENTS_FILE}")
    return events


def _check_state(verdict: Verdict) -> None:
    folder, manifest = verdict.folder, verdict.manifest
    fold = manifest["fold"]
    fold_path = folder / fold["file"]
    if fold["kind"] != "built-in":
        if not fold_path.is_file():
            raise Mismatch(f"the fold file {fold['file']} is missing")
        if file_sha256(fold_path) != fold["sha256"]:
            raise Mismatch(
                f"the fold file {fold['file']} was edited: its SHA-256 is not fold.sha256"
            )
    try:
        spec = load_report_fold(folder, fold)
    except FoldSourceError as exc:
        raise Mismatch(str(exc)) from exc
    if fold["kind"] == "built-in" and sha256_bytes(builtin_source(fold["name"])) != fold["sha256"]:
        raise Mismatch(
            f"this tool's built-in fold {fold['name']!r} is not the code the report used"
        )
    verdict.checked.append(
        f"fold {fold['name']!r} is the code the report used ({fold['sha256'][:16]}…)"
    )
    if state_sha256(manifest["state"]) != manifest["state_sha256"]:
        raise Mismatch("the state in manifest.json was edited: it does not hash to state_sha256")
    replayer = Replayer.from_events(verdict.events, spec, aggregate=manifest["aggregate"])
    result = replayer.step(len(replayer))
    if result.failure is not None:
        raise Mismatch(f"the fold fails on the report's events: {result.failure.describe()}")
    if canonical_json(result.state) != canonical_json(manifest["state"]):
        raise Mismatch(_first_difference(manifest["state"], json_form(result.state)))
    verdict.checked.append(
        f"the fold gives the report's state (SHA-256 {manifest['state_sha256'][:16]}…)"
    )


def _first_difference(reported: Any, computed: Any) -> str:
    changes = diff_states(reported, computed).changes
    if not changes:
        return "the fold gives another state than the report's (same fields, other encoding)"
    c = changes[0]
    name = c.path or "(the whole state)"
    if c.kind == "added":
        return f"state field {name}: the fold gives {c.new!r}, the report does not have it"
    if c.kind == "removed":
        return f"state field {name}: the report says {c.old!r}, the fold does not give it"
    return f"state field {name}: the report says {c.old!r}, the fold gives {c.new!r}"


def _check_files(folder: Path, manifest: dict[str, Any]) -> None:
    for name, digest in sorted(manifest.get("files", {}).items()):
        path = folder / name
        if not path.is_file():
            raise Mismatch(f"{name} is missing from the report")
        if file_sha256(path) != digest:
            raise Mismatch(f"{name} was edited after the report was made")
