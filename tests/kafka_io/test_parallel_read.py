"""Splitting a read across worker processes: the split, what crosses into a worker, and
the frozen app's own executable as the worker (started with ``--multiprocessing-fork``,
turned into a worker by ``freeze_support``), against the real broker."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_helpers import Rec, produce

from kafka_io.parallel_read import split_ranges
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import PartitionRange
from kafka_io.worker_pool import plain, rebuild


def test_partitions_are_dealt_largest_first_and_deterministically() -> None:
    ranges = [PartitionRange(p, 0, n) for p, n in enumerate([50, 10, 40, 0, 30, 20])]
    shares = split_ranges(ranges, 2)
    assert [[r.partition for r in s] for s in shares] == [[0, 1, 5], [2, 4]]
    assert split_ranges(ranges, 9) == split_ranges(ranges, 5)  # never an empty share
    assert sum(len(s) for s in split_ranges(ranges, 9)) == 5


def test_a_profile_crosses_into_a_worker() -> None:
    profile = ConnectionProfile("b:9092", {"security.protocol": "SASL_SSL"}, timeout_s=3.0)
    back = rebuild(plain(profile))
    assert back == profile and dict(back.properties) == {"security.protocol": "SASL_SSL"}


FROZEN_APP = """#!{python}
# Stands in for a frozen app: its entry point runs freeze_support() first.
import multiprocessing.spawn, sys
if __name__ == "__main__":
    if multiprocessing.spawn.is_forking(sys.argv):
        multiprocessing.spawn.freeze_support()
    sys.exit("started as the app, not as a worker")
"""

# Run as its own program (multiprocessing state is per interpreter): read a topic with
# two workers that are the "frozen" executable, print the records counted.
DRIVER = """
import multiprocessing.resource_tracker, multiprocessing.spawn, sys
from pathlib import Path
from kafka_io.decode import Decoder
from kafka_io.metadata import Cluster
from kafka_io.parallel_read import ParallelRead
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import PartitionRange
from kafka_io.worker_pool import WorkerPool


def count(records):
    return len(records)


def converter(worker, decoder):
    return count


if __name__ == "__main__":
    bootstrap, topic, exe = sys.argv[1:4]
    multiprocessing.resource_tracker.ensure_running()  # this interpreter's, as an app's
    sys.frozen = True
    multiprocessing.spawn.set_executable(exe)
    pool = WorkerPool()
    pool.warm(2)
    marks = Cluster(ConnectionProfile(bootstrap)).partitions(topic)
    ranges = [PartitionRange(p.partition, p.low, p.high) for p in marks]
    read = ParallelRead(ConnectionProfile(bootstrap), topic, ranges, Decoder, converter,
                        workers=2, pool=pool)
    counted = sum(d.payload for d in read)
    exes = {str(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\\0")[1], "utf-8")
            for pid in read.pids}
    pool.shutdown()
    print(counted, read.stats.incomplete, sorted(exes))
"""


@pytest.mark.kafka
def test_the_frozen_executable_is_the_worker(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(4)
    produce(
        kafka_bootstrap, topic, [Rec(b'{"eventType":"E"}', f"k{i}".encode()) for i in range(400)]
    )
    exe = tmp_path / "event-explorer"
    exe.write_text(FROZEN_APP.format(python=sys.executable))
    exe.chmod(0o755)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run([sys.executable, str(driver), kafka_bootstrap, topic, str(exe)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["400", "None"], done.stdout + done.stderr
    # Each worker was the "frozen" executable, started with --multiprocessing-fork.
    assert str(exe) in done.stdout and "Traceback" not in done.stderr
