"""The masker on its own: which paths are masked in values, headers and states, the
hashed mark, and what an event becomes."""

from __future__ import annotations

from pathlib import Path

import orjson
from masking_data import CARDS, EMAILS, MASKS, USERS, customer_events, leaks

from app.masking.masker import MARK, UNDECODED, Masker
from app.masking.rules import MaskHow, MaskingRules
from app.sources import FileSource
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file


def decoded(tmp_path: Path) -> list[Event]:
    path = tmp_path / "c.avro"
    write_event_file(path, customer_events())
    source = FileSource(path)
    return [ev for batch in source.read("customers") for ev in batch]


def test_values_headers_and_raw_bytes_of_an_event_are_masked(tmp_path: Path) -> None:
    masker = Masker(MaskingRules(tuple(MASKS)))
    for ev in decoded(tmp_path):
        masked = masker.event(ev)
        assert leaks(repr(ev)) and not leaks(repr(masked))
        payload = masked.data["payload"]
        assert payload["email"] == payload["card"] == MARK
        assert payload["name"] == ev.data["payload"]["name"]  # the rest as it was
        assert masked.value is not None and orjson.loads(masked.value) == masked.data
        assert dict(masked.headers)["x-user"] == MARK.encode()
        assert dict(masked.headers)["trace"] == dict(ev.headers)["trace"]
        assert (masked.key, masked.type, masked.offset) == (ev.key, ev.type, ev.offset)


def test_a_state_is_masked_by_path_and_by_the_rules_last_name() -> None:
    masker = Masker(MaskingRules(("payload.card", "*.email")))
    state = {"email": EMAILS[0], "card": CARDS[0], "nested": {"email": EMAILS[1]},
             "list": [{"card": CARDS[1]}], "name": "n"}  # fmt: skip
    masked = masker.state(state)
    assert not leaks(orjson.dumps(masked)) and masked["name"] == "n"
    assert masked["list"] == [{"card": MARK}]


def test_hashed_marks_are_stable_per_key_and_tell_values_apart() -> None:
    rules = MaskingRules(("*.email",), MaskHow.HASH)
    a, b = Masker(rules, b"k" * 32), Masker(rules, b"k" * 32)
    other = Masker(rules, b"x" * 32)
    first = a.data({"p": {"email": EMAILS[0]}})["p"]["email"]
    assert first == b.data({"p": {"email": EMAILS[0]}})["p"]["email"]
    assert first != a.data({"p": {"email": EMAILS[1]}})["p"]["email"]
    assert first != other.data({"p": {"email": EMAILS[0]}})["p"]["email"]
    assert first.startswith("[masked:") and EMAILS[0] not in first


def test_an_undecodable_record_keeps_its_error_not_its_bytes() -> None:
    raw = b"email=" + USERS[0].encode()
    ev = customer_events(1)[0]._replace(data=None, error="not JSON", value=raw)
    masked = Masker(MaskingRules(("*.email",))).event(ev)
    assert masked.value == UNDECODED and masked.error == "not JSON"


def test_revealed_or_empty_rules_change_nothing() -> None:
    ev = customer_events(1)[0]
    assert Masker().event(ev) is ev
    revealed = Masker(MaskingRules(("*.email",), allow_unmask=True), unmasked=True)
    assert revealed.event(ev) is ev and not revealed.active
    assert "revealed" in revealed.describe()
