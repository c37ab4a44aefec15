"""Reading an index's stored records back as (data, headers, key), in bulk.

Building id columns needs every value decoded once.  ``TopicIndex.event(row)`` costs
several calls per row; here rows are read in chunks straight from the index's committed
columns and blobs (through ``app.index.state.snapshot``, the index's own export), JSON
values go to orjson directly (what the decoder would do, minus labelling the type and
aggregate, which the index already holds), and other formats go through a decoder's
batch path.  A record that does not decode reads as data None, like an undecodable one.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Protocol

import numpy as np
import orjson

from app.index.columns import key_bytes
from app.index.state import snapshot
from app.index.topic_index import TopicIndex
from app.trace.fields import FieldReader, Path
from app.trace.rules import IdRule
from kafka_io.decode import ValueFormat
from kafka_io.event import Event, Headers
from kafka_io.rules import field_at, key_text

CHUNK = 32_768
# (data, headers, key) of one record, as the id rules read it
Record = tuple[Any, Headers, "str | bytes | None"]


@dataclass
class Batch:
    """Records ``start..start+size`` of an index: their decoded values (``datas``), or
    only the values of some fields (``fields``, path -> one value per record), the
    headers of those rows that have any (by position in the batch), keys when asked for."""

    start: int
    size: int
    headers: dict[int, Headers]
    datas: list[Any] | None = None
    fields: dict[Path, list[Any]] | None = None
    keys: list[str | bytes | None] | None = None
    _dicts: list[dict[str, Any]] | None = None

    def __len__(self) -> int:
        return self.size

    def dicts(self) -> list[dict[str, Any]]:
        """The values with every non-object replaced by {} (so dict.get maps over them)."""
        if self._dicts is None:
            datas = self.datas or [None] * self.size
            self._dicts = [d if d.__class__ is dict else _EMPTY for d in datas]
        return self._dicts

    def values(self, rule: IdRule) -> list[Any]:
        """What ``rule`` finds in each record, None where nothing."""
        n = self.size
        if rule.kind == "field" and self.fields is not None and rule.path in self.fields:
            return self.fields[rule.path]
        if rule.kind == "field" and len(rule.path) == 1:
            return list(map(dict.get, self.dicts(), repeat(rule.path[0], n)))
        if rule.kind == "field":
            return [field_at(d, rule.path) for d in self.datas or [None] * n]
        if rule.kind == "key":
            return [key_text(k) for k in self.keys or repeat(None, n)]
        found: list[Any] = [None] * n
        get = rule.getter()
        for at, headers in self.headers.items():
            found[at] = get(None, headers, None)
        return found


_EMPTY: dict[str, Any] = {}


class BatchDecoder(Protocol):
    """What is needed of ``kafka_io.decode.Decoder`` (one per thread: decoders cache)."""

    def decode_rows(self, rows: Any) -> list[Event]: ...
    def format_for(self, topic: str) -> ValueFormat: ...


class _Headers:
    """Row -> headers for the rows that have any (most have none)."""

    def __init__(self, rows: np.ndarray, ends: np.ndarray, blob: bytearray) -> None:
        self.rows, self.ends, self.blob = rows, ends, blob

    def between(self, start: int, stop: int) -> dict[int, Headers]:
        lo, hi = np.searchsorted(self.rows, [start, stop])
        if lo == hi:
            return {}
        ends = self.ends
        first = int(ends[lo - 1]) if lo else 0
        raw = bytes(self.blob[first : int(ends[hi - 1])])
        found: dict[int, Headers] = {}
        at = 0
        for row, end in zip(self.rows[lo:hi].tolist(), (ends[lo:hi] - first).tolist(), strict=True):
            found[row] = marshal.loads(raw[at:end])
            at = end
        return found


class RecordReader:
    """Reads records of one index in chunks; ``decoder`` only for non-JSON topics."""

    def __init__(
        self, index: TopicIndex, decoder: BatchDecoder | None, *, headers: bool, keys: bool
    ) -> None:
        self.index = index
        self.decoder = decoder
        self.want_keys = keys
        state = snapshot(index)
        self.size = len(state.arrays["offset"])
        self._ends = state.arrays["value_end"]
        self._blob = state.value_blob
        self._none = frozenset(state.none_values)
        self._headers = (
            _Headers(state.arrays["header_rows"], state.arrays["header_end"], state.header_blob)
            if headers
            else None
        )
        self._json: bool | None = None if decoder is not None else True

    def is_json(self) -> bool:
        """Whether values can go to orjson directly (decided from the first rows)."""
        if self._json is None:
            assert self.decoder is not None
            fmt = self.decoder.format_for(self.index.topic)
            if fmt is ValueFormat.AUTO and self.size:
                # An undecided decoder decides on the records it sees.
                self._via_decoder(range(min(self.size, 50)), {})
                fmt = self.decoder.format_for(self.index.topic)
            self._json = fmt is ValueFormat.JSON
        return self._json

    def chunks(
        self, start: int = 0, stop: int | None = None, fields: Sequence[Path] = ()
    ) -> Iterator[Batch]:
        """Records ``start..stop`` (row order), a batch per chunk.  With ``fields`` (and
        JSON values) only those fields are read, much faster than whole values."""
        stop = self.size if stop is None else min(stop, self.size)
        json_fast = self.is_json()
        reader = FieldReader(fields) if fields and json_fast else None
        for lo in range(start, stop, CHUNK):
            hi = min(stop, lo + CHUNK)
            headers = self._headers.between(lo, hi) if self._headers is not None else {}
            keys = [self.index.key_of(r) for r in range(lo, hi)] if self.want_keys else None
            at = {r - lo: h for r, h in headers.items()}
            if reader is not None:
                raw, ends = self._raw(lo, hi)
                yield Batch(lo, hi - lo, at, fields=reader.read(raw, ends), keys=keys)
                continue
            if json_fast:
                datas = self._json_values(lo, hi)
            else:
                datas = [r[0] for r in self._via_decoder(range(lo, hi), headers)]
            yield Batch(lo, hi - lo, at, datas=datas, keys=keys)

    def rows(self, rows: Sequence[int]) -> list[Record]:
        """Records of any rows (for a few: the trace's events shown)."""
        out: list[Record] = []
        for lo in range(0, len(rows), CHUNK):
            part = [int(r) for r in rows[lo : lo + CHUNK]]
            headers = (
                {r: self.index.headers_of(r) for r in part} if self._headers is not None else {}
            )
            if self.is_json():
                loads = orjson.loads
                for r in part:
                    value = self._value(r)
                    out.append((_loads(loads, value), headers.get(r, ()), self._key(r)))
            else:
                out.extend(self._via_decoder(part, headers))
        return out

    def _value(self, row: int) -> bytes | None:
        if row in self._none:
            return None
        ends = self._ends
        return bytes(self._blob[(int(ends[row - 1]) if row else 0) : int(ends[row])])

    def _key(self, row: int) -> str | bytes | None:
        return self.index.key_of(row) if self.want_keys else None

    def _raw(self, lo: int, hi: int) -> tuple[bytes, list[int]]:
        """The values of rows ``lo..hi`` back to back, and where each ends in that."""
        ends = self._ends
        base = int(ends[lo - 1]) if lo else 0
        # One copy of the chunk's values: slicing the live blob would export its buffer
        # and stop a concurrent append from growing it.
        return bytes(self._blob[base : int(ends[hi - 1])]), (ends[lo:hi] - base).tolist()

    def _json_values(self, lo: int, hi: int) -> list[Any]:
        raw, ends = self._raw(lo, hi)
        loads, error = orjson.loads, orjson.JSONDecodeError
        out: list[Any] = []
        append = out.append
        at = 0
        for end in ends:
            try:
                append(loads(raw[at:end]))
            except error:
                append(None)
            at = end
        return out

    def _via_decoder(
        self, rows: Sequence[int] | range, headers: dict[int, Headers]
    ) -> list[Record]:
        assert self.decoder is not None
        topic = self.index.topic
        batch = [
            (topic, 0, r, 0, key_bytes(self.index.key_of(r)), self._value(r), headers.get(r, ()))
            for r in rows
        ]
        events = self.decoder.decode_rows(batch)
        return [
            (ev.data, headers.get(r, ()), self._key(r)) for r, ev in zip(rows, events, strict=True)
        ]


def _loads(loads: Any, value: bytes | None) -> Any:
    if not value:
        return None
    try:
        return loads(value)
    except orjson.JSONDecodeError:
        return None
