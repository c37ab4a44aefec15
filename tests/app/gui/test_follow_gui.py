"""Following a topic in the window, against the real broker: new events appear, the filter
applies to them, the inspector's aggregate changes state, the table follows its end, and
what was followed is in the persisted index afterwards."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from gui_helpers import loaded, pump_until
from PySide6.QtWidgets import QApplication

from app.gui.jobs import ReadDone
from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from widgets.event_table import Role

pytestmark = pytest.mark.kafka


def deposit(producer: Producer, topic: str, account: str, amount: int) -> None:
    body = {"eventType": "MoneyDeposited", "aggregateId": account, "payload": {"amount": amount}}
    producer.produce(topic, key=account, value=orjson.dumps(body))


def window_on(bootstrap: str, tmp_path: Path) -> MainWindow:
    args = argparse.Namespace(bootstrap=bootstrap, x_options=[], config=None, registry=None,
                              registry_auth=None, file=None, folds=[])  # fmt: skip
    window = build_window(args, Settings(tmp_path / "s.ini"), use_user_folds=False)
    window.show()
    return window


def shown(window: MainWindow) -> list[object]:
    model = window.topic_view.model
    return [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]


def test_follow_a_topic_live(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(partitions=2, prefix="bank-accounts")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    opened = {"eventType": "AccountOpened", "aggregateId": "ACC-1",
              "payload": {"owner": "Ada", "currency": "EUR"}}  # fmt: skip
    producer.produce(topic, key="ACC-1", value=orjson.dumps(opened))
    for i in range(20):
        deposit(producer, topic, f"ACC-{i % 4}", 10)
    assert producer.flush(30) == 0
    window = window_on(kafka_bootstrap, tmp_path)
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        window.activate_topic(topic)
        assert window.topics.toggle_follow()  # starts once the topic is read
        pump_until(lambda: window.topics.follows.is_live(topic), 60)
        item = window.cluster_tree.topic_item(topic)
        assert item is not None and item.text(0) == f"● {topic}"
        assert len(shown(window)) == 21

        # The inspector on ACC-1's newest event: its balance follows new deposits.
        window.filter_bar.set_aggregate("ACC-1")
        window.filter_bar.flush()
        rows = window.topic_view.model.rowCount()
        window.topic_view.select_model_row(rows - 1)
        balance = window.inspector.state_tree

        def balance_now() -> float:
            item = balance.item_at_path("balance")
            return float(item.text(1)) if item is not None else float("nan")

        before = 5 * 10.0  # ACC-1's five deposits so far
        pump_until(lambda: balance_now() == before, 30)
        replayer = window.inspector_ctl._replayer
        window.inspector.tabs.setCurrentIndex(1)  # the user looks at the Diff tab
        deposit(producer, topic, "ACC-1", 25)
        deposit(producer, topic, "ACC-2", 99)  # not shown: the filter applies to new events
        assert producer.flush(30) == 0
        pump_until(lambda: window.topic_view.model.rowCount() == rows + 1, 30)
        assert {e.aggregate for e in shown(window)} == {"ACC-1"}  # type: ignore[attr-defined]

        pump_until(lambda: balance_now() == before + 25, 30)
        # The new event was added to the timeline, not the whole history replayed again;
        # the newest event is selected and the user's tab stays.
        assert window.inspector_ctl._replayer is replayer
        assert window.inspector.step_count == 7 == window.inspector.step + 1
        assert window.inspector.tabs.currentIndex() == 1

        # Unfiltered, the table follows its end like tail -f.
        window.filter_bar.clear()
        window.filter_bar.flush()
        window.table.scrollToBottom()
        for i in range(300):
            deposit(producer, topic, f"ACC-{i % 4}", 1)
        assert producer.flush(30) == 0
        pump_until(lambda: window.topic_view.model.rowCount() == 323, 30)
        pump_until(window.table.at_end, 10)
        window.table.scrollToTop()
        deposit(producer, topic, "ACC-3", 1)
        assert producer.flush(30) == 0
        pump_until(lambda: window.table.new_rows.isVisible(), 30)
        assert window.table.new_rows.text() == "1 new event ↓"
    finally:
        window.topics.toggle_follow(topic)  # stop: the followed events are saved
        # Submitted tasks, done or not (a save of the mapped index can be done already).
        saving = [t for t in window.workers._running if t.name.startswith("save index")]
        assert saving  # following stopped: its events are being saved
        pump_until(lambda: all(t.done for t in saving), 30)
        window.close()

    # Reopened, the followed events come from the stored index: nothing is read again.
    again = window_on(kafka_bootstrap, tmp_path)
    finished: list[ReadDone] = []
    again.loader.read_finished.connect(finished.append)
    try:
        pump_until(lambda: topic in again.cluster_tree.topic_names(), 60)
        again.activate_topic(topic)
        pump_until(lambda: bool(finished) and loaded(again), 60)
        assert (finished[-1].reused, finished[-1].events) == (324, 0)
    finally:
        again.close()


def start_following(window: MainWindow, producer: Producer, topic: str, rows: int) -> int:
    """Follow ``topic`` in ``window`` until a deposit made meanwhile shows as row
    ``rows``; the follow worker's pid."""
    follows = window.topics.follows
    pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
    window.activate_topic(topic)
    assert window.topics.toggle_follow()
    pump_until(lambda: follows.is_live(topic), 60)
    deposit(producer, topic, "ACC-1", 5)
    assert producer.flush(30) == 0
    pump_until(lambda: window.topic_view.model.rowCount() == rows, 30)
    pid = follows.live[topic].pid
    assert pid is not None and pid != os.getpid()
    return pid


def test_events_received_before_following_ends_by_itself_are_still_shown(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    """Following that ends by itself (its worker died) first appends what it had
    already received and queued for the window; then it tells why it ended."""
    topic = make_topic(partitions=1, prefix="bank-accounts")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    deposit(producer, topic, "ACC-0", 10)
    assert producer.flush(30) == 0
    window = window_on(kafka_bootstrap, tmp_path)
    stopped: list[tuple[str, str]] = []
    follows = window.topics.follows
    follows.stopped.connect(lambda t, why: stopped.append((t, why)))
    try:
        pid = start_following(window, producer, topic, rows=2)
        live = follows.live[topic]

        # The window is busy (no event loop turns) while 3,000 events arrive and are
        # queued for it; then the worker dies.
        for i in range(3000):
            deposit(producer, topic, f"ACC-{i % 7}", 1)
        assert producer.flush(30) == 0
        deadline = time.monotonic() + 30
        while sum(len(part) for part, _ in list(live.stream._items)) < 3000:
            assert time.monotonic() < deadline, "the events never reached the window's queue"
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not live.task or not live.task.done:
            assert time.monotonic() < deadline
            time.sleep(0.01)

        pump_until(lambda: not follows.is_live(topic), 30)
        assert [t for t, _ in stopped] == [topic] and "died" in stopped[0][1]
        pump_until(lambda: window.topic_view.model.rowCount() == 3002, 30)
        offsets = sorted(e.offset for e in shown(window))  # type: ignore[attr-defined]
        assert offsets == list(range(3002))
    finally:
        window.close()


def test_a_killed_follow_worker_ends_following_with_a_message(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    """Following runs in a worker process: killed, following ends on that topic with a
    clear message, what arrived stays, the window stays usable, and following starts
    again from where it stopped."""
    topic = make_topic(partitions=1, prefix="bank-accounts")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(3):
        deposit(producer, topic, f"ACC-{i}", 10)
    assert producer.flush(30) == 0
    window = window_on(kafka_bootstrap, tmp_path)
    stopped: list[tuple[str, str]] = []
    window.topics.follows.stopped.connect(lambda t, why: stopped.append((t, why)))
    follows = window.topics.follows
    try:
        pid = start_following(window, producer, topic, rows=4)

        os.kill(pid, signal.SIGKILL)
        pump_until(lambda: not follows.is_live(topic), 30)
        why = (
            f"the worker process following {topic} died (killed by signal 9): "
            "following stopped; Follow live starts it again"
        )
        assert stopped == [(topic, why)]
        assert window.banner.message == f"{topic}: {why}"
        item = window.cluster_tree.topic_item(topic)
        assert item is not None and item.text(0) == topic  # no longer marked live
        assert window.topic_view.model.rowCount() == 4  # what arrived stays

        # The window is usable: the filter still works on what is there.
        window.filter_bar.set_aggregate("ACC-1")
        window.filter_bar.flush()
        pump_until(lambda: window.topic_view.model.rowCount() == 2, 10)
        window.filter_bar.clear()
        window.filter_bar.flush()

        # Following again: another worker, from where the first one stopped.
        assert window.topics.toggle_follow(topic)
        pump_until(lambda: follows.is_live(topic), 60)
        deposit(producer, topic, "ACC-2", 7)
        assert producer.flush(30) == 0
        pump_until(lambda: window.topic_view.model.rowCount() == 5, 30)
        assert follows.live[topic].pid not in (None, pid)
        offsets = sorted(e.offset for e in shown(window))  # type: ignore[attr-defined]
        assert offsets == list(range(5))  # nothing lost, nothing twice

        # Closing the window while following stops the follow (its worker is told).
        task = next(t for t in window.workers.running if t.name == f"follow {topic}")
        window.close()
        assert task.done
    finally:
        window.close()


def test_two_topics_followed_at_once_each_in_its_own_worker(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    first, second = make_topic(prefix="ledger"), make_topic(prefix="orders")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    window = window_on(kafka_bootstrap, tmp_path)
    follows = window.topics.follows
    try:
        pump_until(lambda: second in window.cluster_tree.topic_names(), 60)
        for topic in (first, second):
            window.activate_topic(topic)
            assert window.topics.toggle_follow(topic)
            pump_until(functools.partial(follows.is_live, topic), 60)
        for i in range(30):
            deposit(producer, first, f"ACC-{i % 3}", 1)
        for i in range(12):
            deposit(producer, second, f"ACC-{i % 3}", 2)
        assert producer.flush(30) == 0
        dataset = window.loader.dataset
        assert dataset is not None
        pump_until(lambda: len(dataset.index(first)) == 30 and len(dataset.index(second)) == 12)
        pids = {follows.live[t].pid for t in (first, second)}
        assert None not in pids and len(pids) == 2  # one worker process each
        pump_until(lambda: window.topic_view.model.rowCount() == 12, 30)  # the shown topic
        window.topics.toggle_follow(first)  # stopping one leaves the other live
        assert not follows.is_live(first) and follows.is_live(second)
        deposit(producer, second, "ACC-9", 3)
        assert producer.flush(30) == 0
        pump_until(lambda: window.topic_view.model.rowCount() == 13, 30)
    finally:
        window.close()
