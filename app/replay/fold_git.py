"""A fold file as it was at a git revision: "my change against what runs in production".

``git show REV:path`` gives the file's text at a revision; it is written to a private
temporary folder under its own name and loaded from there like any fold file.  Every
way this can go wrong is one clear line: git missing, a file outside a work tree, a
file git does not track, a revision that does not exist, a file the revision lacks.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class GitError(ValueError):
    """Why a fold file's text at a revision cannot be had (one line)."""


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed: --against-git needs it")
    return subprocess.run(
        [git, "-C", str(folder), *args], capture_output=True, text=True, check=False
    )


def fold_text_at(path: Path, revision: str) -> str:
    """The text of fold file ``path`` at git ``revision``."""
    path = path.resolve()
    if not path.is_file():
        raise GitError(f"{path} is not a fold file (only a fold loaded from a file has a history)")
    top = _git(path.parent, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise GitError(f"{path.name} is not in a git work tree ({path.parent})")
    root = Path(top.stdout.strip()).resolve()
    rel = path.relative_to(root).as_posix()
    if _git(root, "ls-files", "--error-unmatch", "--", rel).returncode != 0:
        raise GitError(f"{rel} is not tracked by git in {root}")
    if revision.startswith("-") or not revision.strip():
        raise GitError(f"{revision!r} is not a git revision")
    if _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode != 0:
        raise GitError(f"no git revision {revision!r} in {root}")
    shown = _git(root, "show", f"{revision}:{rel}")
    if shown.returncode != 0:
        raise GitError(f"{rel} does not exist at {revision}")
    return shown.stdout


class FoldAtRevision:
    """The fold file at a revision, as a file on disk for as long as this is open."""

    def __init__(self, path: Path, revision: str) -> None:
        self.text = fold_text_at(path, revision)
        self._dir = tempfile.TemporaryDirectory(prefix="event-explorer-git-")
        # The file's own name: errors and tracebacks then name the file the user knows.
        self.path = Path(self._dir.name) / path.name
        self.path.write_text(self.text)
        self.label = f"{path.name}@{revision}"

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> FoldAtRevision:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
