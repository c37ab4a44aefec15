"""``event-explorer``: the desktop app with no command; headless commands otherwise.

The commands use the same core as the GUI (sources, index, query, folds, replay).
Every command exits as grep does (``app.cli.common.ExitCode``): 0 when it did what was
asked, 1 when it ran and nothing matched, 2 for bad input or a failure (always one line
on stderr, never a traceback), 130 on Ctrl-C; a closed pipe (``| head``) is not an error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from app.cli import audit as cli_audit
from app.cli import cache as cli_cache
from app.cli import compare as cli_compare
from app.cli import export as cli_export
from app.cli import health as cli_health
from app.cli import lag as cli_lag
from app.cli import profile as cli_profile
from app.cli import read as cli_read
from app.cli import snapshots as cli_snapshots
from app.cli import state as cli_state
from app.cli import states as cli_states
from app.cli import trace as cli_trace
from app.cli import verify as cli_verify
from app.cli import versions as cli_versions
from app.cli.common import (
    ExitCode,
    NothingMatched,
    UsageError,
    add_connection_options,
    add_mask_option,
    say,
)
from app.replay import fold_guard
from kafka_io.errors import KafkaIOError
from kafka_io.profile import ProfileError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="event-explorer",
        description="Explore event-sourced systems on Apache Kafka. "
        "With no command, opens the desktop app (the bundled demo data when no cluster is given).",
        epilog="Exit codes: 0 done, 1 nothing matched, 2 bad input or a failure, 130 Ctrl-C.",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log librdkafka messages")
    add_connection_options(parser)
    parser.add_argument("--open", dest="file", type=Path, help="event file to open in the app")
    add_mask_option(parser)
    parser.add_argument(
        "--folds",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="fold file or folder to load (repeatable)",
    )
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_read.add_parsers(sub)
    cli_export.add_parser(sub)
    cli_state.add_parsers(sub)
    cli_states.add_parsers(sub)
    cli_audit.add_parsers(sub)
    cli_verify.add_parsers(sub)
    cli_lag.add_lag_parser(sub)
    cli_cache.add_parsers(sub)
    cli_trace.add_trace_parser(sub)
    cli_health.add_health_parser(sub)
    cli_compare.add_parser(sub)
    cli_snapshots.add_parsers(sub)
    cli_versions.add_parser(sub)
    cli_profile.add_parsers(sub, parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.getLogger("kafka_io.librdkafka").setLevel(
        logging.INFO if args.verbose else logging.CRITICAL
    )
    if args.command is None:
        from app.gui.launch import run_gui

        return run_gui(args)
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    command = args.command
    fold_guard.install_exit_guard()
    fold_guard.on_unstoppable(lambda message: _end_unstoppable(command, message))
    try:
        with fold_guard.fold_prints_to_stderr():  # a fold's print() never corrupts output
            return int(args.func(args))
    except NothingMatched as exc:
        say(command, str(exc))
        return ExitCode.NO_MATCH
    except (UsageError, ProfileError, KafkaIOError, ValueError) as exc:
        say(command, str(exc))
        return ExitCode.ERROR
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        _drop_stdout()
        return ExitCode.OK
    except OSError as exc:  # a file that cannot be read or written
        where = f": {exc.filename}" if exc.filename else ""
        say(command, f"{exc.strerror or exc}{where}")
        return ExitCode.ERROR
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: still one line, the traceback only when asked for
        if args.verbose:
            traceback.print_exc()
        say(command, f"internal error: {type(exc).__name__}: {exc} (--verbose shows where)")
        return ExitCode.ERROR


def _end_unstoppable(command: str, message: str) -> None:
    """A fold that cannot be interrupted: the command cannot end any other way."""
    say(command, f"{message}: ending")
    sys.stderr.flush()
    fold_guard.exit_now(ExitCode.ERROR)


def _drop_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it again at exit, and the closed pipe
    would be reported there as an ignored exception."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
