"""Bank account: balance, owner and status of an account (topics ``bank-*``, ``*account*``).

Events and the payload fields this fold reads (the ``payload`` of a JSON envelope
``{eventId, eventType, aggregateId, timestamp, payload}``):

* ``AccountOpened``: ``owner``, ``currency``, ``initialDeposit`` (optional, default 0)
* ``MoneyDeposited``: ``amount``
* ``MoneyWithdrawn``: ``amount``
* ``AccountClosed``: ``reason`` (optional), ``finalBalance`` (optional, checked only)

A record that could not be decoded is listed under ``undecodable`` (with its error)
instead of stopping the replay; a tombstone (no value) changes nothing.

Amounts are money: the balance is rounded to cents after every movement, as a ledger
would, so float noise never shows up as a balance of 99.99999999.
"""

from __future__ import annotations

from typing import Any

from app.folds import fold, note_undecodable, payload, undecodable
from kafka_io.event import Event


def _cents(value: float) -> float:
    return round(value, 2)


@fold("bank-account", topics=["bank-*", "*account*"])
def bank_account(state: Any, event: Event) -> Any:
    """Balance, owner and status of a bank account."""
    state = dict(state or {"balance": 0, "status": "unknown", "transactions": 0})
    if undecodable(event):
        return note_undecodable(state, event)
    body = payload(event) or {}
    kind = event.type
    if kind == "AccountOpened":
        state.update(
            accountId=event.aggregate,
            owner=body.get("owner"),
            currency=body.get("currency"),
            balance=_cents(state["balance"] + body.get("initialDeposit", 0)),
            status="open",
            openedAt=event.timestamp.isoformat(),
        )
    elif kind == "MoneyDeposited":
        state["balance"] = _cents(state["balance"] + body["amount"])
        state["transactions"] += 1
        state["lastMovementAt"] = event.timestamp.isoformat()
    elif kind == "MoneyWithdrawn":
        state["balance"] = _cents(state["balance"] - body["amount"])
        state["transactions"] += 1
        state["lastMovementAt"] = event.timestamp.isoformat()
        if state["balance"] < 0:
            state["overdrawn"] = True
    elif kind == "AccountClosed":
        state["status"] = "closed"
        state["closedAt"] = event.timestamp.isoformat()
        if body.get("reason") is not None:
            state["closeReason"] = body["reason"]
        final = body.get("finalBalance")
        if final is not None and _cents(final) != state["balance"]:
            # The event disagrees with the history: show it rather than pick a side.
            state["finalBalanceMismatch"] = {"event": final, "replayed": state["balance"]}
    return state
