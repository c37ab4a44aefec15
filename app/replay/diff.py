"""Differences between two states, and which event last changed each leaf of a state.

States are whatever folds return; mappings and lists/tuples are walked, anything else is
a leaf.  Paths are written ``a.b[2].c``; a key that is not a plain identifier-like word
is quoted, ``a["x.y"]``; the state itself (a scalar state) is the empty path ``""``.
Lists are compared by position.  Numbers compare by value (``1 == 1.0``), NaN equals
NaN, other leaves must also have the same type (``1`` vs ``"1"`` is a change).
Subtrees that are the same object are skipped without being walked, which makes
diffing the consecutive states of structure-sharing folds (like ``merge``) cheap.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kafka_io.event import EventRef

PathPart = str | int
Path = tuple[PathPart, ...]
ChangeKind = Literal["added", "removed", "changed"]

_WORD = re.compile(r"[A-Za-z_$@][\w$@-]*")


def format_path(parts: Path) -> str:
    """``("a", "b", 2, "x.y")`` -> ``a.b[2]["x.y"]``."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
        elif isinstance(part, str) and _WORD.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(str(part))}]")
    return "".join(out)


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    parts: Path
    old: Any = None
    new: Any = None

    @property
    def path(self) -> str:
        return format_path(self.parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind != "added":
            out["old"] = self.old
        if self.kind != "removed":
            out["new"] = self.new
        return out


@dataclass(frozen=True)
class StateDiff:
    """Changes from an old state to a new one, in walk order.

    An added or removed subtree is one change at its root (with the whole subtree as
    its value), not one per leaf.
    """

    changes: tuple[Change, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def _of(self, kind: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def added(self) -> list[Change]:
        return self._of("added")

    @property
    def removed(self) -> list[Change]:
        return self._of("removed")

    @property
    def changed(self) -> list[Change]:
        return self._of("changed")

    def to_json(self) -> dict[str, Any]:
        """``{"added": {path: new}, "removed": {path: old}, "changed": {path: {old, new}}}``"""
        return {
            "added": {c.path: c.new for c in self.added},
            "removed": {c.path: c.old for c in self.removed},
            "changed": {c.path: {"old": c.old, "new": c.new} for c in self.changed},
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same_leaf(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if _is_number(a) and _is_number(b):
        if a == b:
            return True
        return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an odd __eq__ means "cannot tell": call it a change
        return False


def _is_seq(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _walk(old: Any, new: Any, parts: Path, out: list[Change]) -> None:
    if old is new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key, value in old.items():
            if key not in new:
                out.append(Change("removed", (*parts, key), old=value))
            else:
                _walk(value, new[key], (*parts, key), out)
        for key, value in new.items():
            if key not in old:
                out.append(Change("added", (*parts, key), new=value))
    elif _is_seq(old) and _is_seq(new):
        common = min(len(old), len(new))
        for i in range(common):
            _walk(old[i], new[i], (*parts, i), out)
        out.extend(Change("removed", (*parts, i), old=old[i]) for i in range(common, len(old)))
        out.extend(Change("added", (*parts, i), new=new[i]) for i in range(common, len(new)))
    elif not same_leaf(old, new):
        out.append(Change("changed", parts, old=old, new=new))


def diff_states(old: Any, new: Any) -> StateDiff:
    """What changed from ``old`` to ``new``."""
    out: list[Change] = []
    _walk(old, new, (), out)
    return StateDiff(tuple(out))


def leaves(state: Any, parts: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every leaf of a state with its path; empty mappings and lists are leaves too."""
    if isinstance(state, Mapping) and state:
        for key, value in state.items():
            yield from leaves(value, (*parts, key))
    elif _is_seq(state) and state:
        for i, value in enumerate(state):
            yield from leaves(value, (*parts, i))
    else:
        yield parts, state


def changed_leaves(old: Any, new: Any) -> frozenset[str]:
    """The leaf paths of ``new`` that differ from ``old``, and those ``old`` had that are
    gone: what an event changed, counted field by field (the first event of an
    aggregate sets every field of its state, not "one change at the root")."""
    paths: set[str] = set()
    for change in diff_states(old, new).changes:
        value = change.old if change.kind == "removed" else change.new
        for sub, _leaf in leaves(value):
            paths.add(format_path((*change.parts, *sub)))
    return frozenset(paths)


def leaf_paths(state: Any) -> dict[str, Any]:
    return {format_path(p): v for p, v in leaves(state)}


def _under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


class BlameTracker:
    """Follows a fold step by step and remembers, for each leaf, the event that set it.

    A leaf an event sets to the value it already had keeps its earlier blame: blame
    answers "which event last *changed* this".
    """

    def __init__(self, blame: Mapping[Path, EventRef] | None = None) -> None:
        self._blame: dict[Path, EventRef] = dict(blame or {})

    def update(self, old: Any, new: Any, ref: EventRef) -> None:
        for change in diff_states(old, new).changes:
            prefix = change.parts
            # The old leaves at or below a changed path are gone (a scalar may have
            # replaced a subtree); the new leaves there are this event's.
            stale = [p for p in self._blame if _under(p, prefix)]
            for p in stale:
                del self._blame[p]
            if change.kind == "removed":
                continue
            for sub, _value in leaves(change.new):
                self._blame[(*prefix, *sub)] = ref
            # A scalar leaf replaced by a container, or vice versa, also drops the
            # blame of an ancestor that used to be a leaf.
            for i in range(len(prefix)):
                self._blame.pop(prefix[:i], None)

    def snapshot(self) -> dict[Path, EventRef]:
        return dict(self._blame)

    def result(self) -> dict[str, EventRef]:
        """Path text -> event, sorted by path."""
        return {format_path(p): ref for p, ref in sorted(self._blame.items(), key=_sort_key)}


def _sort_key(item: tuple[Path, EventRef]) -> tuple[tuple[int, str], ...]:
    return tuple((0, f"{p:020d}") if isinstance(p, int) else (1, str(p)) for p in item[0])
