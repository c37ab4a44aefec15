"""Tiny event files that used to exhaust memory or never end, and counts and sizes that lie.

Each runs ``python -m app events --file F --json`` in a child process under a 1 GB
address-space limit and a timeout (``hostile.run_app``): before the bounded container
reader, these files asked for 3 to 5 GB, so a regression fails the one test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import (
    container,
    kafka_record,
    run_app,
    stream_zeros,
    zigzag,
)

from kafka_io.avro_container import MAX_BLOCK_BYTES, MAX_INFLATION
from kafka_io.eventfile import RECORD_SCHEMA

# What an export's header says about its topics: the command needs it to pick one.
TOPICS = {"event_explorer.topics": b'{"t": 1}'}


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr  # one clear line, no traceback
    assert "Traceback" not in stderr
    return lines[0]


def test_a_block_of_two_to_the_62_empty_records(tmp_path: Path) -> None:
    """123 bytes that claimed 2^62 records of a schema that takes no bytes."""
    path = tmp_path / "nulls.avro"
    path.write_bytes(container("null", [(1 << 62, b"")]))
    assert len(path.read_bytes()) < 130
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    line = one_line_error(done.stderr)
    assert "damaged after 0 events" in line and "records that take no bytes" in line


def test_an_empty_record_schema_is_bounded_the_same_way(tmp_path: Path) -> None:
    empty = {"type": "record", "name": "Nothing", "fields": []}
    path = tmp_path / "nothing.avro"
    path.write_bytes(container(empty, [(1000, b""), (1 << 40, b"")]))
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    assert "records that take no bytes" in one_line_error(done.stderr)


@pytest.mark.parametrize("codec", ["deflate", "xz", "bzip2"])
def test_a_small_file_that_inflates_to_a_gigabyte(tmp_path: Path, codec: str) -> None:
    """One block: a record whose value is a gigabyte of zeros (the 625 KB xz file held 4 GB)."""
    prefix = kafka_record("t", 0, 0, 0, None)[:-1] + b"\x02" + zigzag(1 << 30)
    data = stream_zeros(codec, 1024, prefix)
    path = tmp_path / f"bomb-{codec}.avro"
    path.write_bytes(container(RECORD_SCHEMA, [(1, data)], codec=codec, metadata=TOPICS))
    assert path.stat().st_size < 2 << 20  # deflate's best is about 1:1000
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    line = one_line_error(done.stderr)
    assert "damaged after 0 events" in line
    assert f"inflates to more than {MAX_INFLATION} times its" in line


def test_a_block_bigger_than_any_event_in_a_big_enough_file(tmp_path: Path) -> None:
    """A file large enough for its inflation budget still has each block bounded."""
    pad = {**TOPICS, "pad": b"p" * (MAX_BLOCK_BYTES // MAX_INFLATION + (1 << 20))}
    prefix = kafka_record("t", 0, 0, 0, None)[:-1] + b"\x02" + zigzag(300 << 20)
    data = stream_zeros("xz", 300, prefix)
    path = tmp_path / "big-block.avro"
    path.write_bytes(container(RECORD_SCHEMA, [(1, data)], codec="xz", metadata=pad))
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    assert f"inflates to more than {MAX_BLOCK_BYTES >> 20} MB" in one_line_error(done.stderr)


def test_a_two_megabyte_deflate_file_of_many_blocks(tmp_path: Path) -> None:
    """2 MB of deflate blocks, each a record of 10 MB of zeros: 2 GB in all, exit 0 before."""
    blocks = []
    for offset in range(200):
        prefix = kafka_record("t", 0, offset, 0, None)[:-1] + b"\x02" + zigzag(10 << 20)
        blocks.append((1, stream_zeros("deflate", 10, prefix)))
    path = tmp_path / "many.avro"
    path.write_bytes(container(RECORD_SCHEMA, blocks, codec="deflate", metadata=TOPICS))
    assert path.stat().st_size < 3 << 20
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    assert "(a compression bomb?)" in one_line_error(done.stderr)


def test_a_header_claiming_two_to_the_62_metadata_entries(tmp_path: Path) -> None:
    path = tmp_path / "meta.avro"
    path.write_bytes(b"Obj\x01" + zigzag(1 << 62) + b"\x02k\x02v")
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    assert "metadata entries" in one_line_error(done.stderr)


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [
        (1, 1 << 62, "the file is truncated in block 0"),
        (1 << 62, 30, "claims 4611686018427387904 records in 30 bytes"),
        (-5, 30, "negative count or size"),
    ],
)
def test_block_counts_and_sizes_are_checked_against_the_file(
    tmp_path: Path, count: int, size: int, expected: str
) -> None:
    record = kafka_record("t", 0, 0, 0, b"x" * 21)
    assert len(record) == 30
    good = container(RECORD_SCHEMA, [(1, record)], metadata=TOPICS)
    header_end = good.index(record) - 2  # before the count and size of the one block
    path = tmp_path / "lies.avro"
    path.write_bytes(good[:header_end] + zigzag(count) + zigzag(size) + record + good[-16:])
    done = run_app("events", "--file", path, "--json")
    assert done.returncode == 2, done.describe()
    assert expected in one_line_error(done.stderr)
