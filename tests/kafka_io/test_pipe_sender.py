"""A worker's messages sent from a thread (kafka_io.pipe_sender): all of them, in order,
with the bytes waiting bounded, and a parent that goes away reported rather than hung."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from kafka_io.decode import Decoder
from kafka_io.parallel_read import ParallelRead
from kafka_io.pipe_sender import PipeSender
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import PartitionRange

pytestmark = pytest.mark.timeout(60)


def pipe() -> tuple[multiprocessing.connection.Connection, multiprocessing.connection.Connection]:
    receive, send = multiprocessing.Pipe(duplex=False)
    return receive, send


def test_every_message_arrives_in_order_and_close_waits_for_them() -> None:
    receive, out = pipe()
    got: list[object] = []

    def slow_reader() -> None:
        while True:
            message = receive.recv()
            got.append(message)
            if message == "end":
                return
            time.sleep(0.001)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    sender = PipeSender(out, limit=256 * 1024)
    sent = [("batch", i, bytes(50_000)) for i in range(100)]
    for message in sent:
        sender.send(message)
    sender.send("end")
    sender.close()  # returns once all is written: the reader then has it all
    reader.join(10)
    assert got == [*sent, "end"]


def test_a_sender_waits_when_its_limit_is_queued_and_resumes_when_read() -> None:
    receive, out = pipe()
    sender = PipeSender(out, limit=1 << 20)
    sent = 0

    def send_all() -> None:
        nonlocal sent
        for i in range(200):  # 20 MB: far more than the limit plus the pipe's buffer
            sender.send((i, bytes(100_000)))
            sent += 1
        sender.close()

    writer = threading.Thread(target=send_all)
    writer.start()
    time.sleep(0.5)
    waiting = sent
    # The limit (1 MB: ten messages) plus what the pipe holds and the one being written.
    assert 0 < waiting < 40
    assert writer.is_alive()
    got = [receive.recv()[0] for _ in range(200)]
    writer.join(10)
    assert got == list(range(200)) and not writer.is_alive()


def test_a_message_larger_than_the_limit_still_goes() -> None:
    receive, out = pipe()
    sender = PipeSender(out, limit=1000)
    big = bytes(5_000_000)
    reader_got: list[bytes] = []
    reader = threading.Thread(target=lambda: reader_got.append(receive.recv()))
    reader.start()
    sender.send(big)
    sender.close()
    reader.join(10)
    assert reader_got == [big]


def test_a_parent_gone_away_is_raised_not_waited_for() -> None:
    receive, out = pipe()
    sender = PipeSender(out, limit=1 << 20)
    receive.close()  # the parent went away
    with pytest.raises((BrokenPipeError, OSError)):
        for _ in range(1000):  # a sender waiting for room is woken by the broken pipe
            sender.send(bytes(100_000))
    with pytest.raises((BrokenPipeError, OSError)):
        sender.close()


@pytest.mark.parametrize(("workers", "each_mb"), [(1, 64), (2, 32), (4, 16), (8, 8), (0, 64)])
def test_the_workers_of_one_read_share_what_they_may_queue(workers: int, each_mb: int) -> None:
    ranges = [PartitionRange(p, 0, 1000) for p in range(8)]
    read = ParallelRead(ConnectionProfile("localhost:1"), "t", ranges, Decoder, Converters(),
                        workers=workers)  # fmt: skip
    assert {share.job.send_limit for share in read._shares} == {each_mb << 20}


class Converters:
    def __call__(self, number: int, decoder: Decoder) -> Callable[[list[Any]], Any]:
        return len
