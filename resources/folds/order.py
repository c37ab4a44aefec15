"""Order: status, lines, payment and shipping of an order (topics ``orders``, ``*order*``).

Written in the class form: one ``on_<EventType>`` method per event type.  The demo's
orders are Avro records (the record is the whole value, no envelope); a JSON envelope
with a ``payload`` works the same.  Payload fields this fold reads:

* ``OrderPlaced``: ``customerId``, ``items`` (each ``sku``, ``quantity``,
  ``unitPrice``), ``total``, ``currency``, ``channel`` (optional, schema v2)
* ``PaymentProcessed``: ``paymentId``, ``amount``, ``method``
* ``OrderShipped``: ``carrier``, ``trackingNumber``
* ``OrderDelivered``: ``signedBy`` (optional)
* ``OrderCancelled``: ``reason``

A record that could not be decoded goes to ``on_undecodable``, which lists it under
``undecodable`` (with its error) instead of stopping the replay.
"""

from __future__ import annotations

from typing import Any

from app.folds import fold, note_undecodable, payload
from kafka_io.event import Event


@fold("order", topics=["orders", "*order*"])
class Order:
    """Status, lines, payment and shipping of an order."""

    def initial(self) -> dict[str, Any]:
        return {"status": "new", "items": [], "total": 0, "paid": 0}

    def on_undecodable(self, state: dict[str, Any], event: Event) -> dict[str, Any]:
        return note_undecodable(state, event)

    def on_OrderPlaced(self, state: dict[str, Any], event: Event) -> None:
        body = payload(event)
        state["orderId"] = event.aggregate
        state["status"] = "placed"
        state["customerId"] = body.get("customerId")
        state["items"] = [
            {"sku": i["sku"], "quantity": i["quantity"], "unitPrice": i["unitPrice"]}
            for i in body.get("items", [])
        ]
        state["total"] = body.get("total", 0)
        state["currency"] = body.get("currency")
        if body.get("channel") is not None:
            state["channel"] = body["channel"]
        state["placedAt"] = event.timestamp.isoformat()

    def on_PaymentProcessed(self, state: dict[str, Any], event: Event) -> None:
        body = payload(event)
        state["paid"] = round(state["paid"] + body["amount"], 2)
        state["payment"] = {"paymentId": body.get("paymentId"), "method": body.get("method")}
        state["status"] = "paid" if state["paid"] >= state["total"] else "partially paid"

    def on_OrderShipped(self, state: dict[str, Any], event: Event) -> None:
        body = payload(event)
        state["status"] = "shipped"
        state["shipping"] = {
            "carrier": body.get("carrier"),
            "trackingNumber": body.get("trackingNumber"),
            "shippedAt": event.timestamp.isoformat(),
        }

    def on_OrderDelivered(self, state: dict[str, Any], event: Event) -> None:
        state["status"] = "delivered"
        state["deliveredAt"] = event.timestamp.isoformat()
        signed = payload(event).get("signedBy")
        if signed is not None:
            state["signedBy"] = signed

    def on_OrderCancelled(self, state: dict[str, Any], event: Event) -> None:
        state["status"] = "cancelled"
        state["cancelReason"] = payload(event).get("reason")
        state["cancelledAt"] = event.timestamp.isoformat()
