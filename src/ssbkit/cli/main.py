"""The root group: lazy subcommands, ``--version``, ``--debug`` and error handling."""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from ssbkit import __version__
from ssbkit.core.errors import SSBKitError

# group name -> "module:attribute"; imported on first use.
GROUPS: dict[str, str] = {
    "synth": "ssbkit.cli.synth:synth",
    "mill": "ssbkit.cli.mill:mill",
    "eis": "ssbkit.cli.eis:eis",
    "cycling": "ssbkit.cli.cycling:cycling",
    "pressure": "ssbkit.cli.pressure:pressure",
    "xrd": "ssbkit.cli.xrd:xrd",
    "nmr": "ssbkit.cli.nmr:nmr",
    "study": "ssbkit.cli.study:study",
    "demo": "ssbkit.cli.study:demo",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when they are used, and that turns ssbkit's
    errors into one line on stderr and exit code 1."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attr = self.lazy[name].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except SSBKitError as exc:
            _fail(ctx, str(exc), exc)
        except Exception as exc:  # a bug: still one line, unless --debug
            _fail(ctx, f"internal error ({type(exc).__name__}: {exc}); "
                  "rerun with --debug for the traceback", exc)


def _fail(ctx: click.Context, message: str, exc: BaseException) -> None:
    if ctx.find_root().params.get("debug"):
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    ctx.exit(1)


@click.group(cls=LazyGroup, lazy=GROUPS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ssbkit", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
def cli(debug: bool) -> None:
    """ssbkit: from raw instrument files to reproducible results for solid-state batteries.

    Example:

        ssbkit synth recipe Li6PS5Cl --precursors Li2S,P2S5,LiCl --batch-g 2
    """


def main() -> None:
    """Console entry point."""
    cli(prog_name="ssbkit")
