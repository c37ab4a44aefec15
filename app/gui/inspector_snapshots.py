"""The inspector's "Start from snapshots": its timeline begins at the aggregate's latest
usable snapshot (a "snapshot vN" step), then the events after it.

The toggle sits in the inspector's header, shown only for a topic with a snapshot
adapter.  The snapshots of the aggregate shown are read once (on the inspector's worker)
and kept while it stays shown, so following a live topic re-plans from memory.  A
snapshot that cannot be used (its adapter failed, it is ahead of the events) is said in
the inspector's note, and the replay starts earlier or from the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QBoxLayout, QCheckBox

from app.audit.as_of import AsOf
from app.gui.worker import JobContext
from app.index.topic_index import TopicIndex
from app.replay.snapshot_check import read_snapshots
from app.replay.snapshot_replay import start_at
from app.replay.snapshots import SnapshotRecord, SnapshotSpec, SnapshotStart
from app.sources import Source
from widgets.aggregate_inspector import AggregateInspector

Key = tuple[int, str, str]  # (id of the index, topic, aggregate)


@dataclass(frozen=True)
class SnapshotsRead:
    """One aggregate's snapshot records, or why they could not be read."""

    key: Key
    snapshot_topic: str
    records: list[SnapshotRecord] = field(default_factory=list)
    error: str | None = None
    incomplete: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StartPlan:
    """Where the inspector's timeline starts, and what to say about it."""

    start: SnapshotStart | None = None  # None: from the first event
    snapshot_topic: str = ""
    notes: tuple[str, ...] = ()
    header: str = ""  # "from snapshot v812 (p0@7), then 14 events"


FROM_EVENTS = StartPlan()


def _header_layout(widget: AggregateInspector) -> QBoxLayout | None:
    """The row with the fold chooser (the widget has no slot for more controls)."""
    outer = widget.layout()
    for i in range(outer.count() if outer is not None else 0):
        item = outer.itemAt(i) if outer is not None else None
        row = item.layout() if item is not None else None
        if isinstance(row, QBoxLayout) and row.indexOf(widget.fold_combo) >= 0:
            return row
    return None


class InspectorSnapshots(QObject):
    changed = Signal()  # switched on or off: the timeline is to be rebuilt

    def __init__(
        self,
        widget: AggregateInspector,
        adapter_for: Callable[[str], SnapshotSpec | None],
        source_for: Callable[[], Source | None],
        say: Callable[[str], None],
    ) -> None:
        super().__init__(widget)
        self.adapter_for, self.source_for, self.say = adapter_for, source_for, say
        self.box = QCheckBox("Start from snapshots")
        self.box.setToolTip(
            "Begin the timeline at the aggregate's latest usable snapshot and replay only "
            "the events after it (Replay > Inspector from snapshots)"
        )
        self.box.setVisible(False)
        self.box.toggled.connect(self._toggled)
        row = _header_layout(widget)
        if row is not None:
            row.insertWidget(max(0, row.indexOf(widget.fold_combo) - 1), self.box)
        self._read: SnapshotsRead | None = None
        self._topic: str | None = None

    @property
    def enabled(self) -> bool:
        return self.box.isChecked()

    def offer(self, topic: str | None) -> None:
        """The toggle is there only for a topic whose snapshots an adapter reads."""
        self._topic = topic
        self.box.setVisible(topic is not None and self.adapter_for(topic) is not None)

    def toggle(self) -> None:
        """Replay > Inspector from snapshots."""
        topic = self._topic
        if topic is None or self.adapter_for(topic) is None:
            shown = topic or "the inspected topic"
            self.say(f"No snapshot adapter for {shown}: write one with @snapshots in a fold file.")
            return
        self.box.setChecked(not self.box.isChecked())

    def forget(self) -> None:
        """The adapters may have changed: read the snapshots again when next needed."""
        self._read = None

    def _toggled(self, _on: bool) -> None:
        self.forget()
        self.changed.emit()

    # --- planning ------------------------------------------------------------------------

    def plan(
        self, index: TopicIndex, topic: str, aggregate: str, rows: np.ndarray, as_of: AsOf | None
    ) -> StartPlan | None:
        """Where ``rows`` (the aggregate's, as shown) start; None: read the snapshots first."""
        spec = self.adapter_for(topic)
        if not self.enabled or spec is None:
            return FROM_EVENTS
        read = self._read
        if read is None or read.key != (id(index), topic, aggregate):
            return None
        if read.error is not None:
            return StartPlan(
                notes=(
                    f"The snapshots of {aggregate} in {read.snapshot_topic} could not be read "
                    f"({read.error}): its events are replayed.",
                )
            )
        every = index.rows_for_aggregate(aggregate)
        at_ms = as_of.at_ms if as_of is not None else None
        start = start_at(read.records, index.offset_col[every], len(rows), written_by_ms=at_ms)
        said = start.note(len(rows))
        notes = [f"{said[:1].upper()}{said[1:]} ({read.snapshot_topic})."]
        notes += [f"Not used: {problem}." for problem in start.problems]
        notes += [f"Incomplete read of the snapshots: {why}." for why in read.incomplete]
        if start.record is None:
            return StartPlan(notes=tuple(notes))
        return StartPlan(start, read.snapshot_topic, tuple(notes), start.note(len(rows)))

    def read_job(
        self, index: TopicIndex, topic: str, aggregate: str
    ) -> Callable[[JobContext], SnapshotsRead]:
        """A job reading the aggregate's snapshots (run it on a worker)."""
        spec, source = self.adapter_for(topic), self.source_for()
        key: Key = (id(index), topic, aggregate)
        mine = source.clone() if source is not None else None

        def job(ctx: JobContext) -> SnapshotsRead:
            if spec is None or mine is None:
                return SnapshotsRead(key, "", error="nothing is open to read them from")
            try:
                records, _, why = read_snapshots(mine, spec, aggregate=aggregate, cancel=ctx.token)
            except Exception as exc:  # any failure to read is said in the note, one line
                error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                return SnapshotsRead(key, spec.snapshot_topic, error=error)
            return SnapshotsRead(key, spec.snapshot_topic, records, incomplete=why)

        return job

    def store(self, read: SnapshotsRead) -> None:
        self._read = read
