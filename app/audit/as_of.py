"""As-of: a moment T, or a set of per-partition offsets, that freezes what the app shows.

``rows_as_of(index, as_of)`` is a boolean mask over the index's rows of what had been
written by then.  It is one or two vectorised passes over the columns (no Python per
row), so moving T around a million-row topic costs milliseconds.

The rules:

* **a moment T**: a record is in if its partition's clock had not passed T when it was
  written, i.e. its *effective* timestamp (the running maximum of its partition's
  timestamps in offset order, as log order uses) is <= T.  That is every record with a
  timestamp <= T, and a prefix of each partition; the two differ only when a producer's
  clock stepped back, where a record stamped before T but written after a later-stamped
  one is left out (it was appended after the log had passed T).
  The state of one aggregate at T (``state --at``, ``states --at``, ``audit --at``)
  follows the replay rule: the longest prefix of *the aggregate's* events, in log
  order, whose timestamps are <= T.  Without clock steps the two are the same events.
* **offsets**: ``{partition: last offset}``, inclusive; a partition that is not named
  contributes nothing (an auditor states every partition explicitly).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import numpy as np

from app.index.topic_index import TopicIndex


class AsOfError(ValueError):
    """An as-of that cannot be understood (the message says what was wrong)."""


@dataclass(frozen=True)
class AsOf:
    """A moment (``at_ms``, epoch milliseconds) or per-partition last offsets (inclusive)."""

    at_ms: int | None = None
    offsets: Mapping[int, int] | None = field(default=None)

    def __post_init__(self) -> None:
        if (self.at_ms is None) == (self.offsets is None):
            raise AsOfError("an as-of is a moment or a set of partition offsets, not both")
        if self.offsets is not None:
            if not self.offsets:
                raise AsOfError("no partition offsets given")
            clean = {int(p): int(o) for p, o in self.offsets.items()}
            if any(p < 0 for p in clean):
                raise AsOfError("a partition number is never negative")
            object.__setattr__(self, "offsets", MappingProxyType(dict(sorted(clean.items()))))

    @classmethod
    def moment(cls, at_ms: int) -> AsOf:
        return cls(at_ms=at_ms)

    @classmethod
    def at_offsets(cls, offsets: Mapping[int, int]) -> AsOf:
        return cls(offsets=offsets)

    @classmethod
    def parse_offsets(cls, text: str) -> AsOf:
        """``"0:120,1:98"`` -> offsets 120 of partition 0 and 98 of partition 1."""
        offsets: dict[int, int] = {}
        for part in text.split(","):
            part = part.strip()
            partition, sep, offset = part.partition(":")
            if not sep:
                raise AsOfError(f"not PARTITION:OFFSET: {part!r} (e.g. 0:120,1:98)")
            try:
                p, o = int(partition), int(offset)
            except ValueError:
                raise AsOfError(f"not PARTITION:OFFSET: {part!r} (e.g. 0:120,1:98)") from None
            if p in offsets:
                raise AsOfError(f"partition {p} given twice")
            offsets[p] = o
        return cls(offsets=offsets)

    @property
    def is_moment(self) -> bool:
        return self.at_ms is not None

    def label(self) -> str:
        """What the banner says: ``As of 2026-03-31 23:59:59 UTC`` or the offsets."""
        if self.at_ms is not None:
            return f"As of {format_moment(self.at_ms)}"
        assert self.offsets is not None
        listed = ", ".join(f"{p}:{o}" for p, o in self.offsets.items())
        return f"As of offsets {listed} (partition:offset, inclusive)"

    def to_json(self) -> dict[str, Any]:
        if self.at_ms is not None:
            return {
                "kind": "time",
                "timestamp_ms": self.at_ms,
                "timestamp": format_moment(self.at_ms, iso=True),
                "rule": "every event of the aggregate with a timestamp <= T, in log order",
            }
        assert self.offsets is not None
        return {
            "kind": "offsets",
            "offsets": {str(p): o for p, o in self.offsets.items()},
            "rule": "every event up to these offsets (inclusive) of the partitions named",
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AsOf:
        try:
            if doc["kind"] == "time":
                return cls(at_ms=int(doc["timestamp_ms"]))
            if doc["kind"] == "offsets":
                return cls(offsets={int(p): int(o) for p, o in doc["offsets"].items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AsOfError(f"not an as-of: {exc}") from exc
        raise AsOfError(f"unknown as-of kind {doc.get('kind')!r}")


def format_moment(at_ms: int, *, iso: bool = False) -> str:
    """``2026-03-31 23:59:59 UTC`` (milliseconds shown only when there are some)."""
    dt = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    millis = at_ms % 1000
    if iso:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"
    text = dt.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{millis:03d} UTC" if millis else f"{text} UTC"


def rows_as_of(index: TopicIndex, as_of: AsOf | None, n: int | None = None) -> np.ndarray | None:
    """A boolean mask over the first ``n`` rows of what had been written by ``as_of``
    (None: no as-of, everything is in)."""
    if as_of is None:
        return None
    n = len(index) if n is None else n
    if as_of.at_ms is not None:
        mask: np.ndarray = index.effective_timestamp_col[:n] <= as_of.at_ms
        return mask
    assert as_of.offsets is not None
    parts = index.partition_col[:n]
    # A lookup table by partition number: -1 (nothing) for partitions not named.
    size = max(int(parts.max()) + 1 if n else 0, max(as_of.offsets) + 1)
    limits = np.full(size, -1, np.int64)
    for p, last in as_of.offsets.items():
        limits[p] = last
    within: np.ndarray = index.offset_col[:n] <= limits[parts]
    return within


def filter_rows(index: TopicIndex, rows: np.ndarray, as_of: AsOf | None) -> np.ndarray:
    """``rows`` (row ids, e.g. a query's result in log order) narrowed to ``as_of``."""
    mask = rows_as_of(index, as_of)
    if mask is None or len(rows) == 0:
        return rows
    kept: np.ndarray = rows[mask[rows]]
    return kept
