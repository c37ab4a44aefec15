"""Build dist/event-explorer_<version>_<arch>.deb: freeze the app with PyInstaller (one
folder) in a build venv, lay it out under /opt, and wrap it with dpkg-deb.

    resources/packaging/build-deb [--venv PATH] [--force] [--compression xz|gzip] [--level N]

The build is skipped when a package built from the same inputs (the app's sources,
resources, pyproject.toml, these packaging files, the Python version) is already in
dist/; the last line printed is always the package's path.  Building needs the shared
libraries the frozen Qt links to installed on this machine, to learn which packages
ship them (those become the package's Depends).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import deb_depends
import deb_tree

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "resources" / "packaging" / "event-explorer.spec"
BUILD = ROOT / "build" / "packaging"
# Pinned: a new PyInstaller or hook release changes what gets bundled.
FREEZER = ["pyinstaller==6.22.3", "pyinstaller-hooks-contrib==2026.9"]
# What the package is made of; anything else in the tree does not change it.
INPUTS = ["app", "widgets", "kafka_io", "resources", "pyproject.toml"]
NOT_INPUTS = {"__pycache__", "screenshots", "demo"}  # resources/demo is the generator


class BuildError(Exception):
    """A step of the build failed; the message says which and why."""


def log(message: str) -> None:
    print(f"build-deb: {message}", file=sys.stderr, flush=True)


def project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        data: dict[str, object] = tomllib.load(handle)["project"]
    return data


def inputs_digest() -> str:
    """A hash of every file the package is built from, and of the Python that runs it."""
    digest = hashlib.sha256(sys.version.encode())
    for name in INPUTS:
        top = ROOT / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            rel = path.relative_to(ROOT)
            if NOT_INPUTS.intersection(rel.parts) or path.suffix in (".pyc", ".md"):
                continue
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run(command: list[str], what: str, **kwargs: object) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed (exit {done.returncode}):\n{tail}")


def build_venv(given: Path | None) -> Path:
    """A venv with the app's dependencies and the pinned PyInstaller; made (or brought
    up to date) under build/ unless one is given."""
    requirements = [*project()["dependencies"], *FREEZER]  # type: ignore[misc]
    venv = given or BUILD / "venv"
    python = venv / "bin" / "python"
    stamp = venv / ".event-explorer-requirements"
    wanted = "\n".join(requirements)
    if given is None and python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        if given is not None:
            raise BuildError(f"{given} is not a virtual environment (no bin/python)")
        log(f"creating the build environment {venv}")
        run([sys.executable, "-m", "venv", str(venv)], "creating the build venv")
    log("installing the app's dependencies and PyInstaller into the build environment")
    run([str(python), "-m", "pip", "install", "-q", *requirements], "pip install")
    stamp.write_text(wanted)
    return python


def freeze(python: Path) -> Path:
    log("freezing the app with PyInstaller (one folder)")
    started = time.monotonic()
    run(
        [str(python), "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(BUILD / "dist"), "--workpath", str(BUILD / "work"), str(SPEC)],
        "PyInstaller",
        cwd=ROOT,
    )  # fmt: skip
    log(f"frozen in {time.monotonic() - started:.0f} s")
    frozen: Path = BUILD / "dist" / deb_tree.PACKAGE
    return frozen


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def maintainer() -> str:
    """Debian's convention: DEBFULLNAME and DEBEMAIL name whoever builds the package."""
    name = os.environ.get("DEBFULLNAME", "Event Explorer developers")
    email = os.environ.get("DEBEMAIL", "event-explorer@localhost")
    return f"{name} <{email}>"


def package(frozen: Path, out: Path, compression: str, level: int) -> None:
    root = BUILD / "root"
    deb_tree.lay_out(frozen, root)
    depends = deb_depends.depends(root / deb_tree.INSTALL_DIR)
    log(f"Depends: {', '.join(depends)}")
    control = deb_tree.Control(
        version=deb_tree.debian_version(str(project()["version"])),
        architecture=architecture(),
        depends=depends,
        installed_kib=deb_tree.installed_kib(root),
        maintainer=maintainer(),
    )
    deb_tree.write_control(root, control)
    log(f"compressing ({compression} -{level})")
    started = time.monotonic()
    partial = out.with_suffix(".partial")
    run(
        ["dpkg-deb", "--build", "--root-owner-group", f"-Z{compression}", f"-z{level}",
         str(root), str(partial)],
        "dpkg-deb",
    )  # fmt: skip
    partial.replace(out)
    log(f"compressed in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build-deb", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="use this virtual environment to build")
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    parser.add_argument("--compression", choices=["xz", "gzip"], default="xz")
    # xz -1 makes a package 13% larger than xz's default -6 in a third of the CPU time
    # (65 vs 57 MB, 40 vs 115 s): the build is part of every clean test run.
    parser.add_argument(
        "--level", type=int, choices=range(10), default=1, metavar="0-9",
        help="compression level (default 1; 6 for the smallest package)",
    )  # fmt: skip
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    for tool in ("dpkg-deb", "readelf", "strip"):
        if shutil.which(tool) is None:
            print(f"build-deb: {tool} is needed (Debian/Ubuntu: dpkg, binutils)", file=sys.stderr)
            return 2
    version = deb_tree.debian_version(str(project()["version"]))
    out_dir: Path = args.out_dir.resolve()
    out = out_dir / f"{deb_tree.PACKAGE}_{version}_{architecture()}.deb"
    stamp = out.with_name(out.name + ".inputs")
    digest = inputs_digest()
    if not args.force and out.exists() and stamp.exists() and stamp.read_text() == digest:
        log(f"up to date (inputs unchanged since {out.name} was built)")
        print(out)
        return 0
    started = time.monotonic()
    try:
        python = build_venv(args.venv.resolve() if args.venv else None)
        frozen = freeze(python)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        package(frozen, out, args.compression, args.level)
    except (BuildError, deb_depends.DependsError) as exc:
        print(f"build-deb: {exc}", file=sys.stderr)
        return 1
    stamp.write_text(digest)
    size = out.stat().st_size / 1e6
    log(f"built {out.name}: {size:.1f} MB in {time.monotonic() - started:.0f} s")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
