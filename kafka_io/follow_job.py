"""Following a topic in a worker process (``kafka_io.worker_pool``).

Decoding tens of thousands of records a second in the window's process takes the
interpreter away from the GUI thread for long stretches; in a worker process it costs
the window nothing.  The worker runs the same ``TopicFollower`` as every follow (the
read-only consumer: ``assign()``, a private group id, no commits; its own positions, so
a broker that comes back resumes where it stopped), decodes each batch in bulk straight
to columns (``kafka_io.bulk_decode``, as a build's workers do), turns it into something
compact with the converter the caller gives (the index's column batches), and sends
messages down its out pipe:

* ``("status", text)``: "reconnecting …" / "resumed";
* ``("batch", payload, positions)``: a converted batch and, per partition, the next
  offset to read once it is indexed;
* ``("end", reason)``: following ended: ``None`` when it was stopped, else why (the
  topic was deleted, the cluster could not be reached at the start).

An exception of any other kind ends it with the pool's ``("failed", traceback)``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.errors import KafkaUnavailable, TopicNotFound
from kafka_io.event_columns import EventColumns
from kafka_io.follow import TopicFollower
from kafka_io.profile import ConnectionProfile
from kafka_io.worker_pool import plain, rebuild

Send = Callable[[tuple[Any, ...]], None]
# Turns a batch of records decoded to columns into what crosses to the parent (the
# index's column batches).
ColumnsConverter = Callable[[EventColumns], Any]


@dataclass(frozen=True)
class FollowJob:
    """What a worker follows; picklable.  ``make_decoder`` and ``make_converter`` are
    called in the worker (decoders cache per thread; a converter keeps the names its
    stream has sent)."""

    profile: ConnectionProfile
    topic: str
    make_decoder: Callable[[], Decoder]
    make_converter: Callable[[], ColumnsConverter]
    start: dict[int, int] = field(default_factory=dict)
    partitions: frozenset[int] | None = None
    # Added to the worker's niceness: the window it feeds comes first on a busy machine,
    # the follow catches up in between (so the worker is not lent to a read afterwards).
    nice: int = 0

    def __reduce__(self) -> tuple[Any, ...]:
        # The profile holds read-only mappings, which pickle refuses.
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["profile"] = plain(self.profile)
        return (_job_from, (state,))

    def run(self, cancel: CancelToken, send: Send) -> None:
        """Follow until ``cancel``, sending every message (see the module's note)."""
        if self.nice:
            with contextlib.suppress(OSError, AttributeError):  # no os.nice on Windows
                os.nice(self.nice)
        follower = TopicFollower(
            self.profile, self.topic, self.make_decoder(),
            start=self.start, partitions=self.partitions,
        )  # fmt: skip
        convert = self.make_converter()
        positions = follower.state.positions
        try:
            for batch in follower.follow_columns(cancel, lambda text: send(("status", text))):
                send(("batch", convert(batch), dict(positions)))
        except (TopicNotFound, KafkaUnavailable) as exc:
            send(("end", str(exc)))
            return
        send(("end", None))


def _job_from(state: dict[str, Any]) -> FollowJob:
    state["profile"] = rebuild(state["profile"])
    return FollowJob(**state)
