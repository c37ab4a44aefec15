"""Upcasters: chains checked at load, applied before the fold on every replay path,
failures reported at their event, versions found by the topic's rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from app.replay.discovery import FoldLibrary, discover_folds
from app.replay.event_sources import copy_state
from app.replay.replayer import Replayer
from app.replay.upcasting import (
    UPCASTER_ATTR,
    UpcastChainError,
    UpcasterSpec,
    check_chain,
    upcaster,
    upcasting_of,
)
from kafka_io.event import Event
from kafka_io.version_rules import VersionRule, same_version, version_key

TOPIC = "property-listings"


def listed(
    offset: int, aggregate: str, body: dict[str, Any], headers: tuple = (), partition: int = 0
) -> Event:
    raw = orjson.dumps(body)
    at = 1_750_000_000_000 + offset
    return Event(TOPIC, partition, offset, at, aggregate, "PropertyListed", aggregate,
                 headers, orjson.loads(raw), None, None, raw)  # fmt: skip


V1 = {"eventVersion": "1.0", "address": "12 Main St", "city": "Bayport", "price": 450_000,
      "bedrooms": 3, "bathrooms": 2, "agent": "Ada Baker"}  # fmt: skip
V2 = {"eventVersion": "2.0", "address": {"street": "12 Main St", "city": "Bayport"},
      "price": {"amount": 450_000, "currency": "EUR"},
      "details": {"bedrooms": 3, "bathrooms": 2},
      "listingAgent": {"name": "Ada Baker"}}  # fmt: skip


def examples() -> FoldLibrary:
    return discover_folds(use_user_dir=False, use_entry_points=False)


def test_old_and_new_versions_fold_to_the_same_state_through_the_example_upcaster() -> None:
    lib = examples()
    fold = lib.registry.get("property-listing")
    upcast = lib.extras.upcasting(TOPIC)
    assert upcast is not None
    old = Replayer.from_events([listed(0, "P-1", V1)], fold, upcast=upcast).state()
    new = Replayer.from_events([listed(1, "P-1", V2)], fold, upcast=upcast).state()
    assert old["listedAt"] != new["listedAt"]  # one second apart; everything else agrees
    old.pop("listedAt"), new.pop("listedAt")
    assert old == new
    assert old["askingPrice"] == 450_000 and old["currency"] == "EUR"
    assert old["address"] == "12 Main St" and old["agent"] == "Ada Baker"
    # Without the upcaster the fold meets the 1.0 shape and says where it fails.
    bare = Replayer.from_events([listed(0, "P-1", V1)], fold).state_at()
    assert bare.failure is not None and bare.failure.event is not None
    assert bare.failure.event.offset == 0 and bare.failure.stage is None


def test_the_version_field_says_the_version_reached_and_the_chain_runs_in_order() -> None:
    calls: list[str] = []

    @upcaster("PropertyListed", from_version="1.0", to_version="2.0")
    def one(data: dict[str, Any], event: Event) -> dict[str, Any]:
        calls.append(f"1->2 {data['eventVersion']}")
        return {**data, "step": [1]}

    @upcaster("PropertyListed", from_version=2, to_version="3")
    def two(data: dict[str, Any], event: Event) -> dict[str, Any]:
        calls.append("2->3")
        data["step"].append(2)
        return data

    upcast = upcasting_of([getattr(f, UPCASTER_ATTR) for f in (one, two)], TOPIC)
    assert upcast is not None
    original = listed(0, "P-1", dict(V1))
    out = upcast.apply(original)
    assert calls == ["1->2 1.0", "2->3"]
    assert out.data["step"] == [1, 2] and out.data["eventVersion"] == "3"
    view = upcast.explain(original, copy_state)
    assert view.version == "1.0" and view.final_version == "3"
    assert view.ran == ("PropertyListed 1.0→2.0", "PropertyListed 2→3")
    assert view.original["eventVersion"] == "1.0"  # explain works on a copy
    # An event already at the end of the chain, or of another type, is left alone.
    latest = listed(1, "P-1", {**V1, "eventVersion": "3.0"})
    assert upcast.apply(latest) is latest
    other = latest._replace(type="PriceChanged")
    assert upcast.apply(other) is other


def test_a_header_rule_finds_the_version_and_the_header_is_updated() -> None:
    spec = UpcasterSpec("PropertyListed", "1", "2", lambda d, e: {**d, "v2": True})
    upcast = upcasting_of([spec], TOPIC, VersionRule.parse("header:version"))
    assert upcast is not None
    ev = listed(0, "P-1", {"x": 1}, headers=(("version", b"1"), ("trace", b"t")))
    out = upcast.apply(ev)
    assert out.data == {"x": 1, "v2": True}
    assert out.headers == (("version", b"2"), ("trace", b"t"))
    # No version header: the upcaster from "1" does not apply.
    bare = listed(1, "P-1", {"x": 1})
    assert upcast.apply(bare) is bare


def test_an_upcaster_that_raises_is_reported_at_its_event(tmp_path: Path) -> None:
    folds = tmp_path / "listing.py"
    folds.write_text(
        "from app.folds import fold, upcaster\n"
        "@upcaster('PropertyListed', from_version='1.0', to_version='2.0')\n"
        "def up(data, event):\n"
        "    return {**data, 'price': {'amount': data['cost']}}\n"
        "@fold('count', topics=['property-*'])\n"
        "def count(state, event):\n"
        "    return (state or 0) + 1\n"
    )
    lib = discover_folds([folds], use_user_dir=False, use_examples=False, use_entry_points=False)
    upcast = lib.extras.upcasting(TOPIC)
    events = [listed(0, "P-1", V2), listed(1, "P-1", V2), listed(2, "P-1", V1)]
    result = Replayer.from_events(events, lib.registry.get("count"), upcast=upcast).state_at()
    failure = result.failure
    assert failure is not None and failure.event is not None
    assert (failure.event.offset, failure.step, result.state) == (2, 2, 2)
    assert failure.stage == "upcaster PropertyListed 1.0→2.0"
    assert failure.exception == "KeyError" and failure.location == "listing.py, line 4"
    assert failure.describe().startswith(
        "upcaster PropertyListed 1.0→2.0 failed at partition 0 offset 2 (PropertyListed)"
    )


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        (
            [("1.0", "2.0"), ("3.0", "4.0")],
            "upcasters of PropertyListed do not form one chain: some stop at 2.0 while "
            "others go on to 4.0 (no upcaster from 2.0)",
        ),
        (
            [("1.0", "2.0"), ("2.0", "1")],
            "upcasters of PropertyListed go round in a cycle: 1.0 → 2.0 → 1",
        ),
        (
            [("1.0", "2.0"), ("1", "3.0")],
            "two upcasters of PropertyListed start at version 1:",
        ),
    ],
)
def test_a_broken_chain_is_refused_naming_the_versions(
    edges: list[tuple[str, str]], message: str
) -> None:
    specs = [UpcasterSpec("PropertyListed", a, b, lambda d, e: d) for a, b in edges]
    with pytest.raises(UpcastChainError) as err:
        check_chain(specs)
    assert str(err.value).startswith(message)


def test_a_broken_chain_is_refused_at_load_as_an_error_of_its_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(
        "from app.folds import upcaster\n"
        "@upcaster('PropertyListed', from_version='1.0', to_version='2.0')\n"
        "def up(data, event):\n    return data\n"
    )
    second.write_text(
        "from app.folds import upcaster\n"
        "@upcaster('PropertyListed', from_version='3.0', to_version='4.0')\n"
        "def up(data, event):\n    return data\n"
    )
    lib = discover_folds(
        [first, second], use_user_dir=False, use_examples=False, use_entry_points=False
    )
    messages = {err.message for err in lib.given_errors()}
    assert messages == {
        f"{name}: upcasters of PropertyListed do not form one chain: some stop at 2.0 "
        "while others go on to 4.0 (no upcaster from 2.0)"
        for name in ("a.py", "b.py")
    }
    with pytest.raises(UpcastChainError):
        lib.extras.upcasting(TOPIC)
    # Fixing the file clears the error on reload.
    second.write_text(second.read_text().replace("'3.0'", "'2.0'"))
    lib.reload_file(second)
    assert lib.given_errors() == []
    assert lib.extras.upcasting(TOPIC) is not None


def test_upcasters_are_scoped_to_topics_and_a_topic_without_any_costs_nothing() -> None:
    spec = UpcasterSpec("PropertyListed", "1.0", "2.0", lambda d, e: d, topics=("property-*",))
    assert upcasting_of([spec], "bank-accounts") is None
    assert upcasting_of([spec], TOPIC) is not None


def test_versions_compare_as_dotted_numbers() -> None:
    assert same_version("2", "2.0") and same_version("v2", "2.0.0")
    assert not same_version("2", "2.1")
    assert sorted(["10", "9.1", "beta", "2"], key=version_key) == ["2", "9.1", "10", "beta"]
    with pytest.raises(ValueError, match="version rule 'key'"):
        VersionRule.parse("key")


def test_the_decorator_refuses_an_upcaster_to_its_own_version() -> None:
    with pytest.raises(ValueError, match="from 1 to itself"):
        upcaster("PropertyListed", from_version="1", to_version="1.0")
