"""Making an audit report: collect the aggregate's records, fold them, write the folder.

The folder stands on its own::

    manifest.json    what was asked and read, every hash, the state (app.audit.manifest)
    manifest.sig     with --sign: an Ed25519 signature of manifest.json's bytes
    events.avro      the exact records, in the project's event-file format
    fold/NAME.py     the fold's source, byte for byte
    report.html      for a person: question, answer, blame, timeline, code, how to verify
    report.pdf       the same, made by the GUI layer's PDF writer (handed in)

It is written to a temporary sibling folder and renamed into place when complete, so a
half-written report never appears; an existing non-empty folder is never overwritten.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.audit.as_of import AsOf, format_moment
from app.audit.canonical import file_sha256
from app.audit.collect import Collected, collect
from app.audit.errors import AuditError
from app.audit.fold_source import FOLD_DIR, FoldSource, fold_source
from app.audit.manifest import (
    EVENTS_FILE,
    MANIFEST,
    REPORT_HTML,
    REPORT_PDF,
    build_manifest,
    write_manifest,
)
from app.audit.report_content import ReportContent, report_content
from app.audit.report_html import render_html
from app.audit.signing import sign_manifest
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from app.sources import Source
from kafka_io.event import Event, EventRef
from kafka_io.eventfile import write_event_file

PdfWriter = Callable[[ReportContent, Path], None]


class NothingToAudit(AuditError):
    """The aggregate had no event by the as-of (exit 1: nothing matched)."""


@dataclass
class Evidence:
    """Everything a report holds, before it is written."""

    manifest: dict[str, Any]
    events: list[Event]
    fold: FoldSource
    state: Any
    blame: dict[str, EventRef]
    collected: Collected


def build_evidence(
    source: Source, topic: str, aggregate: str, spec: FoldSpec, as_of: AsOf
) -> Evidence:
    """Read ``aggregate``'s records up to ``as_of`` and fold them (AuditError if it cannot)."""
    collected = collect(source, topic, aggregate, as_of)
    if not collected.applied:
        raise NothingToAudit(_nothing(collected))
    fold = fold_source(spec)
    replayer = Replayer.from_events(collected.applied, spec, aggregate=aggregate)
    result = replayer.step(len(replayer))
    if result.failure is not None:
        raise AuditError(f"no report: {result.failure.describe()}")
    blame = replayer.blame(len(replayer))
    settings = source.settings.for_topic(topic)
    manifest = build_manifest(collected, settings, fold, result.state)
    return Evidence(manifest, collected.applied, fold, result.state, blame, collected)


def _nothing(collected: Collected) -> str:
    ranges = ", ".join(
        f"partition {s.partition} offsets {s.scanned_from}..{s.scanned_to - 1}"
        if s.scanned_to > s.scanned_from
        else f"partition {s.partition} (nothing before the as-of)"
        for s in collected.scans
    )
    when = collected.as_of.label().replace("As of", "as of", 1)
    found = "" if not ranges else f" (scanned {ranges})"
    if collected.as_of.at_ms is not None:
        when = f"by {format_moment(collected.as_of.at_ms)}"
    return f"{collected.aggregate} has no event on {collected.topic} {when}{found}"


def write_report(
    evidence: Evidence,
    out_dir: Path,
    *,
    pdf_writer: PdfWriter | None = None,
    sign_key: Path | None = None,
) -> Path:
    """Write the report folder (see the module doc); returns its path."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise AuditError(f"{out_dir} exists and is not an empty folder: choose a new one")
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise AuditError(f"no such folder: {parent}")
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)  # mkdtemp makes it private; a report is for handing out
    try:
        _write_files(evidence, work, pdf_writer, sign_key)
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _write_files(
    evidence: Evidence, work: Path, pdf_writer: PdfWriter | None, sign_key: Path | None
) -> None:
    write_event_file(work / EVENTS_FILE, evidence.events, decoder=evidence.collected.decoder)
    (work / FOLD_DIR).mkdir()
    (work / FOLD_DIR / evidence.fold.file_name).write_bytes(evidence.fold.data)
    content = report_content(evidence.manifest, evidence.events, evidence.blame, evidence.fold)
    (work / REPORT_HTML).write_text(render_html(content), encoding="utf-8")
    names = [EVENTS_FILE, f"{FOLD_DIR}/{evidence.fold.file_name}", REPORT_HTML]
    if pdf_writer is not None:
        pdf_writer(content, work / REPORT_PDF)
        names.append(REPORT_PDF)
    manifest = dict(evidence.manifest)
    manifest["files"] = {name: file_sha256(work / name) for name in names}
    data = write_manifest(work / MANIFEST, manifest)
    evidence.manifest = manifest
    if sign_key is not None:
        sign_manifest(work, data, sign_key)
