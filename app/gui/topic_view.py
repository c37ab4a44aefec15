"""The open topic: its index, the filter, and the table/filter-bar/detail that show it.

Queries run on the GUI thread: they are numpy passes over the index's columns (a few
milliseconds for a million events) and the index is only written on this thread, so
there is nothing to lock.  While a read is in progress, refreshes are throttled and
rows that extend the log are appended rather than reset, so the view does not jump.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from app.audit.as_of import AsOf, filter_rows, rows_as_of
from app.gui.masked_events import MaskedEvents
from app.gui.worker import FailureHandler, JobContext, Workers
from app.index.query import Query, TypeCounts, count_by_type, run_query
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.output.table_text import as_json_lines, as_tsv
from kafka_io.event import Event
from widgets.event_table import EventTableModel
from widgets.event_table_view import EventTable
from widgets.filter_bar import FilterBar, FilterState
from widgets.goto_dialog import GotoTarget

REFRESH_MS = 300  # table refresh rate while a read is filling the index
COMPLETION_EVERY_S = 2.0  # re-sorting 100k aggregate names is not free
ASYNC_QUERY_ROWS = 200_000  # text searches over more rows than this run in a worker
# The most rows at the table's end replaced in place (beyond: the model is reset).
REPLACE_MOST = 100_000


def _common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """How many leading row ids ``a`` and ``b`` share."""
    m = min(len(a), len(b))
    differ = np.flatnonzero(a[:m] != b[:m])
    return int(differ[0]) if len(differ) else m


def to_query(state: FilterState, index: TopicIndex) -> Query:
    """The filter bar's state as a core Query.

    An aggregate the index knows is matched exactly; a partial one as a prefix, so the
    table narrows while the user is still typing an id.
    """
    aggregate = state.aggregate
    prefix = aggregate is not None and index.aggregate_id(aggregate) is None
    return Query(
        aggregate=aggregate,
        aggregate_prefix=prefix,
        types=state.types or None,
        since_ms=state.from_ms,
        until_ms=state.to_ms,
        text=state.text,
        ignore_case=True,
        errors_only=state.errors_only,
    )


class TopicView(QObject):
    event_selected = Signal(object, int)  # Event, row id
    refreshed = Signal(int, int)  # rows shown, rows in the index
    selection_lost = Signal()  # the selected event is no longer shown
    copied = Signal(int)  # events put on the clipboard

    def __init__(
        self,
        table: EventTable,
        filter_bar: FilterBar,
        is_reading: Callable[[], bool] = lambda: False,
        on_failure: FailureHandler | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.is_reading = is_reading
        self.workers = Workers(max_threads=1, on_unhandled_failure=on_failure)
        self._query_seq = 0
        self.table = table
        self.filter_bar = filter_bar
        self.model = EventTableModel(self)
        table.setModel(self.model)
        table.selectionModel().currentRowChanged.connect(self._row_changed)
        table.copy_requested.connect(self.copy_selected)
        filter_bar.changed.connect(self.apply_filter)
        self.topic: str | None = None
        self.index: TopicIndex | None = None
        self.live = False  # the open topic is being followed: the table follows its end
        # Why a topic's rows are not everything there is (the window knows).
        self.incomplete_note: Callable[[str | None], str | None] = lambda _topic: None
        self.filter = FilterState()
        self.query: Query = Query()
        self._shown_query: tuple[Query, AsOf | None] = (Query(), None)
        self.as_of: AsOf | None = None  # as-of mode: only what had been written by then
        self.masker = Masker()  # what the table, copies and the detail may show
        self._masked: MaskedEvents | None = None
        self._shown_len = 0
        self._generation = -1
        self._completion_at = 0.0
        self._completion_size = -1
        self._type_counts = TypeCounts()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    # --- what is shown -------------------------------------------------------------------

    def set_topic(self, topic: str, index: TopicIndex) -> None:
        self.topic, self.index = topic, index
        self._generation = -1
        self._completion_size = -1
        self.model.set_rows(self._store(index), np.empty(0, np.int64))
        self.refresh(force_completion=True)

    def clear(self) -> None:
        self.topic = self.index = None
        self.model.clear()
        self.filter_bar.set_type_counts({})
        self.filter_bar.set_aggregates([])
        self.filter_bar.set_summary(0, 0)

    def grew(self) -> None:
        """The index got more rows (a read is running): refresh soon, not per batch."""
        if not self._timer.isActive():
            self._timer.start()

    def apply_filter(self, state: FilterState) -> None:
        self.filter = state
        self.refresh()

    def set_as_of(self, as_of: AsOf | None) -> None:
        """Freeze the table (and its counts and type lists) at ``as_of``; None: thaw."""
        if as_of != self.as_of:
            self.as_of = as_of
            self.refresh(force_completion=True)

    def set_masker(self, masker: Masker) -> None:
        """Show the rows through ``masker`` (the selected row stays selected)."""
        self.masker = masker
        index = self.index
        if index is not None:
            selected = self.selected_row_id()
            self.model.set_rows(self._store(index), self.model.rows)
            if selected is not None:
                self.select_row_id(selected, scroll=False)

    def _store(self, index: TopicIndex) -> TopicIndex | MaskedEvents:
        """What the table reads events from: the index, or the index masked."""
        if not self.masker.active:
            return index
        masked = self._masked
        if masked is None or masked.index is not index or masked.masker is not self.masker:
            masked = self._masked = MaskedEvents(index, self.masker)
        return masked

    def _rows(self, index: TopicIndex, query: Query) -> np.ndarray:
        return filter_rows(index, run_query(index, query), self.as_of)

    # --- refresh -------------------------------------------------------------------------

    def refresh(self, force_completion: bool = False) -> None:
        index = self.index
        if index is None:
            return
        self._timer.stop()
        query = to_query(self.filter, index)
        self._query_seq += 1
        if query.text and len(index) >= ASYNC_QUERY_ROWS and not self.is_reading():
            self._refresh_in_worker(index, query, force_completion)
            return
        self._show(index, query, self._rows(index, query), force_completion)

    def _refresh_in_worker(self, index: TopicIndex, query: Query, force: bool) -> None:
        """A text search over a large index scans its values: off the GUI thread.

        Only when no read is writing the index; a newer filter supersedes the result.
        """
        seq = self._query_seq
        generation = index.generation
        self.filter_bar.summary.setText("Searching…")

        def job(ctx: JobContext) -> np.ndarray | None:
            return None if seq != self._query_seq else self._rows(index, query)

        def done(rows: np.ndarray | None) -> None:
            fresh = seq == self._query_seq and index is self.index
            if rows is not None and fresh and index.generation == generation:
                self._show(index, query, rows, force)
            elif fresh:
                self.refresh(force)  # the index grew meanwhile: ask again

        def failed(message: str) -> None:
            if seq == self._query_seq:
                self.filter_bar.summary.setText("Search failed")
            report = self.workers.on_unhandled_failure
            if report is not None:
                report("search", message)

        self.workers.submit("search", job, on_result=done, on_failed=failed)

    def _show(self, index: TopicIndex, query: Query, rows: np.ndarray, force: bool) -> None:
        old = self.model.rows
        same_query = (query, self.as_of) == self._shown_query and self.model.store is self._store(
            index
        )
        keep = _common_prefix(old, rows) if same_query and len(old) else 0
        if keep and len(old) - keep <= REPLACE_MOST and len(rows) > keep:
            # The log grew at its end (new events may sort among the last ones shown).
            was_at_end = self.table.at_end()
            selected = self.selected_row_id()
            self.model.replace_from(keep, rows)
            if selected is not None and self.selected_row_id() is None:
                self.select_row_id(selected, scroll=False)  # it was among those replaced
            if self.live and len(rows) > len(old):
                self.table.rows_added(len(rows) - len(old), was_at_end)
        elif not (same_query and keep == len(old) == len(rows)):  # not the same rows
            self._reset_keeping_selection(rows)
        self.query = query
        self._shown_query = (query, self.as_of)
        self._generation = index.generation
        mask = rows_as_of(index, self.as_of)
        total = len(index) if mask is None else int(np.count_nonzero(mask))
        self.filter_bar.set_summary(len(rows), total, self.incomplete_note(self.topic))
        self.table.set_empty_text(
            "No events match the filter." if len(index) and not len(rows) else ""
        )
        if index.generation != self._completion_size or force:
            self._refresh_choices(index, force)
        self.refreshed.emit(len(rows), len(index))

    def _refresh_choices(self, index: TopicIndex, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._completion_at < COMPLETION_EVERY_S:
            self.grew()  # try again on a later refresh
            return
        self._completion_at = now
        self._completion_size = index.generation
        if self.as_of is None:
            counts = self._type_counts.of(index)  # only what was appended since
        else:
            counts = count_by_type(index, filter_rows(index, index.log_order(), self.as_of))
        self.filter_bar.set_type_counts(counts)
        self.filter_bar.set_aggregates(index.sorted_aggregates())

    def _reset_keeping_selection(self, rows: np.ndarray) -> None:
        selected = self.selected_row_id()
        self.model.set_rows(self._store(self.index) if self.index is not None else None, rows)
        if selected is not None and not self.select_row_id(selected, scroll=True):
            self.selection_lost.emit()  # the filter hides it: the detail must not linger

    # --- selection -----------------------------------------------------------------------

    def selected_row_id(self) -> int | None:
        current = self.table.currentIndex()
        if not current.isValid():
            return None
        return self.model.row_id(current.row())

    def select_row_id(self, row_id: int, scroll: bool = True) -> bool:
        row = self.model.model_row(row_id)
        if row is None:
            return False
        index = self.model.index(row, 0)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().setCurrentIndex(index, flags)
        if scroll:
            self.table.scrollTo(index)
        return True

    def select_model_row(self, row: int) -> bool:
        if not 0 <= row < self.model.rowCount():
            return False
        return self.select_row_id(self.model.row_id(row))

    def _row_changed(self, current: object, _previous: object) -> None:
        row_id = self.selected_row_id()
        if row_id is None or self.index is None:
            return
        event: Event = self.model.event_at(self.table.currentIndex().row())
        self.event_selected.emit(event, row_id)

    # --- copy ----------------------------------------------------------------------------

    def selected_events(self) -> list[Event]:
        """The selected events, in display order, freshly decoded (and masked)."""
        index = self.index
        if index is None:
            return []
        rows = [self.model.row_id(r) for r in self.table.selected_model_rows()]
        return [self.masker.event(index.event(row)) for row in rows]

    def copy_selected(self, fmt: str = "jsonl") -> int:
        """Put the selected events on the clipboard as JSON lines or TSV; how many."""
        events = self.selected_events()
        if events:
            text = as_tsv(events) if fmt == "tsv" else as_json_lines(events)
            QGuiApplication.clipboard().setText(text)
        self.copied.emit(len(events))
        return len(events)

    # --- go to ---------------------------------------------------------------------------

    def goto(self, target: GotoTarget) -> str | None:
        """Select the event a Go-to target names; an error message if there is none."""
        index = self.index
        rows = self.model.rows
        if index is None or len(rows) == 0:
            return "No events to go to."
        if target.offset is not None:
            offsets = index.offset_col[rows]
            sel = offsets >= target.offset
            if target.partition is not None:
                sel &= index.partition_col[rows] == target.partition
            hits = np.flatnonzero(sel)
            if not len(hits):
                return f"No shown event at or after offset {target.offset:,}."
            # The closest offset, not the first in log order (another partition's).
            best = hits[np.argmin(offsets[hits])]
            self.select_model_row(int(best))
            return None
        if target.timestamp_ms is not None:
            times = index.effective_timestamp_col[rows]
            pos = int(np.searchsorted(times, target.timestamp_ms, side="left"))
            self.select_model_row(min(pos, len(rows) - 1))
            return None
        return "Nothing to go to."
