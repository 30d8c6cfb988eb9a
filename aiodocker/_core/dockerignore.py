""".dockerignore parsing and matching with the docker CLI's classic-builder semantics.

Layer: ``_core``. Imports only the standard library.

The rules (taken from the Docker documentation and the behaviour of the CLI's
pattern matcher, written here from those facts):

* A line whose first column is ``#`` is a comment; every other line is
  trimmed of white space, and blank lines are skipped. A UTF-8 byte-order
  mark on the first line is dropped.
* A leading ``!`` makes the line an exception (re-inclusion). The rest of the
  line is cleaned like Go's ``filepath.Clean`` and a leading ``/`` is dropped,
  so ``/foo``, ``./foo`` and ``foo/`` all mean ``foo``.
* Globs are Go's ``filepath.Match`` (``*`` and ``?`` never match ``/``,
  ``[...]`` classes negated by ``^``, ``\\`` escapes) plus ``**``: ``**/`` at
  the start or in the middle matches any number of directories (including
  none) and a trailing ``**`` matches anything. A pattern that starts with
  ``**`` followed only by literal text matches any path that *ends* with that
  text (``**.log`` matches ``app.log`` and ``a/b.log``), as the CLI does.
* A pattern excludes a path when it matches the path or any of its parent
  directories; patterns are evaluated in order and the last one that matches
  decides, so a later ``!`` line re-includes.
* When the tree is walked, an excluded directory is still entered (though not
  itself sent) if some exception pattern, read literally, lies below it:
  ``!dir/keep`` lets the walk find ``dir/keep``, but ``!**/keep`` does not
  rescue files under an excluded directory. :meth:`IgnoreMatcher.may_reinclude_below`
  answers that question and :meth:`IgnoreMatcher.match_in_walk` carries the
  per-pattern results of the parent directory down, exactly like the CLI's walk.

Deliberate differences: an escaped letter (``\\d``) matches that letter
literally (the CLI hands it to Go's regexp, where ``\\d`` means a digit), and a
``*`` or ``?`` inside ``[...]`` is a class member. Both only matter for
patterns nobody writes on purpose.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = (
    "IgnoreMatcher",
    "IgnorePattern",
    "MatchState",
    "clean_path",
    "parse_dockerignore",
)

#: Per-pattern "this pattern matched the directory (or one of its parents)" flags.
MatchState = tuple[bool, ...]

_BOM: Final = "\ufeff"
# Go's unicode.IsSpace: the characters strings.TrimSpace removes.
_GO_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Characters that are special in a regular expression but plain in a glob.
_REGEX_ONLY_SPECIAL: Final = frozenset(".+()|{}$")

_EXACT: Final = "exact"
_PREFIX: Final = "prefix"
_SUFFIX: Final = "suffix"
_REGEX: Final = "regex"


def _trim(text: str) -> str:
    return text.strip(_GO_SPACE)


def clean_path(path: str) -> str:
    """Return the shortest equivalent slash-separated path, as Go's ``filepath.Clean`` does."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def parse_dockerignore(text: str) -> list[str]:
    """Turn the text of a ``.dockerignore`` file into the CLI's list of patterns."""
    patterns: list[str] = []
    for number, raw_line in enumerate(text.split("\n")):
        line = raw_line[:-1] if raw_line.endswith("\r") else raw_line
        if number == 0 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if line.startswith("#"):
            continue
        line = _trim(line)
        if not line:
            continue
        exception = line.startswith("!")
        if exception:
            line = _trim(line[1:])
        if line:
            line = clean_path(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if exception else line)
    return patterns


def _check_glob_syntax(pattern: str) -> None:
    """Raise ValueError where Go's ``filepath.Match`` reports ``ErrBadPattern``."""

    def bad(reason: str) -> ValueError:
        return ValueError(f"invalid .dockerignore pattern {pattern!r}: {reason}")

    def class_char(pos: int) -> int:
        # One (possibly escaped) character of a class; return the position after it.
        if pos >= len(pattern) or pattern[pos] in "-]":
            raise bad("malformed character class")
        if pattern[pos] == "\\":
            pos += 1
            if pos >= len(pattern):
                raise bad("unterminated character class")
        pos += 1
        if pos >= len(pattern):
            raise bad("unterminated character class")
        return pos

    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "\\":
            if pos + 1 >= len(pattern):
                raise bad("trailing backslash")
            pos += 2
        elif char == "[":
            pos += 1
            if pos < len(pattern) and pattern[pos] == "^":
                pos += 1
            ranges = 0
            while True:
                if pos < len(pattern) and pattern[pos] == "]" and ranges > 0:
                    pos += 1
                    break
                pos = class_char(pos)
                if pattern[pos] == "-":
                    pos = class_char(pos + 1)
                ranges += 1
        else:
            pos += 1


def _translate(pattern: str) -> tuple[str, re.Pattern[str] | None]:
    """Compile a cleaned pattern into (kind, regex) following the CLI's translation."""
    kind = _EXACT
    out: list[str] = []
    pos = 0
    step = 0
    end = len(pattern)
    while pos < end:
        char = pattern[pos]
        pos += 1
        if char == "*":
            if pos < end and pattern[pos] == "*":
                pos += 1
                if pos < end and pattern[pos] == "/":
                    pos += 1
                if pos >= end:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        out.append(".*")
                        kind = _REGEX
                else:
                    out.append("(?:.*/)?")
                    kind = _REGEX
                if step == 0:
                    kind = _SUFFIX
            else:
                out.append("[^/]*")
                kind = _REGEX
        elif char == "?":
            out.append("[^/]")
            kind = _REGEX
        elif char in _REGEX_ONLY_SPECIAL:
            out.append("\\" + char)
        elif char == "\\":
            # The syntax check guarantees a following character.
            out.append(re.escape(pattern[pos]))
            pos += 1
            kind = _REGEX
        elif char in "[]":
            out.append(char)
            kind = _REGEX
        else:
            out.append(char)
        step += 1
    if kind != _REGEX:
        return kind, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set" for "[[]"
        try:
            return kind, re.compile("".join(out))
        except re.error as exc:
            raise ValueError(f"invalid .dockerignore pattern {pattern!r}: {exc}") from None


@dataclass(frozen=True)
class IgnorePattern:
    """One compiled pattern: ``text`` is the cleaned glob without its ``!``."""

    text: str
    exception: bool
    _kind: str
    _regex: re.Pattern[str] | None

    @classmethod
    def compile(cls, raw: str) -> IgnorePattern | None:
        """Compile one pattern line as the CLI's matcher does; None for a blank one."""
        text = _trim(raw)
        if not text:
            return None
        text = clean_path(text)
        exception = text.startswith("!")
        if exception:
            if len(text) == 1:
                raise ValueError("illegal exclusion pattern: '!'")
            text = text[1:]
        _check_glob_syntax(text)
        kind, regex = _translate(text)
        return cls(text, exception, kind, regex)

    def match(self, path: str) -> bool:
        """Return whether this pattern matches the slash-separated ``path`` itself."""
        if self._kind == _EXACT:
            return path == self.text
        if self._kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if self._kind == _SUFFIX:
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None

    def __str__(self) -> str:
        return ("!" if self.exception else "") + self.text


class IgnoreMatcher:
    """Decide which context paths a ``.dockerignore`` excludes.

    ``IgnoreMatcher(text)`` parses the file's text; :meth:`from_patterns` takes
    already-parsed pattern lines (the CLI's ``ExcludePatterns``).

    Raises:
        ValueError: a pattern is malformed (a bare ``!``, an unterminated
            ``[``, a trailing backslash, a reversed range).
    """

    __slots__ = ("_patterns", "_has_exceptions")

    def __init__(self, text: str = "") -> None:
        self._init(parse_dockerignore(text))

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> IgnoreMatcher:
        """Build a matcher from pattern lines (``!`` prefix for exceptions)."""
        matcher = cls.__new__(cls)
        matcher._init(patterns)
        return matcher

    def _init(self, patterns: Iterable[str]) -> None:
        compiled = [IgnorePattern.compile(raw) for raw in patterns]
        self._patterns: tuple[IgnorePattern, ...] = tuple(p for p in compiled if p is not None)
        self._has_exceptions = any(p.exception for p in self._patterns)

    @property
    def patterns(self) -> tuple[IgnorePattern, ...]:
        """The compiled patterns, in file order."""
        return self._patterns

    @property
    def has_exceptions(self) -> bool:
        """Whether any pattern is a ``!`` exception."""
        return self._has_exceptions

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def __repr__(self) -> str:
        return f"IgnoreMatcher({[str(p) for p in self._patterns]!r})"

    def extended(self, *patterns: str) -> IgnoreMatcher:
        """Return a matcher with ``patterns`` appended."""
        return IgnoreMatcher.from_patterns([*map(str, self._patterns), *patterns])

    def matches(self, relpath: str) -> bool:
        """Return whether the patterns exclude ``relpath`` (relative to the context root).

        This is the CLI's stateless rule (a pattern matching the path or any
        parent counts), which the CLI uses to decide whether the Dockerfile and
        ``.dockerignore`` must be re-included. Its archive walk instead uses
        :meth:`match_in_walk`, which differs for a few contrived pattern orders
        (``a``, ``!a/b``, ``a``); the build context module follows the walk.
        """
        path = clean_path(relpath)
        if path == ".":
            return False
        parents = path.split("/")[:-1]
        prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        matched = False
        for pattern in self._patterns:
            if pattern.exception != matched:
                continue
            hit = pattern.match(path) or any(pattern.match(p) for p in prefixes)
            if hit:
                matched = not pattern.exception
        return matched

    def match_in_walk(self, relpath: str, parent: MatchState | None) -> tuple[bool, MatchState]:
        """Match one entry of a top-down walk, reusing its directory's results.

        ``parent`` is the state returned for the directory that holds
        ``relpath`` (None for entries of the context root). Returns whether the
        entry is excluded and the state to pass to its own children.
        """
        if parent is None:
            parents = relpath.split("/")[:-1]
            prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        else:
            prefixes = []
        matched = False
        state: list[bool] = []
        for index, pattern in enumerate(self._patterns):
            hit = parent[index] if parent is not None else False
            if not hit:
                if pattern.exception != matched:
                    state.append(False)
                    continue
                hit = pattern.match(relpath) or any(pattern.match(p) for p in prefixes)
            state.append(hit)
            if hit:
                matched = not pattern.exception
        return matched, tuple(state)

    def may_reinclude_below(self, dirpath: str) -> bool:
        """Return whether an excluded directory must still be walked for exceptions."""
        if not self._has_exceptions:
            return False
        prefix = dirpath + "/"
        return any(p.exception and (p.text + "/").startswith(prefix) for p in self._patterns)
