"""Client properties as Kafka users write them: a Java ``.properties`` file (kcat ``-F``,
Java's ``client.properties``) and kcat-style ``-X key=value`` options.

The file is read as ``java.util.Properties.load`` reads it, so a file that works with
the Java client works here: ``key=value``, ``key: value`` and ``key value``, ``#`` and
``!`` comments, ``\\`` line continuations and escapes (``\\t``, ``\\uXXXX``, ``\\=``...).
Values are trimmed, as the Java client's ConfigDef trims them.  No error message ever
repeats a value: a mistyped line may hold a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from kafka_io.sensitive import is_secret

_WHITESPACE = " \t\f"  # what java.util.Properties counts as whitespace
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_NAME_END = re.compile(r"[=:\s]")


class ProfileError(ValueError):
    """A profile that cannot be used as given (bad -X syntax, unreadable file)."""


def parse_properties(text: str) -> dict[str, str]:
    """Parse the text of a Java properties file into a mapping (the last key wins)."""
    props: dict[str, str] = {}
    for lineno, line in _logical_lines(text):
        raw_key, raw_value = _split(line)
        try:
            key = _unescape(raw_key)
            value = _unescape(raw_value).strip()
        except ValueError as exc:
            raise ProfileError(f"line {lineno}{_naming(raw_key)}: {exc}") from None
        if not key:
            raise ProfileError(f"line {lineno}: a value with no property name before it")
        props[key] = value
    return props


def parse_x_options(options: Iterable[str]) -> dict[str, str]:
    """Parse kcat-style ``-X key=value`` arguments.

    Only ``=`` separates: ``-X sasl.password:pw`` is a typo to report, not a property
    named ``sasl.password:pw`` to send to librdkafka (whose error would echo it).
    """
    props: dict[str, str] = {}
    for opt in options:
        key, sep, value = opt.partition("=")
        name = key.strip()
        if sep and name and not _NAME_END.search(name):
            props[name] = value
            continue
        raise ProfileError(_bad_option(opt))
    return props


def _bad_option(opt: str) -> str:
    name = _NAME_END.split(opt.strip(), maxsplit=1)[0]
    if not name:
        return "-X with no property name before '=': expected -X key=value"
    if is_secret(name, opt):
        return f"-X {name}...: expected -X {name}=VALUE (the rest is not shown: it may be a secret)"
    return f"-X {opt!r}: expected -X key=value"


def _naming(raw_key: str) -> str:
    """`` (key)`` for an error message, unless the key itself looks secret-bearing."""
    return "" if not raw_key or is_secret(raw_key, raw_key) else f" ({raw_key})"


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, logical line) for every line that is not blank or a comment.

    A line ending in an odd number of backslashes continues on the next one, whose
    leading whitespace is dropped; a comment line never continues.
    """
    lines = _LINE_BREAK.split(text)
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i].lstrip(_WHITESPACE)
        i += 1
        if not line or line[0] in "#!":
            continue
        parts = []
        while _continues(line):
            parts.append(line[:-1])
            if i >= len(lines):
                line = ""
                break
            line = lines[i].lstrip(_WHITESPACE)
            i += 1
        parts.append(line)
        yield lineno, "".join(parts)


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _split(line: str) -> tuple[str, str]:
    """Key and value of a logical line, both still escaped.

    The key ends at the first unescaped ``=``, ``:`` or whitespace; whitespace, then at
    most one ``=`` or ``:``, then whitespace again separate it from the value.
    """
    n = len(line)
    key_end = n
    has_sep = False
    escaped = False
    for i, c in enumerate(line):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in "=:" or c in _WHITESPACE:
            key_end = i
            has_sep = c in "=:"
            break
    start = key_end + 1
    while start < n and line[start] in _WHITESPACE:
        start += 1
    if not has_sep and start < n and line[start] in "=:":
        start += 1
        while start < n and line[start] in _WHITESPACE:
            start += 1
    return line[:key_end], line[start:]


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        i += 1
        if c != "\\" or i >= n:
            out.append(c)
            continue
        c = text[i]
        i += 1
        if c == "u":
            digits = text[i : i + 4]
            if len(digits) < 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("malformed \\uXXXX escape")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    return "".join(out)
