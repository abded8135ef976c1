"""What every command shares: the ``--json`` option, option names in errors, printing results."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ssbkit.core.errors import InputError


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``: print exactly one JSON document on stdout instead of the report."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as one JSON document."
    )(func)


def names_options(**library_names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make ``InputError``s name the option the user typed, not the library's argument.

    The library names its arguments (``batch_mass_g``); the command line knows them as
    options (``--batch-g``). Options whose Python name is the library's need no entry;
    ``library_names`` maps the others, library name → Python name of the click option.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except InputError as exc:
                renamed = _option_name(exc.source, library_names)
                if renamed is None:
                    raise
                raise type(exc)(exc.detail, source=renamed, location=exc.location) from exc

        return wrapper

    return decorate


def _option_name(source: str | None, library_names: dict[str, str]) -> str | None:
    if source is None:
        return None
    match = re.fullmatch(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>\[.*\])?", source)
    if match is None:
        return None
    name = library_names.get(match["name"], match["name"])
    for param in click.get_current_context().command.params:
        if param.name == name and isinstance(param, click.Option):
            flag = max(param.opts, key=len)
            return flag + (match["rest"] or "")
    return None


def emit(result: Any, as_json: bool) -> None:
    """Print a result: its JSON (one document, strict JSON) or its human report."""
    if as_json:
        click.echo(result.to_json(indent=2))
    else:
        click.echo(result.report())


def split_list(text: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def check_outputs(**paths: Path | None) -> None:
    """Refuse an output that cannot be written before any work is done, so that a command
    never leaves one output written and the other not. Keywords are option names
    (``plot=`` checks ``--plot``); ``plot`` and ``out`` are figures, whose format is checked."""
    import os

    for option, path in paths.items():
        if path is None:
            continue
        name = "--" + option.replace("_", "-")
        if option in ("plot", "out"):
            from ssbkit.eis.plot import FORMATS

            if path.suffix.lower() not in FORMATS:
                raise InputError(f"unknown figure format {path.suffix or '(no suffix)'!r}; use one "
                                 f"of {', '.join(FORMATS)}", source=name)
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"folder {str(folder)!r} does not exist", source=name)
        if not os.access(folder, os.W_OK):
            raise InputError(f"folder {str(folder)!r} is not writable", source=name)
