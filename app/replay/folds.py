"""The fold plugin API: a plain function ``(state, event) -> state`` and a decorator.

    from app.replay.folds import fold

    @fold("balance", topics=["bank-*"])
    def balance(state, event):
        state = dict(state or {"balance": 0})
        if event.type == "MoneyDeposited":
            state["balance"] += event.data["payload"]["amount"]
        return state

``state`` is None before an aggregate's first event; ``event`` is the kafka_io Event
(``event.data`` is the whole decoded value).  ``topics`` are glob patterns saying where
a fold applies (``for_topic`` picks the fold a topic opens with).

The class form groups one handler per event type:

    @fold("account", topics=["bank-*"])
    class Account:
        def initial(self):
            return {"balance": 0}

        def on_MoneyDeposited(self, state, event):
            state["balance"] += payload(event)["amount"]

A handler gets the state (``initial()`` before the first event) and returns the new
state, or None to keep the state it changed in place.  Events without a handler leave
the state as it is, unless the class defines ``on_event(state, event)`` as a catch-all.
Undecodable events (``event.error`` set, no ``data``) go to ``on_undecodable(state,
event)`` when the class defines it.  Type names that are not identifiers
(``com.bank.MoneyDeposited``) map to the last dotted segment, other characters as ``_``.

An undecodable record still reaches a fold (nothing is dropped silently):
``undecodable(event)`` tells, and ``note_undecodable(state, event)`` records it in the
state (under ``"undecodable"``) so that it shows instead of breaking the fold.

Folds may mutate the state they are given (replay keeps its own copies).  Keep
everything in the state, nothing on ``self`` or in globals, so that replaying from any
checkpoint gives the same result.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from kafka_io.event import Event

FoldFunction = Callable[[Any, Event], Any]
T = TypeVar("T")

FOLD_ATTR = "__fold_spec__"
FOLD_CLASS_ATTR = "__fold_class__"
BUILT_IN = "built-in"


class Origin(IntEnum):
    """Where a fold was found; a higher origin wins a name clash and ``for_topic``."""

    BUILT_IN = 0
    EXAMPLE = 1
    ENTRY_POINT = 2
    USER_FOLDER = 3
    PATH = 4
    CODE = 5  # registered directly by a program or a test


@dataclass(frozen=True)
class FoldSpec:
    """One registered fold.

    ``source`` says where it came from: ``"built-in"``, a file path, or
    ``"entry point NAME (DIST)"``.  ``function`` is always the ``(state, event)``
    callable, also for the class form.
    """

    name: str
    topics: tuple[str, ...]
    function: FoldFunction
    source: str = "code"
    origin: Origin = Origin.CODE
    description: str = ""

    def applies_to(self, topic: str) -> bool:
        return any(fnmatchcase(topic, pattern) for pattern in self.topics)

    def with_source(self, source: str, origin: Origin) -> FoldSpec:
        return FoldSpec(self.name, self.topics, self.function, source, origin, self.description)


class UnknownFoldError(KeyError):
    """No fold of that name; the message lists the ones there are."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown fold"


# Collectors receive every spec the decorators make while a fold module is executed
# (folds, and the upcasters and snapshot adapters that ship with them), so discovery
# finds them however the module names (or hides) them.
_collectors: list[list[Any]] = []


def announce(spec: object) -> None:
    """Hand a spec made by a decorator to the collectors of the module being loaded."""
    for collector in _collectors:
        collector.append(spec)


def fold(
    name: str,
    topics: Sequence[str] | str = ("*",),
    *,
    description: str | None = None,
) -> Callable[[T], T]:
    """Register a fold function (or a class with ``on_<EventType>`` methods).

    The decorated object is returned unchanged, with a ``__fold_spec__`` attribute
    holding its FoldSpec, so it can still be called or tested directly.
    """
    if not name or not isinstance(name, str):
        raise ValueError("a fold needs a non-empty name")
    patterns = (topics,) if isinstance(topics, str) else tuple(topics)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"fold {name!r}: topics must be non-empty glob patterns")

    def decorate(obj: T) -> T:
        if isinstance(obj, type):
            function: FoldFunction = class_fold(obj)
        elif callable(obj):
            function = obj
        else:
            raise TypeError(f"@fold({name!r}) decorates a function or a class, not {obj!r}")
        doc = description if description is not None else _first_line(obj.__doc__)
        spec = FoldSpec(name, patterns, function, description=doc)
        setattr(obj, FOLD_ATTR, spec)
        announce(spec)
        return obj

    return decorate


class FoldCollector:
    """Collect the specs ``@fold``, ``@upcaster``, ``@snapshots`` make as a module runs."""

    def __init__(self) -> None:
        self.specs: list[Any] = []

    def __enter__(self) -> list[Any]:
        _collectors.append(self.specs)
        return self.specs

    def __exit__(self, *exc: object) -> None:
        _collectors.remove(self.specs)


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


_NON_IDENT = re.compile(r"\W")


def handler_name(event_type: str) -> str:
    """The ``on_...`` method name for an event type."""
    last = event_type.rsplit(".", 1)[-1]
    return "on_" + _NON_IDENT.sub("_", last)


def class_fold(cls: type) -> FoldFunction:
    """Turn a class with ``initial()`` and ``on_<Type>(state, event)`` into a fold function.

    One instance serves every replay, so handlers must keep their data in the state.
    """
    instance = cls()
    initial = getattr(instance, "initial", None)
    fallback = getattr(instance, "on_event", None)
    broken = getattr(instance, "on_undecodable", None)
    handlers: dict[str, Callable[[Any, Event], Any] | None] = {}

    def run(state: Any, event: Event) -> Any:
        if state is None and initial is not None:
            state = initial()
        if broken is not None and undecodable(event):
            handler = broken
        else:
            try:
                handler = handlers[event.type]
            except KeyError:
                handler = getattr(instance, "on_" + event.type, None)
                if handler is None:
                    handler = getattr(instance, handler_name(event.type), None)
                handlers[event.type] = handler = handler or fallback
        if handler is None:
            return state
        new = handler(state, event)
        return state if new is None else new

    run.__name__ = cls.__name__
    run.__qualname__ = cls.__qualname__
    run.__doc__ = cls.__doc__
    # The class says which types it handles (app.health asks: an unhandled type).
    setattr(run, FOLD_CLASS_ATTR, cls)
    return run


# ---------------------------------------------------------------------- helpers for folds


def payload(event: Event) -> Any:
    """The business payload of an event: the ``payload`` (or ``data``) field of an
    envelope, else the whole decoded value."""
    data = event.data  # `type() is dict` first: the ABC check costs more than the rest
    if type(data) is dict or isinstance(data, Mapping):
        for key in ("payload", "data"):
            inner = data.get(key)
            if type(inner) is dict or (inner is not None and isinstance(inner, Mapping)):
                return inner
    return data


def undecodable(event: Event) -> bool:
    """True for a record that could not be decoded (it has an error and no data)."""
    return event.error is not None and event.data is None


def note_undecodable(state: Any, event: Event) -> dict[str, Any]:
    """``state`` (a dict) with the event added to its ``"undecodable"`` list."""
    state = dict(state or {})
    entry = {"partition": event.partition, "offset": event.offset, "type": event.type,
             "error": event.error}  # fmt: skip
    state["undecodable"] = [*state.get("undecodable", ()), entry]
    return state


def deep_merge(state: Any, patch: Any) -> Any:
    """``patch`` merged into ``state``: nested mappings merge, anything else replaces.

    Returns a new top-level dict and new dicts along the changed paths; untouched
    branches are shared with ``state`` (cheap, and diff can skip them by identity).
    """
    if not isinstance(patch, Mapping):
        return patch
    if not isinstance(state, Mapping):
        state = {}
    merged = dict(state)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = deep_merge(old, value)
        elif isinstance(value, Mapping):
            merged[key] = deep_merge({}, value)
        else:
            merged[key] = value
    return merged


def merge_fold(state: Any, event: Event) -> Any:
    """Deep-merge each event's payload into the state (the generic 'what is it now').

    A tombstone (no value) or an undecodable record changes nothing but is listed
    under ``"undecodable"`` when it carries an error.
    """
    if event.data is None:
        return note_undecodable(state, event) if event.error is not None else state
    return deep_merge({} if state is None else state, payload(event))


def events_fold(state: Any, event: Event) -> Any:
    """The event types and offsets seen: counts per type, first and last event, and
    the first/last offset of each partition."""
    ref = {
        "partition": event.partition,
        "offset": event.offset,
        "type": event.type,
        "timestamp_ms": event.timestamp_ms,
    }
    if state is None:
        state = {"count": 0, "types": {}, "partitions": {}, "first": ref, "last": ref}
    state["count"] += 1
    state["types"][event.type] = state["types"].get(event.type, 0) + 1
    part = state["partitions"].setdefault(str(event.partition), {"first_offset": event.offset})
    part["last_offset"] = event.offset
    state["last"] = ref
    return state


def builtin_folds() -> list[FoldSpec]:
    return [
        FoldSpec(
            "merge", ("*",), merge_fold, BUILT_IN, Origin.BUILT_IN,
            "deep-merge each event's payload into the state",
        ),
        FoldSpec(
            "events", ("*",), events_fold, BUILT_IN, Origin.BUILT_IN,
            "the event types and offsets seen",
        ),
    ]  # fmt: skip


# ---------------------------------------------------------------------- registry


@dataclass
class FoldRegistry:
    """The folds available by name.

    A name registered twice keeps the spec of the higher origin (a user's folder
    overrides an example); at equal origin the later registration wins.  Replaced
    specs are listed in ``shadowed`` so ``event-explorer folds`` can say so.
    """

    _specs: dict[str, FoldSpec] = field(default_factory=dict)
    _seq: dict[str, int] = field(default_factory=dict)
    shadowed: list[tuple[FoldSpec, FoldSpec]] = field(default_factory=list)
    _counter: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def with_builtins(cls) -> FoldRegistry:
        registry = cls()
        for spec in builtin_folds():
            registry.register(spec)
        return registry

    def register(self, spec: FoldSpec | FoldFunction | type) -> FoldSpec:
        """Add a spec, or a function/class decorated with ``@fold``."""
        if not isinstance(spec, FoldSpec):
            found = getattr(spec, FOLD_ATTR, None)
            if not isinstance(found, FoldSpec):
                raise TypeError(f"{spec!r} is not a FoldSpec nor decorated with @fold")
            spec = found
        current = self._specs.get(spec.name)
        if current is not None and current is not spec:
            if current.origin > spec.origin:
                self.shadowed.append((spec, current))
                return current
            if current.source != spec.source:
                self.shadowed.append((current, spec))
        self._specs[spec.name] = spec
        self._seq[spec.name] = next(self._counter)
        return spec

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)
        self._seq.pop(name, None)

    def remove_source(self, source: str) -> list[str]:
        """Drop every fold that came from ``source`` (a file being reloaded or deleted)."""
        names = [name for name, spec in self._specs.items() if spec.source == source]
        for name in names:
            self.unregister(name)
        self.shadowed = [
            (lost, won) for lost, won in self.shadowed
            if lost.source != source and won.source != source
        ]  # fmt: skip
        return names

    def get(self, name: str) -> FoldSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise UnknownFoldError(f"no fold named {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[FoldSpec]:
        return iter(self.specs())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self) -> list[FoldSpec]:
        """All folds, built-ins first, then by origin and registration."""
        return sorted(self._specs.values(), key=lambda s: (s.origin, self._seq[s.name]))

    def matching(self, topic: str) -> list[FoldSpec]:
        """Folds whose topic globs match, best first (highest origin, then earliest);
        built-ins (which match everything) come last."""
        found = [s for s in self._specs.values() if s.applies_to(topic)]
        found.sort(key=lambda s: (s.origin == Origin.BUILT_IN, -s.origin, self._seq[s.name]))
        return found

    def for_topic(self, topic: str) -> FoldSpec:
        """The fold a topic opens with: the best specific match, else ``merge``."""
        for spec in self.matching(topic):
            if spec.origin != Origin.BUILT_IN:
                return spec
        if "merge" in self._specs:
            return self._specs["merge"]
        return FoldSpec("merge", ("*",), merge_fold, BUILT_IN, Origin.BUILT_IN)
