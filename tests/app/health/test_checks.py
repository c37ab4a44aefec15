"""Each health check at its edges: tolerances, thresholds, keys, error wording, folds,
windows, severities; and the running maximum the version check is built on."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import orjson
import pytest

from app.health.check import check_health
from app.health.config import HealthConfig, parse_duration, parse_severity, parse_types
from app.health.context import previous_max
from app.health.findings import Kind, Severity
from app.index.topic_index import TopicIndex
from app.replay.folds import FoldRegistry, FoldSpec, fold
from kafka_io.event import Event

T = 1_700_000_000_000


def env(offset: int, ts: int, agg: str | None, *, key: Any = "same", partition: int = 0,
        etype: str = "E", error: str | None = None, **ids: Any) -> Event:  # fmt: skip
    data = {"eventType": etype, "aggregateId": agg, **ids}
    value = orjson.dumps(data)
    return Event("t", partition, offset, ts, agg if key == "same" else key, etype, agg, (),
                 None if error else data, None, error, value)  # fmt: skip


def kinds(events: list[Event], config: HealthConfig | None = None, **kw: Any) -> list[Kind]:
    index = TopicIndex("t")
    index.append(events)
    return [f.kind for f in check_health({"t": index}, config, **kw).findings]


def test_previous_max_matches_the_obvious_loop() -> None:
    rng = random.Random(3)
    for spread in (10, 2**61):  # the second forces one accumulate per group
        values = np.array([rng.randrange(spread) for _ in range(300)], np.int64)
        first = np.array([i == 0 or rng.random() < 0.1 for i in range(300)])
        expected, best = [], 0
        for v, f in zip(values.tolist(), first.tolist(), strict=True):
            best = v if f else best
            expected.append(best)
            best = max(best, v)
        assert previous_max(values, first).tolist() == expected


def test_versions_gaps_repeats_and_going_back() -> None:
    def run(*versions: int) -> list[Kind]:
        events = [env(i, T + i, "a", eventId=f"e{i}", aggregateVersion=v)
                  for i, v in enumerate(versions)]  # fmt: skip
        return kinds(events)

    assert run(1, 2, 3, 4) == []
    assert run(1, 2, 5, 6) == [Kind.VERSION_GAP]
    assert run(1, 2, 2, 3) == [Kind.VERSION_DUPLICATE]
    assert run(1, 2, 3, 2, 4) == [Kind.VERSION_BACKWARDS]  # one finding, not two
    assert run(5, 6, 7) == []  # the start may have been deleted by retention


def test_a_gap_says_which_versions_are_missing() -> None:
    events = [env(0, T, "a", aggregateVersion=1), env(1, T + 1, "a", aggregateVersion=5)]
    index = TopicIndex("t")
    index.append(events)
    (finding,) = check_health({"t": index}).findings
    assert "versions 2 to 4 are missing (3)" in finding.detail


def test_a_redelivered_event_is_a_duplicate_only() -> None:
    events = [
        env(0, T, "a", eventId="e1", aggregateVersion=1),
        env(1, T + 10, "a", eventId="e2", aggregateVersion=2),
        env(2, T + 20, "a", eventId="e1", aggregateVersion=1),  # e1 again, later
    ]
    assert kinds(events) == [Kind.DUPLICATE_EVENT_ID]


def test_clock_tolerance_is_inclusive_and_configurable() -> None:
    def run(back_ms: int, tolerance: str = "1s") -> list[Kind]:
        events = [env(0, T + 5_000, "a"), env(1, T + 5_000 - back_ms, "a")]
        return kinds(events, HealthConfig(clock_tolerance_ms=parse_duration(tolerance)))

    assert run(1_000) == [] and run(1_001) == [Kind.TIMESTAMP_BACKWARDS]
    assert run(4_000, "5s") == [] and run(10, "0ms") == [Kind.TIMESTAMP_BACKWARDS]


def test_split_partitions_once_per_aggregate() -> None:
    events = [env(0, T, "a"), env(0, T + 1, "a", partition=1), env(1, T + 2, "a", partition=1),
              env(1, T + 3, "b"), env(2, T + 4, "b")]  # fmt: skip
    assert kinds(events) == [Kind.SPLIT_PARTITION]


def test_keys_that_are_not_the_aggregate() -> None:
    same_hex = env(0, T, "ff01", key=b"\xff\x01")  # a binary key reads as its hex
    no_key = env(1, T + 1, "b", key=None)
    other = env(2, T + 2, "c", key="x")
    other_again = env(3, T + 3, "c", key="x")
    assert kinds([same_hex, no_key]) == []
    assert kinds([same_hex, no_key, other, other_again]) == [Kind.KEY_MISMATCH]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("unknown schema id 999 (not in the event file)", Kind.UNKNOWN_SCHEMA),
        ("Confluent wire format with schema id 7, but no schema registry configured",
         Kind.UNKNOWN_SCHEMA),
        ("schema registry unreachable for schema id 3: timed out", Kind.UNKNOWN_SCHEMA),
        ("Avro decode failed for schema id 2: record is truncated", Kind.UNDECODABLE),
        ("invalid JSON: unexpected end of data at byte 92", Kind.UNDECODABLE),
    ],
)  # fmt: skip
def test_records_that_do_not_decode(error: str, kind: Kind) -> None:
    assert kinds([env(0, T, None, error=error)]) == [kind]


def test_missing_correlation_only_where_most_have_one() -> None:
    def run(with_id: int, without: int, share: float = 0.9) -> int:
        events = [env(i, T + i, f"a{i}", correlationId="c") for i in range(with_id)]
        events += [env(with_id + i, T + 99 + i, f"b{i}") for i in range(without)]
        found = kinds(events, HealthConfig(correlation_share=share))
        return found.count(Kind.MISSING_CORRELATION)

    assert run(9, 1) == 1  # 90%
    assert run(8, 2) == 0  # 80%: a topic where ids are optional
    assert run(8, 2, share=0.8) == 2
    assert run(10, 0) == 0


def test_unhandled_types_only_for_class_folds_of_the_topic() -> None:
    events = [env(0, T, "a", etype="com.shop.Placed"), env(1, T + 1, "a", etype="Noted")]

    @fold("cls", topics=["t"])
    class Handles:
        def on_Placed(self, state: Any, event: Event) -> Any:  # dotted names: last part
            return state

    @fold("catch-all", topics=["t"])
    class CatchAll:
        def on_event(self, state: Any, event: Event) -> Any:
            return state

    def registry(*folds: Any) -> FoldRegistry:
        found = FoldRegistry.with_builtins()
        for f in folds:
            found.register(f)
        return found

    assert kinds(events, registry=registry(Handles)) == [Kind.UNHANDLED_TYPE]
    assert kinds(events, registry=registry(Handles, CatchAll)) == []
    plain = FoldSpec("plain", ("t",), lambda state, event: state)
    assert kinds(events, registry=registry(Handles, plain)) == []
    assert kinds(events, registry=registry()) == []  # only built-ins: nothing to judge


def test_unfinished_sagas_judged_by_window_start_types_and_clock() -> None:
    events = [
        env(0, T, "o1", etype="Placed", correlationId="s1"),
        env(1, T + 10, "o1", etype="Paid", correlationId="s1"),
        env(2, T + 20, "o2", etype="Placed", correlationId="s2"),
        env(3, T + 30, "o2", etype="Shipped", correlationId="s2"),
        env(4, T + 40, "o3", etype="Other", correlationId="s3"),
    ]
    ends = parse_types("Shipped|Cancelled")

    def run(**kw: Any) -> list[Kind]:
        return kinds(events, HealthConfig(saga_ends=ends, **kw))

    # By the data's clock (the last event, T + 40) s1 is 40 ms old and s3 just started.
    assert run(saga_window_ms=39) == [Kind.UNFINISHED_SAGA]
    assert run(saga_window_ms=40) == []  # a saga must be older than the window
    assert run(saga_window_ms=1_000, now_ms=T + 2_000) == [Kind.UNFINISHED_SAGA] * 2  # s1, s3
    only_placed = frozenset({"Placed"})
    assert run(saga_window_ms=1_000, now_ms=T + 2_000, saga_starts=only_placed) == [
        Kind.UNFINISHED_SAGA
    ]


def test_severities_and_skips_change_the_exit_code() -> None:
    index = TopicIndex("t")
    index.append([env(0, T, "a"), env(1, T - 5_000, "a")])
    default = check_health({"t": index})
    assert [f.severity for f in default.findings] == [Severity.WARNING]
    assert default.exit_code == 1
    relaxed = HealthConfig().with_severities(dict([parse_severity("timestamp_backwards=info")]))
    assert check_health({"t": index}, relaxed).exit_code == 0
    skipped = check_health({"t": index}, HealthConfig(skip=frozenset({Kind.TIMESTAMP_BACKWARDS})))
    assert skipped.findings == []


def test_config_parsing_says_what_is_wrong() -> None:
    assert [parse_duration(t) for t in ("500ms", "2", "1.5s", "15min", "24h", "2d")] == [
        500, 2_000, 1_500, 900_000, 86_400_000, 172_800_000,
    ]  # fmt: skip
    assert parse_duration("36", "h") == 36 * 3_600_000
    assert parse_types(["A|B", "C, D"]) == {"A", "B", "C", "D"}
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    with pytest.raises(ValueError, match="KIND=info"):
        parse_severity("gap=loud")
    with pytest.raises(ValueError, match="correlation share"):
        HealthConfig(correlation_share=1.5)
