"""The topic lock, without a cluster: what it lets through, and that it covers every
way a ClusterSource reaches a topic (a method added to ClusterSource later, about a
topic, fails here until the lock covers it)."""

from __future__ import annotations

import inspect

import pytest

from app.profiles import LockedClusterSource, TopicLock, TopicLocked
from app.sources import ClusterSource
from kafka_io.cancel import CancelToken
from kafka_io.lag import GroupOffsets, LagSample, PartitionOffsets
from kafka_io.profile import ConnectionProfile


def test_the_lock_lets_through_only_what_its_globs_match() -> None:
    lock = TopicLock(("orders.*", "refunds"), "team")
    assert lock.visible(["orders.v1", "orders", "refunds", "refunds.dlq", "users"]) == [
        "orders.v1",
        "refunds",
    ]
    with pytest.raises(TopicLocked, match=r"'users' is outside the topics profile team allows"):
        lock.check("users")
    lock.check("orders.v2")
    assert TopicLock().allows("anything")  # no patterns: not locked


def test_lag_samples_keep_only_the_locked_topics_and_their_groups() -> None:
    def part(topic: str) -> PartitionOffsets:
        return PartitionOffsets(topic, 0, 5, 9)

    sample = LagSample(
        1,
        (
            GroupOffsets("billing", "STABLE", 1, (part("orders.v1"), part("users"))),
            GroupOffsets("crm", "STABLE", 1, (part("users"),)),
        ),
        {("orders.v1", 0): 9, ("users", 0): 9},
    )
    shown = TopicLock(("orders.*",), "team").lag(sample)
    assert [(g.group, [p.topic for p in g.partitions]) for g in shown.groups] == [
        ("billing", ["orders.v1"])
    ]
    assert dict(shown.watermarks) == {("orders.v1", 0): 9}


def test_every_method_of_a_cluster_source_about_a_topic_is_locked() -> None:
    about_a_topic = {
        name
        for name, member in inspect.getmembers(ClusterSource, inspect.isfunction)
        if not name.startswith("_") and "topic" in inspect.signature(member).parameters
    }
    assert {"read", "partitions", "read_ranges"} <= about_a_topic  # the scan sees them
    overridden = {name for name in about_a_topic if name in vars(LockedClusterSource)}
    assert about_a_topic == overridden, f"not locked: {sorted(about_a_topic - overridden)}"
    # Listings are filtered too, and a clone keeps the lock.
    assert {"listing", "topic_names", "clone"} <= set(vars(LockedClusterSource))


def test_a_locked_source_refuses_other_topics_before_any_connection() -> None:
    # 127.0.0.1:1 answers nothing: a refusal here cannot have come from a broker.
    source = LockedClusterSource(
        ConnectionProfile("127.0.0.1:1", timeout_s=1), lock=TopicLock(("orders.*",), "team")
    )
    for call in (
        lambda: source.read("users"),
        lambda: source.partitions("users"),
        lambda: source.read_ranges("users", []),
        lambda: source.detection("users"),
        lambda: source.partitions_for_aggregate("users", "u1"),
        lambda: source.pruning_note("users"),
        lambda: source.follow("users", CancelToken()),
        lambda: source.clone().read("users"),
    ):
        with pytest.raises(TopicLocked):
            call()
