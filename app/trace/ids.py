"""Id columns of one topic: event id, correlation id, causation id and version per row.

The index keeps type and aggregate as columns, not these.  They are computed here from
the stored values, once per topic, and kept beside the index in memory (``ids_for``):
rows only ever get added to an index, so a grown index costs only its new rows.

Ids are kept as 64-bit hashes (``id_hash``), not as text: a million events would
otherwise hold three million strings (about 200 MB).  Equal ids have equal hashes, which
is all a lookup or a duplicate check needs; the odds that two of a million different ids
share a hash are about one in thirty billion.  The text of the few ids a person looks at
is read again from the record (``texts``).  0 stands for "no id" in every column.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.index.columns import Column
from app.index.topic_index import TopicIndex
from app.trace.records import Batch, BatchDecoder, RecordReader
from app.trace.rules import ROLES, IdRules, ResolvedRules, Role, as_id, as_version, resolve

NO_VERSION = np.iinfo(np.int64).min
HASH_ROLES = (Role.EVENT_ID, Role.CORRELATION, Role.CAUSATION)
SAMPLE = 400  # records detection looks at: the first half, then spread over the topic
_NONE_HASH = hash(None)


def id_hash(text: str | None) -> int:
    """The hash an id is stored as (0: no id).  Python's own string hash: fast, and only
    ever compared within one process (the columns are not saved)."""
    return hash(text) if text else 0


@dataclass
class IdColumns:
    """One topic's id columns, for rows ``0..size`` of its index."""

    topic: str
    rules: ResolvedRules
    size: int = 0
    # values of a role that are there but are no id (an object, a list, a fractional version)
    unusable: dict[Role, int] = field(default_factory=lambda: dict.fromkeys(ROLES, 0))
    _cols: dict[Role, Column] = field(init=False, repr=False)
    _sorted: dict[Role, tuple[int, np.ndarray, np.ndarray]] = field(
        init=False, repr=False, default_factory=dict
    )
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._cols = {role: Column(np.int64) for role in ROLES}

    def column(self, role: Role) -> np.ndarray:
        """Hashes (versions for VERSION) of rows ``0..size``; do not modify."""
        return self._cols[role].data[: self.size]

    def has(self, role: Role) -> bool:
        return self.rules.rule(role) is not None

    def present(self, role: Role) -> np.ndarray:
        col = self.column(role)
        result: np.ndarray = col != (NO_VERSION if role is Role.VERSION else 0)
        return result

    def _sorted_by(self, role: Role) -> tuple[np.ndarray, np.ndarray]:
        """(rows sorted by hash, the hashes in that order), kept until the columns grow."""
        with self._lock:
            found = self._sorted.get(role)
            if found is None or found[0] != self.size:
                col = self.column(role)
                order = np.argsort(col, kind="stable")  # equal hashes stay in row order
                found = (self.size, order, col[order])
                self._sorted[role] = found
        return found[1], found[2]

    def rows_with(self, role: Role, h: int) -> np.ndarray:
        """Rows whose ``role`` id hashes to ``h``, in row order (a binary search)."""
        if h == 0:
            return np.empty(0, np.int64)
        order, values = self._sorted_by(role)
        lo, hi = int(np.searchsorted(values, h, "left")), int(np.searchsorted(values, h, "right"))
        result: np.ndarray = order[lo:hi].astype(np.int64)
        return result

    def first_rows(self, role: Role, hashes: np.ndarray) -> np.ndarray:
        """For each hash, the first row (in row order) holding it as ``role`` id, or -1."""
        order, values = self._sorted_by(role)
        if not len(values):
            return np.full(len(hashes), -1, np.int64)
        at = np.searchsorted(values, hashes, "left")
        clipped = np.minimum(at, len(values) - 1)
        hit = (values[clipped] == hashes) & (hashes != 0)
        result: np.ndarray = np.where(hit, order[clipped], -1).astype(np.int64)
        return result

    def extend(self, batch: Batch) -> None:
        """Append the ids of the next rows, read from their records."""
        n = len(batch)
        for role in ROLES:
            rule = self.rules.rule(role)
            if rule is None:
                fill = NO_VERSION if role is Role.VERSION else 0
                self._cols[role].extend(np.full(n, fill, np.int64))
                continue
            raw = batch.values(rule)
            values, bad = _versions(raw) if role is Role.VERSION else _hashes(raw)
            self.unusable[role] += bad
            self._cols[role].extend(values)
        self.size += n

    def texts(self, reader: RecordReader, rows: Sequence[int]) -> list[dict[Role, Any]]:
        """The ids of ``rows`` as text (versions as int), read again from their records."""
        getters = {role: rule.getter() for role, rule in self.rules.rules.items() if rule}
        out = []
        for data, headers, key in reader.rows(rows):
            found: dict[Role, Any] = dict.fromkeys(ROLES)
            for role, get in getters.items():
                value = get(data, headers, key)
                found[role] = as_version(value) if role is Role.VERSION else as_id(value)
            out.append(found)
        return out


def _hashes(raw: list[Any]) -> tuple[np.ndarray, int]:
    """Id hashes (0: none) and how many values were there but are no id."""
    n = len(raw)
    if not set(map(type, raw)) <= {str, type(None)}:
        # Numbers become their decimal text (so 42 and "42" match); objects are no id.
        texts = [as_id(v) for v in raw]
        bad = sum(1 for v, t in zip(raw, texts, strict=True) if t is None and v is not None)
        raw = texts
    else:
        bad = 0
    values = np.fromiter(map(hash, raw), np.int64, n)
    # None and "" are no id (hash("") is 0); an id whose hash collides with None's reads
    # as none, a 1 in 2**64 chance.
    values[values == _NONE_HASH] = 0
    return values, bad


def _versions(raw: list[Any]) -> tuple[np.ndarray, int]:
    n = len(raw)
    if set(map(type, raw)) <= {int, type(None)}:
        found: list[Any] = raw
        bad = 0
    else:
        found = [None if v is None else as_version(v) for v in raw]
        bad = sum(1 for v, f in zip(raw, found, strict=True) if f is None and v is not None)
    values = np.fromiter((NO_VERSION if f is None else f for f in found), np.int64, n)
    return values, bad


def sample_rows(size: int, limit: int = SAMPLE) -> list[int]:
    """The first ``limit/2`` rows, then rows spread evenly over the rest."""
    head = list(range(min(size, limit // 2)))
    rest = size - len(head)
    if rest <= 0:
        return head
    step = max(1, rest // (limit - len(head)))
    return head + list(range(len(head), size, step))[: limit - len(head)]


def build_columns(
    index: TopicIndex,
    rules: IdRules,
    decoder: BatchDecoder | None,
    previous: IdColumns | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> IdColumns:
    """The id columns of ``index``: ``previous`` extended when it still applies."""
    reader = RecordReader(index, decoder, headers=True, keys=_rules_use_key(rules))
    if previous is None or _redetect(previous, reader.size):
        samples = [r for r in reader.rows(sample_rows(reader.size)) if r[0] is not None or r[1]]
        resolved = resolve(rules, samples)
        if previous is None or resolved != previous.rules:
            previous = IdColumns(index.topic, resolved)
    columns = previous
    fields = [r.path for r in columns.rules.rules.values() if r is not None and r.kind == "field"]
    for chunk in reader.chunks(columns.size, fields=fields):
        if cancelled is not None and cancelled():
            break
        columns.extend(chunk)
    return columns


def _rules_use_key(rules: IdRules) -> bool:
    return any(rules.text(role) == "key" for role in ROLES)


def _redetect(previous: IdColumns, size: int) -> bool:
    """Detection from a small sample is done again once the topic has grown past it."""
    return previous.rules.sample < SAMPLE // 2 and size > previous.size


class IdCache:
    """Id columns per index, kept as long as the index lives (a weak reference)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: weakref.WeakKeyDictionary[TopicIndex, threading.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._entries: weakref.WeakKeyDictionary[TopicIndex, tuple[IdRules, IdColumns]] = (
            weakref.WeakKeyDictionary()
        )

    def clear(self) -> None:
        """Forget every index's columns (a benchmark's cold start; memory pressure)."""
        with self._lock:
            self._entries.clear()
            self._locks.clear()

    def get(
        self,
        index: TopicIndex,
        rules: IdRules,
        decoder: BatchDecoder | None,
        cancelled: Callable[[], bool] | None = None,
    ) -> IdColumns:
        """The columns of ``index`` with ``rules``, brought up to the rows it has now."""
        with self._lock:
            lock = self._locks.get(index)
            if lock is None:
                lock = self._locks[index] = threading.Lock()
        with lock:  # one builder per index; the others wait for its result
            with self._lock:
                entry = self._entries.get(index)
            previous = entry[1] if entry is not None and entry[0] == rules else None
            if previous is not None and previous.size == len(index):
                return previous
            columns = build_columns(index, rules, decoder, previous, cancelled)
            with self._lock:
                self._entries[index] = (rules, columns)
            return columns


CACHE = IdCache()


def ids_for(
    index: TopicIndex,
    rules: IdRules | None = None,
    decoder: BatchDecoder | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> IdColumns:
    """The id columns of ``index`` (computed once, then only for new rows).

    ``decoder`` decodes topics that are not JSON; it must belong to the calling thread.
    """
    return CACHE.get(index, rules or IdRules(), decoder, cancelled)
