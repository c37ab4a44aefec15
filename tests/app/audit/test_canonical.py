"""The canonical record encoding, the chain and canonical JSON, as documented."""

from __future__ import annotations

import hashlib

from app.audit.canonical import (
    canonical_json,
    chain_sha256,
    event_sha256,
    record_bytes,
    state_sha256,
)
from kafka_io.event import Event


def test_record_bytes_follow_the_documented_layout() -> None:
    got = record_bytes(3, 258, 1_700_000_000_123, b"k1", None, (("h", b"v"), ("n", None)))
    want = (
        b"\x01"  # version
        + (3).to_bytes(4, "big")
        + (258).to_bytes(8, "big")
        + (1_700_000_000_123).to_bytes(8, "big")
        + (2).to_bytes(4, "big") + b"k1"
        + b"\xff\xff\xff\xff"  # null value
        + (2).to_bytes(4, "big")
        + (1).to_bytes(4, "big") + b"h" + (1).to_bytes(4, "big") + b"v"
        + (1).to_bytes(4, "big") + b"n" + b"\xff\xff\xff\xff"
    )  # fmt: skip
    assert got == want
    # An empty key is not a null key; an empty value is not a tombstone.
    assert record_bytes(0, 0, 0, b"", b"", ()) != record_bytes(0, 0, 0, None, None, ())


def test_every_part_of_a_record_changes_its_hash() -> None:
    base = Event("t", 1, 10, 1000, "acc-1", "X", "acc-1", (("a", b"1"),), None, None, None, b"{}")
    variants = [
        base._replace(partition=2),
        base._replace(offset=11),
        base._replace(timestamp_ms=1001),
        base._replace(key="acc-2"),
        base._replace(value=b"{ }"),
        base._replace(headers=(("a", b"2"),)),
        base._replace(headers=()),
    ]
    hashes = {event_sha256(v) for v in variants}
    assert len(hashes) == len(variants) and event_sha256(base) not in hashes
    # Decoded fields are not evidence: the same bytes decoded otherwise hash the same.
    assert event_sha256(base._replace(type="Y", data={"x": 1})) == event_sha256(base)


def test_the_chain_catches_removal_addition_and_reordering() -> None:
    hashes = [hashlib.sha256(bytes([i])).hexdigest() for i in range(5)]
    h = bytes(32)
    for digest in hashes:
        h = hashlib.sha256(h + bytes.fromhex(digest)).digest()
    assert chain_sha256(hashes) == h.hex()
    other = {
        chain_sha256(hashes[:2] + hashes[3:]),
        chain_sha256([*hashes, hashes[0]]),
        chain_sha256([hashes[1], hashes[0], *hashes[2:]]),
    }
    assert chain_sha256(hashes) not in other and len(other) == 3
    assert chain_sha256([]) == bytes(32).hex()


def test_canonical_json_is_sorted_and_compact() -> None:
    state = {"b": [1, 2.5, None], "a": {"z": True, "y": b"\x00"}, 3: "three"}
    assert (
        canonical_json(state)
        == b'{"3":"three","a":{"y":{"base64":"AA=="},"z":true},"b":[1,2.5,null]}'
    )
    assert state_sha256(state) == hashlib.sha256(canonical_json(state)).hexdigest()
    assert state_sha256({"a": 1, "b": 2}) == state_sha256({"b": 2, "a": 1})
