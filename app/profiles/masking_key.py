"""The masker of a profile: its rules, and for hashed masking this installation's key.

The key of the keyed hash is made once per profile and kept in the OS keyring
(``<profile>/masking.key``), so the same value masks to the same mark in every session
and on no other machine.  Without a usable keyring the key lives for this run only, and
the caller is told so.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace

from app.masking.masker import Masker
from app.masking.rules import MaskHow, MaskingRules
from app.profiles.credentials import Credentials
from app.profiles.model import Profile
from kafka_io.properties import ProfileError

KEY_NAME = "masking.key"


def masker_for(
    profile: Profile | None,
    extra_fields: Sequence[str] = (),
    credentials: Credentials | None = None,
) -> tuple[Masker, str | None]:
    """The masker of ``profile`` (None: no profile) plus ``extra_fields`` (``--mask``);
    and a note when hashes are stable for this run only."""
    rules = profile.masking if profile is not None else MaskingRules()
    if extra_fields:
        rules = replace(rules, fields=(*rules.fields, *extra_fields))
    if profile is None or rules.how is not MaskHow.HASH or not rules.active:
        return Masker(rules), None
    credentials = credentials or Credentials()
    try:
        key = credentials.get(profile.name, KEY_NAME)
        if key is None:
            key = secrets.token_hex(32)
            credentials.set(profile.name, KEY_NAME, key)
    except ProfileError as exc:
        return Masker(rules), f"masked values are hashed with a key for this run only ({exc})"
    return Masker(rules, bytes.fromhex(key)), None
