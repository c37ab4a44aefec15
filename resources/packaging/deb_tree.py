"""The file tree of the .deb: the frozen app under /opt, the command on the PATH, the
desktop entry, icons, file types and the control file.

    /opt/event-explorer/                      the PyInstaller folder, as built
    /opt/event-explorer/event-explorer-desktop what the desktop entry runs (%f -> --open)
    /usr/bin/event-explorer                   -> /opt/event-explorer/event-explorer
    /usr/share/applications/event-explorer.desktop
    /usr/share/icons/hicolor/{scalable,256x256}/apps/event-explorer.{svg,png}
    /usr/share/mime/packages/event-explorer.xml
    /usr/share/doc/event-explorer/copyright

No maintainer scripts: the desktop, icon and MIME caches are refreshed by the triggers
of the packages that own them (desktop-file-utils, hicolor-icon-theme, shared-mime-info).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "event-explorer"
INSTALL_DIR = Path("opt") / PACKAGE
HERE = Path(__file__).resolve().parent
LINUX = HERE / "linux"
ICONS = HERE.parent / "icons"

DESCRIPTION = """\
Description: desktop explorer for event-sourced systems on Apache Kafka
 Browse the event topics of a Kafka cluster or an exported event file, filter by
 aggregate, event type, time and text, rebuild an aggregate's state with Python fold
 functions, and chart consumer lag.  Reading never disturbs the cluster.
 .
 The app is self-contained: it brings its own Python runtime and libraries.
"""


@dataclass(frozen=True)
class Control:
    version: str
    architecture: str
    depends: list[str]
    installed_kib: int
    maintainer: str

    def text(self) -> str:
        return (
            f"Package: {PACKAGE}\n"
            f"Version: {self.version}\n"
            f"Architecture: {self.architecture}\n"
            f"Maintainer: {self.maintainer}\n"
            f"Installed-Size: {self.installed_kib}\n"
            f"Depends: {', '.join(self.depends)}\n"
            "Section: devel\n"
            "Priority: optional\n"
            f"{DESCRIPTION}"
        )


def debian_version(version: str) -> str:
    """A PEP 440 version as dpkg orders it: pre-releases sort before the release."""
    return re.sub(r"\.?(a|b|rc|dev)(\d*)", r"~\1\2", version).replace(".post", "+post")


def _link_tree(source: Path, target: Path) -> None:
    """The frozen folder, hard-linked when possible (it is large), copied otherwise."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link)


def _install(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def lay_out(frozen: Path, root: Path) -> None:
    """Fill ``root`` (made afresh) with the package's files, without DEBIAN/."""
    if root.exists():
        shutil.rmtree(root)
    app_dir = root / INSTALL_DIR
    app_dir.parent.mkdir(parents=True)
    _link_tree(frozen, app_dir)
    _install(LINUX / "event-explorer-desktop", app_dir / "event-explorer-desktop", 0o755)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    # A symlink, not a copy: the frozen executable finds its _internal folder through
    # its own resolved path.
    (bin_dir / PACKAGE).symlink_to(Path("/") / INSTALL_DIR / PACKAGE)
    share = root / "usr" / "share"
    _install(LINUX / "event-explorer.desktop", share / "applications" / f"{PACKAGE}.desktop")
    _install(LINUX / "event-explorer-mime.xml", share / "mime" / "packages" / f"{PACKAGE}.xml")
    hicolor = share / "icons" / "hicolor"
    _install(ICONS / "event-explorer.svg", hicolor / "scalable" / "apps" / f"{PACKAGE}.svg")
    _install(ICONS / "event-explorer.png", hicolor / "256x256" / "apps" / f"{PACKAGE}.png")
    _install(LINUX / "copyright", share / "doc" / PACKAGE / "copyright")
    for path in [root, *root.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def installed_kib(root: Path) -> int:
    """Installed-Size: the files' sizes in KiB (dpkg's own estimate rounds the same way)."""
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def write_control(root: Path, control: Control) -> None:
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755, exist_ok=True)
    (debian / "control").write_text(control.text())
