"""Finding folds: built-ins, examples, entry points, the user's folder, ``--folds`` paths.

Where folds come from, lowest precedence first (a higher one wins a name clash, and
``FoldRegistry.for_topic`` prefers it):

1. built-ins (``merge``, ``events``);
2. the examples shipped in ``resources/folds``;
3. entry points in the group ``event_explorer.folds``: each names a module (all its
   ``@fold`` functions and classes), a decorated function or class, a FoldSpec, or a
   plain ``(state, event)`` callable (registered under the entry point's name);
4. every ``*.py`` in the user's folds folder (``<user config dir>/event-explorer/folds``);
5. files and folders given with ``--folds PATH``.

A fold file is compiled and executed from its source as a fresh module each time it
is (re)loaded, without writing bytecode caches next to it, so an edit is picked up even
within the same second.  Files whose names start with ``_`` or ``.`` are skipped.  A
file that fails to import becomes an entry in ``FoldLibrary.errors`` (one readable
line naming the file and the line, plus the traceback) instead of an exception; when
it fails on a reload, the folds of its last good version stay registered, so a
half-typed edit does not pull a fold from under an open view.  Whoever asked for a
file by name (``--folds``, File > Load folds) gets its failure as an error
(``given_errors``) and chooses among its folds first (``given_specs``).

``FoldWatcher.poll()`` (the GUI calls it from a timer) notices new, changed (mtime or
size) and deleted fold files and reloads them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import re
import sys
import traceback
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from app.replay.definitions import Definitions, Extras
from app.replay.folds import (
    FOLD_ATTR,
    FoldCollector,
    FoldRegistry,
    FoldSpec,
    Origin,
    class_fold,
)
from resources import example_folds_dir

ENTRY_POINT_GROUP = "event_explorer.folds"
APP_NAME = "event-explorer"
_MODULE_PREFIX = "_event_explorer_folds"


def user_folds_dir() -> Path:
    """Where a user drops fold files: ``<user config dir>/event-explorer/folds``."""
    return platformdirs.user_config_path(APP_NAME) / "folds"


def examples_dir() -> Path:
    """The example folds shipped with the app (``resources/folds``)."""
    return example_folds_dir()


@dataclass(frozen=True)
class FoldLoadError:
    """A fold source that could not be loaded.

    ``message`` is one readable line that names the file and the line to fix, e.g.
    ``my_fold.py, line 7: SyntaxError: expected ':'`` (what the CLI prints and the GUI
    shows); ``traceback`` is the whole story, for a details view.
    """

    source: str
    message: str
    traceback: str = ""
    line: int | None = None

    @classmethod
    def of(cls, path: Path, exc: BaseException) -> FoldLoadError:
        """The error of a fold file that raised ``exc`` while it was compiled or run."""
        line = _line_in_file(path, exc)
        where = path.name if line is None else f"{path.name}, line {line}"
        return cls(str(path), f"{where}: {_one_line(exc, path)}", _format_error(exc), line)


def _module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    return f"{_MODULE_PREFIX}.{stem}_{digest}"


def _format_error(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _one_line(exc: BaseException, path: Path | None = None) -> str:
    """``Type: message`` on one line (a message may span several)."""
    if isinstance(exc, SyntaxError) and exc.msg:
        # str() would append "(/full/path, line N)"; the caller names this file itself.
        text = exc.msg
        if exc.filename and exc.filename != str(path):  # a module the fold file imports
            text += f" ({Path(exc.filename).name}, line {exc.lineno})"
    else:
        text = str(exc)
    text = " ".join(text.split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _line_in_file(path: Path, exc: BaseException) -> int | None:
    """The line of ``path`` to look at: where the syntax error is, else the last line of
    the file the failure went through (the error may be raised deeper, in a library)."""
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == str(path):
            line = lineno
    return line


def load_fold_file(path: Path, origin: Origin = Origin.PATH) -> list[FoldSpec]:
    """Execute a fold file as a fresh module; the folds it defines, in order.

    Raises whatever the file raises (the library turns it into a FoldLoadError).
    """
    return load_definitions(path, origin).folds


def load_definitions(path: Path, origin: Origin = Origin.PATH) -> Definitions:
    """Execute a fold file as a fresh module: its folds, upcasters and snapshot adapters."""
    path = path.resolve()
    code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    name = _module_name(path)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    # In sys.modules while it runs and after: dataclasses, pickle and typing look
    # modules up by name.
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        with FoldCollector() as specs:
            exec(code, module.__dict__)
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise
    return Definitions.of(specs, str(path), origin)


def _unique(specs: Iterable[FoldSpec]) -> list[FoldSpec]:
    by_name: dict[str, FoldSpec] = {}
    for spec in specs:
        by_name[spec.name] = spec  # a name defined twice in one file: the last wins
    return list(by_name.values())


def specs_from_entry_point(ep: importlib.metadata.EntryPoint) -> list[FoldSpec]:
    """The folds an entry point provides (see the module doc for what it may name)."""
    with FoldCollector() as collected:
        obj = ep.load()
    dist = getattr(ep, "dist", None)
    source = f"entry point {ep.name}" + (f" ({dist.name})" if dist is not None else "")
    specs: list[FoldSpec]
    if isinstance(obj, FoldSpec):
        specs = [obj]
    elif isinstance(obj, types.ModuleType):
        specs = [s for s in collected if isinstance(s, FoldSpec)]
        # Already imported before (no decorator ran now): find its folds by attribute.
        specs += [
            found for value in vars(obj).values()
            if isinstance(found := getattr(value, FOLD_ATTR, None), FoldSpec)
        ]  # fmt: skip
    elif isinstance(getattr(obj, FOLD_ATTR, None), FoldSpec):
        specs = [getattr(obj, FOLD_ATTR)]
    elif isinstance(obj, type):
        specs = [FoldSpec(ep.name, ("*",), class_fold(obj))]
    elif callable(obj):
        specs = [FoldSpec(ep.name, ("*",), obj)]
    else:
        raise TypeError(f"entry point {ep.name} names {obj!r}, which is not a fold")
    return [spec.with_source(source, Origin.ENTRY_POINT) for spec in _unique(specs)]


def _fold_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p.resolve()
        for p in folder.glob("*.py")
        if p.is_file() and not p.name.startswith(("_", "."))
    )


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class FoldLibrary:
    """Every fold found, kept current: the registry plus what each file contributed.

    ``paths`` are the ``--folds`` arguments; ``user_dir`` overrides the user's folds
    folder (``None``: the platform default; tests pass a temporary folder), and
    ``use_user_dir``, ``use_examples`` and ``use_entry_points`` switch sources off.
    """

    paths: Sequence[str | Path] = ()
    user_dir: Path | None = None
    use_user_dir: bool = True
    use_examples: bool = True
    use_entry_points: bool = True
    registry: FoldRegistry = field(default_factory=FoldRegistry.with_builtins)
    errors: dict[str, FoldLoadError] = field(default_factory=dict)
    # The upcasters and snapshot adapters the same files define.
    extras: Extras = field(default_factory=Extras)
    _signatures: dict[Path, tuple[int, int] | None] = field(default_factory=dict)
    _chain_errors: set[str] = field(default_factory=set)

    def load(self) -> FoldLibrary:
        """(Re)discover everything from scratch."""
        self.registry = FoldRegistry.with_builtins()
        self.extras = Extras()
        self.errors = {}
        self._signatures = {}
        if self.use_entry_points:
            self._load_entry_points()
        for path, origin in self.fold_files().items():
            self._load_file(path, origin)
        for missing in self._missing_paths():
            self.errors[str(missing)] = FoldLoadError(
                str(missing), f"{missing}: no such file or folder"
            )
        self._check_chains()
        return self

    def _check_chains(self) -> None:
        """Upcaster chains with a gap, a cycle or a fork are refused: an error of each
        file that takes part (so a ``--folds`` file stops the command)."""
        for source in self._chain_errors:
            self.errors.pop(source, None)
        problems = self.extras.chain_problems()
        self._chain_errors = {s for s in problems if s not in self.errors}
        for source in self._chain_errors:
            where = source.rsplit("/", 1)[-1]
            self.errors[source] = FoldLoadError(source, f"{where}: {problems[source]}")

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                specs = specs_from_entry_point(ep)
            except Exception as exc:  # a broken plugin is reported, never fatal
                source = f"entry point {ep.name}"
                self.errors[source] = FoldLoadError(
                    source, f"{source}: {_one_line(exc)}", _format_error(exc)
                )
                continue
            for spec in specs:
                self.registry.register(spec)

    def _missing_paths(self) -> list[Path]:
        return [Path(p) for p in self.paths if not Path(p).exists()]

    def _given_files(self) -> set[str]:
        return {str(f) for f, origin in self.fold_files().items() if origin == Origin.PATH}

    def given_errors(self) -> list[FoldLoadError]:
        """The failures of what the user named (``--folds`` paths, File > Load folds):
        errors to report as such, unlike a broken file in the user's folder."""
        given = self._given_files() | {str(p) for p in self._missing_paths()}
        return [err for source, err in self.errors.items() if source in given]

    def given_specs(self) -> list[FoldSpec]:
        """The folds defined by the files the user named, in registry order."""
        given = self._given_files()
        return [s for s in self.registry.specs() if s.source in given]

    def fold_files(self) -> dict[Path, Origin]:
        """Every fold file in scope now, with the origin it counts as (highest wins)."""
        found: dict[Path, Origin] = {}
        scopes: list[tuple[list[Path], Origin]] = []
        if self.use_examples:
            scopes.append((_fold_files(examples_dir()), Origin.EXAMPLE))
        if self.use_user_dir:
            scopes.append((_fold_files(self.user_dir or user_folds_dir()), Origin.USER_FOLDER))
        for given in self.paths:
            p = Path(given)
            files = _fold_files(p) if p.is_dir() else [p.resolve()] if p.is_file() else []
            scopes.append((files, Origin.PATH))
        for files, origin in scopes:
            for f in files:
                found[f] = max(origin, found.get(f, origin))
        return found

    def _load_file(self, path: Path, origin: Origin) -> list[str]:
        self._signatures[path] = _signature(path)
        try:
            found = load_definitions(path, origin)
        except Exception as exc:  # the error entry is the report; old folds are kept
            self.errors[str(path)] = FoldLoadError.of(path, exc)
            return []
        self.errors.pop(str(path), None)
        self.registry.remove_source(str(path))
        self.extras.remove_source(str(path))
        self.extras.add(found)
        for spec in found.folds:
            self.registry.register(spec)
        return [s.name for s in found.folds]

    def reload_file(self, path: Path) -> list[str]:
        """Re-import one file (or forget it if it is gone); the fold names it now has."""
        path = path.resolve()
        origin = self.fold_files().get(path)
        if origin is None:
            self.forget_file(path)
            names: list[str] = []
        else:
            names = self._load_file(path, origin)
        self._check_chains()
        return names

    def forget_file(self, path: Path) -> None:
        self.registry.remove_source(str(path))
        self.extras.remove_source(str(path))
        self.errors.pop(str(path), None)
        self._signatures.pop(path, None)
        sys.modules.pop(_module_name(path), None)

    def changed_files(self) -> list[Path]:
        """Fold files added, modified or removed since they were last loaded."""
        current = {p: _signature(p) for p in self.fold_files()}
        changed = [p for p, sig in current.items() if self._signatures.get(p, ()) != sig]
        changed += [p for p in self._signatures if p not in current]
        return sorted(changed)

    def describe(self) -> list[dict[str, Any]]:
        """One row per fold, for ``event-explorer folds`` and the GUI's fold picker."""
        return [
            {
                "name": s.name,
                "topics": list(s.topics),
                "source": s.source,
                "origin": s.origin.name.lower().replace("_", " "),
                "description": s.description,
            }
            for s in self.registry.specs()
        ]


def discover_folds(
    paths: Sequence[str | Path] = (),
    *,
    user_dir: Path | None = None,
    use_user_dir: bool = True,
    use_examples: bool = True,
    use_entry_points: bool = True,
) -> FoldLibrary:
    """Find every fold (see the module doc); the library's ``registry`` has them."""
    library = FoldLibrary(
        paths=tuple(paths),
        user_dir=user_dir,
        use_user_dir=use_user_dir,
        use_examples=use_examples,
        use_entry_points=use_entry_points,
    )
    return library.load()


class FoldWatcher:
    """Reloads fold files that changed; ``poll()`` is cheap enough for a 1 s timer."""

    def __init__(self, library: FoldLibrary) -> None:
        self.library = library

    def poll(self) -> list[Path]:
        """Reload what changed since the last load; the paths reloaded or dropped."""
        changed = self.library.changed_files()
        for path in changed:
            self.library.reload_file(path)
        return changed
