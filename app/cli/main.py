"""``event-explorer``: the desktop app with no command; headless commands otherwise.

The commands use the same core as the GUI (sources, index, query, folds, replay).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app.cli import cache as cli_cache
from app.cli import lag as cli_lag
from app.cli import read as cli_read
from app.cli import state as cli_state
from app.cli.common import UsageError, add_connection_options
from kafka_io.errors import KafkaIOError
from kafka_io.profile import ProfileError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="event-explorer",
        description="Explore event-sourced systems on Apache Kafka. "
        "With no command, opens the desktop app (the bundled demo data when no cluster is given).",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log librdkafka messages")
    add_connection_options(parser)
    parser.add_argument("--open", dest="file", type=Path, help="event file to open in the app")
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
    cli_state.add_parsers(sub)
    cli_lag.add_lag_parser(sub)
    cli_cache.add_parsers(sub)
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
    try:
        return int(args.func(args))
    except (UsageError, ProfileError, KafkaIOError, ValueError) as exc:
        print(f"event-explorer {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
