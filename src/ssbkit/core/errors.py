"""The one tree of exceptions ssbkit raises.

::

    SSBKitError                      anything ssbkit raises on purpose
    ├── InputError                   bad file, argument or value; names what and where
    │   ├── UnsupportedFormatError   no installed reader recognises a file
    │   ├── AmbiguousFormatError     several readers claim a file
    │   └── UnitError                a unit ssbkit does not know, or a conversion across dimensions
    ├── DependencyError              an optional extra is not installed
    └── FitError                     raised only on request, by ``Result.raise_for_status()``

A fit that runs but does not converge is *not* an exception: it returns a result with
``success=False``. Callers that prefer exceptions call ``result.raise_for_status()``.
The CLI turns every ``SSBKitError`` into one ``error: …`` line and exit code 1.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "AmbiguousFormatError",
    "DependencyError",
    "FitError",
    "InputError",
    "SSBKitError",
    "UnitError",
    "UnsupportedFormatError",
]


class SSBKitError(Exception):
    """Base of every exception ssbkit raises on purpose."""


class InputError(SSBKitError, ValueError):
    """Bad input: a file, argument or value that ssbkit cannot use.

    The message names the file (with line/column where known) or the argument, and what
    was expected. ``source`` and ``location`` are kept as attributes for programs.

    Examples
    --------
    >>> str(InputError("thickness must be > 0, got -1", source="--thickness-mm"))
    '--thickness-mm: thickness must be > 0, got -1'
    >>> str(InputError("expected a number", source="cell.csv", location="line 12, column 3"))
    'cell.csv, line 12, column 3: expected a number'
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | PathLike[str] | None = None,
        location: str | None = None,
    ) -> None:
        self.detail = message
        self.source = None if source is None else str(source)
        self.location = location
        prefix = ", ".join(p for p in (self.source, location) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnsupportedFormatError(InputError):
    """No installed reader recognises the file."""


class AmbiguousFormatError(InputError):
    """More than one reader claims the file; pass ``format=`` to choose."""


class UnitError(InputError):
    """A unit ssbkit does not know, or a conversion between different dimensions."""


class DependencyError(SSBKitError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class FitError(SSBKitError):
    """A fit did not succeed; raised only by ``Result.raise_for_status()``."""
