"""Times on the command line: ISO 8601 or epoch milliseconds, one parser for every option."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.cli.common import UsageError, parse_time

# 2023-11-14T22:13:20Z, worked out by hand: 19675 days * 86400 s + 22:13:20.
T = (19675 * 86400 + 22 * 3600 + 13 * 60 + 20) * 1000


def test_iso_8601_with_and_without_a_zone() -> None:
    assert parse_time("2023-11-14T22:13:20Z") == T
    assert parse_time("2023-11-14T22:13:20") == T  # no zone: UTC
    assert parse_time("2023-11-14T23:13:20+01:00") == T
    assert parse_time("2023-11-14") == T - (22 * 3600 + 13 * 60 + 20) * 1000
    assert parse_time(None) is None


def test_milliseconds_are_kept_and_finer_parts_floored() -> None:
    for ms in (1, 7, 123, 999):
        assert parse_time(f"2023-11-14T22:13:20.{ms:03d}Z") == T + ms
    assert parse_time("2023-11-14T22:13:20.9999Z") == T + 999  # sub-ms: floored


def test_epoch_milliseconds() -> None:
    assert parse_time(str(T)) == T
    assert parse_time(f" {T} ") == T
    assert parse_time("100000000000") == 100_000_000_000  # 1973-03-03: the smallest taken
    expected = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert parse_time(str(int(expected.timestamp() * 1000))) == T


@pytest.mark.parametrize(
    "text, says",
    [
        ("1700000000", "epoch milliseconds"),  # seconds by mistake: not silently 1970
        ("20231114", "epoch milliseconds"),  # a compact date, or seconds? neither is taken
        ("99999999999", "epoch milliseconds"),
        ("1969-12-31T23:59:59Z", "before 1970"),
        ("-5", "not a time"),
        ("yesterday", "not a time"),
        ("2023-13-01", "not a time"),
        ("", "not a time"),
    ],
)
def test_bad_times_are_usage_errors(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_time(text)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
