"""``state`` applies the upcasters: a real topic holding PropertyListed 1.0 and 2.0."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka_helpers import Rec, produce

from app.cli.main import main

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000

V1 = {"eventVersion": "1.0", "address": "7 Elm St", "city": "Lakeside", "price": 310_000,
      "bedrooms": 2, "bathrooms": 1, "agent": "Kira Hansen"}  # fmt: skip
V2 = {"eventVersion": "2.0", "address": {"street": "7 Elm St", "city": "Lakeside"},
      "price": {"amount": 310_000, "currency": "EUR"},
      "details": {"bedrooms": 2, "bathrooms": 1},
      "listingAgent": {"name": "Kira Hansen"}}  # fmt: skip


def _record(prop: str, kind: str, body: dict, at: int, version_header: str | None = None) -> Rec:
    headers: list[tuple[str, bytes | None]] = [("eventType", kind.encode())]
    if version_header is not None:
        headers.append(("schema-version", version_header.encode()))
    data = {"propertyId": prop, **body}
    return Rec(json.dumps(data).encode(), prop.encode(), timestamp_ms=at, headers=headers)


@pytest.fixture
def listings(kafka_bootstrap: str, make_topic: Callable[..., str]) -> str:
    topic = make_topic(2, prefix="property-listings")
    records = []
    pairs: list[tuple[str, dict[str, Any]]] = [("PROP-old", V1), ("PROP-new", V2)]
    for n, (prop, body) in enumerate(pairs):
        records.append(_record(prop, "PropertyListed", body, T0 + n))
        change = {"eventVersion": "1.0", "oldPrice": 310_000, "newPrice": 299_000}
        records.append(_record(prop, "PriceChanged", change, T0 + 10 + n))
    produce(kafka_bootstrap, topic, records)
    return topic


def _state(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["state", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_old_and_new_versions_fold_to_the_same_state(
    kafka_bootstrap: str, listings: str, capsys: pytest.CaptureFixture[str]
) -> None:
    states = {}
    for prop in ("PROP-old", "PROP-new"):
        code, doc = _state(capsys, "-b", kafka_bootstrap, "-t", listings, "-a", prop)
        assert code == 0, doc
        assert doc["fold"] == "property-listing" and doc["events_applied"] == 2
        state = doc["state"]
        state.pop("listedAt"), state.pop("propertyId")
        states[prop] = state
    assert states["PROP-old"] == states["PROP-new"]
    assert states["PROP-old"]["askingPrice"] == 299_000
    assert states["PROP-old"]["currency"] == "EUR" and states["PROP-old"]["bedrooms"] == 2


def test_a_version_rule_decides_which_events_are_old(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = make_topic(1, prefix="property-listings")
    body = {"n": 1}
    produce(
        kafka_bootstrap,
        topic,
        [
            _record("P-1", "Noted", body, T0, version_header="1"),
            _record("P-1", "Noted", body, T0 + 1, version_header="2"),
        ],
    )
    folds = tmp_path / "noted.py"
    folds.write_text(
        "from app.folds import fold, upcaster\n"
        "@upcaster('Noted', from_version=1, to_version=2)\n"
        "def double(data, event):\n"
        "    return {**data, 'n': data['n'] * 2}\n"
        "@fold('sum', topics=['property-*'])\n"
        "def total(state, event):\n"
        "    return (state or 0) + event.data['n']\n"
    )
    common = ["-b", kafka_bootstrap, "-t", topic, "-a", "P-1", "--folds", str(folds)]
    code, doc = _state(capsys, *common, "--version-rule", "header:schema-version")
    assert (code, doc["state"]) == (0, 3)  # the first event upcast: 2 + 1
    code, doc = _state(capsys, *common)  # default rule: no version found, nothing upcast
    assert (code, doc["state"]) == (0, 2)
    code = main(["state", *common, "--version-rule", "nope"])
    err = capsys.readouterr().err
    assert code == 2 and "version rule 'nope'" in err


def test_a_broken_chain_stops_the_command_naming_the_versions(
    kafka_bootstrap: str, listings: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folds = tmp_path / "broken.py"
    folds.write_text(
        "from app.folds import upcaster\n"
        "@upcaster('PropertyListed', from_version='3.0', to_version='4.0')\n"
        "def up(data, event):\n    return data\n"
    )
    code = main(["state", "-b", kafka_bootstrap, "-t", listings, "-a", "PROP-old",
                 "--folds", str(folds), "--fold", "property-listing"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "broken.py: upcasters of PropertyListed do not form one chain" in err
    assert "some stop at 2.0 while others go on to 4.0 (no upcaster from 2.0)" in err


def test_versions_lists_each_type_and_version_with_counts_and_offsets(
    kafka_bootstrap: str, make_topic: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    topic = make_topic(1, prefix="property-listings")
    price: dict[str, Any] = {"eventVersion": "1.0", "newPrice": 1}
    plan: list[tuple[str, dict[str, Any]]] = [
        ("PropertyListed", V1), ("PropertyListed", V1), ("PropertyListed", V2),
        ("PriceChanged", price), ("PropertyListed", V1), ("Noted", {"n": 1}),
    ]  # fmt: skip
    records = [_record(f"P-{i}", kind, body, T0 + i) for i, (kind, body) in enumerate(plan)]
    produce(kafka_bootstrap, topic, records)
    expected: dict[tuple[str, str | None], list[int]] = {}
    for offset, (kind, body) in enumerate(plan):
        expected.setdefault((kind, body.get("eventVersion")), []).append(offset)
    code = main(["versions", "-b", kafka_bootstrap, "-t", topic, "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    got = {(r["type"], r["version"]): (r["count"], r["first"]["offset"], r["last"]["offset"])
           for r in rows}  # fmt: skip
    assert got == {k: (len(v), v[0], v[-1]) for k, v in expected.items()}
    code = main(["versions", "-b", kafka_bootstrap, "-t", topic])
    text = capsys.readouterr().out
    assert code == 0 and "PropertyListed  1.0" in text and "(none)" in text
