"""File > Export shown events…: the rows the table shows, written in a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from app.gui.worker import JobContext
from app.index.topic_index import TopicIndex
from app.output.export import export_events
from app.sources import Source
from kafka_io.event import Event

EXPORT_FILTER = "Event file (*.avro);;JSON lines (*.jsonl)"


def export_job(
    source: Source, index: TopicIndex, rows: np.ndarray, path: Path
) -> Callable[[JobContext], int]:
    """Write ``rows`` of ``index`` to ``path``; the count written."""
    rows = rows.copy()  # the table may show other rows by the time the job runs

    def job(ctx: JobContext) -> int:
        decoder = source.clone().make_decoder()  # a Decoder caches: this thread's own
        total = len(rows)

        def events() -> Iterator[Event]:
            for row in rows.tolist():
                ctx.check()
                yield index.event(row, decoder=decoder)

        return export_events(path, events(), decoder, on_each=lambda n: ctx.progress((n, total)))

    return job


def choose_export_path(parent: QWidget) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Export shown events", "", EXPORT_FILTER)
    return Path(path) if path else None
