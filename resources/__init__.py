"""What is not code: the bundled demo data, example folds, icons, packaging files.

Paths are found through ``importlib.resources``, so they resolve from a checkout, an
installed wheel and a frozen bundle alike.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def demo_path() -> Path:
    """The bundled demo event file that the app opens when no source is given."""
    return Path(str(importlib.resources.files("resources").joinpath("demo.avro")))


def example_folds_dir() -> Path:
    """The example folds shipped with the app."""
    return Path(str(importlib.resources.files("resources.folds")))
