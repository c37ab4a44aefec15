"""Which event types a fold handles, when it can say: a class fold has one ``on_<Type>``
method per type it handles; a function fold (or a class with the catch-all
``on_event``) may take any type, so nothing can be said of it."""

from __future__ import annotations

from collections.abc import Callable

from app.replay.folds import FOLD_CLASS_ATTR, FoldSpec, handler_name


def handler_check(spec: FoldSpec) -> Callable[[str], bool] | None:
    """A test "does this fold handle the type", or None when it may handle any type."""
    cls = getattr(spec.function, FOLD_CLASS_ATTR, None)
    if not isinstance(cls, type) or hasattr(cls, "on_event"):
        return None

    def handles(event_type: str) -> bool:
        # The same two names the class fold looks a handler up by.
        return hasattr(cls, "on_" + event_type) or hasattr(cls, handler_name(event_type))

    return handles
