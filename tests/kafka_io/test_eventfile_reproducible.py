"""An event file's bytes do not depend on Python's string hashing: the same events with
the same sync marker give the same file under any PYTHONHASHSEED (the shipped demo file is
checked against the generator's output, with two topics in the wire format)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WRITE = """
import sys
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file
topics = ["orders", "shipments", "payments", "refunds", "returns"]
events = [Event(t, 0, 0, 1, "k", "", None, (), None, 1, None, b"\\x00\\x00\\x00\\x00\\x01\\x02")
          for t in topics]
write_event_file(sys.argv[1], events, {1: '"string"'}, sync_marker=b"0123456789abcdef")
"""


def test_the_same_events_write_the_same_bytes_under_any_hash_seed(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    files = []
    for seed in ("1", "2", "3", "4"):
        path = tmp_path / f"{seed}.avro"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        subprocess.run([sys.executable, "-c", WRITE, str(path)], check=True, env=env, cwd=root)
        files.append(path.read_bytes())
    assert all(f == files[0] for f in files)
