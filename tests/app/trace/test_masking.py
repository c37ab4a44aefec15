"""Which id rules a masker hides: a masked field or any object above it, a masked header
(traceparent too), never the key; hashed marks stay equal for equal ids."""

from __future__ import annotations

from app.masking.masker import MARK, Masker
from app.masking.rules import MaskHow, MaskingRules
from app.trace.masking import mask_ids, masked_roles, rule_masked
from app.trace.rules import IdRule, ResolvedRules, Role


def masker(*fields: str, how: MaskHow = MaskHow.HIDE) -> Masker:
    return Masker(MaskingRules(fields, how))


def test_fields_and_the_objects_above_them() -> None:
    rule = IdRule.parse("field:meta.correlationId")
    assert rule_masked(masker("meta.correlationId"), rule)
    assert rule_masked(masker("meta"), rule)
    assert rule_masked(masker("*.correlationId"), rule)
    assert not rule_masked(masker("correlationId"), rule)  # a top-level field of that name
    assert not rule_masked(masker("meta.eventId"), rule)
    assert not rule_masked(Masker(), rule)


def test_headers_traceparent_and_keys() -> None:
    assert rule_masked(masker("header:X-Correlation-Id"), IdRule.parse("header:x-correlation-id"))
    assert rule_masked(masker("header:traceparent"), IdRule.parse("traceparent"))
    assert not rule_masked(masker("correlationId"), IdRule.parse("header:correlationId"))
    assert not rule_masked(masker("*", "header:*"), IdRule.parse("key"))


def test_marks_replace_only_the_masked_roles() -> None:
    rules = ResolvedRules({
        Role.EVENT_ID: IdRule.parse("field:eventId"),
        Role.CORRELATION: IdRule.parse("header:correlationId"),
        Role.CAUSATION: IdRule.parse("field:causationId"),
        Role.VERSION: None,
    })  # fmt: skip
    hide = masker("eventId", "header:correlationId")
    roles = masked_roles(hide, rules)
    assert roles == {Role.EVENT_ID, Role.CORRELATION}
    ids = {Role.EVENT_ID: "e1", Role.CORRELATION: None, Role.CAUSATION: "e0", Role.VERSION: 3}
    assert mask_ids(hide, roles, ids) == {
        Role.EVENT_ID: MARK, Role.CORRELATION: None, Role.CAUSATION: "e0", Role.VERSION: 3,
    }  # fmt: skip
    hashed = masker("eventId", how=MaskHow.HASH)
    a, b, c = (mask_ids(hashed, frozenset({Role.EVENT_ID}), {Role.EVENT_ID: v})[Role.EVENT_ID]
               for v in ("e1", "e1", "e2"))  # fmt: skip
    assert a == b != c and "e1" not in a
