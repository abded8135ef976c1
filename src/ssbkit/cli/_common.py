"""What every command shares: the ``--json`` option, printing results, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import click

T = TypeVar("T")


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``: print exactly one JSON document on stdout instead of the report."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as one JSON document."
    )(func)


def emit(result: Any, as_json: bool) -> None:
    """Print a result: its JSON (one document, strict JSON) or its human report."""
    if as_json:
        click.echo(result.to_json(indent=2))
    else:
        click.echo(result.report())


def progress(items: Iterable[T], *, label: str, length: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar on stderr (never stdout), when it is a terminal."""
    if not sys.stderr.isatty():
        yield from items
        return
    with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
        yield from bar


def split_list(text: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]
