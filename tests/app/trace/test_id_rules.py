"""Id rules: parsing, W3C traceparent, detection from a sample, and what is said when
nothing matches."""

from __future__ import annotations

import pytest

from app.trace.rules import (
    IdRule,
    IdRuleBook,
    IdRules,
    Role,
    as_id,
    as_version,
    resolve,
    trace_id,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_rules_parse_like_the_type_rules_plus_traceparent() -> None:
    assert IdRule.parse("field:metadata.correlationId").path == ("metadata", "correlationId")
    assert IdRule.parse("header:x-correlation-id").kind == "header"
    assert IdRule.parse("key").kind == "key"
    assert IdRule.parse("traceparent").name == "traceparent"
    assert IdRule.parse("traceparent:TraceParent").name == "TraceParent"
    with pytest.raises(ValueError, match="traceparent"):
        IdRule.parse("payload.id")
    with pytest.raises(ValueError):
        IdRules(correlation="field:")  # a bad rule fails where it is given


def test_getters_read_fields_headers_keys_and_traceparent() -> None:
    data = {"eventId": "e1", "metadata": {"correlationId": "c1"}}
    headers = (("traceparent", TRACEPARENT.encode()), ("causationId", b"e0"))
    read = {
        text: IdRule.parse(text).getter()(data, headers, "k1")
        for text in ("field:eventId", "field:metadata.correlationId", "header:causationId",
                     "traceparent", "key", "field:nothing")
    }  # fmt: skip
    assert read == {
        "field:eventId": "e1",
        "field:metadata.correlationId": "c1",
        "header:causationId": "e0",
        "traceparent": "4bf92f3577b34da6a3ce929d0e0e4736",
        "key": "k1",
        "field:nothing": None,
    }


def test_trace_id_accepts_only_w3c_traceparents() -> None:
    assert trace_id(TRACEPARENT) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id(TRACEPARENT.upper()) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None  # all-zero: invalid
    assert trace_id("not-a-traceparent") is None
    assert trace_id(None) is None


def test_ids_and_versions_as_values() -> None:
    assert as_id("a") == "a" and as_id(42) == "42"
    assert as_id("") is None and as_id({"id": 1}) is None and as_id(True) is None
    assert as_id(1.5) is None
    assert as_version(3) == 3 and as_version("7") == 7 and as_version(b"8") == 8
    assert as_version(4.0) == 4 and as_version(4.5) is None
    assert as_version(True) is None and as_version("v1") is None and as_version(2**70) is None


def test_detection_takes_the_name_found_in_most_records() -> None:
    samples = [
        ({"eventId": f"e{i}", "id": "x", "meta": {"causationId": f"e{i - 1}"}},
         (("X-Correlation-ID", b"c"),), None)
        for i in range(10)
    ]  # fmt: skip
    samples[0][0]["correlationId"] = "only-here"  # one record is not most records
    resolved = resolve(IdRules(), samples)
    assert str(resolved.rule(Role.EVENT_ID)) == "field:eventId"  # before "id" on a tie
    assert str(resolved.rule(Role.CORRELATION)) == "header:X-Correlation-ID"  # its own case
    assert str(resolved.rule(Role.CAUSATION)) == "field:meta.causationId"
    assert resolved.rule(Role.VERSION) is None
    assert resolved.describe(Role.EVENT_ID) == "field:eventId (detected)"
    said = resolved.describe(Role.VERSION)
    assert "none found in 10 records" in said and "aggregateVersion" in said


def test_traceparent_is_a_correlation_id_when_nothing_else_is() -> None:
    samples = [({"eventId": "e"}, (("traceparent", TRACEPARENT.encode()),), None)] * 3
    resolved = resolve(IdRules(), samples)
    assert str(resolved.rule(Role.CORRELATION)) == "traceparent:traceparent"


def test_given_rules_are_taken_literally_and_none_switches_a_role_off() -> None:
    samples = [({"eventId": "e", "aggregateVersion": 1}, (), None)]
    resolved = resolve(IdRules(event_id="header:id", version="none"), samples)
    assert str(resolved.rule(Role.EVENT_ID)) == "header:id"
    assert Role.EVENT_ID not in resolved.detected
    assert resolved.rule(Role.VERSION) is None
    assert resolved.describe(Role.VERSION) == "none (switched off)"


def test_rule_book_per_topic_over_a_default() -> None:
    book = IdRuleBook(IdRules(correlation="header:corr"), {"pay-*": IdRules(event_id="key")})
    assert book.for_topic("pay-1") == IdRules(event_id="key", correlation="header:corr")
    assert book.for_topic("orders") == IdRules(correlation="header:corr")
