"""Which Debian packages a frozen bundle needs: those that own the system libraries its
ELF files link to.

Every ELF file names the libraries it needs (``DT_NEEDED``).  Those the bundle does not
carry itself come from the system: each is found as the dynamic loader finds it
(``ldconfig``'s cache) and ``dpkg -S`` names the package that owns that file.  A library
the build machine does not have cannot be mapped to a package, so the build stops and
names it rather than ship a package that would not start.
"""

from __future__ import annotations

import platform
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_CACHE_LINE = re.compile(r"^\s*(\S+) \(([^)]*)\) => (\S+)$")


class DependsError(Exception):
    """The bundle needs a library that the build machine cannot map to a package."""


@dataclass(frozen=True)
class SystemLibrary:
    soname: str
    path: str
    package: str
    needed_by: tuple[str, ...]


def elf_files(root: Path) -> list[Path]:
    """Regular files under ``root`` that are ELF objects (executables, libraries)."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed_by_file(files: list[Path]) -> dict[Path, list[str]]:
    """The ``DT_NEEDED`` sonames of each file (one ``readelf`` run for all)."""
    result: dict[Path, list[str]] = {path: [] for path in files}
    if not files:
        return result
    done = subprocess.run(
        ["readelf", "--wide", "--dynamic", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    current: Path | None = None
    by_name = {str(path): path for path in files}
    for line in done.stdout.splitlines():
        if line.startswith("File: "):
            current = by_name.get(line[len("File: ") :].strip())
            continue
        match = _NEEDED.search(line)
        if match:
            # With a single file readelf prints no "File:" header.
            target = current if current is not None else files[0]
            result[target].append(match.group(1))
    return result


def loader_cache() -> dict[str, str]:
    """soname -> path, for this machine's architecture, from ``ldconfig -p``."""
    out = subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout
    # ldconfig marks 64-bit libraries "x86-64" or "AArch64"; others are 32-bit multiarch.
    mark = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(platform.machine(), "")
    cache: dict[str, str] = {}
    for line in out.splitlines():
        match = _CACHE_LINE.match(line)
        if match and mark in match.group(2):
            cache.setdefault(match.group(1), match.group(3))
    return cache


def _candidates(path: str) -> list[str]:
    """With merged /usr, dpkg may know a file by its /lib or its /usr/lib name."""
    real = str(Path(path).resolve())
    names = [path, real]
    for name in (path, real):
        if name.startswith("/usr/lib"):
            names.append(name[len("/usr") :])
        elif name.startswith("/lib"):
            names.append("/usr" + name)
    return list(dict.fromkeys(names))


def owning_packages(paths: list[str]) -> dict[str, str]:
    """path -> the package that installed it (without its architecture), for the paths
    dpkg knows (one ``dpkg -S`` run for all)."""
    names = {name: path for path in paths for name in _candidates(path)}
    if not names:
        return {}
    done = subprocess.run(
        ["dpkg", "-S", *names], capture_output=True, text=True, check=False
    )  # exits 1 when some name is unknown: those are simply not in the answer
    owners: dict[str, str] = {}
    for line in done.stdout.splitlines():
        packages, sep, name = line.partition(": ")
        if sep and name in names:
            owners.setdefault(names[name], packages.split(",")[0].split(":")[0].strip())
    return owners


def system_libraries(root: Path) -> list[SystemLibrary]:
    """The libraries the bundle under ``root`` needs from the system, with their packages.

    Raises DependsError naming every library that is missing or owned by no package.
    """
    files = elf_files(root)
    bundled = {path.name for path in root.rglob("*") if ".so" in path.name}
    users: dict[str, list[str]] = defaultdict(list)
    for path, sonames in needed_by_file(files).items():
        for soname in sonames:
            if soname not in bundled:
                users[soname].append(str(path.relative_to(root)))
    cache = loader_cache()
    owners = owning_packages([cache[soname] for soname in users if soname in cache])
    found: list[SystemLibrary] = []
    problems: list[str] = []
    for soname in sorted(users):
        needers = tuple(sorted(users[soname]))
        location = cache.get(soname)
        if location is None:
            problems.append(f"{soname} (needed by {needers[0]}) is not installed")
            continue
        package = owners.get(location)
        if package is None:
            problems.append(f"{soname} ({location}) belongs to no Debian package")
            continue
        found.append(SystemLibrary(soname, location, package, needers))
    if problems:
        raise DependsError(
            "cannot tell which packages the app needs: "
            + "; ".join(problems)
            + ". Install the packages that ship these libraries on the build machine"
            " (apt-cache search NAME) and build again."
        )
    return found


def depends(root: Path) -> list[str]:
    """The packages to declare in ``Depends:``, sorted."""
    return sorted({library.package for library in system_libraries(root)})
