"""The fold plugin API, at the import path fold files use: ``from app.folds import fold``.

The implementation lives in ``app.replay`` (``folds``, ``upcasting``, ``snapshots``); this
module is the stable, public name that user fold files, entry points and the examples
import, so the core can move without breaking anyone's folds.
"""

from app.replay.folds import (
    FoldSpec,
    deep_merge,
    fold,
    merge_fold,
    note_undecodable,
    payload,
    undecodable,
)
from app.replay.snapshots import Snapshot, snapshots
from app.replay.upcasting import upcaster

__all__ = [
    "FoldSpec",
    "Snapshot",
    "deep_merge",
    "fold",
    "merge_fold",
    "note_undecodable",
    "payload",
    "snapshots",
    "undecodable",
    "upcaster",
]
