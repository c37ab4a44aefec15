"""An aggregate's events from before a window of its topic, replayed in the inspector
ahead of the window's own (Topic > Earlier events of aggregate reads them).

The timeline then starts with steps that have no row in the table; ``covered`` and
``step_of`` stand in for ``app.replay.snapshot_replay``'s ``events_covered`` and
``timeline_step`` so the inspector maps table rows and steps either way.
"""

from __future__ import annotations

import numpy as np

from app.index.topic_index import TopicIndex, ValueDecoder
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from app.replay.snapshot_replay import events_covered, timeline_step
from app.replay.upcasting import Upcasting
from kafka_io.event import Event


class EarlierReplayer(Replayer):
    """The earlier events, then the index rows, in log order; steps map back to rows."""

    def __init__(
        self,
        index: TopicIndex,
        aggregate: str,
        fold: FoldSpec,
        earlier: list[Event],
        rows: np.ndarray,
        *,
        decoder: ValueDecoder | None = None,
        upcast: Upcasting | None = None,
    ) -> None:
        row_list: list[int] = rows.tolist()
        shown = [index.event(row, decoder=decoder) for row in row_list]
        super().__init__([*earlier, *shown], fold, aggregate=aggregate, upcast=upcast)
        # The replay sorts them all into log order: which step is which row.
        row_of = {(e.partition, e.offset): row for e, row in zip(shown, row_list, strict=True)}
        self._row_at = [row_of.get((r.partition, r.offset)) for r in self.refs()]
        self._step_at = {row: i for i, row in enumerate(self._row_at) if row is not None}
        self._rows = row_list
        self.earlier = len(self._row_at) - len(self._step_at)

    def row_id(self, i: int) -> int | None:
        """The index row of step ``i`` (None: an event from before the window)."""
        return self._row_at[i]

    def step_of(self, position: int) -> int:
        """The step of the aggregate's ``position``-th row (0-based)."""
        return self._step_at[self._rows[position]]


class EarlierEvents:
    """What was read from before each window: (topic, aggregate) -> (index, events)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], tuple[TopicIndex, list[Event]]] = {}

    def put(self, index: TopicIndex, topic: str, aggregate: str, events: list[Event]) -> None:
        self.kept[(topic, aggregate)] = (index, events)

    def of(self, index: TopicIndex | None, topic: str, aggregate: str) -> list[Event] | None:
        """The events kept for the aggregate, if they precede ``index``'s window."""
        kept = self.kept.get((topic, aggregate))
        return kept[1] if kept is not None and kept[0] is index else None


def covered(replayer: Replayer) -> int:
    """How many of the aggregate's rows of the index the timeline stands for."""
    if isinstance(replayer, EarlierReplayer):
        return len(replayer) - replayer.earlier
    return events_covered(replayer)


def step_of(replayer: Replayer, position: int) -> int:
    """The timeline step that shows the aggregate's row number ``position`` (0-based)."""
    if isinstance(replayer, EarlierReplayer):
        return replayer.step_of(position)
    return timeline_step(replayer, position)
