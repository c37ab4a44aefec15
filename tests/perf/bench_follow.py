"""Benchmark of following a topic live, in the window and on the command line's path.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_follow.py [--rate 50000]
        [--seconds 60] [--latency-rate 1000] [--latency-seconds 20]

Starts its own broker unless EVENT_EXPLORER_BOOTSTRAP names one.  A child process
produces at a steady rate (records stamped with their send time); prints one JSON object:

* ``window``: the window following a topic that receives ``--rate`` events/s for
  ``--seconds``: events shown, the follower's lag behind the high watermarks sampled
  every second (max and p95, in events and in seconds of events at the rate), the
  longest pause of the GUI thread (a 10 ms timer's worst gap), its 99th and 99.9th
  percentiles and how many pauses passed 50 and 100 ms, resident memory at the start
  and the end (of the window's process: the follow's worker process is apart, its own
  figure is ``worker_rss_mb``), and per event kept;
* ``latency``: at ``--latency-rate`` events/s, how long after a record's timestamp it
  reached the table (rows inserted in the window's model) and a follower as
  ``events --follow`` uses it (p50/p95, ms).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workload import kafka


def produce_at(bootstrap: str, topic: str, rate: int, seconds: float) -> None:
    """A child process: ``rate`` small JSON events per second for ``seconds``."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                         "queue.buffering.max.messages": 1_000_000})  # fmt: skip
    started = time.monotonic()
    sent = 0
    tick = 0.01
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) - sent
        for _ in range(max(0, due)):
            key = f"acc-{sent % 1000}"
            body = f'{{"eventType":"MoneyDeposited","payload":{{"amount":{sent % 97}}}}}'
            while True:
                try:
                    producer.produce(topic, key=key, value=body, timestamp=int(time.time() * 1000))
                    break
                except BufferError:
                    producer.poll(0.01)
            sent += 1
        producer.poll(0)
        time.sleep(tick)
    producer.flush(60)


def start_producer(bootstrap: str, topic: str, rate: int, seconds: float) -> Any:
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=produce_at, args=(bootstrap, topic, rate, seconds))
    proc.start()
    return proc


def make_topic(bootstrap: str, partitions: int = 6) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"bench-follow-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
    time.sleep(1)
    return topic


def high_watermarks(bootstrap: str, topic: str, partitions: int) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}",
                         "enable.auto.commit": False})  # fmt: skip
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
            for p in range(partitions)
        )
    finally:
        consumer.close()


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def bench_window(bootstrap: str, rate: int, seconds: float) -> dict[str, Any]:
    from gui_helpers import pump_until
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.launch import build_window
    from app.gui.settings import Settings

    app = QApplication.instance() or QApplication([])
    topic = make_topic(bootstrap)
    args = argparse.Namespace(bootstrap=bootstrap, x_options=[], config=None, registry=None,
                              registry_auth=None, file=None, folds=[])  # fmt: skip
    settings = Settings(Path(tempfile.mkdtemp()) / "s.ini")
    window = build_window(args, settings, use_user_folds=False)
    window.show()
    pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
    window.activate_topic(topic)
    window.topics.toggle_follow(topic)
    pump_until(lambda: window.topics.follows.is_live(topic), 60)
    ended: list[str] = []  # following should not end by itself: if it does, why
    window.topics.follows.stopped.connect(lambda _t, why: ended.append(why or "stopped"))
    process = psutil.Process()
    rss_start = process.memory_info().rss
    gaps: list[float] = []
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    lags: list[int] = []
    stop = threading.Event()
    index = window.loader.dataset.indexes[topic]  # type: ignore[union-attr]

    def sample_lag() -> None:
        while not stop.wait(1.0):
            lags.append(max(0, high_watermarks(bootstrap, topic, 6) - len(index)))

    sampler = threading.Thread(target=sample_lag, daemon=True)
    producer = start_producer(bootstrap, topic, rate, seconds)
    sampler.start()
    deadline = time.monotonic() + seconds + 120
    while producer.is_alive() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)
    produced = high_watermarks(bootstrap, topic, 6)
    while len(index) < produced and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)
    stop.set()
    sampler.join(5)
    timer.stop()
    rss_end = process.memory_info().rss
    live = window.topics.follows.live.get(topic)
    worker_pid = live.pid if live is not None else None
    worker_rss = psutil.Process(worker_pid).memory_info().rss if worker_pid else 0
    shown = len(index)
    still_live = window.topics.follows.is_live(topic)
    window.topics.toggle_follow(topic)
    window.close()
    steady = lags[2:-1] or lags
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "produced": produced,
        "indexed": shown,
        "lag_events_max": max(steady) if steady else None,
        "lag_events_p95": percentile([float(x) for x in steady], 95),
        "lag_seconds_max": round(max(steady) / rate, 2) if steady else None,
        "gui_pause_max_ms": round(max(gaps) * 1000, 1) if gaps else None,
        "gui_pause_p99_ms": percentile([g * 1000 for g in gaps], 99),
        "gui_pause_p999_ms": percentile([g * 1000 for g in gaps], 99.9),
        "gui_pauses_over_50ms": sum(g > 0.05 for g in gaps),
        "gui_pauses_over_100ms": sum(g > 0.1 for g in gaps),
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_bytes_per_event": round((rss_end - rss_start) / max(1, shown)),
        "worker_rss_mb": round(worker_rss / 2**20, 1),
        "following_ended": None if still_live else (ended[-1] if ended else "?"),
    }


def bench_latency(bootstrap: str, rate: int, seconds: float) -> dict[str, Any]:
    from gui_helpers import pump_until
    from PySide6.QtWidgets import QApplication

    from app.gui.launch import build_window
    from app.gui.settings import Settings
    from app.index.topic_index import TopicIndex
    from app.sources import ClusterSource
    from kafka_io.cancel import CancelToken
    from kafka_io.profile import ConnectionProfile

    app = QApplication.instance() or QApplication([])
    topic = make_topic(bootstrap)
    # The command line's path: a follower in a thread, as events --follow runs it.
    cli_delays: list[float] = []
    cancel = CancelToken()

    def follow() -> None:
        following = ClusterSource(ConnectionProfile(bootstrap)).follow(topic, cancel)
        for batch in following:
            now = time.time() * 1000
            cli_delays.extend(now - ev.timestamp_ms for ev in batch)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    args = argparse.Namespace(bootstrap=bootstrap, x_options=[], config=None, registry=None,
                              registry_auth=None, file=None, folds=[])  # fmt: skip
    window = build_window(args, Settings(Path(tempfile.mkdtemp()) / "s.ini"),
                          use_user_folds=False)  # fmt: skip
    window.show()
    pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
    window.activate_topic(topic)
    window.topics.toggle_follow(topic)
    pump_until(lambda: window.topics.follows.is_live(topic), 60)
    table_delays: list[float] = []
    model = window.topic_view.model

    def inserted(_parent: Any, first: int, last: int) -> None:
        now = time.time() * 1000
        index = model.store
        assert isinstance(index, TopicIndex)
        table_delays.extend(
            now - index.ref(model.row_id(row)).timestamp_ms for row in range(first, last + 1)
        )

    model.rowsInserted.connect(inserted)
    time.sleep(1)
    producer = start_producer(bootstrap, topic, rate, seconds)
    while producer.is_alive():
        app.processEvents()
        time.sleep(0.002)
    end = time.monotonic() + 5
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)
    cancel.cancel()
    window.topics.toggle_follow(topic)
    window.close()
    return {
        "rate_per_s": rate,
        "table_ms_p50": percentile(table_delays, 50),
        "table_ms_p95": percentile(table_delays, 95),
        "table_events": len(table_delays),
        "follow_ms_p50": percentile(cli_delays, 50),
        "follow_ms_p95": percentile(cli_delays, 95),
        "follow_events": len(cli_delays),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--latency-rate", type=int, default=1000)
    parser.add_argument("--latency-seconds", type=float, default=20)
    opts = parser.parse_args()
    out: dict[str, Any] = {"load_average": psutil.getloadavg()}
    with kafka() as bootstrap:
        out["latency"] = bench_latency(bootstrap, opts.latency_rate, opts.latency_seconds)
        out["window"] = bench_window(bootstrap, opts.rate, opts.seconds)
    out["load_average_after"] = psutil.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
