"""The audit report's PDF, made with Qt's PDF writer: read back with poppler's tools
(text and a rendered first page), not only checked for existing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from evfactory import random_events
from PySide6.QtGui import QImage

from app.audit.as_of import AsOf
from app.audit.evidence import build_evidence, write_report
from app.gui.report_pdf import write_pdf
from app.replay.discovery import discover_folds
from app.sources import FileSource
from kafka_io.eventfile import write_event_file


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pdf")
    events = [e for e in random_events(600, seed=4) if e.error is None and e.value is not None]
    source_file = folder / "bank.avro"
    write_event_file(source_file, events)
    spec = discover_folds(use_user_dir=False).registry.get("bank-account")
    evidence = build_evidence(
        FileSource(source_file),
        "bank-accounts",
        "acc-004",
        spec,
        AsOf.moment(events[-1].timestamp_ms),
    )
    return write_report(evidence, folder / "report", pdf_writer=write_pdf)


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} (poppler-utils; tests/run installs it) is missing"
    return found


def test_the_pdf_says_what_the_report_says(report: Path) -> None:
    manifest = json.loads((report / "manifest.json").read_text())
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(report / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "Audit report: acc-004" in flat
    assert "How to verify" in flat and "What it does not prove" in flat
    assert manifest["state_sha256"][:40] in flat.replace(" ", "")
    assert f'"balance": {manifest["state"]["balance"]}' in flat
    for entry in manifest["events"][:3]:
        assert f"{entry['partition']}:{entry['offset']}" in flat
    assert "page 1 of" in flat


def test_the_first_page_renders_with_text_on_it(report: Path, tmp_path: Path) -> None:
    subprocess.run(
        [_tool("pdftoppm"), "-r", "60", "-png", "-f", "1", "-l", "1", str(report / "report.pdf"),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    image = QImage(str(next(tmp_path.glob("page*.png"))))
    assert image.width() > 200 and image.height() > image.width()  # portrait A4
    rgb = np.array([[image.pixelColor(x, y).lightness() for x in range(0, image.width(), 2)]
                    for y in range(0, image.height(), 2)])  # fmt: skip
    dark = np.count_nonzero(rgb < 128) / rgb.size
    assert 0.005 < dark < 0.5  # text, not a blank or a black page
