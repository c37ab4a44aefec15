"""Index build against the real broker, with kcat as the peer measured in the same run.

    .venv/bin/python tests/perf/bench_build.py --events 1000000 --aggregates 10000
    .venv/bin/python tests/perf/bench_build.py --events 10000000 --aggregates 100000 --runs 2

Produces ``--events`` JSON events of ~110 bytes on 12 partitions (or reuses ``--topic``),
then, several times each (``--runs``): kcat ``-C -e`` to /dev/null, and the build of a
persisted index (``open_topic`` into a fresh cache folder) with each ``--workers``
setting.  Prints one JSON object: events/s and the ratio to kcat (best run of each, as
the machine is shared and kcat's own rate varies), CPU seconds per million events in
the parent and in the workers (and kcat's own), resident memory during the build (peak)
and at the end with everything indexed (private = RssAnon + RssShmem; plain RSS beside it), and the
load average around the run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from memwatch import MemWatch, now_mb
from workload import kafka, produce_events, time_kcat

from app.index.topic_cache import open_topic
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile
from kafka_io.worker_pool import shared_pool


def cpu_of(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def one_build(
    bootstrap: str, topic: str, workers: int, cache_root: Path, keep: bool = False
) -> dict[str, Any]:
    cache = Path(tempfile.mkdtemp(dir=cache_root))
    gc.collect()
    pool_pids = {p.pid for p in psutil.Process().children()}
    cpu_workers0 = cpu_of(pool_pids)
    cpu0 = time.process_time()
    started = time.monotonic()
    with MemWatch() as watch:
        result = open_topic(ClusterSource(ConnectionProfile(bootstrap)), topic,
                            cache_dir=cache, workers=workers)  # fmt: skip
    seconds = time.monotonic() - started
    parent_cpu = time.process_time() - cpu0
    pids = watch.peaks.worker_pids | pool_pids
    worker_cpu = cpu_of(pids) - cpu_workers0
    n = len(result.index)
    assert result.report.incomplete is None, result.report.incomplete
    end = now_mb()
    out = {
        "seconds": round(seconds, 2),
        "events_per_s": round(n / seconds),
        "cpu_s_per_million": {
            "parent": round(parent_cpu / n * 1e6, 2),
            "workers": round(worker_cpu / n * 1e6, 2),
        },
        "peak": watch.peaks.as_mb(),
        "at_end": end,
        "rows": n,
    }
    del result
    gc.collect()
    if keep:
        out["cache_dir"] = str(cache)
    else:
        shutil.rmtree(cache, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("--aggregates", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", default="0,1,2", help="comma-separated worker counts")
    ap.add_argument("--topic", help="reuse this topic instead of producing one")
    ap.add_argument("--cache-root", type=Path, help="where the cache folders go (a disk)")
    ap.add_argument(
        "--keep-last", action="store_true", help="keep the last build's cache (for bench_scale)"
    )
    args = ap.parse_args()
    settings = [int(w) for w in args.workers.split(",")]
    out: dict[str, Any] = {
        "events": args.events,
        "partitions": args.partitions,
        "aggregates": args.aggregates,
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    cache_root = args.cache_root or Path(tempfile.mkdtemp(prefix="bench-build-"))
    with kafka() as bootstrap:
        topic = args.topic or f"bench-build-{uuid.uuid4().hex[:8]}"
        if not args.topic:
            out["produce_s"] = round(
                produce_events(bootstrap, topic, args.events, args.partitions, args.aggregates), 1
            )
        shared_pool().warm(max(settings))  # the app keeps its workers warm between reads
        time.sleep(2)
        kcat_runs: list[float] = []
        builds: dict[int, list[dict[str, Any]]] = {w: [] for w in settings}
        # Interleaved, so the peer and each setting see the same spells of load.
        kcat_cpu: list[float] = []
        for run in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            kcat_runs.append(time_kcat(bootstrap, topic, runs=1))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            kcat_cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            for w in settings:
                keep = args.keep_last and run == args.runs - 1 and w == settings[-1]
                builds[w].append(one_build(bootstrap, topic, w, cache_root, keep))
        kcat_best = args.events / min(kcat_runs)
        out["kcat_events_per_s"] = {
            "best": round(kcat_best),
            "runs": [round(args.events / s) for s in kcat_runs],
            # kcat's own CPU (its main thread and librdkafka's), beside the build's
            "cpu_s_per_million": round(min(kcat_cpu) / args.events * 1e6, 2),
        }
        for w, runs in builds.items():
            best = max(runs, key=lambda r: r["events_per_s"])
            out[f"build_workers_{w}"] = {
                "best_events_per_s": best["events_per_s"],
                "ratio_to_kcat": round(best["events_per_s"] / kcat_best, 3),
                "runs_events_per_s": [r["events_per_s"] for r in runs],
                "cpu_s_per_million": best["cpu_s_per_million"],
                "peak_mb": max((r["peak"] for r in runs), key=lambda p: p["total_private_mb"]),
                "at_end_mb": best["at_end"],
            }
            if "cache_dir" in runs[-1]:
                out["kept_cache_dir"] = runs[-1]["cache_dir"]
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out["goals"] = {"ratio_to_kcat_at_1m": ">= 0.6", "peak_total_private_mb_at_10m": "<= 1000"}
    if not args.cache_root and not args.keep_last:
        shutil.rmtree(cache_root, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
