"""Where profiles are kept: one ``NAME.evx-profile`` file each, in the user's config
folder (``<config>/event-explorer/profiles``, or ``$EVENT_EXPLORER_CONFIG_DIR/profiles``).

The files are written from a ``Profile``, which cannot hold a secret, through the one
writer (``fileformat.dumps``), which checks again: the store never writes a secret.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import platformdirs

from app.profiles.fileformat import dumps, loads
from app.profiles.model import EXTENSION, Profile, check_name
from kafka_io.properties import ProfileError

CONFIG_ENV = "EVENT_EXPLORER_CONFIG_DIR"


class ProfileNotFound(ProfileError):
    pass


def default_root() -> Path:
    given = os.environ.get(CONFIG_ENV)
    base = Path(given) if given else platformdirs.user_config_path("event-explorer")
    return base / "profiles"


class ProfileStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_root()

    def path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}{EXTENSION}"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name.removesuffix(EXTENSION) for p in self.root.glob(f"*{EXTENSION}"))

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def load(self, name: str) -> Profile:
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileNotFound(
                f"no profile named {name!r} (event-explorer profile list shows them)"
            ) from None
        except OSError as exc:
            raise ProfileError(f"cannot read profile {name!r}: {exc.strerror}") from None
        # The file's own name wins over the name inside it (a renamed file).
        profile, _warnings = loads(text, name=name)
        return profile

    def save(self, profile: Profile) -> Path:
        """Write (or replace) the profile's file atomically: a reader never sees half."""
        text = dumps(profile)
        path = self.path(profile.name)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{profile.name}.", dir=self.root)
        except OSError as exc:
            raise ProfileError(f"cannot write profiles to {self.root}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise ProfileError(f"cannot write {path}: {exc.strerror}") from None
            raise
        return path

    def delete(self, name: str) -> bool:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            return False
        return True
