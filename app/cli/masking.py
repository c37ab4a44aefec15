"""``--mask GLOB`` and a profile's masking, for every command that prints or writes
events or states (see ``app.masking.masker``)."""

from __future__ import annotations

import argparse

from app.cli import profile_option
from app.cli.common import say
from app.masking.masker import Masker
from app.profiles.masking_key import masker_for

_MADE = "_masker"


def masker_from(args: argparse.Namespace, command: str) -> Masker:
    """The profile's masking plus ``--mask``; made once per command line."""
    made = getattr(args, _MADE, None)
    if isinstance(made, Masker):
        return made
    profile = profile_option.load_profile(args) if profile_option.uses_profile(args) else None
    masker, note = masker_for(profile, getattr(args, "mask", None) or ())
    if note is not None:
        say(command, note)
    setattr(args, _MADE, masker)
    return masker


def may_use_cache(args: argparse.Namespace, command: str) -> bool:
    """The persisted index holds values unmasked: a profile may forbid it."""
    return masker_from(args, command).rules.use_index_cache
