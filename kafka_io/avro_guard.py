"""Vet Avro bytes before fastavro decodes them, for schemas where a value could hurt.

fastavro's C reader recurses once per level of a value, on the C stack: a value of a
recursive schema (``Node -> ["null", "Node"]``) a few thousand levels deep overflows it
and kills the process, where no Python handler can catch it.  An array whose items take
no bytes (``{"type": "array", "items": "null"}``) can claim 2^62 items in ten bytes, and
fastavro builds that list until memory runs out.

So each schema is analysed once (``guard_for``): a schema that is recursive, nests
deeper than ``MAX_DEPTH`` or has arrays of zero-byte items gets a ``ValueGuard``, which
walks the binary encoding of every value with an explicit stack (no recursion, so no
depth can hurt it) and says why a value must not reach fastavro.  Schemas without such
features (nearly all) get no guard and cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Levels (records, arrays, maps) a value may nest.  fastavro's reader needs about
# 1.7 KB of C stack per level; 128 levels fit many times over in the smallest thread
# stack the app can run on (512 KB, macOS's default for secondary threads).
MAX_DEPTH = 128
# Array items that take no bytes (null, empty records) cost memory but no input, so
# their number is bounded by this instead of by the value's size.
MAX_EMPTY_ITEMS = 100_000
_INF = 1 << 62

# Node kinds of a compiled schema.
_NULL, _BOOL, _LONG, _FLOAT, _DOUBLE, _BYTES, _FIXED, _ENUM = range(8)
_ARRAY, _MAP, _UNION, _RECORD = range(8, 12)
_PRIMITIVES = {
    "null": _NULL,
    "boolean": _BOOL,
    "int": _LONG,
    "long": _LONG,
    "float": _FLOAT,
    "double": _DOUBLE,
    "bytes": _BYTES,
    "string": _BYTES,
}


class SchemaShapeError(ValueError):
    """A parsed schema this module cannot follow (a name that is never defined...)."""


@dataclass
class _Node:
    kind: int
    children: tuple[int, ...] = ()  # record fields, union branches, array/map items
    size: int = 0  # fixed size; enum symbol count
    name: str | None = None  # named types


@dataclass(frozen=True)
class _Compiled:
    nodes: list[_Node]
    min_size: list[int]  # fewest bytes a value can take; _INF: no finite value exists
    depth: list[int]  # deepest nesting a value can reach; _INF: unbounded (recursive)
    recursive_name: str | None  # a named type that contains itself, if any


@dataclass(frozen=True)
class Verdict:
    """What the walk found: where the value ends, and why it must not be decoded."""

    end: int  # where the value ends; meaningful when ``resumable``
    error: str | None
    resumable: bool  # the value's end is known, so a reader can go on after it


class _Bad(Exception):
    """The walk cannot go on: the bytes do not encode a value of the schema."""


# Walk operations: read one value; read an array/map block count; read ``count`` array
# items; read ``count`` map entries (a key, then a value).
_VALUE, _BLOCK, _ITEMS, _ENTRIES = range(4)


class ValueGuard:
    """Walks encoded values of one schema; ``check`` says whether fastavro may decode them."""

    def __init__(self, compiled: _Compiled, root: int) -> None:
        self._nodes = compiled.nodes
        self._min = compiled.min_size
        self._depth = compiled.depth
        self._root = root
        self.recursive_name = compiled.recursive_name
        # Fewest bytes a whole value takes: 0 means a container block of such values is
        # bounded by MAX_EMPTY_ITEMS rather than by its size.
        self.min_size = compiled.min_size[root]

    def check(self, buf: bytes, pos: int = 0) -> Verdict:
        """Walk the value that starts at ``buf[pos]``."""
        try:
            end, too_deep = self._walk(buf, pos)
        except _Bad as exc:
            return Verdict(pos, str(exc), False)
        if too_deep:
            why = f"Avro value nests deeper than {MAX_DEPTH} levels"
            if self.recursive_name:
                why += f" (recursive schema {self.recursive_name.rsplit('.', 1)[-1]})"
            return Verdict(end, why, True)
        return Verdict(end, None, True)

    def _walk(self, buf: bytes, pos: int) -> tuple[int, bool]:
        """The value's end, and whether it nests too deep.

        Too deep a value is walked to its end all the same (the walk keeps its own
        stack, so depth costs it only memory, bounded by the bytes), so a reader of many
        values can skip it and go on.
        """
        nodes, min_size, static_depth = self._nodes, self._min, self._depth
        end = len(buf)
        empty_items = 0
        too_deep = False
        stack: list[tuple[int, int, int, int]] = [(_VALUE, self._root, 0, 1)]
        pop, push = stack.pop, stack.append
        while stack:
            op, index, depth, count = pop()
            node = nodes[index]
            if op in (_ITEMS, _ENTRIES):
                if count > 1:
                    push((op, index, depth, count - 1))
                if op == _ENTRIES:
                    pos = _skip_bytes(buf, pos, end)
                push((_VALUE, node.children[0], depth, 1))
                continue
            kind = node.kind
            if op == _BLOCK:
                count, pos = _read_long(buf, pos, end)
                if count == 0:
                    continue
                if count < 0:  # a negative count is followed by the block's byte size
                    count = -count
                    size, pos = _read_long(buf, pos, end)
                    if size < 0:
                        raise _Bad("negative block size in an array or map")
                push((_BLOCK, index, depth, 0))
                item = node.children[0]
                if kind == _ARRAY and min_size[item] == 0:
                    # Items of no bytes: count them, there is nothing to walk.
                    empty_items += count
                    if empty_items > MAX_EMPTY_ITEMS:
                        raise _Bad(
                            f"Avro array claims {empty_items} items that take no bytes "
                            f"(more than {MAX_EMPTY_ITEMS})"
                        )
                    too_deep = too_deep or depth + static_depth[item] > MAX_DEPTH
                    continue
                per_item = min_size[item] + (1 if kind == _MAP else 0)
                if count > (end - pos) // per_item:
                    raise _Bad("record is truncated")
                push((_ITEMS if kind == _ARRAY else _ENTRIES, index, depth, count))
                continue
            if min_size[index] >= _INF:
                raise _Bad(f"Avro type {node.name or 'in the schema'} has no finite value")
            if kind == _LONG:
                _, pos = _read_long(buf, pos, end)
            elif kind == _BYTES:
                pos = _skip_bytes(buf, pos, end)
            elif kind == _RECORD:
                depth += 1
                too_deep = too_deep or depth > MAX_DEPTH
                for child in reversed(node.children):
                    push((_VALUE, child, depth, 1))
            elif kind == _UNION:
                branch, pos = _read_long(buf, pos, end)
                if not 0 <= branch < len(node.children):
                    raise _Bad(f"union index {branch} out of range")
                push((_VALUE, node.children[branch], depth, 1))
            elif kind in (_ARRAY, _MAP):
                depth += 1
                too_deep = too_deep or depth > MAX_DEPTH
                push((_BLOCK, index, depth, 0))
            elif kind == _ENUM:
                symbol, pos = _read_long(buf, pos, end)
                if not 0 <= symbol < node.size:
                    raise _Bad(f"enum index {symbol} out of range")
            elif kind != _NULL:
                width = node.size if kind == _FIXED else _FIXED_WIDTH[kind]
                if width > end - pos:
                    raise _Bad("record is truncated")
                pos += width
        return pos, too_deep


def _read_long(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """A zig-zag varint, as Avro writes int and long (at most 10 bytes)."""
    result = shift = 0
    start = pos
    while True:
        if pos >= end:
            raise _Bad("record is truncated")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if pos - start >= 10:
            raise _Bad("malformed varint (longer than 10 bytes)")


def _skip_bytes(buf: bytes, pos: int, end: int) -> int:
    length, pos = _read_long(buf, pos, end)
    if length < 0 or length > end - pos:
        raise _Bad("record is truncated")
    return pos + length


# -- analysing a schema ------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaFacts:
    """What reading values of a schema needs to know about it."""

    guard: ValueGuard | None  # None: fastavro may read its values unvetted
    min_size: int  # fewest bytes a value takes (0: none; NO_FINITE_VALUE: it has none)


NO_FINITE_VALUE = _INF


def analyse(parsed: Any, named: Mapping[str, Any] | None = None) -> SchemaFacts:
    """The facts of a fastavro-parsed schema.

    ``named``: the named types fastavro collected while parsing (references resolve
    there, or in the schema's own ``__named_schemas``).  Raises SchemaShapeError for a
    schema it cannot follow.
    """
    compiled, root = _compile(parsed, named or {})
    nodes, min_size = compiled.nodes, compiled.min_size
    safe = (
        compiled.recursive_name is None
        and compiled.depth[root] <= MAX_DEPTH
        and min_size[root] < _INF
        and not any(n.kind == _ARRAY and min_size[n.children[0]] == 0 for n in nodes)
    )
    return SchemaFacts(None if safe else ValueGuard(compiled, root), min_size[root])


def guard_for(parsed: Any, named: Mapping[str, Any] | None = None) -> ValueGuard | None:
    """A guard for values of a fastavro-parsed schema, or None when it needs none."""
    return analyse(parsed, named).guard


def walker_for(parsed: Any, named: Mapping[str, Any] | None = None) -> ValueGuard:
    """A guard for any schema, needed or not (to compare its walk with fastavro's)."""
    return ValueGuard(*_compile(parsed, named or {}))


_FIXED_WIDTH = {_NULL: 0, _BOOL: 1, _LONG: 1, _FLOAT: 4, _DOUBLE: 8, _BYTES: 1, _ENUM: 1}
_CONTAINERS = (_RECORD, _ARRAY, _MAP)


def _compile(parsed: Any, named: Mapping[str, Any]) -> tuple[_Compiled, int]:
    definitions: dict[str, Any] = dict(named)
    if isinstance(parsed, dict):
        definitions.update(parsed.get("__named_schemas") or {})
    nodes: list[_Node] = []
    by_name: dict[str, int] = {}
    # (schema, node to fill): an explicit stack, so a deep schema cannot overflow it.
    todo: list[tuple[Any, int]] = []

    def node_for(schema: Any) -> int:
        while True:  # unwrap {"type": {...}} and {"type": "Name"}
            if isinstance(schema, str):
                if schema in _PRIMITIVES:
                    nodes.append(_Node(_PRIMITIVES[schema]))
                    return len(nodes) - 1
                if schema in by_name:
                    return by_name[schema]
                if schema not in definitions:
                    raise SchemaShapeError(f"undefined Avro type {schema!r}")
                schema = definitions[schema]
                continue
            if isinstance(schema, dict):
                kind = schema.get("type")
                if isinstance(kind, dict | list) or (
                    isinstance(kind, str) and kind not in _COMPLEX and kind not in _PRIMITIVES
                ):
                    schema = kind
                    continue
            break
        name = schema.get("name") if isinstance(schema, dict) else None
        if isinstance(name, str) and name in by_name:
            return by_name[name]
        nodes.append(_Node(_NULL))
        index = len(nodes) - 1
        if isinstance(name, str) and schema.get("type") in _NAMED:
            by_name[name] = index
        todo.append((schema, index))
        return index

    root = node_for(parsed)
    while todo:
        schema, index = todo.pop()
        nodes[index] = _fill(schema, node_for)
    min_size = _min_sizes(nodes)
    depth, recursive = _depths(nodes, root)
    return _Compiled(nodes, min_size, depth, recursive), root


_COMPLEX = {"record", "error", "array", "map", "enum", "fixed"}
_NAMED = {"record", "error", "enum", "fixed"}


def _fill(schema: Any, node_for: Callable[[Any], int]) -> _Node:
    if isinstance(schema, list):
        return _Node(_UNION, tuple(node_for(branch) for branch in schema))
    if not isinstance(schema, dict):
        raise SchemaShapeError(f"unexpected Avro schema element {type(schema).__name__}")
    kind = schema.get("type")
    name = schema.get("name") if isinstance(schema.get("name"), str) else None
    if kind in ("record", "error"):
        fields = schema.get("fields") or []
        return _Node(_RECORD, tuple(node_for(f["type"]) for f in fields), name=name)
    if kind == "array":
        return _Node(_ARRAY, (node_for(schema["items"]),))
    if kind == "map":
        return _Node(_MAP, (node_for(schema["values"]),))
    if kind == "enum":
        return _Node(_ENUM, size=len(schema.get("symbols") or []), name=name)
    if kind == "fixed":
        return _Node(_FIXED, size=int(schema.get("size", 0)), name=name)
    if kind in _PRIMITIVES:
        return _Node(_PRIMITIVES[kind])
    raise SchemaShapeError(f"unknown Avro type {kind!r}")


def _min_sizes(nodes: list[_Node]) -> list[int]:
    """Fewest bytes per node: a fixpoint, since named types refer to one another."""
    sizes = [_INF] * len(nodes)
    changed = True
    while changed:
        changed = False
        for i, node in enumerate(nodes):
            kind = node.kind
            if kind == _FIXED:
                new = node.size
            elif kind in _FIXED_WIDTH:
                new = _FIXED_WIDTH[kind]
            elif kind in (_ARRAY, _MAP):
                new = 1  # the empty one: a zero block count
            elif kind == _UNION:
                new = min(min((sizes[c] for c in node.children), default=_INF) + 1, _INF)
            else:
                new = min(sum(sizes[c] for c in node.children), _INF)
            if new < sizes[i]:
                sizes[i] = new
                changed = True
    return sizes


def _depths(nodes: list[_Node], root: int) -> tuple[list[int], str | None]:
    """Deepest nesting under each node (_INF under a cycle), and a recursive type's name."""
    depth = [-1] * len(nodes)  # -1: not visited
    on_path = [False] * len(nodes)
    recursive: str | None = None
    stack: list[tuple[int, int]] = [(root, 0)]
    on_path[root] = True
    while stack:
        index, child_at = stack[-1]
        children = nodes[index].children
        if child_at < len(children):
            stack[-1] = (index, child_at + 1)
            child = children[child_at]
            if on_path[child]:  # a cycle: back to a type on the current path
                if recursive is None:
                    recursive = nodes[child].name
                depth[child] = _INF
            elif depth[child] == -1:
                on_path[child] = True
                stack.append((child, 0))
            continue
        stack.pop()
        on_path[index] = False
        below = max((depth[c] for c in children), default=0)
        own = 1 if nodes[index].kind in _CONTAINERS else 0
        found = _INF if below >= _INF or depth[index] >= _INF else below + own
        depth[index] = found
    return depth, recursive
