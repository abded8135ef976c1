"""Placeholder: being written (issue 5)."""

from pathlib import Path
from typing import Any

from ssbkit.core.errors import UnsupportedFormatError


class NewareNdaReader:
    name = "placeholder-NewareNdaReader"
    extensions: tuple[str, ...] = ()
    techniques = frozenset({"cycling"})
    description = "being written"

    def sniff(self, path: Path, head: bytes) -> bool:
        return False

    def read(self, path: Path, **options: Any) -> list[Any]:
        raise UnsupportedFormatError("not written yet", source=path)

class NewareCsvReader:
    name = "placeholder-NewareCsvReader"
    extensions: tuple[str, ...] = ()
    techniques = frozenset({"cycling"})
    description = "being written"

    def sniff(self, path: Path, head: bytes) -> bool:
        return False

    def read(self, path: Path, **options: Any) -> list[Any]:
        raise UnsupportedFormatError("not written yet", source=path)
