"""JSON text for values orjson will not write: nested deeper than 254, or integers past 64 bits.

orjson parses up to 1024 levels but writes only 254, so a value the app read could not be
printed; and it does not count tuples, so deep ones crash it.  This writer walks the
value with an explicit stack (any depth costs memory, not the C stack) and hands only
what is not a dict, list or tuple to orjson, so its output is the same text orjson
gives for the values orjson can write, compact or indented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_CLOSE = object()  # stack marker: a container ends here (its id leaves the path)
_CONTAINERS = frozenset((dict, list, tuple))
# orjson stops dicts and lists at 254 levels, but not tuples: a chain of a few thousand
# nested tuples overflows its stack and corrupts the heap (orjson 3.13).  So values
# deeper than this never reach orjson whole.
ORJSON_SAFE_DEPTH = 200


def nests_within(obj: Any, limit: int = ORJSON_SAFE_DEPTH) -> bool:
    """True when ``obj``'s dicts, lists and tuples nest at most ``limit`` levels.

    Level by level with list comprehensions: a few microseconds for an event.
    """
    level = [obj]
    for _ in range(limit + 1):
        deeper: list[Any] = []
        for item in level:
            if item.__class__ is dict:
                deeper += [v for v in item.values() if v.__class__ in _CONTAINERS]
            elif item.__class__ in _CONTAINERS:
                deeper += [v for v in item if v.__class__ in _CONTAINERS]
        if not deeper:
            return True
        level = deeper
    return False


def dumps_deep(obj: Any, default: Callable[[Any], Any], option: int) -> str:
    """``orjson.dumps(obj, default=default, option=option).decode()``, at any depth.

    ``option`` may hold OPT_INDENT_2 and OPT_NON_STR_KEYS; other options apply to the
    leaves only.  Raises ValueError for a value that contains itself.
    """
    pretty = bool(option & orjson.OPT_INDENT_2)
    out: list[str] = []
    emit = out.append
    on_path: set[int] = set()  # containers being written: meeting one again is a cycle
    # Entries: a string to emit, (_CLOSE, id) to leave a container, or (value, level).
    stack: list[Any] = [(obj, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            emit(item)
            continue
        value, level = item
        if value is _CLOSE:
            on_path.discard(level)
            continue
        if isinstance(value, set | frozenset):
            value = default(value)
        if not isinstance(value, dict | list | tuple):
            emit(_leaf(value, level, default, option, pretty, stack))
            continue
        if not value:
            emit("{}" if isinstance(value, dict) else "[]")
            continue
        if id(value) in on_path:
            raise ValueError("the value contains itself (a circular reference)")
        on_path.add(id(value))
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        inner = "\n" + "  " * (level + 1) if pretty else ""
        parts: list[Any] = [opening]
        if isinstance(value, dict):
            colon = ": " if pretty else ":"
            for n, (key, member) in enumerate(value.items()):
                parts += ["," + inner if n else inner, _key(key, option) + colon]
                parts.append((member, level + 1))
        else:
            for n, member in enumerate(value):
                parts.append("," + inner if n else inner)
                parts.append((member, level + 1))
        parts.append(("\n" + "  " * level if pretty else "") + closing)
        stack.append((_CLOSE, id(value)))
        stack += reversed(parts)
    return "".join(out)


def _leaf(
    value: Any,
    level: int,
    default: Callable[[Any], Any],
    option: int,
    pretty: bool,
    stack: list[Any],
) -> str:
    try:
        text = orjson.dumps(value, default=default, option=option).decode()
    except TypeError:
        if isinstance(value, int):
            return str(int(value))  # past 64 bits: JSON numbers have no size limit
        if isinstance(value, str):
            return json.dumps(value)  # lone surrogates, escaped
        # Something orjson would write through ``default`` but too deep: write what
        # ``default`` gives, with this walk.
        stack.append((default(value), level))
        return ""
    return text.replace("\n", "\n" + "  " * level) if pretty and level else text


def _key(key: Any, option: int) -> str:
    if isinstance(key, str):
        try:
            return orjson.dumps(key).decode()
        except TypeError:
            return json.dumps(key)
    try:
        # orjson's own rendering of a non-string key (numbers, booleans, dates, enums).
        return orjson.dumps({key: None}, option=option & orjson.OPT_NON_STR_KEYS).decode()[1:-6]
    except TypeError:
        return json.dumps(str(key))
