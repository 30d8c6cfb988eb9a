"""Compose's dotenv syntax, for ``.env``, ``--env-file`` and a service's ``env_file``.

- ``KEY=VALUE`` or ``KEY: VALUE``, optionally after ``export``; blanks around are trimmed;
- ``#`` starts a comment at the start of a line, or after a blank in an unquoted value;
- single quotes keep the text as it is, across lines;
- double quotes read ``\\n``, ``\\t``, ``\\"``, ``\\\\`` and ``\\$`` escapes, span lines, and
  interpolate;
- an unquoted value is interpolated;
- a bare ``KEY`` takes the value ``KEY`` has in the environment, and is skipped without one.

Interpolation looks in the environment first, then in the keys read above in the file.
"""

from __future__ import annotations

from collections.abc import Callable

from ._errors import ComposeError
from ._interpolate import InterpolationError, substitute

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_dotenv(
    text: str, lookup: Callable[[str], str | None], *, file: str | None = None, interpolate: bool = True
) -> dict[str, str]:
    """Parse ``text`` (dotenv syntax) into a mapping; ``lookup`` gives the environment."""
    result: dict[str, str] = {}

    def resolve(name: str) -> str | None:
        value = lookup(name)
        return value if value is not None else result.get(name)

    def expand(raw: str) -> str:
        if not interpolate:
            return raw
        try:
            return substitute(raw, resolve)
        except InterpolationError as exc:
            raise ComposeError(str(exc), file=file) from None

    i = 0
    n = len(text)
    line_no = 1
    while i < n:
        # skip blank space and comment lines
        while i < n and text[i] in " \t\r\n":
            if text[i] == "\n":
                line_no += 1
            i += 1
        if i >= n:
            break
        if text[i] == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        end_of_line = text.find("\n", i)
        if end_of_line < 0:
            end_of_line = n
        line = text[i:end_of_line]
        if line.startswith("export ") or line.startswith("export\t"):
            i += 7
            line = line[7:]
        eq = min((p for p in (line.find("="), line.find(":")) if p >= 0), default=-1)
        if eq < 0:
            key = line.strip()
            if key.split("#", 1)[0].strip() != key or not key or any(c in key for c in " \t"):
                raise ComposeError(f"line {line_no}: unexpected character in variable name {key!r}", file=file)
            value = lookup(key)
            if value is not None:
                result[key] = value
            i = end_of_line
            continue
        key = line[:eq].strip()
        if not key or any(c in key for c in " \t'\"$"):
            raise ComposeError(f"line {line_no}: invalid variable name {key!r}", file=file)
        i += eq + 1
        while i < n and text[i] in " \t":
            i += 1
        quote = text[i] if i < n else ""
        if quote in ("'", '"'):
            raw, j, line_no = _quoted(text, i, line_no, file)
            value = expand(raw) if quote == '"' else raw
            nl = text.find("\n", j + 1)
            i = n if nl < 0 else nl
        else:
            value = expand(_uncommented(text[i:end_of_line]))
            i = end_of_line
        result[key] = value
    return result


def _quoted(text: str, start: int, line_no: int, file: str | None) -> tuple[str, int, int]:
    """The quoted value at ``text[start]`` (its quote): its text, the closing quote's
    index and the line number there.

    Raises:
        ComposeError: the closing quote is missing.
    """
    quote = text[start]
    n = len(text)
    j = start + 1
    chunks: list[str] = []
    while True:
        if j >= n:
            raise ComposeError(f"line {line_no}: unterminated quoted value", file=file)
        c = text[j]
        if c == quote:
            return "".join(chunks), j, line_no
        if c == "\\" and quote == '"' and j + 1 < n:
            nxt = text[j + 1]
            if nxt in _ESCAPES:
                # `\$` stays escaped through interpolation
                chunks.append("$$" if nxt == "$" else _ESCAPES[nxt])
                j += 2
                continue
        if c == "\n":
            line_no += 1
        chunks.append(c)
        j += 1


def _uncommented(raw_line: str) -> str:
    """An unquoted value without its comment (a ``#`` at its start or after a blank)."""
    cut = len(raw_line)
    for k, c in enumerate(raw_line):
        if c == "#" and (k == 0 or raw_line[k - 1] in " \t"):
            cut = k
            break
    return raw_line[:cut].strip()


def parse_raw(text: str) -> dict[str, str]:
    """``env_file`` with ``format: raw``: ``KEY=VALUE`` lines taken as written (quotes and ``$`` kept)."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        result[key.strip()] = value
    return result


def read_dotenv(
    path: str, lookup: Callable[[str], str | None], *, interpolate: bool = True, raw: bool = False
) -> dict[str, str]:
    """Read and parse the dotenv file ``path`` (``raw``: no quoting rules, no interpolation).

    Raises:
        ComposeError: the file cannot be read or is malformed.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError as exc:
        raise ComposeError(f"cannot read env file: {exc.strerror or exc}", file=path) from None
    if raw:
        return parse_raw(text)
    return parse_dotenv(text, lookup, file=path, interpolate=interpolate)
