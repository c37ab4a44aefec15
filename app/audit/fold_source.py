"""The fold of a report as a file: what is copied into the report, and loaded back.

A fold from a file (the examples, the user's folder, ``--folds``) is copied byte for
byte; a built-in fold is written out from its source text (verify then checks that
this tool's built-in still has exactly that source); an entry-point fold is copied
from the module file that defines it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from app.audit.canonical import sha256_bytes
from app.replay.discovery import load_fold_file
from app.replay.folds import BUILT_IN, FoldRegistry, FoldSpec, Origin

FOLD_DIR = "fold"


class FoldSourceError(Exception):
    """The fold's code cannot be found or loaded (one line)."""


@dataclass(frozen=True)
class FoldSource:
    name: str
    kind: str  # "file", "built-in" or "entry point"
    file_name: str  # inside the report's fold/ folder
    data: bytes
    origin: str  # where it came from when the report was made

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind,
            "file": f"{FOLD_DIR}/{self.file_name}",
            "sha256": self.sha256,
            "origin": self.origin,
        }


def fold_source(spec: FoldSpec) -> FoldSource:
    """The bytes of ``spec``'s code, for the report."""
    if spec.origin == Origin.BUILT_IN or spec.source == BUILT_IN:
        text = builtin_source(spec.name)
        return FoldSource(spec.name, "built-in", f"{spec.name}.builtin.py", text, BUILT_IN)
    path = Path(spec.source)
    kind = "file"
    if not path.is_file():
        found = inspect.getsourcefile(spec.function)
        if found is None:
            raise FoldSourceError(f"fold {spec.name!r}: its source file cannot be found")
        path, kind = Path(found), "entry point"
    return FoldSource(spec.name, kind, path.name, path.read_bytes(), spec.source)


def builtin_source(name: str) -> bytes:
    """The source text of this tool's built-in fold ``name``."""
    spec = FoldRegistry.with_builtins().get(name)
    return inspect.getsource(spec.function).encode()


def load_report_fold(folder: Path, fold: dict[str, str]) -> FoldSpec:
    """The fold a report names, from the report's own copy of its code."""
    name, kind = fold["name"], fold["kind"]
    if kind == "built-in":
        return FoldRegistry.with_builtins().get(name)
    path = folder / fold["file"]
    try:
        specs = load_fold_file(path)
    except Exception as exc:  # the fold file's own error, as one line
        raise FoldSourceError(
            f"the report's fold file {fold['file']} does not load: {exc}"
        ) from exc
    for spec in specs:
        if spec.name == name:
            return spec
    raise FoldSourceError(f"the report's fold file {fold['file']} defines no fold {name!r}")
