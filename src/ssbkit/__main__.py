"""``python -m ssbkit`` runs the command line."""

from ssbkit.cli import main

main()
