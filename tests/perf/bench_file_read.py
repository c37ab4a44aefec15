"""Reading event files: the bundled demo (xz, 1 MB blocks) and a large deflate export.

    .venv/bin/python tests/perf/bench_file_read.py [--events 1000000] [--repeat 3]
        [--export FILE]

Prints one JSON object: events/s, wall and CPU seconds (best of ``--repeat``) for
reading every event of ``resources/demo.avro`` and of a deflate export of ``--events``
JSON envelopes (~110 bytes, 64 KB blocks, as ``export`` writes them), through
``open_event_file`` and ``iter_batches`` with the file's own decoder.  ``--export``
reads that file instead of writing a new one (to compare two checkouts on one file;
it is written there first if missing).  No broker needed.  CPU seconds are the fairer
figure on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kafka_io.decode import Decoder, Row
from kafka_io.eventfile import open_event_file, write_event_file
from resources import demo_path

BASE_MS = 1_700_000_000_000
TYPES = ("OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled")


def make_export(path: Path, n: int) -> None:
    rows = (
        (
            "orders",
            i % 12,
            i // 12,
            BASE_MS + i,
            f"order-{i % 5000}".encode(),
            orjson.dumps(
                {
                    "eventId": f"e-{i}",
                    "eventType": TYPES[i % 4],
                    "aggregateId": f"order-{i % 5000}",
                    "qty": i % 7,
                }
            ),
            None,
        )
        for i in range(n)
    )
    decoder = Decoder("json")
    events = (ev for chunk in _chunks(rows, 10_000) for ev in decoder.decode_rows(chunk))
    write_event_file(path, events, decoder=decoder)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def best_read(path: Path, repeat: int) -> dict[str, float | int]:
    wall = cpu = float("inf")
    count = 0
    for _ in range(repeat):
        opened = open_event_file(path)
        start, start_cpu = time.perf_counter(), time.process_time()
        count = sum(len(batch) for batch in opened.iter_batches())
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return {
        "events": count,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "events_per_s": round(count / wall),
        "events_per_cpu_s": round(count / cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export", type=Path, help="read this export (written if missing)")
    args = parser.parse_args()
    figures: dict[str, object] = {"demo_xz": best_read(demo_path(), args.repeat)}
    with tempfile.TemporaryDirectory() as tmp:
        export = args.export or Path(tmp) / "export.avro"
        if not export.exists():
            make_export(export, args.events)
        figures["export_deflate"] = {
            **best_read(export, args.repeat),
            "bytes": export.stat().st_size,
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
