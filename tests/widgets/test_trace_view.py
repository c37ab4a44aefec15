"""The Trace view and its models: a consistent tree model (Qt's own model tester),
sections for broken links and cycles, children handed out a page at a time, focus and
activation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gui_helpers import must
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from app.trace.details import NodeText
from app.trace.tree import Trace, of_parents
from widgets.trace_model import NODE_ROLE, PAGE, TimelineModel, TraceTreeModel
from widgets.trace_view import TraceView


class FakeTexts:
    """Node texts made up from the node number; counts what it was asked for."""

    def __init__(self) -> None:
        self.asked: set[int] = set()

    def nodes(self, nodes: Sequence[int]) -> list[NodeText]:
        self.asked.update(nodes)
        return [NodeText("t", 0, n, 1000 * n, f"Type{n}", f"agg-{n}", f"e{n}", None, "c", None)
                for n in nodes]  # fmt: skip


def sample() -> Trace:
    # 0 root -> 1, 2; 2 -> 3; 4 broken orphan -> 5; 6 <-> 7 a cycle, 8 hangs on 7
    parent = np.array([-1, 0, 0, 2, -1, 4, 7, 6, 7])
    broken = np.zeros(9, bool)
    broken[4] = True
    return of_parents(parent, broken)


def rows(model: TraceTreeModel, parent: QModelIndex) -> list[str]:
    return [str(model.index(r, 0, parent).data()) for r in range(model.rowCount(parent))]


def test_the_tree_model_is_consistent_and_has_its_sections(qtbot: QtBot) -> None:
    model = TraceTreeModel(sample(), FakeTexts())
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    top = QModelIndex()
    assert rows(model, top) == [
        "Started here (1)",
        "Broken link: the cause is no indexed event (1)",
        "Causation cycle 1 (each caused by the one before) (2)",
    ]
    started = model.index(0, 0)
    root = model.index(0, 0, started)
    assert rows(model, root) == ["Type1", "Type2"]
    assert rows(model, model.index(1, 0, root)) == ["Type3"]
    broken = model.index(0, 0, model.index(1, 0))
    assert broken.data() == "⚠ Type4" and rows(model, broken) == ["Type5"]
    assert broken.data(Qt.ItemDataRole.ForegroundRole) is not None
    cycle = model.index(2, 0)
    assert rows(model, cycle) == ["Type6", "Type7"]
    # 7's children leave out 6 (shown beside it in the cycle): only 8
    assert rows(model, model.index(1, 0, cycle)) == ["Type8"]
    for index in (root, broken, model.index(1, 0, cycle)):
        assert model.parent(model.index(0, 0, index)) == index


def test_children_are_handed_out_a_page_at_a_time() -> None:
    n = 2 * PAGE + 10
    parent = np.zeros(n, np.int64)
    parent[0] = -1
    texts = FakeTexts()
    model = TraceTreeModel(of_parents(parent), texts)
    root = model.index(0, 0, model.index(0, 0))
    assert model.rowCount(root) == PAGE and model.canFetchMore(root)
    model.fetchMore(root)
    assert model.rowCount(root) == 2 * PAGE
    model.fetchMore(root)
    assert model.rowCount(root) == n - 1 and not model.canFetchMore(root)
    assert texts.asked == set()  # no text read for structure alone
    # Qt's own tester walks (and fetches) everything: the paged model stays consistent.
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)


def test_a_deep_node_is_reached_through_its_ancestors() -> None:
    n = 3 * PAGE
    parent = np.zeros(n, np.int64)  # 0 -> every node, and the last one -> a chain
    parent[0] = -1
    parent = np.concatenate([parent, [n - 1, n]])
    model = TraceTreeModel(of_parents(parent), FakeTexts())
    index = model.index_of_node(n + 1)
    assert model.node_of(index) == n + 1
    chain = []
    while index.isValid():
        chain.append(index.data(NODE_ROLE))
        index = index.parent()
    assert chain == [n + 1, n, n - 1, 0, -1]


def test_a_million_children_open_one_page(qtbot: QtBot) -> None:
    parent = np.zeros(1_000_000, np.int64)
    parent[0] = -1
    view = TraceView()
    qtbot.addWidget(view)
    texts = FakeTexts()
    view.resize(900, 600)
    view.show()
    view.show_trace(of_parents(parent), texts)
    model = must(view.tree_model)
    root = model.index(0, 0, model.index(0, 0))
    view.tree.expand(root)
    qtbot.wait(50)
    # A few pages (the view asks for more while its viewport is not full), not a million.
    assert PAGE <= model.rowCount(root) <= 8 * PAGE
    assert len(texts.asked) < 200  # the rows on screen
    view.tree.scrollToBottom()
    qtbot.wait(50)
    assert model.rowCount(root) <= 10 * PAGE


def test_timeline_rows_in_time_with_steps() -> None:
    model = TimelineModel(sample(), FakeTexts())
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert model.rowCount() == 9
    assert [model.index(r, 1).data() for r in range(3)] == ["start", "+1.0 s", "+1.0 s"]
    assert model.index(4, 4).data() == "⚠ Type4"


def test_focus_and_activation(qtbot: QtBot) -> None:
    view = TraceView()
    qtbot.addWidget(view)
    view.show_trace(sample(), FakeTexts(), focus=3)
    assert view.selected_node() == 3
    assert view.tree.isExpanded(must(view.tree_model).index_of_node(2))
    with qtbot.waitSignal(view.event_activated) as got:
        view.tree.doubleClicked.emit(view.tree.currentIndex())
    assert got.args == ["t", 0, 3]
    view.clear()
    assert view.trace is None and view.tree.model() is None
