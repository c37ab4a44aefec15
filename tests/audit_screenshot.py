"""Render the README's picture of an audit report: the first page of its PDF.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/audit_screenshot.py [--out DIR]

Makes the report of one demo bank account (the bundled demo data, the example
``bank-account`` fold, as of 2025-09-30 23:59:59 UTC) in a temporary folder, then turns
page 1 of its ``report.pdf`` into ``audit-report.png`` with poppler's ``pdftoppm`` (the
same PDF a user gets; nothing is drawn for the picture alone).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audit.as_of import AsOf  # noqa: E402
from app.audit.evidence import build_evidence, write_report  # noqa: E402
from app.gui.report_pdf import write_pdf  # noqa: E402
from app.replay.discovery import discover_folds  # noqa: E402
from app.sources import FileSource  # noqa: E402
from resources import demo_path  # noqa: E402

AGGREGATE = "ACC-100007"
AT = datetime(2025, 9, 30, 23, 59, 59, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = ap.parse_args()
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm is missing (Debian: poppler-utils; tests/run installs it)")
    spec = discover_folds(use_user_dir=False).registry.get("bank-account")
    as_of = AsOf.moment(int(AT.timestamp() * 1000))
    evidence = build_evidence(FileSource(demo_path()), "bank-accounts", AGGREGATE, spec, as_of)
    with tempfile.TemporaryDirectory() as work:
        report = write_report(evidence, Path(work) / "report", pdf_writer=write_pdf)
        stem = Path(work) / "page"
        subprocess.run(
            [pdftoppm, "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile",
             str(report / "report.pdf"), str(stem)],
            check=True,
        )  # fmt: skip
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stem.with_suffix(".png"), args.out / "audit-report.png")
    print(args.out / "audit-report.png")


if __name__ == "__main__":
    main()
