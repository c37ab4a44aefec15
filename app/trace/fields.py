"""A few fields of many JSON values, read fast.

Id columns need three or four fields of every value, not the whole value.  A full parse
(orjson) builds every dict, list and string of the payload only to drop them; msgspec
decodes each value into a struct of just the wanted top-level fields and skips the rest
without building it, several times faster (``tests/perf/bench_trace.py``).  A value that
is not a JSON object, or not JSON, is read again with orjson so nothing is lost: an
object gives its fields, anything else none.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import msgspec
import orjson

from kafka_io.rules import field_at

Path = tuple[str, ...]
# Struct types made for sets of field names, kept for the life of the process: every read
# of a topic asks for the same names, so the type is made once instead of per read; the
# lock keeps two threads indexing at once from making it twice.
_STRUCTS: dict[tuple[str, ...], Any] = {}
_STRUCTS_LOCK = threading.Lock()


def _struct_for(tops: tuple[str, ...]) -> Any:
    with _STRUCTS_LOCK:
        found = _STRUCTS.get(tops)
        if found is None:
            names = [f"f{i}" for i in range(len(tops))]
            # No GC tracking: decoded JSON values cannot hold a reference cycle.
            found = msgspec.defstruct(
                "Fields",
                [(n, Any, None) for n in names],
                rename=dict(zip(names, tops, strict=True)),
                gc=False,
            )
            _STRUCTS[tops] = found
        return found


class FieldReader:
    """Reads the values at ``paths`` (dotted field paths, split) from JSON values."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(dict.fromkeys(paths))
        self.tops = list(dict.fromkeys(p[0] for p in self.paths))
        # Struct attributes must be identifiers; JSON names need not be ("$correlationId").
        names = [f"f{i}" for i in range(len(self.tops))]
        self._struct = _struct_for(tuple(self.tops))
        self._decode = msgspec.json.Decoder(self._struct).decode
        self._empty = self._struct()
        self._get = {top: attrgetter(n) for top, n in zip(self.tops, names, strict=True)}

    def read(self, raw: bytes, ends: Sequence[int]) -> dict[Path, list[Any]]:
        """Values back to back in ``raw`` (each ending at ``ends[i]``) -> path -> values."""
        view = memoryview(raw)
        decode, error = self._decode, msgspec.DecodeError  # ValidationError is one too
        structs: list[Any] = []
        append = structs.append
        at = 0
        for end in ends:
            try:
                append(decode(view[at:end]))
            except error:
                append(self._fallback(view[at:end]))
            at = end
        columns: dict[Path, list[Any]] = {}
        for path in self.paths:
            column = list(map(self._get[path[0]], structs))
            if len(path) > 1:
                rest = path[1:]
                column = [None if v is None else field_at(v, rest) for v in column]
            columns[path] = column
        return columns

    def _fallback(self, value: memoryview) -> Any:
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            return self._empty
        if not isinstance(data, dict):
            return self._empty
        return self._struct(*(data.get(top) for top in self.tops))
