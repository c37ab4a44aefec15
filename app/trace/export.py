"""A trace written for programs (one JSON object) and for people (an indented tree).

Both are streamed from an explicit stack: a causation chain of a million events would
overflow a recursive writer (and orjson refuses to nest deeper than 254 levels), and the
output of a huge trace should start at once rather than after a million dicts are built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import numpy as np
import orjson

from app.trace.details import NodeText, TraceTexts
from app.trace.tree import Trace

Write = Callable[[str], object]
CHUNK = 2048
# Deeper than this the text tree stops indenting (and says the depth instead).
MAX_INDENT = 24


def format_gap(ms: int | None) -> str:
    """A duration for people: +350 ms, +12.5 s, +4 min 5 s, +2 h 14 min, +3 d 2 h."""
    if ms is None:
        return ""
    sign = "-" if ms < 0 else "+"
    ms = abs(ms)
    if ms < 1000:
        return f"{sign}{ms} ms"
    if ms < 60_000:
        return f"{sign}{ms / 1000:.1f} s"
    seconds = ms // 1000
    if seconds < 3600:
        return f"{sign}{seconds // 60} min {seconds % 60} s"
    if seconds < 86_400:
        return f"{sign}{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{sign}{seconds // 86_400} d {seconds % 86_400 // 3600} h"


def preorder(
    trace: Trace, tops: list[int], skip: np.ndarray | None = None
) -> Iterator[tuple[int, int]]:
    """(node, depth) of the subtrees under ``tops``, depth first, children in time
    order; nodes in ``skip`` (a mask: a cycle's members) are not descended into."""
    stack: list[tuple[int, int]] = [(int(t), 0) for t in reversed(tops)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        kids = trace.children(node)
        if skip is not None and len(kids):
            kids = kids[~skip[kids]]
        stack.extend((int(k), depth + 1) for k in kids[::-1].tolist())


def node_record(trace: Trace, node: int, text: NodeText) -> dict[str, Any]:
    """One node's fields (without ``children``), as the JSON output has them."""
    record: dict[str, Any] = {
        "topic": text.topic,
        "partition": text.partition,
        "offset": text.offset,
        "type": text.type,
        "aggregate": text.aggregate,
        "event_id": text.event_id,
        "causation_id": text.causation_id,
        "timestamp": text.timestamp,
        "gap_ms": trace.gap_ms(node),
        "broken": bool(trace.broken[node]),
    }
    outside = trace.external.get(node)
    if outside is not None:
        record["caused_by"] = {
            "topic": outside.topic,
            "partition": outside.partition,
            "offset": outside.offset,
        }
    return record


def _with_texts(
    texts: TraceTexts, walk: Iterator[tuple[int, int]]
) -> Iterator[tuple[int, int, NodeText]]:
    """The walk, with each node's texts read a chunk at a time."""
    while True:
        chunk = list(islice(walk, CHUNK))
        if not chunk:
            return
        found = texts.nodes([n for n, _d in chunk])
        for (node, depth), text in zip(chunk, found, strict=True):
            yield node, depth, text


def _write_forest(
    trace: Trace, texts: TraceTexts, tops: list[int], skip: np.ndarray | None, write: Write
) -> None:
    """``[node, ...]`` with nested ``children`` arrays, closed as the depth falls."""
    write("[")
    # One entry per open array: the top one, then the children array of each node on
    # the current path; True once it holds an item (the next one needs a comma).
    filled = [False]
    for node, depth, text in _with_texts(texts, preorder(trace, tops, skip)):
        while len(filled) > depth + 1:
            write("]}")
            filled.pop()
        if filled[-1]:
            write(",")
        filled[-1] = True
        body = orjson.dumps(node_record(trace, node, text)).decode()
        write(body[:-1] + ',"children":[')
        filled.append(False)
    while len(filled) > 1:
        write("]}")
        filled.pop()
    write("]")


def write_json(trace: Trace, texts: TraceTexts, write: Write) -> None:
    """``{"correlation", "events", "roots", "orphans", "cycles"}`` (see the README)."""
    write('{"correlation":' + orjson.dumps(texts.correlation).decode())
    write(f',"events":{len(trace)}')
    if trace.note:
        write(',"note":' + orjson.dumps(trace.note).decode())
    write(',"roots":')
    _write_forest(trace, texts, trace.roots.tolist(), None, write)
    write(',"orphans":')
    _write_forest(trace, texts, trace.orphans.tolist(), None, write)
    write(',"cycles":[')
    in_cycle = trace.in_cycle
    for i, members in enumerate(trace.cycles):
        write("," if i else "")
        _write_cycle(trace, texts, members, in_cycle, write)
    write("]}\n")


def _write_cycle(
    trace: Trace, texts: TraceTexts, members: np.ndarray, in_cycle: np.ndarray, write: Write
) -> None:
    # A cycle's members side by side (each caused by the one before, the first by the
    # last), each with what it caused outside the cycle as its children.
    _write_forest(trace, texts, members.tolist(), in_cycle, write)


def summary(trace: Trace, correlation: str | None = None) -> str:
    """One line: how many events, where, over how long, and what is wrong
    (``correlation``: the id as it may be shown, when masked)."""
    if not len(trace):
        return trace.note or "no events"
    topics = sorted(_topics(trace))
    what = f"{len(trace):,} event{'s' * (len(trace) != 1)} across {', '.join(topics)}"
    shown = correlation or trace.correlation
    parts = [f"trace {shown}: {what}" if shown else what]
    if len(trace) > 1:
        parts.append(f"over {format_gap(trace.span_ms).lstrip('+')}")
    broken = int(trace.broken.sum())
    if broken:
        parts.append(f"{broken} broken link{'s' * (broken != 1)}")
    if trace.cycles:
        parts.append(f"{len(trace.cycles)} causation cycle{'s' * (len(trace.cycles) != 1)}")
    return ", ".join(parts)


def _topics(trace: Trace) -> set[str]:
    return {trace.topics[int(t)] for t in np.unique(trace.topic).tolist()}


def _line(trace: Trace, node: int, depth: int, text: NodeText) -> str:
    indent = "  " * min(depth, MAX_INDENT)
    deep = f"[{depth}] " if depth > MAX_INDENT else ""
    gap = format_gap(trace.gap_ms(node))
    cols = [
        f"{indent}{deep}{text.type}",
        f"{text.topic} p{text.partition}@{text.offset}",
        text.timestamp,
        gap,
        text.aggregate or "-",
        f"id {text.event_id}" if text.event_id else "no event id",
    ]
    line = "  ".join(c for c in cols if c)
    if trace.broken[node]:
        line += f"  !! caused by {text.causation_id}: no such event"
    outside = trace.external.get(node)
    if outside is not None:
        line += f"  (caused by {outside}, of another correlation)"
    return line


def write_text(trace: Trace, texts: TraceTexts, write: Write) -> None:
    """The tree for people: roots, then broken links and outside causes, then cycles."""
    write(summary(trace, texts.correlation) + "\n")
    if trace.note:
        write(f"note: {trace.note}\n")
    sections: list[tuple[str, list[int], np.ndarray | None]] = [
        ("", trace.roots.tolist(), None),
        ("caused from outside this trace or broken", trace.orphans.tolist(), None),
    ]
    in_cycle = trace.in_cycle
    for i, members in enumerate(trace.cycles, 1):
        sections.append(
            (f"causation cycle {i} (each caused by the one before)", members.tolist(), in_cycle)
        )
    for title, tops, skip in sections:
        if not tops:
            continue
        if title:
            write(f"-- {title}:\n")
        for node, depth, text in _with_texts(texts, preorder(trace, tops, skip)):
            write(_line(trace, node, depth, text) + "\n")


def write_timeline(trace: Trace, texts: TraceTexts, write: Write) -> None:
    """Every event in time order, with the time since the step before."""
    write(summary(trace, texts.correlation) + "\n")
    walk = ((n, 0) for n in range(len(trace)))
    for node, _depth, text in _with_texts(texts, walk):
        gap = format_gap(trace.step_gap_ms(node)) or "start"
        mark = "  !! broken link" if trace.broken[node] else ""
        write(
            f"{text.timestamp}  {gap:>14}  {text.topic} p{text.partition}@{text.offset}  "
            f"{text.type}  {text.aggregate or '-'}{mark}\n"
        )
