"""The test registry's cost, and how long a dead registry holds up the first lookup.

    .venv/bin/python tests/perf/bench_registry.py [--runs 3] [--schemas 200]

Starts its own Apicurio registry ``--runs`` times (never the one named by
EVENT_EXPLORER_REGISTRY_URL: its start is what is measured) and reports, per run: seconds
from launch to ``/health/ready`` (compatibility set), the JVM's resident memory when
ready and after ``--schemas`` schemas were registered and looked up, and the first
lookup of a new schema id through the app's client (``kafka_io.registry.make_registry``)
once the registry process is stopped, beside confluent-kafka's default client.  Then a
registry that accepts connections but never answers (a socket nobody reads).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil
import registry as registry_harness
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from kafka_io.registry import SchemaCache, SchemaError, make_registry

MB = 1024 * 1024
HUNG_WAIT_S = 20.0


def _schema(i: int) -> str:
    fields = [{"name": f"f{j}", "type": "long"} for j in range(i % 7 + 1)]
    return json.dumps({"type": "record", "name": f"Bench{i}", "fields": fields})


def _timed_lookup(registry: Any, schema_id: int) -> tuple[float, str]:
    started = time.monotonic()
    try:
        SchemaCache(registry).lookup(schema_id)
        outcome = "found"
    except SchemaError as exc:
        outcome = str(exc)
    return time.monotonic() - started, outcome


def one_run(schemas: int) -> dict[str, Any]:
    started = time.monotonic()
    handle = registry_harness.start()
    ready_s = time.monotonic() - started
    proc = psutil.Process(handle.pid)
    rss_ready = proc.memory_info().rss / MB
    with SchemaRegistryClient({"url": handle.url, "timeout": 10}) as client:
        ids = [client.register_schema(f"bench-{i}-value", Schema(_schema(i), "AVRO"))
               for i in range(schemas)]  # fmt: skip
    app_client = make_registry({"url": handle.url})
    cache = SchemaCache(app_client)
    t0 = time.monotonic()
    for sid in ids:
        cache.lookup(sid)
    lookup_ms = (time.monotonic() - t0) * 1000 / len(ids)
    rss_loaded = proc.memory_info().rss / MB
    registry_harness.stop(handle)
    # Connection refused from now on: a registry process that went away.
    gone_app_s, gone_error = _timed_lookup(make_registry({"url": handle.url}), max(ids) + 1)
    gone_default_s, _ = _timed_lookup(SchemaRegistryClient({"url": handle.url}), max(ids) + 1)
    return {
        "ready_s": round(ready_s, 2),
        "rss_ready_mb": round(rss_ready),
        "rss_after_schemas_mb": round(rss_loaded),
        "lookup_ms_each": round(lookup_ms, 2),
        "stopped_first_lookup_s": round(gone_app_s, 3),
        "stopped_first_lookup_confluent_defaults_s": round(gone_default_s, 3),
        "stopped_error": gone_error,
    }


def hung_lookups() -> dict[str, Any]:
    """A registry that accepts connections and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app_s, app_error = _timed_lookup(make_registry({"url": url}), 1)
        result: list[float] = []

        def default_client() -> None:
            result.append(_timed_lookup(SchemaRegistryClient({"url": url}), 1)[0])

        # confluent-kafka's defaults have no timeout: give up watching after a while.
        thread = threading.Thread(target=default_client, daemon=True)
        thread.start()
        thread.join(HUNG_WAIT_S)
    return {
        "hung_first_lookup_s": round(app_s, 3),
        "hung_error": app_error,
        "hung_first_lookup_confluent_defaults_s": round(result[0], 3) if result else None,
        "hung_confluent_defaults_note": "" if result else f"no answer after {HUNG_WAIT_S:.0f}s",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--schemas", type=int, default=200)
    args = parser.parse_args()
    runs = [one_run(args.schemas) for _ in range(args.runs)]
    summary = {
        f"{key}_median": statistics.median(r[key] for r in runs)
        for key in runs[0]
        if isinstance(runs[0][key], int | float)
    }
    print(json.dumps({"runs": runs, **summary, **hung_lookups()}))


if __name__ == "__main__":
    main()
