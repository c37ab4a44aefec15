"""A trace: every event of one correlation id, across topics, as a causation tree.

The parent of an event is the event whose id is its causation id.  Everything is numpy
arrays over the trace's nodes (sorted by time), so a trace of a million events is built
in a fraction of a second and never walked recursively:

* ``roots``: events with no causation id (where the process started);
* ``orphans``: events whose causation id names no event of this trace: ``broken`` when no
  indexed event has that id at all, else caused by an event of another correlation
  (``external``);
* ``cycles``: events that cause themselves, directly or through others.  Their chains
  never reach a root, so they are found (pointer doubling: every node jumps to its
  ancestor's ancestor until nothing moves) and listed apart, each cycle once, in
  causation order.  Walking down from roots and orphans can never enter a cycle (each
  event has one parent, and a cycle member's parent is a cycle member), so no walk loops.

Children are kept as one sorted array with start offsets (``children(i)``): a view
shows the children of the nodes it opens, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.trace.ids import id_hash
from app.trace.rules import Role, looked_for
from app.trace.space import Position, TraceSpace

_EMPTY = np.empty(0, np.int64)


@dataclass
class Trace:
    correlation: str | None
    topics: list[str]  # topic names, indexed by ``topic``
    topic: np.ndarray  # per node: number of its topic
    row: np.ndarray  # per node: row in its topic's index
    partition: np.ndarray
    offset: np.ndarray
    timestamp: np.ndarray
    event: np.ndarray  # event id hashes (0: none)
    cause: np.ndarray  # causation id hashes (0: none)
    parent: np.ndarray  # node of the causing event, -1 for none in this trace
    broken: np.ndarray  # causation id set, and no indexed event has that id
    external: dict[int, Position] = field(default_factory=dict)  # caused from elsewhere
    roots: np.ndarray = field(default_factory=lambda: _EMPTY)
    orphans: np.ndarray = field(default_factory=lambda: _EMPTY)
    cycles: list[np.ndarray] = field(default_factory=list)
    note: str | None = None  # why the trace is only this, when it is
    _child_nodes: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    _child_start: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64), repr=False)
    _external_ts: dict[int, int] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.row)

    def children(self, node: int) -> np.ndarray:
        """The nodes ``node`` caused, in time order."""
        result: np.ndarray = self._child_nodes[
            self._child_start[node] : self._child_start[node + 1]
        ]
        return result

    def child_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Every node's children back to back (grouped by parent, in time order), and
        where each node's run starts (``children(i)`` is one slice of it)."""
        return self._child_nodes, self._child_start

    def child_count(self, node: int) -> int:
        return int(self._child_start[node + 1] - self._child_start[node])

    def gap_ms(self, node: int) -> int | None:
        """Milliseconds since the event that caused this one (None: no known cause)."""
        parent = int(self.parent[node])
        if parent >= 0:
            return int(self.timestamp[node] - self.timestamp[parent])
        ts = self._external_ts.get(node)
        return None if ts is None else int(self.timestamp[node]) - ts

    def step_gap_ms(self, node: int) -> int | None:
        """Milliseconds since the previous event of the trace in time (the timeline)."""
        return int(self.timestamp[node] - self.timestamp[node - 1]) if node > 0 else None

    def position(self, node: int) -> Position:
        return Position(
            self.topics[int(self.topic[node])],
            int(self.partition[node]),
            int(self.offset[node]),
            int(self.row[node]),
        )

    def topic_name(self, node: int) -> str:
        return self.topics[int(self.topic[node])]

    @property
    def in_cycle(self) -> np.ndarray:
        mask = np.zeros(len(self), bool)
        for members in self.cycles:
            mask[members] = True
        return mask

    @property
    def span_ms(self) -> int:
        return int(self.timestamp[-1] - self.timestamp[0]) if len(self) else 0

    def node_of(self, topic: str, partition: int, offset: int) -> int | None:
        if topic not in self.topics:
            return None
        t = self.topics.index(topic)
        hits = np.flatnonzero(
            (self.topic == t) & (self.partition == partition) & (self.offset == offset)
        )
        return int(hits[0]) if len(hits) else None


def trace_correlation(space: TraceSpace, correlation: str) -> Trace:
    """Every indexed event carrying ``correlation``, as a tree."""
    return build(space, space.rows_for_correlation(correlation), correlation)


def trace_event(space: TraceSpace, topic: str, partition: int, offset: int) -> Trace | None:
    """The trace of the event at ``topic:partition:offset`` (None: no such event).

    An event without a correlation id is a trace of its own, with a note saying so.
    """
    at = space.position(topic, partition, offset)
    if at is None:
        return None
    columns = space.columns(topic)
    h = int(columns.column(Role.CORRELATION)[at.row])
    correlation = space.correlation_text(topic, at.row) if h else None
    if correlation is None:
        trace = build(space, {topic: np.array([at.row], np.int64)}, None)
        rules = columns.rules
        if rules.rule(Role.CORRELATION) is None:
            trace.note = f"{topic} has no correlation id: {rules.describe(Role.CORRELATION)}"
        else:
            trace.note = f"this event has no correlation id ({rules.describe(Role.CORRELATION)})"
        return trace
    return trace_correlation(space, correlation)


def build(space: TraceSpace, rows: dict[str, np.ndarray], correlation: str | None) -> Trace:
    topics = space.topics
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "r", "p", "o", "ts", "e", "c")}
    for topic, topic_rows in rows.items():
        index, columns = space.indexes[topic], space.columns(topic)
        parts["t"].append(np.full(len(topic_rows), topics.index(topic), np.int64))
        parts["r"].append(topic_rows)
        parts["p"].append(index.partition_col[topic_rows].astype(np.int64))
        parts["o"].append(index.offset_col[topic_rows])
        parts["ts"].append(index.timestamp_col[topic_rows])
        parts["e"].append(columns.column(Role.EVENT_ID)[topic_rows])
        parts["c"].append(columns.column(Role.CAUSATION)[topic_rows])
    cols = {k: np.concatenate(v) if v else _EMPTY.copy() for k, v in parts.items()}
    order = np.lexsort((cols["o"], cols["p"], cols["t"], cols["ts"]))
    cols = {k: v[order] for k, v in cols.items()}
    n = len(order)
    parent, found = _link(cols["e"], cols["c"])
    trace = Trace(
        correlation, topics, cols["t"], cols["r"], cols["p"], cols["o"], cols["ts"],
        cols["e"], cols["c"], parent, np.zeros(n, bool),
    )  # fmt: skip
    _resolve_outside(space, trace, ~found & (cols["c"] != 0))
    shape(trace)
    if correlation is not None and n == 0:
        trace.note = f"no indexed event has the correlation id {correlation!r}" + _where(space)
    return trace


def shape(trace: Trace) -> Trace:
    """Roots, orphans, cycles and children from ``parent``, ``broken`` and ``external``."""
    parent = trace.parent
    trace.cycles = _cycles(parent)
    top = np.flatnonzero(parent < 0)
    outside = trace.broken[top] | np.isin(top, np.fromiter(trace.external, np.int64))
    trace.roots, trace.orphans = top[~outside], top[outside]
    trace._child_nodes, trace._child_start = _children(parent)
    return trace


def of_parents(parent: np.ndarray, broken: np.ndarray | None = None, topic: str = "t") -> Trace:
    """A trace of one topic given by its parent array (node i at offset i, time i s): for
    views and tests that need a trace of a given shape without an index behind it."""
    n = len(parent)
    at = np.arange(n, dtype=np.int64)
    trace = Trace(
        None, [topic], np.zeros(n, np.int64), at, np.zeros(n, np.int64), at, 1000 * at,
        at + 1, np.zeros(n, np.int64), np.asarray(parent, np.int64),
        np.zeros(n, bool) if broken is None else np.asarray(broken, bool),
    )  # fmt: skip
    return shape(trace)


def _where(space: TraceSpace) -> str:
    unknown = [t for t in space.topics if not space.columns(t).has(Role.CORRELATION)]
    if not unknown:
        return ""
    names = ", ".join(unknown)
    return f" (no correlation id found in {names}: looked for {looked_for(Role.CORRELATION)})"


def _link(events: np.ndarray, causes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent node of each node (-1: none in the trace), and whether one was found."""
    n = len(events)
    by_id = np.argsort(events, kind="stable")  # the earliest of duplicate ids comes first
    sorted_ids = events[by_id]
    parent = np.full(n, -1, np.int64)
    if n == 0:
        return parent, np.zeros(0, bool)
    at = np.minimum(np.searchsorted(sorted_ids, causes), n - 1)
    found = (sorted_ids[at] == causes) & (causes != 0)
    parent[found] = by_id[at[found]]
    return parent, found


def _resolve_outside(space: TraceSpace, trace: Trace, unmatched: np.ndarray) -> None:
    """Causes not in the trace: another correlation's event (external), or none (broken)."""
    nodes = np.flatnonzero(unmatched)
    if not len(nodes):
        return
    topic_of, row_of = space.find_events(trace.cause[nodes])
    trace.broken[nodes[topic_of < 0]] = True
    for node, t, row in zip(nodes.tolist(), topic_of.tolist(), row_of.tolist(), strict=True):
        if t >= 0:
            topic = space.topics[t]
            trace.external[node] = space.position_of(topic, row)
            trace._external_ts[node] = int(space.indexes[topic].timestamp_col[row])


def _cycles(parent: np.ndarray) -> list[np.ndarray]:
    """Each causation cycle once, as its members in causation order."""
    n = len(parent)
    if n == 0:
        return []
    up = np.where(parent < 0, np.arange(n), parent)
    for _ in range(max(1, int(n).bit_length() + 1)):
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    stuck = parent[up] >= 0  # whose ancestors never end: they hang on a cycle
    seen = np.zeros(n, bool)
    cycles = []
    for start in np.unique(up[stuck]).tolist():
        if seen[start]:
            continue
        members = [start]
        seen[start] = True
        node = int(parent[start])
        while node != start:
            members.append(node)
            seen[node] = True
            node = int(parent[node])
        members.reverse()  # causation order: each member caused by the one before
        first = members.index(min(members))  # start at the earliest member, stably
        cycles.append(np.array(members[first:] + members[:first], np.int64))
    return cycles


def _children(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(parent)
    has = np.flatnonzero(parent >= 0)
    child_nodes = has[np.argsort(parent[has], kind="stable")]
    starts = np.searchsorted(parent[child_nodes], np.arange(n + 1), "left")
    return child_nodes.astype(np.int64), starts.astype(np.int64)


def correlation_hash(text: str) -> int:
    return id_hash(text)
