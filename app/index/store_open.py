"""Opening a saved index: meta.json checked, the files mapped at their saved sizes,
the columns cross-checked, the checksums set going in the background.  See
``app.index.store``."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from app.index.columns import ROW_COLUMNS, PartitionState, ValueDecoder
from app.index.log_order import LogOrder
from app.index.mapped import FileStorage
from app.index.partitions import PartitionBook
from app.index.store_files import (
    FORMAT_VERSION,
    CacheError,
    Verification,
    check_entry,
    crc_chunks,
    prune,
    read_meta,
    token,
)
from app.index.store_write import BLOBS, SPARSE, map_aggregates, positions_crc
from app.index.topic_index import TopicIndex
from app.index.validate import validate, validate_quick
from app.index.window import Window


def open_saved(
    folder: Path,
    cluster_id: str,
    topic: str,
    decoder: ValueDecoder | None,
    signature: str,
    writable: bool,
) -> TopicIndex | None:
    meta = read_meta(folder)
    if meta is None:
        return None
    _check_meta(meta, cluster_id, topic, signature)
    gen_dir = folder / str(meta["generation"])
    try:
        return _attach(gen_dir, meta, decoder, writable)
    except CacheError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CacheError(f"damaged index files: {type(exc).__name__}: {exc}") from exc


def _check_meta(meta: dict[str, Any], cluster_id: str, topic: str, signature: str) -> None:
    if meta.get("format") != FORMAT_VERSION:
        raise CacheError(f"format {meta.get('format')!r}, this version reads {FORMAT_VERSION}")
    if meta.get("cluster_id") != cluster_id:
        raise CacheError(f"the cache belongs to cluster {meta.get('cluster_id')!r}")
    if meta.get("topic") != topic:
        raise CacheError(f"the cache belongs to topic {meta.get('topic')!r}")
    if meta.get("signature", "") != signature:
        raise CacheError("the index was built with other decoding rules")
    if not isinstance(meta.get("files"), dict) or not isinstance(meta.get("generation"), str):
        raise CacheError("meta.json lacks its file list")
    required = {*ROW_COLUMNS, *SPARSE, *BLOBS}
    missing = required - set(meta["files"])
    if missing:
        raise CacheError(f"meta.json does not list {sorted(missing)}")
    if meta.get("partitions_crc") != positions_crc(meta.get("partitions")):
        raise CacheError("the stored positions were changed (checksum mismatch)")


def _attach(
    gen_dir: Path, meta: dict[str, Any], decoder: ValueDecoder | None, writable: bool
) -> TopicIndex:
    entries = dict(meta["files"])
    names_entry = meta["names"]
    for entry in [*entries.values(), names_entry]:
        check_entry(gen_dir / entry["file"], entry)
    raw_names = (gen_dir / names_entry["file"]).read_bytes()[: int(names_entry["bytes"])]
    if crc_chunks(raw_names) != names_entry["crcs"]:
        raise CacheError(f"{names_entry['file']} is corrupt (checksum mismatch)")
    names = orjson.loads(raw_names)
    storage = FileStorage(
        gen_dir,
        {name: (e["file"], int(e["items"])) for name, e in entries.items()},
        read_only=not writable,
        fresh=token(),
    )
    index = TopicIndex(meta["topic"], decoder, cluster_id=meta["cluster_id"], storage=storage)
    # The names file's checksum was checked above: its lists are what was saved.
    index.type_names[:] = names["types"]
    index.aggregate_names[:] = names["aggregates"]
    index.key_names[:] = [
        k if isinstance(k, str) else bytes.fromhex(k["hex"]) for k in names["keys"]
    ]
    index.topic_names[:] = names["topics"]
    index.error_names[:] = names["errors"]
    if "effective_ts" in entries:
        index._eff = storage.column("effective_ts", np.int64)
    states = {int(p): PartitionState(**{k: int(v) for k, v in s.items()})
              for p, s in meta["partitions"].items()}  # fmt: skip
    index._book = PartitionBook(states, {int(p): int(t) for p, t in meta["part_max_ts"].items()})
    index._n = int(meta["rows"])
    index._order = _read_order(gen_dir, meta.get("order") or {})
    index.agg_index = map_aggregates(gen_dir, meta.get("aggregates"))
    index.window = Window.from_json(meta.get("window"))
    index.read_only = not writable
    index._reset_derived()
    validate_quick(index)
    checked = [*entries.values(), *(e for e in _extra_entries(meta) if e is not None)]
    # A weak reference: the background check must not keep a dropped index (and the
    # topic's lock it holds) alive.
    ref = weakref.ref(index)

    def then() -> None:
        alive = ref()
        if alive is not None:
            validate(alive)

    index.verification = Verification(gen_dir, checked, then=then)
    if writable:
        prune(gen_dir.parent, meta)
    return index


def _extra_entries(meta: dict[str, Any]) -> list[dict[str, Any] | None]:
    order = meta.get("order") or {}
    return [order.get("tail"), meta.get("aggregates")]


def _read_order(gen_dir: Path, entry: dict[str, Any]) -> LogOrder:
    if int(entry.get("rows", -1)) < 0:
        return LogOrder.unknown()
    tail_entry = entry.get("tail")
    tail = np.empty(0, np.int64)
    if tail_entry is not None:
        check_entry(gen_dir / tail_entry["file"], tail_entry)
        tail = np.fromfile(gen_dir / tail_entry["file"], "<i8", int(tail_entry["items"]))
    return LogOrder(int(entry["prefix"]), tail.astype(np.int64), int(entry["rows"]))
