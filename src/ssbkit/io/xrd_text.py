"""Placeholder module (being written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class XyReader:
    """Placeholder until the reader is written: claims no file."""

    name: ClassVar[str] = "xrd-xy"
    extensions: ClassVar[tuple[str, ...]] = ()
    techniques: ClassVar[frozenset[str]] = frozenset()
    description: ClassVar[str] = "placeholder"

    def sniff(self, path: Path, head: bytes) -> bool:
        return False

    def read(self, path: Path, **options: Any) -> list[Any]:
        raise NotImplementedError
