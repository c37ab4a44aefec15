"""``--profile NAME`` on every command that connects: the connection, secrets, topic
rules, fold folder and topic lock of a saved profile.

With ``--profile``, ``-X`` adds properties or overrides the profile's (a one-off
``-X debug=security``, or a secret given by a script); ``--bootstrap``, ``--config``,
``--registry`` and ``--registry-auth`` are refused: the profile names its cluster and
registry, and mixing two sources of truth would hide which one was used.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from app.profiles import (
    Credentials,
    PasswordProvider,
    Profile,
    ProfileStore,
    SecretMissing,
    SecretRequest,
    TopicLock,
    connection_profile,
    gather_secrets,
    source_for,
)
from app.sources import ClusterSource, SourceSettings, TopicSettings
from kafka_io.lag import LagSample
from kafka_io.metadata import TopicInfo
from kafka_io.profile import ConnectionProfile
from kafka_io.properties import ProfileError, parse_x_options

_REFUSED = {
    "bootstrap": "--bootstrap",
    "config": "--config",
    "registry": "--registry",
    "registry_auth": "--registry-auth",
    "file": "--file",
}
_LOADED = "_loaded_profile"


def add_profile_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--profile", "-P", metavar="NAME",
        help="connect with a saved profile (event-explorer profile list); -X adds to it",
    )  # fmt: skip


def uses_profile(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "profile", None))


def load_profile(args: argparse.Namespace) -> Profile:
    """The profile ``--profile`` names (loaded once per command line)."""
    loaded = getattr(args, _LOADED, None)
    if isinstance(loaded, Profile):
        return loaded
    for attr, flag in _REFUSED.items():
        if getattr(args, attr, None):
            raise ProfileError(
                f"{flag} cannot be combined with --profile: the profile names its cluster"
            )
    profile = ProfileStore().load(args.profile)
    setattr(args, _LOADED, profile)
    return profile


def profile_connection(args: argparse.Namespace) -> ConnectionProfile:
    """The connection of ``--profile``: its properties, secrets, then ``-X``."""
    profile = load_profile(args)
    extra = parse_x_options(getattr(args, "x_options", []) or [])
    secrets, _broken = gather_secrets(profile, terminal_asker(), Credentials(), given=extra)
    timeout = getattr(args, "timeout", 10.0)
    return connection_profile(profile, secrets, extra=extra, timeout_s=timeout)


def profile_source(args: argparse.Namespace, given: TopicSettings) -> tuple[ClusterSource, str]:
    """The source and topic of a reading command run with ``--profile``.

    Rules given on the command line (``--type-rule``...) win over the profile's."""
    profile = load_profile(args)
    if not args.topic:
        raise ProfileError("give --topic T")
    # Refused before any password is asked for or any connection made.
    TopicLock(profile.locked_topics, profile.name).check(args.topic)
    if profile.fold_folder and isinstance(getattr(args, "fold_paths", None), list):
        # Commands that replay (state) read their folds after their source.
        args.fold_paths.append(Path(profile.fold_folder).expanduser())
    topics = {t: given.over(s) for t, s in profile.topics.items()}
    settings = SourceSettings(given.over(profile.defaults), topics)
    return source_for(profile, profile_connection(args), settings), args.topic


def visible_topics(args: argparse.Namespace, topics: list[TopicInfo]) -> list[TopicInfo]:
    """The topics a listing may show: all, or those of ``--profile``'s lock."""
    if not uses_profile(args):
        return topics
    lock = _lock(args)
    return [t for t in topics if lock.allows(t.name)]


def visible_lag(args: argparse.Namespace, sample: LagSample) -> LagSample:
    return _lock(args).lag(sample) if uses_profile(args) else sample


def _lock(args: argparse.Namespace) -> TopicLock:
    profile = load_profile(args)
    return TopicLock(profile.locked_topics, profile.name)


def terminal_asker() -> PasswordProvider:
    """Asks on the terminal (without echo); with no terminal, says how to give it."""

    def ask(request: SecretRequest) -> str | None:
        where = f"{request.label} of profile {request.profile}"
        if not sys.stdin.isatty():
            raise SecretMissing(
                f"the {where} is needed ({request.reason}) and there is no terminal to ask on: "
                f"store it with 'event-explorer profile set-password {request.profile} "
                f"{request.name}'"
            )
        kept = "; it will be kept in the keyring" if request.remembered else ""
        print(f"event-explorer: {where}: {request.reason}{kept}", file=sys.stderr)
        return getpass.getpass(f"{request.label} for profile {request.profile}: ")

    return ask
