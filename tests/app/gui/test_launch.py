"""``event-explorer`` with no arguments: the window on the demo data, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_launch_without_arguments_shows_demo_data(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # A fresh user: no saved settings, layout or fold folder from this machine.
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "self-test ok" in proc.stdout
    assert "bank-accounts" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "Error" not in proc.stderr
