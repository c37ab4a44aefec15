"""A mapped column's chunk checksums (app.index.mapped.FileColumn.checksums) follow its
appends as they are written, and stay exactly the checksums of the file's bytes through
truncations (a rolled-back append) and writes in place."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import numpy as np
import pytest

import app.index.mapped as mapped
from app.index.mapped import FileColumn

CHUNK = 64  # small chunks, so appends cross chunk boundaries all the time


def chunk_crcs(path: Path, nbytes: int) -> list[int]:
    data = path.read_bytes()[:nbytes]
    return [zlib.crc32(data[lo : lo + CHUNK]) for lo in range(0, nbytes, CHUNK)]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapped, "CRC_CHUNK", CHUNK)


@pytest.mark.parametrize("seed", range(20))
def test_checksums_are_the_files_through_appends_truncations_and_puts(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    col = FileColumn(tmp_path / "c.bin", np.int32)
    rows: list[int] = []
    for _ in range(60):
        op = rng.random()
        if op < 0.55:
            new = [rng.randrange(-(2**31), 2**31) for _ in range(rng.randrange(1, 40))]
            col.extend(np.asarray(new, np.int32))
            rows.extend(new)
        elif op < 0.7 and rows:
            keep = rng.randrange(0, len(rows) + 1)
            col.truncate(keep)
            del rows[keep:]
        elif op < 0.8 and rows:
            at, value = rng.randrange(len(rows)), rng.randrange(2**31)
            col.put(at, value)
            rows[at] = value
        else:
            nbytes = rng.randrange(0, len(rows) + 1) * 4
            assert col.checksums(nbytes) == chunk_crcs(col.path, nbytes)
        assert col.view().tolist() == rows
    nbytes = len(rows) * 4
    assert col.checksums(nbytes) == chunk_crcs(col.path, nbytes)


def test_a_column_written_by_appends_is_not_read_back_for_its_checksums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    col = FileColumn(tmp_path / "c.bin", np.int64)
    for lo in range(0, 1000, 37):
        col.extend(np.arange(lo, lo + 37, dtype=np.int64))
    reads: list[int] = []

    def read_at(fd: int, n: int, at: int) -> bytes:
        reads.append(n)
        return b""

    monkeypatch.setattr(mapped, "read_at", read_at)
    assert col.checksums(col.size * 8) == chunk_crcs(col.path, col.size * 8)
    assert reads == []
