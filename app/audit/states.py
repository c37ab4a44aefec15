"""The state of every aggregate of an indexed topic at one moment (or offsets).

The quarter-end question — "every account's balance at 2026-03-31 23:59:59 UTC" — over
a ``TopicIndex``: the rows are grouped by aggregate once (one stable argsort of the
aggregate column in log order), each aggregate's cut at T is found with one vectorised
search, the events are decoded in large batches through the decoder's batch path, and
each aggregate is folded once from ``None``.  No per-aggregate scan of the index.

The cut follows the rule ``state --at`` uses (``Replayer.position``): the longest prefix
of the aggregate's events, in log order, whose timestamps are <= T.  With offsets, the
aggregate's events at or below the named offsets of the named partitions.

Every row is a ``ReplayResult``, the object ``state --json`` prints: the same keys.  A
fold that fails on one aggregate fails that row only (the state before the failing
event, and the failure); the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.audit.as_of import AsOf, rows_as_of
from app.audit.parallel import run_chunks
from app.audit.row_events import RowReader
from app.index.columns import ValueDecoder
from app.index.topic_index import TopicIndex
from app.replay.event_sources import StateError, copy_state
from app.replay.folds import FoldSpec
from app.replay.results import ReplayResult
from app.replay.runner import DEFAULT_BUDGET_S, Cancellable, run_fold, state_failure
from kafka_io.event import Event, EventRef

# Events decoded per batch: large enough for the batch path, small enough to bound memory.
BATCH_EVENTS = 20_000
ProgressFn = Callable[[int, int], None]  # (aggregates done, aggregates in all)


@dataclass(frozen=True)
class Groups:
    """Rows of each aggregate in log order, as slices of one array."""

    rows: np.ndarray  # row ids, grouped by aggregate, log order within a group
    aggregate_ids: np.ndarray  # one per group
    starts: np.ndarray
    stops: np.ndarray  # exclusive; events applied = stops - starts
    totals: np.ndarray  # every event of the aggregate in the index (ignoring as-of)


@dataclass
class StatesResult:
    """One row per aggregate that had an event by the as-of, sorted by aggregate."""

    fold: str
    as_of: AsOf | None
    rows: list[ReplayResult] = field(default_factory=list)
    aggregates: int = 0  # aggregates in the index
    events_applied: int = 0
    cancelled: bool = False
    first_timestamp_ms: int | None = None  # the topic's first event, to explain an empty answer

    @property
    def failures(self) -> list[ReplayResult]:
        return [r for r in self.rows if r.failure is not None]


def group_rows(index: TopicIndex, as_of: AsOf | None, n: int | None = None) -> Groups:
    """Every aggregate's rows in log order, cut at ``as_of``."""
    n = len(index) if n is None else n
    order = index.log_order()
    if len(order) != n:
        order = order[order < n]
    aggs = index.aggregate_col[order]
    named = aggs >= 0
    totals_by_id = np.bincount(aggs[named], minlength=len(index.aggregate_names))
    if as_of is not None and as_of.offsets is not None:
        mask = rows_as_of(index, as_of, n)
        assert mask is not None
        named &= mask[order]
    order, aggs = order[named], aggs[named]
    by_aggregate = np.argsort(aggs, kind="stable")  # stable: log order within each group
    rows, aggs = order[by_aggregate], aggs[by_aggregate]
    if len(rows) == 0:
        empty = np.empty(0, np.int64)
        return Groups(rows, empty, empty, empty, empty)
    starts = np.flatnonzero(np.concatenate([[True], aggs[1:] != aggs[:-1]]))
    stops = np.concatenate([starts[1:], [len(rows)]])
    if as_of is not None and as_of.at_ms is not None:
        # The first event past T in each group ends its prefix.
        late = np.flatnonzero(index.timestamp_col[rows] > as_of.at_ms)
        if len(late):
            first_late = np.searchsorted(late, starts)
            later = late[np.minimum(first_late, len(late) - 1)]
            cut = np.where(first_late < len(late), later, stops)
            stops = np.minimum(cut, stops)
    ids = aggs[starts]
    return Groups(rows, ids, starts, stops, totals_by_id[ids])


def states_at(
    index: TopicIndex,
    fold: FoldSpec,
    as_of: AsOf | None = None,
    *,
    decoder: ValueDecoder | None = None,
    progress: ProgressFn | None = None,
    cancel: Cancellable | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    workers: int = 1,
) -> StatesResult:
    """The state of every aggregate at ``as_of`` (None: the latest).

    ``decoder`` decodes instead of the index's own (give a worker thread its own: a
    decoder caches).  ``progress(done, total)`` is called as aggregates are done;
    ``cancel`` stops between aggregates (and inside a slow fold call) with ``cancelled``
    set.  ``workers`` 2 folds on both cores (see ``app.audit.parallel``).
    """
    n = len(index)
    groups = group_rows(index, as_of, n)
    result = StatesResult(fold.name, as_of, aggregates=len(index.aggregate_names))
    if n:
        result.first_timestamp_ms = int(index.timestamp_col[:n].min())
    live = np.flatnonzero(groups.stops > groups.starts)
    reader = RowReader(index, decoder if decoder is not None else index.decoder)
    chunks = _chunks(groups, live)
    sizes = groups.stops - groups.starts
    total = len(live)
    done = 0

    def fold_chunk(i: int) -> list[ReplayResult]:
        chunk = chunks[i]
        rows = np.concatenate([groups.rows[groups.starts[g] : groups.stops[g]] for g in chunk])
        events = reader.events(rows)
        out: list[ReplayResult] = []
        at = 0
        for g in chunk.tolist():
            count = int(sizes[g])
            name = index.aggregate_names[int(groups.aggregate_ids[g])]
            mine = events[at : at + count]
            row = _fold_one(fold, name, mine, int(groups.totals[g]), budget_s, cancel)
            at += count
            if row.failure is not None and row.failure.kind == "cancelled":
                break
            if row.failure is not None:
                row = _clean_failure(reader, fold, groups, g, row, budget_s)
            out.append(row)
        return out

    def take(i: int, rows: list[ReplayResult]) -> None:
        nonlocal done
        result.rows.extend(rows)
        result.events_applied += sum(r.events_applied for r in rows)
        if len(rows) < len(chunks[i]):
            result.cancelled = True
        done += len(rows)
        if progress is not None:
            progress(done, total)

    weights = [int(sizes[c].sum()) for c in chunks]
    finished = run_chunks(weights, fold_chunk, workers=workers, cancel=cancel, on_chunk=take)
    result.cancelled = result.cancelled or not finished
    result.rows.sort(key=lambda r: r.aggregate or "")
    return result


def _chunks(groups: Groups, live: np.ndarray) -> list[np.ndarray]:
    """Groups in runs of about BATCH_EVENTS events (a big aggregate gets its own run)."""
    if len(live) == 0:
        return []
    sizes = (groups.stops - groups.starts)[live]
    bounds = np.flatnonzero(np.diff(np.cumsum(sizes) // BATCH_EVENTS)) + 1
    return np.split(live, bounds)


def _fold_one(
    fold: FoldSpec,
    aggregate: str,
    events: list[Event],
    total: int,
    budget_s: float,
    cancel: Cancellable | None,
) -> ReplayResult:
    outcome = run_fold(fold, None, events, budget_s=budget_s, cancel=cancel)
    applied = outcome.applied
    state, failure = outcome.state, outcome.failure
    if failure is None and applied:
        try:  # a state the app cannot keep (or print) is the fold's failure, named so
            copy_state(state)
        except StateError as exc:
            applied -= 1
            failure = state_failure(fold.name, EventRef.of(events[applied]), applied, exc)
            state = None
    return ReplayResult(
        aggregate=aggregate,
        fold=fold.name,
        state=state,
        events_applied=applied,
        total_events=total,
        last_event=EventRef.of(events[applied - 1]) if applied else None,
        failure=failure,
    )


def _clean_failure(
    reader: RowReader,
    fold: FoldSpec,
    groups: Groups,
    g: int,
    failed: ReplayResult,
    budget_s: float,
) -> ReplayResult:
    """The state before the failing event, folded again from fresh events (the fold
    may have changed the state, or the events, in place before it failed)."""
    start = int(groups.starts[g])
    rows = groups.rows[start : start + failed.events_applied]
    again = run_fold(fold, None, reader.events(rows), budget_s=budget_s)
    state = again.state if again.failure is None else None
    try:
        copy_state(state)
    except StateError:  # the state before is no better: nothing to show
        state = None
    return ReplayResult(
        failed.aggregate, failed.fold, state, failed.events_applied,
        failed.total_events, failed.last_event, failed.failure,
    )  # fmt: skip
