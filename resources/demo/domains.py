"""The demo domains: what each aggregate's life looks like, as plain records (the orders
and their checkout saga are in ``checkout``).

Each domain yields ``Draft`` records in no particular order; ``generate`` puts them on
partitions and offsets.  Every random choice goes through the one ``random.Random``
handed in, so the same seed gives the same events, byte for byte.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fastavro
import orjson

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
START_MS = int(datetime(2025, 9, 1, 6, 0, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = 42 * DAY_MS  # six weeks of history

FIRST = ["Ada", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kira", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara",
         "Umar", "Vera", "Wen", "Yusuf", "Zoe"]  # fmt: skip
LAST = ["Andersen", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen",
        "Ivanova", "Jensen", "Kowalski", "Lopez", "Martin", "Nakamura", "Okafor", "Peters",
        "Rossi", "Schmidt", "Tanaka", "Weber"]  # fmt: skip
STREETS = ["Main St", "Oak Ave", "Maple Dr", "Harbour Rd", "Cedar Ln", "Mill St", "Park Pl",
           "Station Rd", "Elm St", "Bridge St", "Church Ln", "River Way"]  # fmt: skip
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Greenville", "Bayport"]
SKUS = [f"SKU-{n:05d}" for n in range(10_000, 10_400, 7)]
CARRIERS = ["DHL", "UPS", "FedEx", "PostNL", "DPD"]
PAY_METHODS = ["card", "card", "card", "paypal", "bank-transfer"]


@dataclass(frozen=True, slots=True)
class Draft:
    """One record before it has a partition and an offset."""

    topic: str
    timestamp_ms: int
    key: str
    type: str
    headers: tuple[tuple[str, bytes | None], ...]
    data: Any
    value: bytes | None
    schema_id: int | None = None


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def money(value: float) -> float:
    return round(value, 2)


def amount_of(rng: random.Random, value: float) -> float:
    """Most payments are whole amounts; some carry cents."""
    return money(value) if rng.random() < 0.3 else float(max(1, round(value)))


def iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def later(rng: random.Random, ms: int, mean_ms: float) -> int:
    """A timestamp after ``ms``: exponential gaps, as real activity is bursty."""
    # Whole seconds: the file stays small, and nothing here needs finer times.
    return (ms // 1000 + 1 + int(rng.expovariate(1000.0 / mean_ms))) * 1000


def birth(rng: random.Random) -> int:
    """When an aggregate starts: anywhere in the first 85% of the span."""
    return START_MS + int(rng.random() * SPAN_MS * 0.85) // 1000 * 1000


def within_span(ms: int) -> bool:
    return ms < START_MS + SPAN_MS


class Ids:
    """Event ids as aggregate id plus version ("ACC-100042.7"): unique, meaningful, and
    they deflate far better than random UUIDs, which keeps the shipped file small."""

    def __init__(self, aggregate: str) -> None:
        self.aggregate = aggregate
        self.version = 0

    def __call__(self) -> str:
        self.version += 1
        return f"{self.aggregate}.{self.version}"


# --- bank-accounts: JSON envelopes {eventId, eventType, aggregateId, timestamp, payload} -------


def bank_accounts(rng: random.Random, accounts: int) -> Iterator[Draft]:
    for n in range(accounts):
        account = f"ACC-{100_000 + n}"
        event_id = Ids(account)
        currency = "EUR" if rng.random() < 0.8 else "USD"
        ms = birth(rng)
        balance = 0.0

        def envelope(
            kind: str, at: int, payload: dict[str, Any], acc: str = account, ids: Ids = event_id
        ) -> Draft:
            data = {
                "eventId": ids(),
                "eventType": kind,
                "aggregateId": acc,
                "timestamp": iso(at),
                "payload": payload,
            }
            return Draft("bank-accounts", at, acc, kind, (), data, orjson.dumps(data))

        opening = money(rng.choice([0, 50, 100, 250, 500, 1000]))
        balance = opening
        yield envelope(
            "AccountOpened",
            ms,
            {"owner": person(rng), "currency": currency, "initialDeposit": opening},
        )
        activity = max(1, int(rng.gauss(40, 15)))
        mean_gap = SPAN_MS / (activity * 1.5)
        for _ in range(activity):
            ms = later(rng, ms, mean_gap)
            if not within_span(ms):
                break
            if balance < 20 or rng.random() < 0.55:
                amount = amount_of(rng, rng.lognormvariate(4.5, 1.0))
                balance = money(balance + amount)
                memo = rng.choice(["salary", "transfer", "refund", "cash deposit", "interest"])
                yield envelope(
                    "MoneyDeposited", ms, {"amount": amount, "currency": currency, "memo": memo}
                )
            else:
                amount = min(balance, amount_of(rng, rng.lognormvariate(3.8, 1.0)))
                balance = money(balance - amount)
                memo = rng.choice(["groceries", "rent", "atm", "utilities", "online shop"])
                yield envelope(
                    "MoneyWithdrawn", ms, {"amount": amount, "currency": currency, "memo": memo}
                )
        if rng.random() < 0.07:
            ms = later(rng, ms, 2 * DAY_MS)
            if within_span(ms):
                reason = rng.choice(["customer request", "moved abroad", "account merged"])
                yield envelope("AccountClosed", ms, {"reason": reason, "finalBalance": balance})


# --- orders: Avro in the Confluent wire format, one schema per event type ---------------------

_LINE = {
    "type": "record",
    "name": "LineItem",
    "fields": [
        {"name": "sku", "type": "string"},
        {"name": "quantity", "type": "int"},
        {"name": "unitPrice", "type": "double"},
    ],
}


def _record(name: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "namespace": "com.example.shop.orders",
        "fields": [
            {"name": "eventId", "type": "string"},
            {"name": "orderId", "type": "string"},
            *fields,
        ],
    }


_PLACED_FIELDS: list[dict[str, Any]] = [
    {"name": "customerId", "type": "string"},
    {"name": "items", "type": {"type": "array", "items": _LINE}},
    {"name": "total", "type": "double"},
    {"name": "currency", "type": "string"},
]
# Schema ids as a registry would hand them out; 6 is OrderPlaced v2, which added a
# field with a default: the compatible evolution users meet in real topics.
ORDER_SCHEMAS: dict[int, dict[str, Any]] = {
    1: _record("OrderPlaced", _PLACED_FIELDS),
    2: _record(
        "PaymentProcessed",
        [
            {"name": "paymentId", "type": "string"},
            {"name": "amount", "type": "double"},
            {"name": "method", "type": "string"},
        ],
    ),
    3: _record(
        "OrderShipped",
        [{"name": "carrier", "type": "string"}, {"name": "trackingNumber", "type": "string"}],
    ),
    4: _record("OrderDelivered", [{"name": "signedBy", "type": ["null", "string"]}]),
    5: _record("OrderCancelled", [{"name": "reason", "type": "string"}]),
    6: _record(
        "OrderPlaced", [*_PLACED_FIELDS, {"name": "channel", "type": "string", "default": "web"}]
    ),
}
_PARSED = {sid: fastavro.parse_schema(schema) for sid, schema in ORDER_SCHEMAS.items()}
V2_FROM_MS = START_MS + int(SPAN_MS * 0.6)


def confluent_avro(schema_id: int, record: dict[str, Any]) -> bytes:
    """Magic byte 0, a 4-byte big-endian schema id, then the Avro binary body."""
    buf = io.BytesIO()
    buf.write(b"\x00" + schema_id.to_bytes(4, "big"))
    fastavro.schemaless_writer(buf, _PARSED[schema_id], record)
    return buf.getvalue()


# --- property-listings: JSON, type and correlation/causation ids in headers -------------------
# Every event carries its schema version (``eventVersion``).  Listings from
# LISTING_V2_FROM_MS on are PropertyListed 2.0: the address became an object, the price
# money with a currency, the agent an object, the rooms details; the example upcaster in
# resources/folds/property_listing.py turns 1.0 into 2.0.
LISTING_V2_FROM_MS = START_MS + int(SPAN_MS * 0.55)


def property_listings(rng: random.Random, count: int) -> Iterator[Draft]:
    for n in range(count):
        prop = f"PROP-{40_000 + n}"
        event_id = Ids(prop)
        correlation = f"lst-{500_000 + n}"
        ms = birth(rng)
        previous: str | None = None

        def record(
            kind: str, at: int, body: dict[str, Any], version: str = "1.0",
            pid: str = prop, ids: Ids = event_id, corr: str = correlation,
        ) -> Draft:  # fmt: skip
            nonlocal previous
            eid = ids()
            headers: list[tuple[str, bytes | None]] = [
                ("eventType", kind.encode()),
                ("eventId", eid.encode()),
                ("correlationId", corr.encode()),
            ]
            if previous is not None:
                headers.append(("causationId", previous.encode()))
            headers.append(("contentType", b"application/json"))
            previous = eid
            data = {"propertyId": pid, "eventVersion": version, **body}
            return Draft(
                "property-listings", at, pid, kind, tuple(headers), data, orjson.dumps(data)
            )

        price = rng.randrange(150, 1200) * 1000
        # Drawn in the same order for both versions: only the shape differs.
        street = f"{rng.randrange(1, 250)} {rng.choice(STREETS)}"
        city = rng.choice(CITIES)
        bedrooms = rng.choice([1, 2, 2, 3, 3, 3, 4, 5])
        bathrooms = rng.choice([1, 1, 2, 2, 3])
        agent = person(rng)
        if ms >= LISTING_V2_FROM_MS:
            listed = {
                "address": {"street": street, "city": city},
                "price": {"amount": price, "currency": "EUR"},
                "details": {"bedrooms": bedrooms, "bathrooms": bathrooms},
                "listingAgent": {"name": agent},
            }
            yield record("PropertyListed", ms, listed, "2.0")
        else:
            yield record(
                "PropertyListed",
                ms,
                {
                    "address": street,
                    "city": city,
                    "price": price,
                    "bedrooms": bedrooms,
                    "bathrooms": bathrooms,
                    "agent": agent,
                },
            )
        offers = 0
        for _ in range(rng.randrange(1, 9)):
            ms = later(rng, ms, 3 * DAY_MS)
            if not within_span(ms):
                break
            if rng.random() < 0.35:
                new_price = int(price * rng.choice([0.95, 0.97, 0.98, 1.02]) // 1000 * 1000)
                yield record("PriceChanged", ms, {"oldPrice": price, "newPrice": new_price})
                price = new_price
            else:
                offers += 1
                amount = int(price * rng.uniform(0.88, 1.03) // 1000 * 1000)
                offer = {"offerId": f"OFR-{n:06d}-{offers}", "buyer": person(rng), "amount": amount}
                yield record("OfferReceived", ms, offer)
                sold_at = later(rng, ms, DAY_MS)
                if rng.random() < 0.3 and within_span(sold_at):
                    ms = sold_at
                    sold = {"offerId": offer["offerId"], "buyer": offer["buyer"], "price": amount}
                    yield record("PropertySold", ms, sold)
                    break
