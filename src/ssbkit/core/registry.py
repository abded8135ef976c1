"""The reader registry: instrument-file readers found through entry points, chosen by content.

A reader is a small class (see ``Reader``) with a ``name``, the ``extensions`` it usually
sees, ``sniff(path, head)`` which looks at the first bytes and never raises, and
``read(path, **options)`` which returns a list of technique containers in canonical
units. Built-in and third-party readers take the same path: both are declared in the
``ssbkit.readers`` entry-point group (``name = "package.module:ReaderClass"``) and loaded
on first use. ``register_reader`` adds one at run time (plugins under development, tests).

Choosing a reader for a file: every reader sniffs the content; if exactly one claims it,
that one reads it; if several do, the file's extension breaks the tie; otherwise the
error names the candidates (``AmbiguousFormatError``) or, when none claims it, every
installed reader (``UnsupportedFormatError``). ``format=`` skips sniffing.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from importlib import metadata
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from ssbkit.core.errors import AmbiguousFormatError, InputError, UnsupportedFormatError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Reader",
    "SniffWarning",
    "find_reader",
    "list_readers",
    "read",
    "register_reader",
    "unregister_reader",
]

ENTRY_POINT_GROUP = "ssbkit.readers"
HEAD_BYTES = 64 * 1024


class SniffWarning(UserWarning):
    """A reader's ``sniff`` raised; it is treated as 'not mine' and named in this warning."""


@runtime_checkable
class Reader(Protocol):
    """What a reader class provides."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    techniques: ClassVar[frozenset[str]]
    description: ClassVar[str]

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when the content (``head``: the first 64 KiB; empty for a folder) is this format."""
        ...

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Every measurement in the file, as technique containers in canonical units."""
        ...


_runtime: dict[str, type] = {}
_loaded: dict[str, type] | None = None


def _entry_point_readers() -> dict[str, type]:
    global _loaded
    if _loaded is None:
        found: dict[str, type] = {}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                found[ep.name] = ep.load()
            except Exception as exc:  # a broken plugin must not break every other reader
                warnings.warn(f"reader {ep.name!r} ({ep.value}) failed to load: {exc}",
                              SniffWarning, stacklevel=3)
        _loaded = found
    return _loaded


def list_readers() -> dict[str, type]:
    """Every installed reader class by name (entry points, then run-time registrations)."""
    return {**_entry_point_readers(), **_runtime}


def register_reader(reader: type, *, replace: bool = False) -> type:
    """Register a reader class at run time; usable as a class decorator."""
    for attr in ("name", "extensions", "sniff", "read"):
        if not hasattr(reader, attr):
            raise InputError(f"reader {reader!r} lacks {attr!r}")
    if reader.name in list_readers() and not replace:
        raise InputError(f"a reader named {reader.name!r} is already registered")
    _runtime[reader.name] = reader
    return reader


def unregister_reader(name: str) -> None:
    """Remove a reader registered with ``register_reader``."""
    _runtime.pop(name, None)


def _head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=path) from None


def _sniffs(reader_cls: type, path: Path, head: bytes) -> bool:
    try:
        return bool(reader_cls().sniff(path, head))
    except Exception as exc:  # sniff must never raise; one that does is reported, not fatal
        warnings.warn(f"reader {reader_cls.name!r} raised while sniffing {path}: {exc!r}",
                      SniffWarning, stacklevel=4)
        return False


def _names(readers: Iterable[str]) -> str:
    return ", ".join(sorted(readers)) or "(none installed)"


def find_reader(path: str | PathLike[str], *, format: str | None = None,
                technique: str | None = None) -> type:
    """The reader class for ``path``: ``format`` if given, else the one whose sniff matches.

    ``technique`` (``"xrd"``, ``"nmr"``, …) considers only the readers of that technique; when
    none of them recognises the content but exactly one usually reads files with this
    extension, that one is returned, so that its own error says what is wrong with the file.
    """
    path = Path(path)
    readers = list_readers()
    if technique is not None and format is None:
        readers = {n: cls for n, cls in readers.items() if technique in getattr(cls, "techniques", ())}
    if format is not None:
        if format not in readers:
            raise InputError(f"unknown format {format!r}; installed readers: {_names(readers)}",
                             source="format")
        return readers[format]
    if not path.exists():
        raise InputError("no such file or folder", source=path)
    head = _head(path)
    matches = [name for name, cls in readers.items() if _sniffs(cls, path, head)]
    if len(matches) == 1:
        return readers[matches[0]]
    suffix = path.suffix.lower()
    if len(matches) > 1:
        by_ext = [n for n in matches if suffix in (e.lower() for e in readers[n].extensions)]
        if len(by_ext) == 1:
            return readers[by_ext[0]]
        raise AmbiguousFormatError(
            f"several readers claim this file: {_names(matches)}; choose one with format=",
            source=path,
        )
    hint = [n for n, cls in readers.items() if suffix in (e.lower() for e in cls.extensions)]
    if technique is not None and len(hint) == 1:
        return readers[hint[0]]
    kind = f"{technique} " if technique is not None else ""
    extra = (f"; {_names(hint)} usually read{'s' if len(hint) == 1 else ''} {suffix} files "
             "but did not recognise the content") if hint else ""
    raise UnsupportedFormatError(
        f"no installed {kind}reader recognises this file{extra}; installed {kind}readers: {_names(readers)}",
        source=path,
    )


def read(path: str | PathLike[str], *, format: str | None = None, technique: str | None = None,
         **options: Any) -> list[Any]:
    """Read every measurement in ``path`` with the reader ``find_reader`` picks."""
    reader_cls = find_reader(path, format=format, technique=technique)
    return reader_cls().read(Path(path), **options)
