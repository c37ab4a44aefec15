"""Events that carry personal data, for the masking tests: each secret is a unique
string, so "it appears nowhere" is a plain byte search of every output."""

from __future__ import annotations

import json
from pathlib import Path

from kafka_io.event import Event

TOPIC = "customers"
EMAILS = [f"zq-mail-{i}@secret.example" for i in range(3)]
CARDS = [f"4111-SECRET-{i:04d}" for i in range(3)]
USERS = [f"operator-SECRET-{i}" for i in range(3)]
SECRETS = [*EMAILS, *CARDS, *USERS]
MASKS = ["payload.card", "*.email", "header:x-user"]

FOLD_SOURCE = """
from app.folds import fold, payload


@fold("customer", topics=["customers*"])
def customer(state, event):
    state = dict(state or {})
    state.update(payload(event))   # the email and the card go into the state
    state["events"] = state.get("events", 0) + 1
    return state
"""


Record = tuple[bytes, bytes, list[tuple[str, str | bytes | None]], int]


def customer_records(n: int = 12) -> list[Record]:
    """(key, value, headers, timestamp) of ``n`` events of three customers."""
    out = []
    for i in range(n):
        c = i % 3
        kind = "CustomerRegistered" if i < 3 else "CustomerUpdated"
        value = {"eventType": kind, "aggregateId": f"C-{c}",
                 "payload": {"name": f"Customer {c}", "email": EMAILS[c], "card": CARDS[c],
                             "visits": i}}  # fmt: skip
        headers: list[tuple[str, str | bytes | None]] = [
            ("x-user", USERS[c].encode()),
            ("trace", f"t{i}".encode()),
        ]
        out.append((f"C-{c}".encode(), json.dumps(value).encode(), headers,
                    1_760_000_000_000 + i * 60_000))  # fmt: skip
    return out


def customer_events(n: int = 12) -> list[Event]:
    return [
        Event(
            TOPIC,
            0,
            i,
            ts,
            key.decode(),
            "",
            None,
            tuple((h, v.encode() if isinstance(v, str) else v) for h, v in headers),
            None,
            None,
            None,
            value,
        )
        for i, (key, value, headers, ts) in enumerate(customer_records(n))
    ]


def write_fold(folder: Path) -> Path:
    path = folder / "customer_fold.py"
    path.write_text(FOLD_SOURCE)
    return path


def leaks(blob: bytes | str) -> list[str]:
    """The secrets found in ``blob`` (none, when masking held)."""
    text = blob if isinstance(blob, str) else blob.decode("utf-8", "replace")
    return [s for s in SECRETS if s in text]
