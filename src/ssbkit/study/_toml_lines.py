"""Reading TOML with positions: where each table and key starts, and checks that name it.

The standard library's ``tomllib`` returns plain values with no positions, and the one
TOML library that keeps them (tomlkit) would be a dependency for a single feature. So
``TomlLines`` scans the text once more, after ``tomllib`` has accepted it: it follows table
headers (``[study]``, ``[samples.milling]``), array-of-tables headers (``[[measurements]]``,
counted from 0 per array) and ``key = value`` lines, and skips comments, strings (basic,
literal and multi-line) and the continuation lines of multi-line arrays, so a ``#``, ``=``
or ``[`` inside a string or comment never looks like a key or a header.

A location is the path of keys as ``tomllib`` would index the parsed document, with the
index of an array-of-tables element in it: ``("measurements", 2, "file")`` is the ``file``
key of the third ``[[measurements]]``. ``TomlLines.line`` falls back to the nearest enclosing
location when the exact one was never written (a key inside an inline table, a key that is
missing): the header of its table, then line 1.

``Checker`` reads tables against a schema of ``Key`` rules (a check per key, required or
not, a help text with the unit) and raises ``InputError("<file>:<line>: <where>: <what>")``;
the value checks (``text``, ``number``, ``positive``, ...) are strict about TOML types (a
quoted number is not a number, and neither is ``true``). Values come back JSON-safe and
read-only (``plain``): tables as ``ReadOnlyDict``, arrays as tuples, dates as ISO text.

>>> doc = '''[study]
... name = "a # b = [c]"   # a comment with = and [
... [[pellets]]
... id = "P1"
... [[pellets]]
... id = "P2"
... [pellets.settings]
... circuit = "R0-CPE1"
... '''
>>> lines = TomlLines(doc)
>>> lines.line("study", "name"), lines.line("pellets", 1), lines.line("pellets", 1, "settings", "circuit")
(2, 5, 8)
>>> lines.line("pellets", 1, "thickness_mm")   # never written: its table's header
5
>>> import tomllib
>>> schema = {"id": Key(text, "the pellet id", required=True), "thickness_mm": Key(positive, "> 0, mm"),
...           "settings": Key(table, "analysis settings")}
>>> checker = Checker("study.toml", lines)
>>> row = checker.rows(tomllib.loads(doc), "pellets", schema)[1]
>>> row.where, row.values["settings"]
("pellets[1] 'P2'", {'circuit': 'R0-CPE1'})
>>> checker.table({"id": "P3", "thickness_mm": -1}, schema, ("pellets", 1), "pellets[1] 'P3'")
Traceback (most recent call last):
...
ssbkit.core.errors.InputError: study.toml:5: pellets[1] 'P3': thickness_mm: must be > 0, got -1
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ssbkit.core import validate
from ssbkit.core.errors import InputError

__all__ = ["Checker", "Key", "ReadOnlyDict", "Row", "TomlLines", "celsius", "choice", "date", "flag",
           "fraction", "number", "numbers", "percent", "plain", "positive", "suggest", "table", "text",
           "texts", "thaw"]

Location = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class TomlLines:
    """The 1-based line where each table, array element and key of ``text`` starts.

    ``text`` must be TOML that ``tomllib`` accepts; on anything else the lines are a best
    effort (never an exception, since they only decorate an error message).
    """

    def __init__(self, text: str) -> None:
        try:
            self._lines = _scan(text)
        except (ValueError, IndexError, tomllib.TOMLDecodeError):
            self._lines = {}

    def line(self, *location: str | int) -> int:
        """The line of ``location``, else of its nearest enclosing table, else 1."""
        key = tuple(location)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return 1

    def __contains__(self, location: object) -> bool:
        return location in self._lines


def _scan(text: str) -> dict[Location, int]:
    found: dict[Location, int] = {}
    arrays: dict[Location, int] = {}  # an array of tables -> index of its latest element
    table: Location = ()
    value = _ValueScanner()
    # tomllib counts lines by "\n" only; str.splitlines would also split at U+2028 and the
    # like, which TOML allows inside strings and comments.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if value.open:
            value.feed(line, 0)
            continue
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            keys, _ = _read_key(stripped, 2)
            array = _resolve(keys, arrays, last_is_array=True)
            arrays[array] = arrays.get(array, -1) + 1
            table = (*array, arrays[array])
            found.setdefault(array, number)
            found[table] = number
        elif stripped.startswith("["):
            keys, _ = _read_key(stripped, 1)
            table = _resolve(keys, arrays)
            _record(found, (), table, number)
        else:
            keys, end = _read_key(stripped, 0)
            _record(found, table, keys, number)
            value.feed(stripped, stripped.index("=", end) + 1)
    return found


def _record(found: dict[Location, int], table: Location, keys: Location, number: int) -> None:
    """Give ``table + keys`` and the implicit tables on the way (``a.b = 1`` makes ``a``) a line."""
    path = (*table, *keys)
    for end in range(len(table) + 1, len(path) + 1):
        found.setdefault(path[:end], number)


def _resolve(keys: tuple[str, ...], arrays: dict[Location, int], *, last_is_array: bool = False) -> Location:
    """A header's key path with the current element index after every array of tables in it."""
    path: Location = ()
    for position, key in enumerate(keys):
        path = (*path, key)
        is_last = position == len(keys) - 1
        if path in arrays and not (is_last and last_is_array):
            path = (*path, arrays[path])
    return path


def _read_key(text: str, pos: int) -> tuple[tuple[str, ...], int]:
    """The dotted key that starts at ``pos`` (bare or quoted parts) and where it ends."""
    keys: list[str] = []
    while True:
        pos = _skip_blank(text, pos)
        if text.startswith('"', pos):
            end = _end_of_basic(text, pos + 1)
            # A basic string's escapes are decoded exactly as tomllib decodes them.
            keys.append(tomllib.loads(f"k = {text[pos:end]}")["k"])
            pos = end
        elif text.startswith("'", pos):
            end = text.index("'", pos + 1)
            keys.append(text[pos + 1:end])
            pos = end + 1
        else:
            match = _BARE_KEY.match(text, pos)
            if match is None:
                raise ValueError(f"no key at column {pos + 1}")
            keys.append(match.group())
            pos = match.end()
        pos = _skip_blank(text, pos)
        if not text.startswith(".", pos):
            return tuple(keys), pos
        pos += 1


def _skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _end_of_basic(text: str, pos: int) -> int:
    """Index just past the closing quote of a one-line basic string whose body starts at ``pos``."""
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
        elif text[pos] == '"':
            return pos + 1
        else:
            pos += 1
    raise ValueError("unterminated string")


def _end_of_run(text: str, pos: int, quote: str) -> int:
    """Past a closing triple quote, which may carry up to two quotes of the content before it."""
    end = pos
    while end < len(text) and text[end] == quote and end - pos < 5:
        end += 1
    return end


class _ValueScanner:
    """Follows a value across lines: open multi-line strings and unclosed brackets."""

    def __init__(self) -> None:
        self.string: str | None = None  # '"""' or "'''" while inside a multi-line string
        self.depth = 0  # open [ and { outside strings

    @property
    def open(self) -> bool:
        return self.string is not None or self.depth > 0

    def feed(self, text: str, pos: int) -> None:
        while pos < len(text):
            if self.string is not None:
                if self.string == '"""' and text[pos] == "\\":
                    pos += 2
                elif text.startswith(self.string, pos):
                    pos = _end_of_run(text, pos, self.string[0])
                    self.string = None
                else:
                    pos += 1
                continue
            char = text[pos]
            if char == "#":
                return
            if text.startswith('"""', pos) or text.startswith("'''", pos):
                self.string = text[pos:pos + 3]
                pos += 3
            elif char == '"':
                pos = _end_of_basic(text, pos + 1)
            elif char == "'":
                pos = text.index("'", pos + 1) + 1
            else:
                if char in "[{":
                    self.depth += 1
                elif char in "]}":
                    self.depth -= 1
                pos += 1


# -- values ---------------------------------------------------------------------------------
class ReadOnlyDict(dict):  # a dict subclass, so json.dumps and SQLAlchemy's JSON take it
    """A ``dict`` that refuses changes; it pickles (to Dask workers) and dumps to JSON as a dict."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("manifest values are read-only; copy with dict(...) to change them")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))


def plain(value: Any, key: str = "value") -> Any:
    """A value as read by ``tomllib``, JSON-safe and read-only; NaN and infinity are refused."""
    if isinstance(value, dict):
        return ReadOnlyDict({k: plain(v, f"{key}.{k}") for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(plain(v, f"{key}[{i}]") for i, v in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", source=key)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def thaw(value: Any) -> Any:
    """A ``plain`` value as ordinary dicts and lists (a copy the caller may change)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def suggest(word: Any, choices: Iterable[Any], *, list_all: bool = False) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, else (with ``list_all``) the choices."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if not list_all:
        return ""
    more = f" and {len(options) - 10} more" if len(options) > 10 else ""
    return f"; known: {', '.join(options[:10]) or 'none'}{more}"


# -- value checks: (key, value) -> the value, or InputError naming the key --------------------
def _type_name(value: Any) -> str:
    return {bool: "a boolean", str: "a string", dict: "a table", list: "an array"}.get(
        type(value), type(value).__name__)


def text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"must be a non-empty string, got {value!r}", source=key)
    return value


def number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"must be a number, got {_type_name(value)} {value!r}", source=key)
    return validate.finite(key, value)


# The range checks get the value as written, so that messages quote it ("got -1", not -1.0).
def positive(key: str, value: Any) -> float:
    number(key, value)
    return validate.positive(key, value)


def percent(key: str, value: Any) -> float:
    number(key, value)
    return validate.in_range(key, value, 0, 100, low_inclusive=False)


def fraction(key: str, value: Any) -> float:
    number(key, value)
    return validate.in_range(key, value, 0, 1, low_inclusive=False)


def celsius(key: str, value: Any) -> float:
    if number(key, value) < -273.15:
        raise InputError(f"must be ≥ -273.15 °C (absolute zero), got {value!r}", source=key)
    return float(value)


def flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"must be true or false, got {value!r}", source=key)
    return value


def table(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"must be a table ({{ key = value, ... }}), got {_type_name(value)}", source=key)
    return value


def date(key: str, value: Any) -> str:
    """A date as text (``"2026-03-01"``) or a TOML date (``2026-03-01``), kept as ISO text."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return text(key, value)


def _array_of(check: Callable[[str, Any], Any]) -> Callable[[str, Any], tuple[Any, ...]]:
    def checked(key: str, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise InputError(f"must be an array [..., ...], got {_type_name(value)} {value!r}", source=key)
        return tuple(check(f"{key}[{i}]", v) for i, v in enumerate(value))
    return checked


texts = _array_of(text)
numbers = _array_of(number)


def choice(*choices: str) -> Callable[[str, Any], str]:
    """A check that accepts one of ``choices`` (any case) and returns its spelling here."""
    def checked(key: str, value: Any) -> str:
        return validate.one_of(key, value, choices)
    return checked


# -- tables against a schema ----------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    """The rule of one key: its check, a help text (what it is, its unit), whether it is
    required, and for a sub-table the schema of its keys."""

    check: Callable[[str, Any], Any]
    help: str
    required: bool = False
    keys: Mapping[str, Key] | None = None


@dataclass(frozen=True)
class Row:
    """One checked entry of an array of tables: checked ``values``, ``fields`` as written
    (``plain``), its ``location`` and how errors name it (``where``: ``pellets[0] 'P1'``)."""

    values: dict[str, Any]
    fields: ReadOnlyDict
    location: tuple[str | int, ...]
    where: str = field(default="")


class Checker:
    """Checks tables against schemas; every error names ``shown`` and the line."""

    def __init__(self, shown: str, lines: TomlLines) -> None:
        self.shown, self.lines = shown, lines

    def line(self, location: Iterable[str | int]) -> int:
        return self.lines.line(*location)

    def fail(self, location: Iterable[str | int], where: str, what: str) -> NoReturn:
        message = f"{where}: {what}" if where else what
        raise InputError(message, source=f"{self.shown}:{self.line(location)}")

    def table(self, raw: Any, schema: Mapping[str, Key], location: tuple[str | int, ...], where: str,
              prefix: str = "") -> dict[str, Any]:
        """``raw`` checked key by key: unknown keys first (a misspelt required key is reported
        as a typo, not as missing), then required keys, then each value."""
        if not isinstance(raw, dict):
            what = prefix.rstrip(".") or "this"
            self.fail(location, where, f"{what} must be a table, got {_type_name(raw)}")
        for key in raw:
            if key not in schema:
                hint = suggest(prefix + key, [prefix + k for k in schema]) or f"; known: {', '.join(schema)}"
                self.fail((*location, key), where, f"unknown key '{prefix}{key}'{hint}")
        for key, rule in schema.items():
            if rule.required and key not in raw:
                self.fail(location, where, f"missing required field {prefix}{key!r} ({rule.help})")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            rule = schema[key]
            if rule.keys is not None and isinstance(value, dict):
                values[key] = ReadOnlyDict(self.table(value, rule.keys, (*location, key), where,
                                                      f"{prefix}{key}."))
                continue
            try:
                values[key] = plain(rule.check(prefix + key, value), prefix + key)
            except InputError as exc:
                problem = str(exc)
            else:
                continue
            self.fail((*location, key), where, problem)
        return values

    def plain(self, raw: Any, location: tuple[str | int, ...], where: str) -> Any:
        """``plain(raw)`` with a NaN or infinity reported at its key's line."""
        try:
            return plain(raw, str(location[-1]) if location else "value")
        except InputError as exc:
            problem = str(exc)
        self.fail(location, where, problem)

    def rows(self, document: Mapping[str, Any], name: str, schema: Mapping[str, Key]) -> list[Row]:
        """The entries of the array of tables ``name`` (none when absent), each checked."""
        entries = document.get(name, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail((name,), "", f"{name} must be an array of tables, each written [[{name}]]")
        rows = []
        for index, raw in enumerate(entries):
            ident = raw.get("id")
            where = f"{name}[{index}]" + (f" {ident!r}" if isinstance(ident, str) else "")
            location = (name, index)
            values = self.table(raw, schema, location, where)
            fields = ReadOnlyDict({k: self.plain(v, (*location, k), where) for k, v in raw.items()})
            rows.append(Row(values, fields, location, where))
        return rows
