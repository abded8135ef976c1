"""Citations: methods name the papers and data they rest on, and results carry them.

A module registers each reference once with ``register``; an analysis lists the keys it
used in its result's provenance, so a report can print what to cite for every number.

>>> c = register("example2026", "A. Author, An example, J. Examples 1 (2026) 1.", "10.0000/ex")
>>> get("example2026").doi
'10.0000/ex'
"""

from __future__ import annotations

from dataclasses import dataclass

from ssbkit.core.errors import InputError

__all__ = ["Citation", "get", "register", "registered"]


@dataclass(frozen=True, slots=True)
class Citation:
    """One reference: a short key, the human-readable text, and its DOI where it has one."""

    key: str
    text: str
    doi: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "text": self.text, "doi": self.doi}


_REGISTRY: dict[str, Citation] = {}


def register(key: str, text: str, doi: str = "") -> Citation:
    """Register a reference under ``key``; registering the same key twice must agree."""
    citation = Citation(key, text, doi)
    existing = _REGISTRY.get(key)
    if existing is not None and existing != citation:
        raise InputError(f"citation key {key!r} is already registered with another reference")
    _REGISTRY[key] = citation
    return citation


def get(key: str) -> Citation:
    """The reference registered under ``key``."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise InputError(f"unknown citation key {key!r}") from None


def registered() -> dict[str, Citation]:
    """A copy of every registered reference, by key."""
    return dict(_REGISTRY)


register(
    "ssbkit",
    "ssbkit: from raw instrument files to reproducible results for solid-state battery research.",
)
