"""File > Export shown events…: the rows the table shows, written in a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from app.gui.loader import Loader
from app.gui.topic_view import TopicView
from app.gui.worker import JobContext, Task, Workers
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.output.export import export_events
from app.sources import Source
from kafka_io.event import Event

EXPORT_FILTER = "Event file (*.avro);;JSON lines (*.jsonl)"


def export_job(
    source: Source, index: TopicIndex, rows: np.ndarray, path: Path, masker: Masker | None = None
) -> Callable[[JobContext], int]:
    """Write ``rows`` of ``index`` to ``path`` (masked by ``masker``); the count written."""
    masked = masker is not None and masker.active
    rows = rows.copy()  # the table may show other rows by the time the job runs

    def job(ctx: JobContext) -> int:
        decoder = source.clone().make_decoder()  # a Decoder caches: this thread's own
        total = len(rows)

        def events() -> Iterator[Event]:
            for row in rows.tolist():
                ctx.check()
                ev = index.event(row, decoder=decoder)
                yield masker.event(ev) if masker is not None else ev

        # Masked values are written as JSON: the file must not carry the raw bytes' schemas.
        kept = None if masked else decoder
        return export_events(path, events(), kept, on_each=lambda n: ctx.progress((n, total)))

    return job


class Exporter(QObject):
    """File > Export shown events…: the rows the table shows (the current filter)."""

    def __init__(
        self,
        loader: Loader,
        topic_view: TopicView,
        workers: Workers,
        status: QStatusBar,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.loader, self.topic_view, self.workers, self.status = (
            loader,
            topic_view,
            workers,
            status,
        )
        self._parent = parent

    def dialog(self) -> None:
        if self.topic_view.index is None:
            self.status.showMessage("Open a topic first.", 5000)
            return
        path, _ = QFileDialog.getSaveFileName(
            self._parent, "Export shown events", "", EXPORT_FILTER
        )
        if path:
            self.export_shown(Path(path))

    def export_shown(self, path: Path) -> Task | None:
        dataset, index = self.loader.dataset, self.topic_view.index
        if dataset is None or index is None:
            return None
        rows = self.topic_view.model.rows
        status = self.status
        return self.workers.submit(
            f"export to {path.name}",
            export_job(dataset.source, index, rows, path, self.topic_view.masker),
            on_progress=lambda p: status.showMessage(f"Exporting {p[0]:,} of {p[1]:,}…"),
            on_result=lambda n: status.showMessage(f"Exported {n:,} events to {path}", 10000),
        )
