"""Hypothesis strategies for Avro: random schemas (recursive ones too) and values for them.

Schemas mix every Avro type: primitives, enums, fixed (size 0 included: a type that
takes no bytes), arrays, maps, records, ``["null", X]`` unions, and references to
named types, including a record's reference to itself or to an enclosing record (always
under a union with null, an array or a map, so a finite value exists).  Values are
drawn for a schema with a bounded depth, so fastavro can write them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
_MAX_SCHEMA_DEPTH = 4
_MAX_VALUE_DEPTH = 6
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)


@st.composite
def schemas(draw: st.DrawFn) -> Any:
    names: list[str] = []  # every named type defined so far, in document order

    def named(prefix: str) -> str:
        names.append(f"{prefix}{len(names)}")
        return names[-1]

    def schema(depth: int, enclosing: list[str]) -> Any:
        options = ["primitive", "enum", "fixed"]
        if depth < _MAX_SCHEMA_DEPTH:
            options += ["array", "map", "nullable", "record", "record"]
        if enclosing:
            options += ["recursive"]
        defined = [n for n in names if n not in enclosing]
        if defined:
            options += ["reference"]
        kind = draw(st.sampled_from(options))
        if kind == "primitive":
            return draw(st.sampled_from(PRIMITIVES))
        if kind == "enum":
            count = draw(st.integers(1, 3))
            return {"type": "enum", "name": named("E"), "symbols": ["A", "B", "C"][:count]}
        if kind == "fixed":
            return {"type": "fixed", "name": named("F"), "size": draw(st.integers(0, 3))}
        if kind == "array":
            return {"type": "array", "items": schema(depth + 1, enclosing)}
        if kind == "map":
            return {"type": "map", "values": schema(depth + 1, enclosing)}
        if kind == "nullable":
            inner = schema(depth + 1, enclosing)
            return inner if inner == "null" or isinstance(inner, list) else ["null", inner]
        if kind == "reference":
            return draw(st.sampled_from(defined))
        if kind == "recursive":
            target = draw(st.sampled_from(enclosing))
            wrap = draw(st.sampled_from(["nullable", "array", "map"]))
            if wrap == "array":
                return {"type": "array", "items": target}
            return {"type": "map", "values": target} if wrap == "map" else ["null", target]
        name = named("R")
        fields = [
            {"name": f"f{i}", "type": schema(depth + 1, [*enclosing, name])}
            for i in range(draw(st.integers(0, 3)))
        ]
        return {"type": "record", "name": name, "fields": fields}

    return schema(0, [])


def definitions(schema: Any) -> dict[str, Any]:
    """Every named type of a schema by name (a value may use one before meeting it)."""
    found: dict[str, Any] = {}
    todo = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo += node
        elif isinstance(node, dict):
            if "name" in node:
                found[node["name"]] = node
            todo += [f["type"] for f in node.get("fields", [])]
            todo += [node[k] for k in ("items", "values") if k in node]
    return found


def values(schema: Any, names: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``schema`` that fastavro writes and reads back equal."""
    deep = depth >= _MAX_VALUE_DEPTH
    if isinstance(schema, str):
        if schema in names:
            return values(names[schema], names, depth)
        return _primitive(schema)
    if isinstance(schema, list):  # ["null", X]
        branch = st.just(None)
        return branch if deep else st.one_of(branch, values(schema[1], names, depth + 1))
    kind = schema["type"]
    if kind == "record":
        return st.fixed_dictionaries(
            {f["name"]: values(f["type"], names, depth + 1) for f in schema["fields"]}
        )
    if kind == "array":
        if deep:
            return st.just([])
        return st.lists(values(schema["items"], names, depth + 1), max_size=3)
    if kind == "map":
        if deep:
            return st.just({})
        return st.dictionaries(_TEXT, values(schema["values"], names, depth + 1), max_size=3)
    if kind == "enum":
        return st.sampled_from(schema["symbols"])
    return st.binary(min_size=schema["size"], max_size=schema["size"])  # fixed


def _primitive(kind: str) -> st.SearchStrategy[Any]:
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(width=32, allow_nan=False),
        "double": st.floats(allow_nan=False),
        "bytes": st.binary(max_size=16),
        "string": _TEXT,
    }[kind]
