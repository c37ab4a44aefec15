"""``event-explorer audit`` (an evidence report of one aggregate's state) and ``keygen``.

The PDF is made by the GUI layer (Qt's PDF writer), imported only when a report is
written; everything else is the Qt-free core in ``app.audit``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.audit.evidence import NothingToAudit, PdfWriter, build_evidence, write_report
from app.audit.signing import generate_keys, key_id, load_private_key, load_public_key
from app.cli.as_of import at_or_offset, history_gone
from app.cli.common import UsageError, add_source_options, out, source_from
from app.cli.masking import masker_from
from app.cli.state import add_folds_option, library_from, pick_fold


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit", help="write a self-contained, verifiable report of an aggregate's state"
    )
    add_source_options(p)
    p.add_argument("--aggregate", "-a", required=True, help="the aggregate id")
    p.add_argument("--fold", help="fold name (default: the first whose topics match)")
    add_folds_option(p)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", metavar="ISO8601", help="every event with timestamp <= this")
    where.add_argument(
        "--offset", metavar="N|P:N", help="up to this offset (inclusive) of its partition"
    )
    p.add_argument("--out", "-o", type=Path, required=True, help="new folder for the report")
    p.add_argument("--sign", type=Path, metavar="KEY", help="sign with this key (see keygen)")
    p.set_defaults(func=run_audit)

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing audit reports")
    p.add_argument("--out", "-o", type=Path, required=True, metavar="NAME",
                   help="writes NAME.key (private) and NAME.pub (public)")  # fmt: skip
    p.set_defaults(func=run_keygen)


def run_audit(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    masker = masker_from(args, "audit")
    if masker.active and not masker.rules.allow_unmask:
        raise UsageError(
            "masking is on and may not be lifted: an audit report holds the real values "
            "(it must be verifiable), so it cannot be made with this profile"
        )
    spec = pick_fold(library_from(args), args.fold, topic)
    home = source.partitions_for_aggregate(topic, args.aggregate)
    as_of = at_or_offset(args.at, args.offset, home[0] if home else None, required=True)
    assert as_of is not None
    if args.sign is not None:
        load_private_key(args.sign)  # a bad key fails now, before anything is read
    try:
        evidence = build_evidence(source, topic, args.aggregate, spec, as_of)
    except NothingToAudit as exc:
        print(f"event-explorer audit: {exc}", file=sys.stderr)
        return 1
    for line in history_gone(source, topic, [s.partition for s in evidence.collected.scans]):
        print(f"event-explorer audit: {line}", file=sys.stderr)
    folder = write_report(evidence, args.out, pdf_writer=_pdf_writer(), sign_key=args.sign)
    manifest = evidence.manifest
    complete = manifest["completeness"]["provable"]
    out(
        f"wrote {folder}: {manifest['events_applied']} events of {args.aggregate}, state "
        f"SHA-256 {manifest['state_sha256']}"
        + ("" if complete else " (history not provably complete: see the report)")
    )
    return 0


def _pdf_writer() -> PdfWriter | None:
    try:
        # Lazily: the PDF is Qt's; the rest of the CLI does not load Qt.
        from app.gui.report_pdf import write_pdf
    except ImportError as exc:
        print(f"event-explorer audit: no report.pdf (Qt is not available: {exc})", file=sys.stderr)
        return None
    return write_pdf


def run_keygen(args: argparse.Namespace) -> int:
    private, public = generate_keys(args.out)
    out(f"wrote {private} (private: keep it to yourself) and {public} (public: hand it out)")
    out(f"key id {key_id(load_public_key(public))}")
    return 0
