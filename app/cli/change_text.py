"""Field changes as text lines, for the commands that print a diff (compare, snapshots)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app.cli.common import out
from app.output.event_json import dumps
from app.replay.diff import Change

TEXT_CHANGES = 12  # per item in the text output; --json has them all


def short(value: Any) -> str:
    """A value as JSON, cut to 60 characters."""
    text = dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"


def print_changes(changes: Sequence[Change], text: Callable[[Change], str]) -> None:
    """The first TEXT_CHANGES changes, indented, each as ``text`` words it."""
    for change in changes[:TEXT_CHANGES]:
        out(f"    {change.kind:<8} {text(change)}")
    if len(changes) > TEXT_CHANGES:
        out(f"    … {len(changes) - TEXT_CHANGES} more (--json has them all)")
