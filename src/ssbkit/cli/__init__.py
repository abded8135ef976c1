"""The ``ssbkit`` command: ``ssbkit <group> <verb> …``.

Each command parses its options, calls one library function and prints the result:
its report, or with ``--json`` exactly one JSON document on stdout. Groups are imported
only when used, so ``ssbkit --help`` stays instant. Errors are one ``error: …`` line on
stderr with exit code 1 (a traceback only with ``--debug``); usage errors exit 2.
"""

from ssbkit.cli.main import cli, main

__all__ = ["cli", "main"]
