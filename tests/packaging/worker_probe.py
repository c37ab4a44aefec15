"""Runs a function of this script inside the installed app, with the app's executable as
a multiprocessing worker, and prints what the worker saw as JSON.

    python tests/packaging/worker_probe.py /usr/bin/event-explorer KEY PARTITIONS

Used by test_deb.py: it proves the frozen app keeps working with worker processes
(freeze_support at its entry).  Only standard-library imports at the top: the worker
runs this file again inside the bundle.
"""

from __future__ import annotations

import json
import sys
from multiprocessing.connection import Connection
from pathlib import Path

ANSWER_TIMEOUT_S = 120


def work(conn: Connection, key: str, partitions: int) -> None:
    """In the worker: the app's own murmur2 partitioner, and where it came from."""
    from kafka_io import murmur2

    conn.send(
        {
            "frozen": bool(getattr(sys, "frozen", False)),
            "bundle": getattr(sys, "_MEIPASS", None),
            "module": murmur2.__file__,
            "partition": murmur2.partition_for_key(key.encode(), partitions),
        }
    )


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from frozen_worker import start_in_bundle

    executable, key, partitions = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    process, conn = start_in_bundle(executable, work, key, partitions)
    if not conn.poll(ANSWER_TIMEOUT_S):
        process.kill()
        print(f"the worker did not answer within {ANSWER_TIMEOUT_S} s", file=sys.stderr)
        return 1
    try:
        answer = conn.recv()
    except EOFError:
        process.join(30)
        print(f"the worker ended without answering (exit {process.exitcode})", file=sys.stderr)
        return 1
    process.join(30)
    answer["exitcode"] = process.exitcode
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
