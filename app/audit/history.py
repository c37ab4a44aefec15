"""History that is gone: partitions whose low watermark is above 0.

Retention (or compaction) deleted the records before the low watermark, so a state
built from what is left may come from a truncated history.  ``state``, ``states`` and
``audit`` say so on stderr, the report records it, and the GUI's inspector can show
the same sentence (``history_notes`` with the watermarks it already has).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def history_notes(
    topic: str,
    watermarks: Mapping[int, tuple[int, int]],
    partitions: Iterable[int] | None = None,
) -> list[str]:
    """One sentence per partition (of ``partitions``; None: all) whose low watermark
    (``watermarks``: partition -> (low, high)) is above 0."""
    wanted = None if partitions is None else set(partitions)
    return [
        f"partition {p} of {topic} starts at offset {low}: offsets 0..{low - 1} were "
        "deleted (retention or compaction), so a state built from it may come from a "
        "truncated history"
        for p, (low, _high) in sorted(watermarks.items())
        if low > 0 and (wanted is None or p in wanted)
    ]
