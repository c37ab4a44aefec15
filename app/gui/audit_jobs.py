"""The audit jobs the window runs in workers: every aggregate's state at a moment, and
an evidence report of one aggregate (with its PDF).

Each returns a ``job(ctx)`` for ``Workers.submit``, in the style of ``app.gui.jobs``.
The states job reports ``(done, total)`` aggregates as progress and stops when
cancelled; it folds on the worker's thread only (no second process from a Qt app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.audit.as_of import AsOf
from app.audit.evidence import build_evidence, write_report
from app.audit.states import StatesResult, states_at
from app.gui.report_pdf import write_pdf
from app.gui.worker import JobContext
from app.index.columns import ValueDecoder
from app.index.topic_index import TopicIndex
from app.replay.folds import FoldSpec
from app.sources import Source


@dataclass(frozen=True)
class AuditDone:
    """A report written: where, and its manifest."""

    folder: Path
    manifest: dict[str, Any]


def states_job(
    index: TopicIndex,
    fold: FoldSpec,
    as_of: AsOf | None,
    make_decoder: Callable[[], ValueDecoder] | None = None,
) -> Callable[[JobContext], StatesResult]:
    """Every aggregate's state at ``as_of`` (None: the latest), with progress."""

    def job(ctx: JobContext) -> StatesResult:
        decoder = make_decoder() if make_decoder is not None else None
        return states_at(
            index,
            fold,
            as_of,
            decoder=decoder,
            progress=lambda done, total: ctx.progress((done, total)),
            cancel=ctx.token,
        )

    return job


def audit_report_job(
    source: Source,
    topic: str,
    aggregate: str,
    fold: FoldSpec,
    as_of: AsOf,
    out_dir: Path,
    sign_key: Path | None = None,
) -> Callable[[JobContext], AuditDone]:
    """Read the aggregate's records from a clone of ``source`` and write the report."""

    def job(ctx: JobContext) -> AuditDone:
        ctx.progress("reading the aggregate's records")
        evidence = build_evidence(source.clone(), topic, aggregate, fold, as_of)
        ctx.check()
        ctx.progress("writing the report")
        folder = write_report(evidence, out_dir, pdf_writer=write_pdf, sign_key=sign_key)
        return AuditDone(folder, evidence.manifest)

    return job
