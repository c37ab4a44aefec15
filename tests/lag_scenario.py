"""A simulated history of five consumer groups, each ending in a different status.

Shared by the lag chart tests and the README screenshot script.
"""

from __future__ import annotations

import numpy as np

from app.lag.history import LagHistory
from kafka_io.lag import GroupOffsets, LagSample, PartitionOffsets

START_MS = 1_700_000_000_000
STEP_S = 5


def scenario(samples: int = 120) -> LagHistory:
    """Ten minutes of five groups, each ending in a different state."""
    history = LagHistory(capacity=720, window_s=60)
    rng = np.random.default_rng(5)
    orders = np.zeros(6)
    payments = np.zeros(3)
    notes = np.zeros(3)
    c = {"orders-projector": np.zeros(6), "search-indexer": np.zeros(6), "audit-log": np.zeros(6)}
    c["billing"], c["email-sender"] = np.zeros(3), np.zeros(3)
    for i in range(samples):
        t = i * STEP_S
        orders += rng.poisson(20 * STEP_S, 6)
        payments += rng.poisson(17 * STEP_S, 3)
        notes += rng.poisson(8 * STEP_S, 3)
        c["orders-projector"] = orders - rng.integers(0, 40, 6)
        c["billing"] = np.minimum(c["billing"] + 12 * STEP_S, payments)
        if t < 360:  # email-sender leaves the group at minute 6
            c["email-sender"] = notes - rng.integers(0, 10, 3)
        if t < 420:  # search-indexer hangs at minute 7, still a member
            c["search-indexer"] = orders - rng.integers(0, 30, 6)
        if t == 570:  # audit-log is reset to an older offset
            c["audit-log"] = c["audit-log"] - 4000
        else:
            c["audit-log"] = np.maximum(np.minimum(c["audit-log"] + 150 * STEP_S, orders), 0)
        topics = {
            "orders-projector": ("orders", 3),
            "search-indexer": ("orders", 1),
            "audit-log": ("orders", 2),
            "billing": ("payments", 4),
            "email-sender": ("notifications", 0 if t >= 360 else 2),
        }
        heads = {"orders": orders, "payments": payments, "notifications": notes}
        groups = []
        for name, (topic, members) in topics.items():
            parts = tuple(
                PartitionOffsets(topic, p, int(max(c[name][p], 0)), int(heads[topic][p]))
                for p in range(len(heads[topic]))
            )
            groups.append(GroupOffsets(name, "STABLE" if members else "EMPTY", members, parts))
        watermarks = {(tp, p): int(h[p]) for tp, h in heads.items() for p in range(len(h))}
        history.add(LagSample(START_MS + t * 1000, tuple(groups), watermarks))
    return history
