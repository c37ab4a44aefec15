"""Type and aggregate rules: parsing, defaults, explicit rules and per-topic overrides."""

from __future__ import annotations

import pytest

from kafka_io.rules import EventRules, Rule, RuleBook


@pytest.mark.parametrize(
    ("text", "kind", "name", "path"),
    [
        ("key", "key", "", ()),
        (" key ", "key", "", ()),
        ("header:ce_type", "header", "ce_type", ()),
        ("header:x:y", "header", "x:y", ()),
        ("field:eventType", "field", "eventType", ("eventType",)),
        ("field:payload.order.id", "field", "payload.order.id", ("payload", "order", "id")),
    ],
)
def test_parse_valid_rules(text: str, kind: str, name: str, path: tuple[str, ...]) -> None:
    rule = Rule.parse(text)
    assert (rule.kind, rule.name, rule.path) == (kind, name, path)
    assert Rule.parse(str(rule)) == rule


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "expected 'key'"),
        ("value", "expected 'key'"),
        ("keys", "expected 'key'"),
        ("header:", "needs a name"),
        ("field:", "needs a dotted path"),
        ("field:a..b", "needs a dotted path"),
        ("json:a", "expected 'key'"),
    ],
)
def test_parse_rejects_bad_rules_clearly(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        Rule.parse(text)


def test_bad_rule_fails_when_configured() -> None:
    with pytest.raises(ValueError, match="rule 'headers:x'"):
        EventRules(type_rule="headers:x")
    with pytest.raises(ValueError, match="rule 'feld:a'"):
        EventRules(aggregate_rule="feld:a")


HEADERS = (("ce_type", b"com.shop.Placed"), ("type", b"Generic"), ("tenant", None))


def test_default_type_prefers_headers_in_order() -> None:
    rules = EventRules()
    assert rules.type_of("k", HEADERS, {"eventType": "FromField"}) == "Generic"
    headers = (*HEADERS, ("eventType", b"Best"))
    assert rules.type_of("k", headers, {}) == "Best"
    assert rules.type_of("k", (("ce_type", b"Ce"),), {}) == "Ce"


def test_default_type_then_fields_then_record_name() -> None:
    rules = EventRules()
    assert rules.type_of(None, (), {"type": "T", "event_type": "E"}) == "E"
    assert rules.type_of(None, (), {"eventType": "A", "type": "T"}) == "A"
    assert rules.type_of(None, (), {"other": 1}, "OrderPlaced") == "OrderPlaced"
    assert rules.type_of(None, (), {"type": {"nested": 1}}, "Rec") == "Rec"
    assert rules.type_of(None, (), "plain text") is None
    assert rules.type_of(None, (("unrelated", b"x"),), None) is None


def test_default_aggregate_order() -> None:
    rules = EventRules()
    data = {"aggregateId": "from-field", "aggregate_id": "snake"}
    assert rules.aggregate_of("cust-1", (("aggregateId", b"hdr"),), data) == "cust-1"
    assert rules.aggregate_of(None, (("aggregateId", b"hdr"),), data) == "hdr"
    assert rules.aggregate_of("", (), data) == "from-field"
    assert rules.aggregate_of(None, (), {"aggregate_id": 42}) == "42"
    assert rules.aggregate_of(b"\x00\xff", (), {"x": 1}) == "00ff"
    assert rules.aggregate_of(b"\x00\xff", (), {"aggregateId": "a-1"}) == "a-1"
    assert rules.aggregate_of(None, (), None) is None


def test_explicit_rules_do_not_fall_back() -> None:
    rules = EventRules(type_rule="header:kind", aggregate_rule="field:payload.orderId")
    data = {"eventType": "Ignored", "aggregateId": "ignored", "payload": {"orderId": "o-9"}}
    assert rules.type_of("k", (("kind", b"Shipped"),), data) == "Shipped"
    assert rules.type_of("k", (), data) is None
    assert rules.aggregate_of("k", (), data) == "o-9"
    assert rules.aggregate_of("k", (), {"payload": {}}) is None


def test_key_rule_and_list_paths() -> None:
    rules = EventRules(type_rule="key", aggregate_rule="field:lines.1.sku")
    data = {"lines": [{"sku": "A"}, {"sku": "B"}]}
    assert rules.type_of("TypeInKey", (), data) == "TypeInKey"
    assert rules.type_of(b"\x01\x02", (), data) == "0102"
    assert rules.aggregate_of(None, (), data) == "B"
    assert rules.aggregate_of(None, (), {"lines": [{"sku": "A"}]}) is None
    assert rules.aggregate_of(None, (), {"lines": "notalist"}) is None


def test_header_rule_last_repeat_wins_and_null_is_absent() -> None:
    rules = EventRules(type_rule="header:t")
    assert rules.type_of(None, (("t", b"first"), ("t", b"second")), None) == "second"
    assert rules.type_of(None, (("t", b"first"), ("t", None)), None) is None
    assert rules.type_of(None, (("t", b"\xffbad"),), None) == "\ufffdbad"


def test_rulebook_exact_beats_glob_and_first_glob_wins() -> None:
    base = EventRules(aggregate_rule="header:agg")
    book = RuleBook(
        overrides={
            "orders-*": EventRules(type_rule="header:a"),
            "orders-eu*": EventRules(type_rule="header:b"),
            "orders-eu-1": EventRules(type_rule="header:exact"),
        },
        default=base,
    )
    assert book.for_topic("orders-eu-1").type_rule == "header:exact"
    assert book.for_topic("orders-eu-2").type_rule == "header:a"
    assert book.for_topic("payments") == base
    # An override inherits what it leaves unset from the book's default.
    assert book.for_topic("orders-us").aggregate_rule == "header:agg"
    assert book.for_topic("orders-us") is book.for_topic("orders-us")


def test_key_field_rules_are_event_rules_only() -> None:
    rule = Rule.parse("key:id.region", key_fields=True)
    assert (rule.kind, rule.path, str(rule)) == ("key_field", ("id", "region"), "key:id.region")
    assert Rule.parse(str(rule), key_fields=True) == rule
    with pytest.raises(ValueError, match="expected 'key', 'header"):
        Rule.parse("key:id")  # trace id rules do not decode keys
    with pytest.raises(ValueError, match=r"needs a dotted path, e\.g\. key:orderId"):
        EventRules(aggregate_rule="key:a..b")
    rules = EventRules(aggregate_rule="key:id.region")
    assert rules.reads_key_fields and not EventRules(aggregate_rule="key").reads_key_fields
    key_data = {"id": {"region": "eu"}}
    assert rules.aggregate_of("\x00raw", (), {"id": "x"}, key_data) == "eu"
    assert rules.aggregate_of("\x00raw", (), {}, None) is None
