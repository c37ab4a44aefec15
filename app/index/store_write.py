"""Writing an index's saved state: the commit of a live index (checksums of what was
appended, names, log order, the aggregate index, then meta.json), or a full copy of an
index that lives in memory.  See ``app.index.store``."""

from __future__ import annotations

import shutil
import time
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from app.index.aggregate_index import AggregateIndex, build, worth_building
from app.index.columns import ROW_COLUMNS
from app.index.mapped import FileColumn, FileStorage
from app.index.state import snapshot
from app.index.store_files import (
    FORMAT_VERSION,
    crc_chunks,
    file_entry,
    prune,
    read_meta,
    token,
    write_meta,
)
from app.index.topic_index import TopicIndex

SPARSE = ("header_rows", "header_end")
BLOBS = ("values", "headers")


def commit(index: TopicIndex, folder: Path, signature: str) -> None:
    """Make what a live index holds now its saved state."""
    storage = index._storage
    assert isinstance(storage, FileStorage)
    with index._lock:
        index._book.resolve(index._fingerprint)
        n = len(index)
        sizes = {name: col.size for name, col in storage.files.items()}
        state = _common_meta(index, signature, n)
        order = index._order.saved_form()
        previous_agg = index.agg_index
        names = _names_of(index)
    files = {
        name: file_entry(col.path.name, sizes[name] * col.dtype.itemsize,
                         col.checksums(sizes[name] * col.dtype.itemsize), sizes[name])
        for name, col in storage.files.items()
    }  # fmt: skip
    gen_dir = storage.folder
    agg = previous_agg
    if worth_building(n, previous_agg):
        agg = build(index.aggregate_col[:n], previous_agg)
    state["files"] = files
    state["names"] = _write_names(gen_dir, names)
    state["order"] = _write_order(gen_dir, order, n)
    state["aggregates"] = _write_aggregates(gen_dir, agg, previous_agg, folder)
    state["generation"] = gen_dir.name
    write_meta(folder, state)
    with index._lock:
        storage.mark_saved()
        if agg is not previous_agg and index.agg_index is previous_agg:
            index.agg_index = map_aggregates(gen_dir, state["aggregates"])
    prune(folder, state)


def write_copy(index: TopicIndex, folder: Path, signature: str) -> None:
    """Save an index that lives in memory: a new generation with a copy of it."""
    parts = snapshot(index)
    n = len(parts.arrays["offset"])
    gen_dir = folder / f"gen-{token()}"
    gen_dir.mkdir()
    try:
        files: dict[str, Any] = {}
        arrays = {k: v for k, v in parts.arrays.items() if k in ROW_COLUMNS or k in SPARSE}
        if "effective_ts" in parts.arrays:
            arrays["effective_ts"] = parts.arrays["effective_ts"]
        for name, array in arrays.items():
            dtype = ROW_COLUMNS.get(name, np.int64)
            data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
            files[name] = _write_file(gen_dir / f"{name}.bin", data, len(data))
        for name, blob, size in (("values", parts.value_blob, parts.value_size),
                                 ("headers", parts.header_blob, parts.header_size)):  # fmt: skip
            files[name] = _write_file(gen_dir / f"{name}.bin", _blob_bytes(blob, size), size)
        with index._lock:
            state = _common_meta(index, signature, n)
            order = index._order.saved_form()
            names = _names_of(index)
        state["partitions"] = {str(p): asdict(s) for p, s in parts.partitions.items()}
        state["partitions_crc"] = positions_crc(state["partitions"])
        state["files"] = files
        state["names"] = _write_names(gen_dir, names)
        state["order"] = _write_order(gen_dir, order if order[2] == n else (0, None, -1), n)
        state["aggregates"] = None
        state["generation"] = gen_dir.name
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    write_meta(folder, state)
    prune(folder, state)


def _blob_bytes(blob: Any, size: int) -> bytes:
    return bytes(blob[:size])


def _write_file(path: Path, data: Any, items: int) -> dict[str, Any]:
    raw = memoryview(data).cast("B")
    with path.open("wb") as f:
        f.write(raw)
    return file_entry(path.name, len(raw), crc_chunks(raw), items)


def _common_meta(index: TopicIndex, signature: str, n: int) -> dict[str, Any]:
    positions = {str(p): asdict(s) for p, s in index._book.states.items()}
    return {
        "format": FORMAT_VERSION,
        "cluster_id": index.cluster_id,
        "topic": index.topic,
        "signature": signature,
        "rows": n,
        "saved_at_ms": int(time.time() * 1000),
        # meta.json is not in the file list it checks: its positions carry their own CRC,
        # so an edited resume offset is caught rather than skipping records for good.
        "partitions": positions,
        "partitions_crc": positions_crc(positions),
        "part_max_ts": {str(p): t for p, t in index._book.max_ts.items()},
        "window": index.window.to_json() if index.window is not None else None,
    }


def _names_of(index: TopicIndex) -> dict[str, Any]:
    return {
        "types": list(index.type_names),
        "aggregates": list(index.aggregate_names),
        "keys": [k if isinstance(k, str) else {"hex": k.hex()} for k in index.key_names],
        "topics": list(index.topic_names),
        "errors": list(index.error_names),
    }


def _write_names(gen_dir: Path, names: dict[str, Any]) -> dict[str, Any]:
    data = orjson.dumps(names)
    name = f"names-{token()}.json"
    (gen_dir / name).write_bytes(data)
    return file_entry(name, len(data), crc_chunks(data))


def _write_order(gen_dir: Path, order: tuple[int, Any, int], n: int) -> dict[str, Any]:
    prefix, tail, rows = order
    if rows != n or tail is None:
        return {"prefix": 0, "rows": -1, "tail": None}
    entry = None
    if len(tail):
        data = np.ascontiguousarray(tail, dtype="<i8")
        entry = _write_file(gen_dir / f"order-{token()}.bin", data, len(data))
    return {"prefix": prefix, "rows": rows, "tail": entry}


def _write_aggregates(
    gen_dir: Path, agg: AggregateIndex | None, previous: AggregateIndex | None, folder: Path
) -> dict[str, Any] | None:
    if agg is None:
        return None
    if agg is previous:
        old = read_meta(folder) or {}
        if isinstance(old.get("aggregates"), dict):
            return dict(old["aggregates"])
    data = np.ascontiguousarray(agg.keys, dtype="<i8")
    entry = _write_file(gen_dir / f"aggidx-{token()}.bin", data, len(data))
    entry["covered"] = agg.covered
    return entry


def map_aggregates(gen_dir: Path, entry: dict[str, Any] | None) -> AggregateIndex | None:
    if entry is None:
        return None
    col = FileColumn(gen_dir / entry["file"], np.int64, int(entry["items"]), read_only=True)
    return AggregateIndex(col.view(), int(entry["covered"]))


def positions_crc(positions: Any) -> int:
    return zlib.crc32(orjson.dumps(positions, option=orjson.OPT_SORT_KEYS))
