"""Building a batch of Events without the cyclic garbage collector in the way."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic collector off a batch of Events while it is built, and after.

    A batch allocates tens of thousands of dicts and tuples.  Left alone, they trip
    collection after collection, and each one walks the young objects again; none of
    them can be in a cycle (JSON and Avro values are trees), so that work frees nothing
    and costs more than a third of decode time.  Pausing alone is not enough: the first
    collection after the pause scans the whole batch once more.  So the batch is moved
    straight to the oldest generation (``freeze`` then ``unfreeze``), where only full
    collections look at it, as they would at any long-lived data.  Reference counting
    frees events as usual.  Other young objects are promoted with the batch; their
    cycles, if any, wait for the next full collection.  Skipped when the application
    froze objects itself (unfreezing would undo that), and only the outermost pause
    acts, so nesting and concurrent threads are safe.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
