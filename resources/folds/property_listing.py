"""Property listing: asking price, offers and sale (topics ``property-*``, ``*listing*``).

The demo's listings are flat JSON records (``propertyId`` plus the fields below) with
the event type in an ``eventType`` header; an envelope with a ``payload`` works the
same.  Payload fields this fold reads:

* ``PropertyListed``: ``address``, ``city``, ``price``, ``bedrooms``, ``bathrooms``,
  ``agent``
* ``PriceChanged``: ``newPrice`` (``oldPrice`` is not needed: the state knows it)
* ``OfferReceived``: ``offerId``, ``buyer``, ``amount``
* ``PropertySold``: ``offerId``, ``buyer``, ``price``

A record that could not be decoded is listed under ``undecodable`` (with its error)
instead of stopping the replay.
"""

from __future__ import annotations

from typing import Any

from app.folds import fold, note_undecodable, payload, undecodable
from kafka_io.event import Event

LISTING_FIELDS = ("address", "city", "bedrooms", "bathrooms", "agent")


@fold("property-listing", topics=["property-*", "*listing*"])
def property_listing(state: Any, event: Event) -> Any:
    """Asking price, price history, offers and sale of a property."""
    state = dict(state or {"status": "unlisted", "offers": 0, "priceChanges": 0})
    if undecodable(event):
        return note_undecodable(state, event)
    body = payload(event) or {}
    kind = event.type
    if kind == "PropertyListed":
        state["propertyId"] = event.aggregate
        state.update({f: body.get(f) for f in LISTING_FIELDS})
        state["askingPrice"] = state["listedPrice"] = body.get("price")
        state["status"] = "listed"
        state["listedAt"] = event.timestamp.isoformat()
    elif kind == "PriceChanged":
        state["askingPrice"] = body["newPrice"]
        state["priceChanges"] += 1
    elif kind == "OfferReceived":
        state["offers"] += 1
        best = state.get("highestOffer")
        if best is None or body["amount"] > best["amount"]:
            state["highestOffer"] = {
                "offerId": body.get("offerId"),
                "buyer": body.get("buyer"),
                "amount": body["amount"],
            }
        state["status"] = "under offer"
    elif kind == "PropertySold":
        state["status"] = "sold"
        state["soldPrice"] = body.get("price")
        state["buyer"] = body.get("buyer")
        state["soldOfferId"] = body.get("offerId")
        state["soldAt"] = event.timestamp.isoformat()
    return state
