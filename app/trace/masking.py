"""Masked ids: an id read from a masked field or header is shown as the masker's mark.

Traces and health checks still match on the real ids (a hash of the value, never shown),
as folds run on real values; only the text a person or a program reads is masked.  With
hashed marks equal ids keep equal marks, so a trace stays readable.  Ids read from the
key are never masked: the masker keeps keys, aggregates and positions.
"""

from __future__ import annotations

from typing import Any

from app.masking.masker import Masker
from app.trace.rules import IdRule, ResolvedRules, Role


def rule_masked(masker: Masker, rule: IdRule | None) -> bool:
    """Whether ``masker`` hides the values ``rule`` reads."""
    if rule is None or not masker.active:
        return False
    if rule.kind in ("header", "traceparent"):
        return masker.rules.masks_header(rule.name)
    if rule.kind == "field":
        # A masked object hides everything under it: payload masks payload.orderId.
        return any(
            masker.rules.masks_field(".".join(rule.path[: i + 1])) for i in range(len(rule.path))
        )
    return False


def masked_roles(masker: Masker, rules: ResolvedRules) -> frozenset[Role]:
    return frozenset(role for role, rule in rules.rules.items() if rule_masked(masker, rule))


def mask_ids(masker: Masker, roles: frozenset[Role], ids: dict[Role, Any]) -> dict[Role, Any]:
    """``ids`` with the values of ``roles`` marked (None stays None: there was no id)."""
    if not roles:
        return ids
    return {r: masker.mark(v) if r in roles and v is not None else v for r, v in ids.items()}


def mask_value(masker: Masker, masked: bool, value: Any) -> Any:
    """One value (a version, a correlation id) as it may be shown."""
    return masker.mark(value) if masked and value is not None else value
