"""Hypothesis profiles for the fuzz tests: a bounded CI run, and a long one on demand.

    tests/run                                    # the "ci" profile: a minute or two in all
    EVENT_EXPLORER_FUZZ=long .venv/bin/python -m pytest tests/fuzz --timeout=0 \
        -p no:cacheprovider --hypothesis-show-statistics   # "long": 25 times the examples

Each test asks for ``examples(n)``: n examples under "ci", 25 n under "long" (or
EVENT_EXPLORER_FUZZ_SCALE n: ``EVENT_EXPLORER_FUZZ_SCALE=100`` for a night).  The long
profile keeps failing examples in ~/.cache/event-explorer-tests/hypothesis so a rerun
replays them first; the CI profile keeps none (nothing is written into the checkout).
No deadlines: speed is measured by the benchmarks, not by the fuzz tests.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILE = os.environ.get("EVENT_EXPLORER_FUZZ", "ci")
_SCALE = {"ci": 1, "long": 25}
if PROFILE not in _SCALE:
    raise ValueError(f"EVENT_EXPLORER_FUZZ={PROFILE!r}: use one of {', '.join(_SCALE)}")
SCALE = int(os.environ.get("EVENT_EXPLORER_FUZZ_SCALE") or _SCALE[PROFILE])

_CACHE = Path.home() / ".cache" / "event-explorer-tests" / "hypothesis"
# No "explain" phase: it traces every line of a failing test to say which branches
# mattered, which took a failing example through fastavro past the run's timeout.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile(
    "ci",
    deadline=None,
    database=None,
    print_blob=True,
    phases=_PHASES,
    # The test machine may be shared and slow; a slow example is not a failure here.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    deadline=None,
    database=DirectoryBasedExampleDatabase(_CACHE),
    print_blob=True,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(PROFILE)


def examples(n: int) -> settings:
    """Settings for a test that runs ``n`` examples in CI (``SCALE`` n in a long run)."""
    return settings(max_examples=n * SCALE)
