"""The index's storage engine: numpy columns in mapped files (ours) against DuckDB.

    .venv/bin/pip install duckdb pyarrow    # only for this comparison
    .venv/bin/python tests/perf/bench_engines.py --events 10000000

The same synthetic events (12 partitions, ``--aggregates`` aggregates, ~110-byte JSON
values, in log order) go into both, in batches of 10,000 as a build delivers them.
Prints one JSON object per engine: build seconds, size on disk, memory after the build
and after a reopen (private = RssAnon + RssShmem, and plain RSS), reopen seconds to a
first page of rows, and p50/p95 of: a filter (type + aggregate + time range, row ids in
log order), one aggregate's values in log order (what a replay reads), and one random
row's value (what the table reads).  Each engine runs in its own process, so their
memory does not mix.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from memwatch import now_mb

from app.index.batch import BLOCK_COLUMNS, ColumnBatch, RowBlock
from app.index.query import Query, run_query
from app.index.storage import release_free_memory
from app.index.store import load_or_new, release, save

PARTITIONS = 12
BASE_MS = 1_700_000_000_000
BATCH = 10_000
TYPES = ["MoneyDeposited", "MoneyWithdrawn"]


def batches(n: int, aggregates: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    offsets = np.zeros(PARTITIONS, np.int64)
    for start in range(0, n, BATCH):
        m = min(BATCH, n - start)
        i = np.arange(start, start + m)
        agg = rng.integers(0, aggregates, m).astype(np.int32)
        part = (agg % PARTITIONS).astype(np.int32)
        off = np.empty(m, np.int64)
        for p in range(PARTITIONS):
            sel = part == p
            k = int(sel.sum())
            off[sel] = offsets[p] + np.arange(k)
            offsets[p] += k
        ts = BASE_MS + i * 10
        typ = (i % 4 == 3).astype(np.int32)
        values = [
            (f'{{"eventId":"e{j}","eventType":"{TYPES[t]}","aggregateId":"acc-{a}",'
             f'"timestamp":{s},"payload":{{"amount":{j % 97 + 1}}}}}').encode()
            for j, t, a, s in zip(i.tolist(), typ.tolist(), agg.tolist(), ts.tolist(), strict=True)
        ]  # fmt: skip
        yield {"partition": part, "offset": off, "timestamp": ts, "type": typ,
               "aggregate": agg, "values": values}  # fmt: skip


def pct(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1000
    return {"p50": round(float(np.percentile(arr, 50)), 3),
            "p95": round(float(np.percentile(arr, 95)), 3)}  # fmt: skip


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def disk(path: Path) -> float:
    return round(sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def queries(n: int, aggregates: int, samples: int) -> list[tuple[int, int, int, int]]:
    rng = random.Random(5)
    span = n * 10
    out = []
    for _ in range(samples):
        lo = BASE_MS + rng.randrange(span)
        out.append((rng.randrange(2), rng.randrange(aggregates), lo, lo + rng.randrange(span)))
    return out


# ---------------------------------------------------------------------- ours


def run_numpy(n: int, aggregates: int, samples: int, folder: Path, out: Any) -> None:
    names = {"type": TYPES, "aggregate": [f"acc-{a}" for a in range(aggregates)],
             "key": [], "topic": ["t"], "error": []}  # fmt: skip
    index, _ = load_or_new("c", "t", cache_dir=folder)
    started = time.monotonic()
    first = True
    for b in batches(n, aggregates):
        m = len(b["offset"])
        cols = {k: b[k] for k in ("partition", "offset", "timestamp", "type", "aggregate")}
        cols.update(key=np.full(m, -2, np.int32), topic=np.zeros(m, np.int16),
                    error=np.full(m, -1, np.int32), flags=np.zeros(m, np.uint8))  # fmt: skip
        cols = {k: np.asarray(cols[k], BLOCK_COLUMNS[k]) for k in BLOCK_COLUMNS}
        ends = np.cumsum(np.fromiter(map(len, b["values"]), np.int64, m))
        empty = np.empty(0, np.int64)
        block = RowBlock(cols, ends, b"".join(b["values"]), empty, empty, b"")
        sent = {k: 0 for k in names} if first else {k: len(v) for k, v in names.items()}
        new = names if first else {k: [] for k in names}
        index.append_columns(ColumnBatch(block, 42, sent, dict(new)))
        first = False
    save(index, folder)
    build_s = time.monotonic() - started
    release(index)
    del index
    gc.collect()
    release_free_memory()
    after_build = now_mb()
    started = time.monotonic()
    index, _ = load_or_new("c", "t", cache_dir=folder, wait_for_checksums=False)
    rows = run_query(index, Query())
    page = [index.event(int(r)) for r in rows[:50]]
    reopen_s = time.monotonic() - started
    del rows, page
    qs = queries(n, aggregates, samples)
    it = iter(qs)

    def one_filter() -> None:
        t, a, lo, hi = next(it)
        run_query(index, Query(aggregate=f"acc-{a}", types=frozenset({TYPES[t]}),
                               since_ms=lo, until_ms=hi))  # fmt: skip

    filt = timed(one_filter, samples)
    rng = random.Random(9)

    def one_aggregate() -> None:
        rows = index.rows_for_aggregate(f"acc-{rng.randrange(aggregates)}")
        [index.value_of(int(r)) for r in rows.tolist()]

    agg = timed(one_aggregate, samples)
    row = timed(lambda: index.value_of(rng.randrange(n)), samples)
    out.put({
        "engine": "numpy columns in mapped files (this project)",
        "build_s": round(build_s, 1), "disk_mb": disk(folder),
        "memory_after_build": after_build, "reopen_to_first_page_s": round(reopen_s, 3),
        "filter_ms": pct(filt), "aggregate_values_ms": pct(agg), "row_value_ms": pct(row),
        "memory_after_queries": now_mb(),
    })  # fmt: skip


# ---------------------------------------------------------------------- DuckDB


def run_duckdb(n: int, aggregates: int, samples: int, folder: Path, out: Any) -> None:
    import duckdb
    import pyarrow as pa

    path = str(folder / "events.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE events (row BIGINT, partition INTEGER, offset_ BIGINT, "
                "ts BIGINT, type INTEGER, aggregate INTEGER, value BLOB)")  # fmt: skip
    started = time.monotonic()
    base = 0
    for b in batches(n, aggregates):
        m = len(b["offset"])
        table = pa.table(
            {
                "row": np.arange(base, base + m),
                "partition": b["partition"],
                "offset_": b["offset"],
                "ts": b["timestamp"],
                "type": b["type"],
                "aggregate": b["aggregate"],
                "value": pa.array(b["values"], pa.binary()),
            }
        )
        con.register("batch", table)
        con.execute("INSERT INTO events SELECT * FROM batch")
        con.unregister("batch")
        base += m
    con.execute("CHECKPOINT")
    build_s = time.monotonic() - started
    con.close()
    gc.collect()
    after_build = now_mb()
    started = time.monotonic()
    con = duckdb.connect(path)
    con.execute("SELECT row FROM events ORDER BY ts, partition, offset_ LIMIT 50").fetchall()
    reopen_s = time.monotonic() - started
    qs = queries(n, aggregates, samples)
    it = iter(qs)

    def one_filter() -> None:
        t, a, lo, hi = next(it)
        con.execute(
            "SELECT row FROM events WHERE type = ? AND aggregate = ? AND ts BETWEEN ? AND ? "
            "ORDER BY ts, partition, offset_",
            [t, a, lo, hi],
        ).fetchnumpy()

    filt = timed(one_filter, samples)
    rng = random.Random(9)

    def one_aggregate() -> None:
        con.execute("SELECT value FROM events WHERE aggregate = ? ORDER BY ts, partition, "
                    "offset_", [rng.randrange(aggregates)]).fetchall()  # fmt: skip

    agg = timed(one_aggregate, samples)
    row = timed(lambda: con.execute("SELECT value FROM events WHERE row = ?",
                                    [rng.randrange(n)]).fetchall(), samples)  # fmt: skip
    out.put({
        "engine": f"DuckDB {duckdb.__version__} (one table, zone maps, no extra index)",
        "build_s": round(build_s, 1), "disk_mb": disk(folder),
        "memory_after_build": after_build, "reopen_to_first_page_s": round(reopen_s, 3),
        "filter_ms": pct(filt), "aggregate_values_ms": pct(agg), "row_value_ms": pct(row),
        "memory_after_queries": now_mb(),
    })  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--aggregates", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--engines", default="numpy,duckdb")
    args = ap.parse_args()
    import os

    results: list[Any] = [{"events": args.events, "aggregates": args.aggregates,
                           "load_before": [round(x, 2) for x in os.getloadavg()]}]  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    for name in args.engines.split(","):
        target = run_numpy if name == "numpy" else run_duckdb
        folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        queue = ctx.Queue()
        proc = ctx.Process(target=target, args=(args.events, args.aggregates, args.samples,
                                                folder, queue))  # fmt: skip
        proc.start()
        results.append(queue.get())
        proc.join()
        shutil.rmtree(folder, ignore_errors=True)
    results.append({"load_after": [round(x, 2) for x in os.getloadavg()]})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
