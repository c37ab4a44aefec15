"""Property listing: asking price, offers and sale (topics ``property-*``, ``*listing*``).

The demo's listings are flat JSON records (``propertyId``, ``eventVersion`` plus the
fields below) with the event type in an ``eventType`` header; an envelope with a
``payload`` works the same.  Payload fields this fold reads:

* ``PropertyListed`` (version 2.0): ``address`` (``street``, ``city``), ``price``
  (``amount``, ``currency``), ``details`` (``bedrooms``, ``bathrooms``),
  ``listingAgent`` (``name``)
* ``PriceChanged``: ``newPrice`` (``oldPrice`` is not needed: the state knows it)
* ``OfferReceived``: ``offerId``, ``buyer``, ``amount``
* ``PropertySold``: ``offerId``, ``buyer``, ``price``

``PropertyListed`` 1.0 had a text ``address`` with a separate ``city``, a bare number
as ``price`` and flat ``bedrooms``, ``bathrooms`` and ``agent``.  The upcaster below
turns a 1.0 value into a 2.0 one before the fold sees it, so the fold knows one shape.

A record that could not be decoded is listed under ``undecodable`` (with its error)
instead of stopping the replay.
"""

from __future__ import annotations

from typing import Any

from app.folds import fold, note_undecodable, payload, undecodable, upcaster
from kafka_io.event import Event

# Listings before 2.0 were all in euros.
V1_CURRENCY = "EUR"


@upcaster("PropertyListed", from_version="1.0", to_version="2.0")
def property_listed_v2(data: dict[str, Any], event: Event) -> dict[str, Any]:
    """PropertyListed 1.0 -> 2.0: address, price, details and agent become objects."""
    body = dict(data)
    body["address"] = {"street": body.pop("address"), "city": body.pop("city", None)}
    body["price"] = {"amount": body["price"], "currency": V1_CURRENCY}
    body["details"] = {"bedrooms": body.pop("bedrooms"), "bathrooms": body.pop("bathrooms")}
    body["listingAgent"] = {"name": body.pop("agent")}
    return body


@fold("property-listing", topics=["property-*", "*listing*"])
def property_listing(state: Any, event: Event) -> Any:
    """Asking price, price history, offers and sale of a property."""
    state = dict(state or {"status": "unlisted", "offers": 0, "priceChanges": 0})
    if undecodable(event):
        return note_undecodable(state, event)
    body = payload(event) or {}
    kind = event.type
    if kind == "PropertyListed":
        address, price = body.get("address") or {}, body.get("price") or {}
        details = body.get("details") or {}
        state["propertyId"] = event.aggregate
        state["address"] = address.get("street")
        state["city"] = address.get("city")
        state["bedrooms"] = details.get("bedrooms")
        state["bathrooms"] = details.get("bathrooms")
        state["agent"] = (body.get("listingAgent") or {}).get("name")
        state["askingPrice"] = state["listedPrice"] = price.get("amount")
        state["currency"] = price.get("currency")
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
