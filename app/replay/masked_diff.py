"""State diffs as they may be shown: every value through the masker in force.

Compare and snapshot drift print field diffs of states; a masked field's old and new
values must not reach the output, while its path (and that it changed) still does.
"""

from __future__ import annotations

from app.masking.masker import Masker
from app.replay.diff import Change, StateDiff


def mask_diff(masker: Masker, diff: StateDiff) -> StateDiff:
    if not masker.active:
        return diff
    return StateDiff(
        tuple(
            Change(c.kind, c.parts, masker.changes(c.path, c.old), masker.changes(c.path, c.new))
            for c in diff.changes
        )
    )
