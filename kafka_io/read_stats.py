"""What a bounded read plans, reports while it runs, and says when it ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PartitionRange:
    """Offsets [start, end) of one partition to read."""

    partition: int
    start: int
    end: int

    @property
    def total(self) -> int:
        return max(0, self.end - self.start)


@dataclass
class ReadProgress:
    """Per-partition progress: records read and records expected, plus a status line."""

    topic: str
    read: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    status: str = ""

    @property
    def done(self) -> int:
        return sum(self.read.values())

    @property
    def expected(self) -> int:
        return sum(self.total.values())


ProgressCallback = Callable[[ReadProgress], None]


@dataclass
class ReadStats:
    """What a read did, for the caller and for tests.

    ``reached`` is what an index may record as read: per partition of the plan, the
    next offset the read really got to, never past the range's end.  A partition whose
    log ended before its planned end stops there: under ``read_committed`` (the
    default) that is the last stable offset while a transaction is open, so the open
    transaction's records are counted in ``pending``, not as read.

    ``incomplete`` is None when every range was read to its end (or to the end of its
    readable log); otherwise it says why the read stopped: cancelled, stopped by the
    caller, the topic deleted, no progress within the idle timeout.  Apart from cancel
    and a caller that stops iterating, an incomplete read also raises
    ``kafka_io.errors.ReadIncomplete`` carrying these stats.
    """

    assigned: list[int] = field(default_factory=list)
    events: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    errors: list[str] = field(default_factory=list)
    # partition -> offsets in [start, reached) that held no record: compaction,
    # transaction markers, records deleted by retention since the plan
    gaps: dict[int, int] = field(default_factory=dict)
    reached: dict[int, int] = field(default_factory=dict)
    # partition -> offsets in [reached, end) the log could not give yet (an open
    # transaction under read_committed); only for partitions that ended at their log end
    pending: dict[int, int] = field(default_factory=dict)
    incomplete: str | None = None

    @property
    def complete(self) -> bool:
        """Every range read to its end, or to the end of its readable log."""
        return self.incomplete is None
