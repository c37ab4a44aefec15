"""The checkout saga: orders (Avro), payments and shipments (JSON envelopes).

Every order is a saga with its own correlation id (``chk-...``, a header on the orders
topic).  From ``SAGA_FROM_MS`` on, the payment and shipping services write their own
topics too, and every event names the event that caused it (``causationId``)::

    orders     OrderPlaced ─┐                 ┌─ PaymentProcessed ─┐
    payments                └─ PaymentAuthorized                   │
    shipments                                   ShipmentPrepared ──┘─ ShipmentDispatched ─┐
    orders                                        OrderShipped ───────────────────────────┘
    (then ShipmentDelivered -> OrderDelivered; a cancelled order is refunded)

A few sagas go wrong, as in production, so the trace view and the health check have
something to show: one whose PaymentProcessed was lost (the shipment names a cause that
does not exist), one that stalled after the payment, one payment event delivered twice,
and one shipment that lost an append (its versions jump from 1 to 3).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from resources.demo.domains import (
    CARRIERS,
    DAY_MS,
    HOUR_MS,
    ORDER_SCHEMAS,
    PAY_METHODS,
    SKUS,
    SPAN_MS,
    START_MS,
    V2_FROM_MS,
    Draft,
    Ids,
    birth,
    confluent_avro,
    later,
    money,
    person,
    within_span,
)

# Where a saga starts and what ends it (the demo's Health panel and README use these).
SAGA_STARTS = ("OrderPlaced",)
SAGA_ENDS = ("OrderShipped", "OrderCancelled")
SAGA_FROM_MS = V2_FROM_MS  # the payment and shipping services joined with schema v2
END_MS = START_MS + SPAN_MS
WAREHOUSES = ["AMS-1", "BER-2", "LYS-1", "MAD-3"]
# Saga-era orders (counted from 0) that go wrong; the next eligible one if that one is not.
LOST_PAYMENT_STEP, STALLED, DUPLICATED_PAYMENT, LOST_SHIPMENT_APPEND = 5, 11, 17, 23


class Envelope:
    """One aggregate of a JSON service topic: ids, versions, correlation, causation."""

    def __init__(self, topic: str, aggregate: str, correlation: str) -> None:
        self.topic, self.aggregate, self.correlation = topic, aggregate, correlation
        self.ids = Ids(aggregate)

    def __call__(
        self, kind: str, at: int, cause: str | None, payload: dict[str, Any], skip: int = 0
    ) -> Draft:
        """The next event; ``skip`` versions lost before it (an append that never landed)."""
        self.ids.version += skip
        data = {
            "eventId": self.ids(),
            "eventType": kind,
            "aggregateId": self.aggregate,
            "aggregateVersion": self.ids.version,
            "correlationId": self.correlation,
            "causationId": cause,
            "payload": payload,
        }
        return Draft(self.topic, at, self.aggregate, kind, (), data, orjson.dumps(data))


@dataclass
class Faults:
    """Which saga-era order gets which fault (each once)."""

    pending: dict[str, int] = field(
        default_factory=lambda: {
            "lost_payment_step": LOST_PAYMENT_STEP,
            "stalled": STALLED,
            "duplicated_payment": DUPLICATED_PAYMENT,
            "lost_shipment_append": LOST_SHIPMENT_APPEND,
        }
    )

    def take(self, fault: str, saga_no: int, eligible: bool = True) -> bool:
        due = self.pending.get(fault)
        if due is None or saga_no < due or not eligible:
            return False
        del self.pending[fault]
        return True


def orders(rng: random.Random, count: int, saga_rng: random.Random) -> Iterator[Draft]:
    """Orders and, in the saga era, their payments and shipments.

    ``rng`` draws exactly what the orders topic always drew, so the orders stay as they
    were; everything the saga adds comes from ``saga_rng``.
    """
    faults = Faults()
    saga_no = -1
    for n in range(count):
        order = f"ORD-{200_000 + n}"
        event_id = Ids(order)
        checkout = f"chk-{300_000 + n}"  # the saga that placed the order
        ms = birth(rng)
        saga = ms >= SAGA_FROM_MS
        saga_no += saga
        payment = Envelope("payments", f"PAY-{n:07d}", checkout)
        shipment = Envelope("shipments", f"SHP-{n:07d}", checkout)

        def avro(
            schema_id: int, at: int, fields: dict[str, Any], cause: str | None = None,
            oid: str = order, ids: Ids = event_id, corr: str = checkout,
        ) -> Draft:  # fmt: skip
            record = {"eventId": ids(), "orderId": oid, **fields}
            kind = ORDER_SCHEMAS[schema_id]["name"]
            headers: tuple[tuple[str, bytes | None], ...] = (("correlationId", corr.encode()),)
            if cause is not None:
                headers += (("causationId", cause.encode()),)
            value = confluent_avro(schema_id, record)
            return Draft("orders", at, oid, kind, headers, record, value, schema_id)

        items: list[dict[str, Any]] = [
            {
                "sku": rng.choice(SKUS),
                "quantity": rng.choice([1, 1, 1, 2, 3]),
                "unitPrice": money(rng.lognormvariate(3.0, 0.8)),
            }
            for _ in range(rng.choice([1, 1, 2, 3, 4]))
        ]
        total = money(sum(i["quantity"] * i["unitPrice"] for i in items))
        placed: dict[str, Any] = {
            "customerId": f"CUST-{rng.randrange(1, 6000):05d}",
            "items": items,
            "total": total,
            "currency": "EUR",
        }
        if ms >= V2_FROM_MS:
            placed["channel"] = rng.choice(["web", "web", "mobile", "marketplace"])
            placed_ev = avro(6, ms, placed)
        else:
            placed_ev = avro(1, ms, placed)
        yield placed_ev
        placed_id = placed_ev.data["eventId"]
        if rng.random() < 0.05:
            yield avro(5, later(rng, ms, 2 * HOUR_MS), {"reason": "customer changed mind"},
                       placed_id if saga else None)  # fmt: skip
            continue
        placed_ms, ms = ms, later(rng, ms, 10 * 60_000)
        method = rng.choice(PAY_METHODS)
        authorized = None
        if saga:
            auth_ms = placed_ms + (ms - placed_ms) // 2
            body = {"orderId": order, "amount": total, "method": method}
            authorized = payment("PaymentAuthorized", auth_ms, placed_id, body)
            yield authorized
            if faults.take("duplicated_payment", saga_no):
                # The payment service's producer retried after a timeout: delivered twice.
                yield Draft(authorized.topic, authorized.timestamp_ms + 4_000, authorized.key,
                            authorized.type, (), authorized.data, authorized.value)  # fmt: skip
            if faults.take("stalled", saga_no, END_MS - ms > 3 * DAY_MS):
                continue  # the order service never heard of the payment: the saga stops
        paid = avro(2, ms, {"paymentId": f"PAY-{n:07d}", "amount": total, "method": method},
                    authorized.data["eventId"] if authorized else None)  # fmt: skip
        lost_step = saga and faults.take("lost_payment_step", saga_no, END_MS - ms > 3 * DAY_MS)
        if not lost_step:  # lost: the shipment below still names it as its cause
            yield paid
        paid_id = paid.data["eventId"]
        if rng.random() < 0.03:
            cancelled = avro(5, later(rng, ms, 6 * HOUR_MS), {"reason": "out of stock"},
                             paid_id if saga else None)  # fmt: skip
            yield cancelled
            if saga:
                refund_ms = cancelled.timestamp_ms + saga_rng.randrange(2, 90) * 1000
                yield payment("PaymentRefunded", refund_ms, cancelled.data["eventId"],
                              {"orderId": order, "amount": total})  # fmt: skip
            continue
        paid_ms, ms = ms, later(rng, ms, DAY_MS)
        if saga and not within_span(ms) and END_MS - paid_ms > 20 * HOUR_MS:
            # The warehouse catches up before the data ends: no saga older than a day
            # is left open but the one that stalled on purpose.
            ms = END_MS - saga_rng.randrange(60, 3600) * 1000
        if not within_span(ms):
            continue
        carrier = rng.choice(CARRIERS)
        tracking = f"{carrier[:2].upper()}{rng.randrange(10**9, 10**10)}"
        dispatched_id, dispatched_ms = None, ms
        if saga:
            prepared_ms = paid_ms + (ms - paid_ms) // 3
            warehouse = saga_rng.choice(WAREHOUSES)
            prepared = shipment("ShipmentPrepared", prepared_ms, paid_id,
                                {"orderId": order, "warehouse": warehouse})  # fmt: skip
            yield prepared
            skip = 1 if faults.take("lost_shipment_append", saga_no) else 0
            dispatched_ms = max(prepared_ms + 500, ms - 2000)
            dispatched = shipment("ShipmentDispatched", dispatched_ms, prepared.data["eventId"],
                                  {"orderId": order, "carrier": carrier,
                                   "trackingNumber": tracking}, skip)  # fmt: skip
            yield dispatched
            dispatched_id = dispatched.data["eventId"]
        yield avro(3, ms, {"carrier": carrier, "trackingNumber": tracking}, dispatched_id)
        ms = later(rng, ms, 2 * DAY_MS)
        if within_span(ms) and rng.random() < 0.95:
            signed = person(rng) if rng.random() < 0.7 else None
            delivered_id = None
            if saga:
                delivered_ms = max(dispatched_ms + 500, ms - 1500)
                delivered = shipment("ShipmentDelivered", delivered_ms, dispatched_id,
                                     {"orderId": order, "signedBy": signed})  # fmt: skip
                yield delivered
                delivered_id = delivered.data["eventId"]
            yield avro(4, ms, {"signedBy": signed}, delivered_id)
