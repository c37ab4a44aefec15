"""Rows of ``states`` for programs and spreadsheets: JSON lines and CSV.

JSON: one object per aggregate, the keys of ``state --json`` (``aggregate``, ``fold``,
``state``, ``events_applied``, ``last_event``, and ``error`` when the fold failed).
CSV: one row per aggregate with the state flattened to one column per leaf field
(``state.balance``, ``state.items[0].sku``: the union of every row's fields, sorted),
after ``aggregate``, ``events_applied``, ``last_partition``, ``last_offset``,
``last_timestamp`` and ``error``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO, Any

from app.output.event_json import dumps
from app.replay.diff import leaf_paths
from app.replay.results import ReplayResult

FIXED_COLUMNS = [
    "aggregate", "events_applied", "last_partition", "last_offset", "last_timestamp", "error",
]  # fmt: skip


def json_lines(rows: Iterable[ReplayResult]) -> Iterable[str]:
    for row in rows:
        yield dumps(row.to_json())


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    return dumps(value)


def flat_state(state: Any) -> dict[str, Any]:
    """``{"state.balance": 12.5, ...}``; a scalar state is the one column ``state``."""
    return {
        f"state.{path}" if path else "state": value for path, value in leaf_paths(state).items()
    }


def write_csv(rows: Sequence[ReplayResult], out: IO[str]) -> None:
    flats = [flat_state(r.state) for r in rows]
    fields = sorted({name for flat in flats for name in flat})
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIXED_COLUMNS + fields)
    for row, flat in zip(rows, flats, strict=True):
        last = row.last_event
        writer.writerow(
            [
                row.aggregate,
                row.events_applied,
                "" if last is None else last.partition,
                "" if last is None else last.offset,
                "" if last is None else last.timestamp,
                "" if row.failure is None else row.failure.describe(),
            ]
            + [_cell(flat.get(name)) for name in fields]
        )


def write_json_lines(rows: Sequence[ReplayResult], out: IO[str]) -> None:
    for line in json_lines(rows):
        out.write(line + "\n")
