"""Persisting a TopicIndex per cluster + topic: the on-disk format, saving and loading.

Layout under the cache root (platformdirs' user cache dir, ``EVENT_EXPLORER_CACHE_DIR``
or an explicit ``cache_dir``)::

    <root>/<cluster slug>-<hash>/<topic slug>-<hash>/
        meta.json                  format, cluster id, topic, generation, file sizes+CRCs
        gen-<token>/partition.npy  ... one .npy per column, values.bin, headers.bin,
                                   names.json (type/aggregate/key names, sparse rows)

A save writes a complete new ``gen-*`` folder, then atomically replaces ``meta.json``
(temp file + ``os.replace``) to point at it, then deletes the previous generation; a
crash at any moment leaves either the old or the new index, never a mix.

A cache is never trusted blindly: ``load_or_new`` rebuilds (returns an empty index and
says why) when the meta is unreadable, has another format version, belongs to another
cluster id or topic, or was built with other decoding rules (``signature``), when a file
is missing or its size or CRC differs, or when the columns are inconsistent.  Whether
the topic itself still matches the stored index is ``app.index.catch_up``'s question.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import platformdirs

from app.index.columns import ROW_COLUMNS, IndexState, PartitionState, ValueDecoder
from app.index.state import restore, snapshot
from app.index.topic_index import TopicIndex

FORMAT_VERSION = 2  # 2: last-record fingerprints, a checksum over the positions
APP_NAME = "event-explorer"
META = "meta.json"
_STALE_GEN_S = 3600.0  # leftovers of a crashed save older than this are removed


class CacheError(Exception):
    """A stored index that cannot be used (the message says why)."""


def default_cache_dir() -> Path:
    override = os.environ.get("EVENT_EXPLORER_CACHE_DIR")
    if override:
        return Path(override)
    return platformdirs.user_cache_path(APP_NAME) / "index"


def _slug(text: str) -> str:
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', text)[:60]}-{digest}"


def index_dir(cluster_id: str, topic: str, cache_dir: Path | None = None) -> Path:
    """The folder of one cluster + topic's index."""
    return (cache_dir or default_cache_dir()) / _slug(cluster_id) / _slug(topic)


# ---------------------------------------------------------------------- saving


def _crc_file(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            crc = zlib.crc32(chunk, crc)
    return crc


def _write_blob(path: Path, blob: bytearray, size: int) -> None:
    # Slices are copies: a memoryview would pin the bytearray, and a concurrent append
    # to a live index would then fail to grow it.
    with path.open("wb") as f:
        for start in range(0, size, 1 << 24):
            f.write(blob[start : min(size, start + (1 << 24))])


def _encode_key(key: str | bytes) -> Any:
    return key if isinstance(key, str) else {"hex": key.hex()}


def _decode_key(key: Any) -> str | bytes:
    if isinstance(key, str):
        return key
    if isinstance(key, dict) and isinstance(key.get("hex"), str):
        return bytes.fromhex(key["hex"])
    raise CacheError(f"bad key entry {key!r}")


def save(index: TopicIndex, cache_dir: Path | None = None, *, signature: str = "") -> Path:
    """Write ``index`` atomically; returns its folder.  ``signature`` names the decoding
    rules the index was built with (a later load with other rules rebuilds)."""
    state = snapshot(index)
    folder = index_dir(state.cluster_id, state.topic, cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    generation = f"gen-{secrets.token_hex(6)}"
    gen_dir = folder / generation
    gen_dir.mkdir()
    files: dict[str, dict[str, int]] = {}
    try:
        for name, array in state.arrays.items():
            np.save(gen_dir / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        _write_blob(gen_dir / "values.bin", state.value_blob, state.value_size)
        _write_blob(gen_dir / "headers.bin", state.header_blob, state.header_size)
        names = {
            "types": state.type_names,
            "aggregates": state.aggregate_names,
            "keys": [_encode_key(k) for k in state.key_names],
            "topics": state.topic_names,
            "errors": {str(r): e for r, e in state.errors.items()},
            "none_values": state.none_values,
            "part_max_ts": {str(p): t for p, t in state.part_max_ts.items()},
        }
        (gen_dir / "names.json").write_bytes(orjson.dumps(names))
        for path in gen_dir.iterdir():
            files[path.name] = {"size": path.stat().st_size, "crc": _crc_file(path)}
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    positions = {str(p): asdict(s) for p, s in state.partitions.items()}
    meta = {
        "format": FORMAT_VERSION,
        "cluster_id": state.cluster_id,
        "topic": state.topic,
        "signature": signature,
        "generation": generation,
        "rows": len(index),
        "saved_at_ms": int(time.time() * 1000),
        "partitions": positions,
        # meta.json is not in the file list it checks: its positions carry their own CRC,
        # so an edited resume offset is caught rather than skipping records for good.
        "partitions_crc": _positions_crc(positions),
        "files": files,
    }
    previous = _read_meta_quietly(folder)
    tmp = folder / f"{META}.tmp-{secrets.token_hex(4)}"
    tmp.write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    os.replace(tmp, folder / META)
    _prune(folder, keep=generation, previous=previous)
    return folder


def _read_meta_quietly(folder: Path) -> dict[str, Any] | None:
    try:
        meta = orjson.loads((folder / META).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _prune(folder: Path, keep: str, previous: dict[str, Any] | None) -> None:
    """Remove the generation the old meta named, and old leftovers of crashed saves."""
    old = previous.get("generation") if previous else None
    now = time.time()
    for path in folder.glob("gen-*"):
        if path.name == keep:
            continue
        try:
            abandoned = now - path.stat().st_mtime > _STALE_GEN_S
        except OSError:
            continue
        if path.name == old or abandoned:
            shutil.rmtree(path, ignore_errors=True)
    for tmp in folder.glob(f"{META}.tmp-*"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_GEN_S:
                tmp.unlink()


def discard(cluster_id: str, topic: str, cache_dir: Path | None = None) -> None:
    """Delete a stored index (no error if there is none)."""
    shutil.rmtree(index_dir(cluster_id, topic, cache_dir), ignore_errors=True)


# ---------------------------------------------------------------------- loading


def load(
    cluster_id: str,
    topic: str,
    decoder: ValueDecoder | None = None,
    *,
    cache_dir: Path | None = None,
    signature: str = "",
) -> TopicIndex | None:
    """The stored index, None if there is none; CacheError if it cannot be trusted."""
    folder = index_dir(cluster_id, topic, cache_dir)
    if not (folder / META).exists():
        return None
    try:
        meta = orjson.loads((folder / META).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CacheError(f"unreadable meta.json: {exc}") from exc
    if not isinstance(meta, dict):
        raise CacheError("meta.json is not an object")
    _check_meta(meta, cluster_id, topic, signature)
    gen_dir = folder / str(meta["generation"])
    _check_files(gen_dir, meta["files"])
    try:
        state = _read_state(gen_dir, meta)
        _validate(state)
    except CacheError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CacheError(f"damaged index files: {type(exc).__name__}: {exc}") from exc
    return restore(state, decoder)


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


def _check_files(gen_dir: Path, files: dict[str, Any]) -> None:
    required = {f"{c}.npy" for c in ROW_COLUMNS} | {
        "header_rows.npy", "header_end.npy", "values.bin", "headers.bin", "names.json",
    }  # fmt: skip
    missing = required - set(files)
    if missing:
        raise CacheError(f"meta.json does not list {sorted(missing)}")
    for name, expected in files.items():
        path = gen_dir / name
        try:
            size = path.stat().st_size
        except OSError:
            raise CacheError(f"{name} is missing") from None
        if size != expected.get("size"):
            raise CacheError(f"{name} has {size} bytes, {expected.get('size')} expected")
        if _crc_file(path) != expected.get("crc"):
            raise CacheError(f"{name} is corrupt (CRC mismatch)")


def _read_blob(path: Path) -> bytearray:
    blob = bytearray(path.stat().st_size)
    with path.open("rb") as f:
        f.readinto(blob)
    return blob


def _read_state(gen_dir: Path, meta: dict[str, Any]) -> IndexState:
    # Only the files meta.json lists (and whose CRCs were checked) are read.
    arrays = {
        name.removesuffix(".npy"): np.load(gen_dir / name, allow_pickle=False)
        for name in sorted(meta["files"])
        if name.endswith(".npy")
    }
    names = orjson.loads((gen_dir / "names.json").read_bytes())
    if meta.get("partitions_crc") != _positions_crc(meta["partitions"]):
        raise CacheError("the stored positions were changed (checksum mismatch)")
    partitions = {
        int(p): PartitionState(**{k: int(v) for k, v in s.items()})
        for p, s in meta["partitions"].items()
    }
    return IndexState(
        topic=meta["topic"],
        cluster_id=meta["cluster_id"],
        arrays=arrays,
        value_blob=_read_blob(gen_dir / "values.bin"),
        header_blob=_read_blob(gen_dir / "headers.bin"),
        type_names=[str(t) for t in names["types"]],
        aggregate_names=[str(a) for a in names["aggregates"]],
        key_names=[_decode_key(k) for k in names["keys"]],
        topic_names=[str(t) for t in names["topics"]],
        errors={int(r): str(e) for r, e in names["errors"].items()},
        none_values=[int(r) for r in names["none_values"]],
        partitions=partitions,
        part_max_ts={int(p): int(t) for p, t in names["part_max_ts"].items()},
    )


def _validate(state: IndexState) -> None:
    """Cross-check the parts: a cache that passes cannot index out of bounds."""
    arrays = state.arrays
    n = len(arrays["offset"])

    def check(ok: bool, what: str) -> None:
        if not ok:
            raise CacheError(f"inconsistent index: {what}")

    for name, dtype in ROW_COLUMNS.items():
        a = arrays[name]
        check(a.ndim == 1 and len(a) == n, f"column {name} has the wrong length")
        check(a.dtype == np.dtype(dtype), f"column {name} has dtype {a.dtype}")

    def within(name: str, lo: int, hi: int) -> None:
        a = arrays[name]
        check(n == 0 or (int(a.min()) >= lo and int(a.max()) < hi), f"{name} ids out of range")

    within("type", 0, len(state.type_names))
    within("aggregate", -1, len(state.aggregate_names))
    within("key", -2, len(state.key_names))
    within("topic", 0, len(state.topic_names))
    ends = arrays["value_end"]
    check(n == 0 or (bool(np.all(np.diff(ends) >= 0)) and ends[0] >= 0), "value ends decrease")
    check((int(ends[-1]) if n else 0) == len(state.value_blob), "value blob size")
    rows, hends = arrays["header_rows"], arrays["header_end"]
    check(len(rows) == len(hends), "header arrays differ in length")
    check(len(rows) == 0 or bool(np.all(np.diff(rows) > 0)), "header rows not increasing")
    check(len(rows) == 0 or (rows[0] >= 0 and rows[-1] < n), "header rows out of range")
    check((int(hends[-1]) if len(hends) else 0) == len(state.header_blob), "header blob size")
    if "effective_ts" in arrays:
        check(len(arrays["effective_ts"]) == n, "effective timestamps length")
    check(all(0 <= r < n for r in state.errors), "error rows out of range")
    check(all(0 <= r < n for r in state.none_values), "null-value rows out of range")
    check(sum(s.count for s in state.partitions.values()) == n, "partition counts")
    _check_positions(state, check)


def _check_positions(state: IndexState, check: Callable[[bool, str], None]) -> None:
    """Each partition's stored positions against its offsets in the column."""
    parts, offsets = state.arrays["partition"], state.arrays["offset"]
    for p, st in state.partitions.items():
        mine = offsets[parts == p]
        check(len(mine) == st.count, f"partition {p}: {len(mine)} rows, {st.count} stored")
        if len(mine):
            first, last = int(mine.min()), int(mine.max())
            check(st.first_offset == first, f"partition {p}: first offset {st.first_offset}")
            check(st.last_offset == last, f"partition {p}: last offset {st.last_offset}")
            check(st.next_offset > last, f"partition {p}: resumes at {st.next_offset}")


def _positions_crc(positions: Any) -> int:
    return zlib.crc32(orjson.dumps(positions, option=orjson.OPT_SORT_KEYS))


def load_or_new(
    cluster_id: str,
    topic: str,
    decoder: ValueDecoder | None = None,
    *,
    cache_dir: Path | None = None,
    signature: str = "",
) -> tuple[TopicIndex, str | None]:
    """The stored index if it can be trusted, else a new empty one, and why not.

    A stored index that cannot be trusted is deleted; the note says why (for the status
    bar and the log).
    """
    try:
        index = load(cluster_id, topic, decoder, cache_dir=cache_dir, signature=signature)
    except CacheError as exc:
        discard(cluster_id, topic, cache_dir)
        fresh = TopicIndex(topic, decoder, cluster_id=cluster_id)
        return fresh, f"stored index discarded: {exc}"
    if index is None:
        return TopicIndex(topic, decoder, cluster_id=cluster_id), None
    return index, None
