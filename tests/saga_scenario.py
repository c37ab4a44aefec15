"""A checkout saga across three topics, clean or with one anomaly of every health kind.

Described once as ``Step``s, then written as Events for the core tests or produced to the
real broker by the Kafka tests.  Every anomaly is planted with the finding it must cause
(``EXPECTED``): kind -> (topic role, aggregate), so the tests compare findings against
this description, never against what the code under test computes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from kafka_io.event import Event, Headers
from kafka_io.murmur2 import partition_for_key

DAY_MS = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
PARTITIONS = 3
ROLES = ("orders", "payments", "shipments")
SAGA_STARTS = ("OrderPlaced",)
SAGA_ENDS = ("OrderShipped", "OrderCancelled")
ORDER_TYPES = ("OrderPlaced", "PaymentProcessed", "OrderShipped")


@dataclass(frozen=True)
class Step:
    role: str  # orders | payments | shipments
    aggregate: str
    type: str
    event_id: str | None
    correlation: str | None
    causation: str | None
    version: int | None
    ts: int
    key: str | None = None  # None: the aggregate id
    partition: int | None = None  # None: murmur2 of the key, as a Java producer does
    raw: bytes | None = None  # a value that is not the event (undecodable records)

    @property
    def key_text(self) -> str:
        return self.key if self.key is not None else self.aggregate

    @property
    def home(self) -> int:
        return partition_for_key(self.key_text.encode(), PARTITIONS)

    def body(self) -> dict[str, Any]:
        """The envelope; orders carry their correlation and causation ids in headers."""
        body: dict[str, Any] = {
            "eventId": self.event_id,
            "eventType": self.type,
            "aggregateId": self.aggregate,
            "aggregateVersion": self.version,
        }
        if self.role != "orders":
            body["correlationId"] = self.correlation
            body["causationId"] = self.causation
        return body

    def headers(self) -> list[tuple[str, bytes | None]]:
        if self.role != "orders":
            return []
        found: list[tuple[str, bytes | None]] = [("eventType", self.type.encode())]
        if self.correlation is not None:
            found.append(("correlationId", self.correlation.encode()))
        if self.causation is not None:
            found.append(("causationId", self.causation.encode()))
        return found


def saga(n: int, start: int, *, tag: str = "") -> list[Step]:
    """A finished checkout: OrderPlaced -> PaymentAuthorized -> PaymentProcessed ->
    ShipmentPrepared -> ShipmentDispatched -> OrderShipped, a minute apart."""
    corr, o, p, s = f"c-{tag}{n}", f"o-{tag}{n}", f"p-{tag}{n}", f"s-{tag}{n}"
    m = 60_000
    return [
        Step("orders", o, "OrderPlaced", f"{o}.1", corr, None, 1, start),
        Step("payments", p, "PaymentAuthorized", f"{p}.1", corr, f"{o}.1", 1, start + m),
        Step("orders", o, "PaymentProcessed", f"{o}.2", corr, f"{p}.1", 2, start + 2 * m),
        Step("shipments", s, "ShipmentPrepared", f"{s}.1", corr, f"{o}.2", 1, start + 3 * m),
        Step("shipments", s, "ShipmentDispatched", f"{s}.2", corr, f"{s}.1", 2, start + 4 * m),
        Step("orders", o, "OrderShipped", f"{o}.3", corr, f"{s}.2", 3, start + 5 * m),
    ]


def clean(count: int = 8, tag: str = "") -> list[Step]:
    """``count`` finished sagas, one every six hours, and a last one still running within
    the day (not judged: a saga has a day to finish)."""
    steps = [s for n in range(count) for s in saga(n, T0 + n * DAY_MS // 4, tag=tag)]
    last = saga(count, T0 + 5 * DAY_MS, tag=tag)[:2]
    return steps + last


def _edit(steps: list[Step], role: str, type_: str, **changes: Any) -> list[Step]:
    return [replace(s, **changes) if (s.role, s.type) == (role, type_) else s for s in steps]


# kind -> (role, aggregate) of the one finding it must give (None: no aggregate known)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "version_gap": ("orders", "o-gap"),
    "version_duplicate": ("payments", "p-vdup"),
    "version_backwards": ("shipments", "s-back"),
    "duplicate_event_id": ("payments", "p-twice"),
    "split_partition": ("orders", "o-split"),
    "key_mismatch": ("shipments", "s-key"),
    "timestamp_backwards": ("payments", "p-clock"),
    "undecodable": ("payments", None),
    "unknown_schema": ("orders", None),
    "unhandled_type": ("orders", "o-note"),
    "missing_correlation": ("shipments", "s-nocorr"),
    "broken_causation": ("shipments", "s-broken"),
    "unfinished_saga": ("orders", "o-stalled"),
}


def anomalies(unknown_schema_value: bytes) -> list[Step]:
    """The clean sagas plus one planted anomaly of each kind in ``EXPECTED``."""
    steps = clean()
    day = T0 + 3 * DAY_MS
    m = 60_000
    gap = _edit(saga(0, day, tag="gap"), "orders", "OrderShipped", version=4)
    steps += [replace(s, aggregate="o-gap") if s.role == "orders" else s for s in gap]
    vdup = saga(0, day + 10 * m, tag="vdup")
    vdup = [replace(s, aggregate="p-vdup") if s.role == "payments" else s for s in vdup]
    steps += vdup
    steps.append(Step("payments", "p-vdup", "PaymentCaptured", "p-vdup.2a", "c-vdup0",
                      "o-vdup0.2", 2, day + 20 * m))  # fmt: skip
    steps.append(Step("payments", "p-vdup", "PaymentCaptured", "p-vdup.2b", "c-vdup0",
                      "o-vdup0.2", 2, day + 21 * m))  # fmt: skip
    back = saga(0, day + 30 * m, tag="back")
    steps += [replace(s, aggregate="s-back") if s.role == "shipments" else s for s in back]
    steps.append(Step("shipments", "s-back", "ShipmentDelivered", "s-back.3", "c-back0",
                      "s-back0.2", 3, day + 40 * m))  # fmt: skip
    steps.append(Step("shipments", "s-back", "ShipmentCorrected", "s-back.2b", "c-back0",
                      "s-back.3", 2, day + 41 * m))  # fmt: skip
    twice = Step("payments", "p-twice", "PaymentAuthorized", "p-twice.1", "c-twice", None, 1,
                 day + 50 * m)  # fmt: skip
    steps += [twice, replace(twice, ts=twice.ts + 5_000)]
    split = Step("orders", "o-split", "OrderPlaced", "o-split.1", "c-split", None, 1,
                 day + 60 * m)  # fmt: skip
    steps.append(split)
    steps.append(Step("orders", "o-split", "OrderShipped", "o-split.2", "c-split", "o-split.1",
                      2, day + 61 * m, partition=(split.home + 1) % PARTITIONS))  # fmt: skip
    keyed = Step("shipments", "s-key", "ShipmentPrepared", "s-key.1", "c-key", None, 1,
                  day + 70 * m)  # fmt: skip
    steps += [keyed, replace(keyed, type="ShipmentDispatched", event_id="s-key.2",
                             causation="s-key.1", version=2, ts=keyed.ts + m,
                             key="not-s-key", partition=keyed.home)]  # fmt: skip
    # The third event is stamped 7 s before the second one.
    for v, t in ((1, 0), (2, 10_000), (3, 3_000)):
        steps.append(Step("payments", "p-clock", "PaymentAuthorized", f"p-clock.{v}", "c-clock",
                          None, v, day + 80 * m + t))  # fmt: skip
    steps.append(Step("payments", "p-bad", "PaymentAuthorized", None, None, None, None,
                      day + 90 * m, raw=b'{"eventId": "p-bad.1", "aggreg'))  # fmt: skip
    steps.append(Step("orders", "o-unknown", "OrderPlaced", None, None, None, None,
                      day + 91 * m, raw=unknown_schema_value))  # fmt: skip
    note = saga(0, day + 100 * m, tag="note")
    note = [replace(s, aggregate="o-note") if s.role == "orders" else s for s in note]
    steps += note
    steps.append(Step("orders", "o-note", "OrderNoteAdded", "o-note.4", "c-note0", "o-note0.3",
                      4, day + 110 * m))  # fmt: skip
    steps.append(Step("shipments", "s-nocorr", "ShipmentPrepared", "s-nocorr.1", None, None,
                      1, day + 120 * m))  # fmt: skip
    broken = _edit(saga(0, day + 130 * m, tag="broken"), "shipments", "ShipmentPrepared",
                   causation="evt-that-was-never-written", aggregate="s-broken")  # fmt: skip
    broken = _edit(broken, "shipments", "ShipmentDispatched", aggregate="s-broken")
    steps += broken
    stalled = saga(0, day + 140 * m, tag="stalled")[:2]
    steps += [replace(s, aggregate="o-stalled") if s.role == "orders" else s for s in stalled]
    return steps


def value_of(step: Step) -> bytes:
    return step.raw if step.raw is not None else orjson.dumps(step.body())


def to_events(steps: list[Step], topics: dict[str, str]) -> list[Event]:
    """The steps as read Events (JSON values for every topic), offsets in step order."""
    next_offset: dict[tuple[str, int], int] = {}
    out = []
    for s in steps:
        topic = topics[s.role]
        partition = s.home if s.partition is None else s.partition
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        value = value_of(s)
        try:
            data: Any = orjson.loads(value)
            error = None
        except orjson.JSONDecodeError:
            data = None
            # Worded as kafka_io.decode and kafka_io.registry word them.
            error = (
                "unknown schema id 999 (not in registry)"
                if value[:1] == b"\x00"
                else "invalid JSON: unexpected end of data"
            )
        headers: Headers = tuple(s.headers())
        aggregate = s.aggregate if error is None else None
        out.append(Event(topic, partition, offset, s.ts, s.key_text, s.type if data else "unknown",
                         aggregate, headers, data, None, error, value))  # fmt: skip
    return out
