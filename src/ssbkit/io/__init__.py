"""Readers for instrument files, one module per vendor format.

Readers are declared in the ``ssbkit.readers`` entry-point group of ``pyproject.toml``
and chosen by content through ``ssbkit.core.registry``; none has landed yet.
"""

from ssbkit.core.registry import find_reader, list_readers, read, register_reader

__all__ = ["find_reader", "list_readers", "read", "register_reader"]
