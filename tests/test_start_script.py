"""The README's first command: `resources/start.sh` installs once, then only starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_second_start_installs_nothing_and_works_offline() -> None:
    venv = Path(sys.prefix)  # the environment the tests run in: already has the app
    env = {**os.environ, "EVENT_EXPLORER_VENV": str(venv)}
    script = str(ROOT / "resources" / "start.sh")
    first = subprocess.run(
        [script, "folds"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr
    # No network for pip: an installer run now would fail, so success proves none ran.
    offline = {**env, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_CACHE_DIR": "1"}
    second = subprocess.run(
        [script, "folds"], cwd=ROOT, env=offline, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert "installing" not in second.stderr
    assert "bank-account" in second.stdout  # the example folds are listed
