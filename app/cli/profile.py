"""``event-explorer profile ...``: saved connection profiles.

    event-explorer profile list [--json]
    event-explorer profile show NAME [--json]
    event-explorer profile import FILE [--name N] [--replace] [--password-stdin]
    event-explorer profile export NAME [--out FILE]
    event-explorer profile delete NAME
    event-explorer profile set-password NAME PROPERTY [--password-stdin]
    event-explorer profile create NAME -b HOST:PORT [-X ...] [--lock GLOB ...]

Profiles are files without secrets; secrets are asked for on a terminal (or read one
per line from stdin with ``--password-stdin``) and kept in the OS keyring.  With no
keyring nothing is stored: the secret is asked for on each connect instead.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from app.cli.common import UsageError, add_connection_options, out, profile_from
from app.output.event_json import dumps
from app.profiles import (
    REGISTRY_SECRET,
    Credentials,
    KeyringUnavailable,
    Profile,
    ProfileStore,
    delete_profile,
    export_text,
    from_connection,
    import_profile,
    read_profile_file,
)

PROG = "event-explorer profile"


def add_parsers(sub: argparse._SubParsersAction, top: argparse.ArgumentParser) -> None:
    """The ``profile`` commands, and the app's ``--import-profile FILE`` (the desktop
    entry opens profile files with it)."""
    top.add_argument(
        "--import-profile",
        type=Path,
        metavar="FILE",
        help="open the app and import a profile file (what a double-click on one does)",
    )
    parser = sub.add_parser("profile", help="saved connection profiles: list, import, export...")
    cmds = parser.add_subparsers(dest="profile_command", metavar="ACTION", required=True)

    p = cmds.add_parser("list", help="the saved profiles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_list)

    p = cmds.add_parser("show", help="what a profile holds, and which secrets are stored")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_show)

    p = cmds.add_parser("import", help="import a profile file; asks for its secrets")
    p.add_argument("file", type=Path)
    p.add_argument("--name", help="save it under this name (default: the file's own)")
    p.add_argument("--replace", action="store_true", help="replace a profile of that name")
    _password_stdin(p, "one line per secret, in the order 'profile show' lists them")
    p.set_defaults(func=run_import)

    p = cmds.add_parser("export", help="print a profile file to hand out (never a secret)")
    p.add_argument("name")
    p.add_argument("--out", "-o", type=Path, help="write to FILE instead of stdout")
    p.set_defaults(func=run_export)

    p = cmds.add_parser("delete", help="delete a profile and its secrets in the keyring")
    p.add_argument("name")
    p.set_defaults(func=run_delete)

    p = cmds.add_parser("set-password", help="store a secret of a profile in the keyring")
    p.add_argument("name")
    p.add_argument("property", help=f"one of the profile's secrets ({REGISTRY_SECRET}: registry)")
    _password_stdin(p, "read it from stdin (one line)")
    p.set_defaults(func=run_set_password)

    p = cmds.add_parser("create", help="save a working connection (-b, -X, --config) as a profile")
    p.add_argument("name")
    add_connection_options(p)
    p.add_argument(
        "--lock",
        action="append",
        default=[],
        metavar="GLOB",
        help="show and read only topics matching GLOB (repeatable)",
    )
    p.add_argument("--fold-folder", metavar="DIR", help="the folder of the team's folds")
    p.add_argument("--description", default="", help="a line saying what the profile is for")
    p.add_argument("--replace", action="store_true", help="replace a profile of that name")
    p.set_defaults(func=run_create)


def say(line: str) -> None:
    """A line for the person at the terminal (stderr: stdout is for data)."""
    sys.stderr.write(line + "\n")


def _password_stdin(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--password-stdin", action="store_true", help=f"secrets from stdin: {what}")


def run_list(args: argparse.Namespace) -> int:
    store = ProfileStore()
    names = store.names()
    for name in names:
        try:
            profile = store.load(name)
        except ValueError as exc:  # a hand-edited file gone wrong: say so, list the rest
            say(f"{PROG}: {name}: {exc}")
            continue
        if args.json:
            out(
                dumps(
                    {
                        "name": name,
                        "bootstrap": profile.bootstrap,
                        "locked_topics": list(profile.locked_topics),
                        "description": profile.description,
                    }
                )
            )
        else:
            out(f"{name}\t{profile.bootstrap}\t{profile.description}".rstrip())
    if not names and not args.json:
        say(f"(no profiles in {store.root})")
    return 0


def run_show(args: argparse.Namespace) -> int:
    profile = ProfileStore().load(args.name)
    stored = _stored(profile)
    if args.json:
        out(dumps({"name": profile.name, "describe": dict(profile.describe()), "secrets": stored}))
        return 0
    width = max(len(what) for what, _ in profile.describe())
    for what, value in profile.describe():
        out(f"{what:<{width}}  {value}")
    for name, state in stored.items():
        out(f"{'Secret ' + name:<{width}}  {state}")
    return 0


def _stored(profile: Profile) -> dict[str, str]:
    """Whether each secret is in the keyring (never its value)."""
    credentials = Credentials()
    states = {}
    for name in profile.secret_names:
        try:
            found = credentials.get(profile.name, name) is not None
        except KeyringUnavailable as exc:
            return dict.fromkeys(profile.secret_names, f"unknown: {exc}")
        states[name] = "in the keyring" if found else "not stored (asked for on connect)"
    return states


def run_import(args: argparse.Namespace) -> int:
    profile, warnings = read_profile_file(args.file, name=args.name)
    store = ProfileStore()
    path = import_profile(store, profile, replace=args.replace)
    for warning in warnings:
        say(f"{PROG}: warning: {warning}")
    say(f"imported profile {profile.name} to {path}")
    return _ask_secrets(profile, args.password_stdin)


def _ask_secrets(profile: Profile, from_stdin: bool) -> int:
    """Store each secret of the profile in the keyring, asked for once."""
    names = profile.secret_names
    if not names:
        return 0
    credentials = Credentials()
    broken = credentials.unavailable()
    if broken is not None:
        say(
            f"{PROG}: {broken}: the secrets of {profile.name} ({', '.join(names)}) "
            "are not stored; they will be asked for on each connect"
        )
        return 0
    if not from_stdin and not sys.stdin.isatty():
        say(
            f"{PROG}: no terminal to ask for {', '.join(names)}: store them with "
            f"'event-explorer profile set-password {profile.name} PROPERTY'"
        )
        return 0
    for name in names:
        credentials.set(profile.name, name, _read_secret(profile.name, name, from_stdin))
    say(f"stored {', '.join(names)} of {profile.name} in the keyring")
    return 0


def _read_secret(profile: str, name: str, from_stdin: bool) -> str:
    label = "schema registry user:password" if name == REGISTRY_SECRET else name
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsageError(f"--password-stdin: no line for {label}")
        value = line.removesuffix("\n").removesuffix("\r")
    else:
        value = getpass.getpass(f"{label} for profile {profile}: ")
    if not value:
        raise UsageError(f"an empty {label} was given; nothing stored")
    return value


def run_export(args: argparse.Namespace) -> int:
    text = export_text(ProfileStore(), args.name)
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
        say(f"exported profile {args.name} to {args.out}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    broken = delete_profile(ProfileStore(), args.name, Credentials())
    if broken is not None:
        say(f"{PROG}: deleted {args.name}, but not its secrets: {broken}")
    else:
        say(f"deleted profile {args.name} and its secrets")
    return 0


def run_set_password(args: argparse.Namespace) -> int:
    profile = ProfileStore().load(args.name)
    if args.property not in profile.secret_names:
        known = ", ".join(profile.secret_names) or "none"
        raise UsageError(
            f"{args.property} is not a secret of {profile.name} (its secrets: {known})"
        )
    credentials = Credentials()
    broken = credentials.unavailable()
    if broken is not None:
        raise UsageError(f"{broken}: nothing stored; it will be asked for on each connect")
    if not args.password_stdin and not sys.stdin.isatty():
        raise UsageError("no terminal to ask on: give --password-stdin")
    value = _read_secret(profile.name, args.property, args.password_stdin)
    credentials.set(profile.name, args.property, value)
    say(f"stored {args.property} of {profile.name} in the keyring")
    return 0


def run_create(args: argparse.Namespace) -> int:
    if args.profile:
        raise UsageError("create makes a profile from -b/-X/--config, not from --profile")
    if not args.bootstrap and not args.config:
        raise UsageError("give --bootstrap HOST:PORT (and -X/--config for its security settings)")
    store = ProfileStore()
    profile, secrets = from_connection(
        args.name,
        profile_from(args),
        locked_topics=args.lock,
        fold_folder=args.fold_folder,
        description=args.description,
    )
    credentials = Credentials()
    broken = credentials.unavailable() if secrets else None
    path = import_profile(store, profile, replace=args.replace)
    say(f"saved profile {profile.name} to {path}")
    if broken is not None:
        say(
            f"{PROG}: {broken}: {', '.join(secrets)} not stored; they will be asked "
            "for on each connect"
        )
        return 0
    for name, value in secrets.items():
        credentials.set(profile.name, name, value)
    if secrets:
        say(f"stored {', '.join(secrets)} of {profile.name} in the keyring")
    return 0
