"""The analyses a study runs: what each one reads, its settings, and how it is drawn.

A study's measurements feed *analyses*. Each analysis is one pure function of its input
files (by content hash), its settings and the manifest fields of what it belongs to, so the
pipeline can decide from a hash alone whether it must run again, and any worker (a thread,
a process, a Dask worker on another machine with the same file system) gives the same
answer.

| kind           | technique | target | grouped by   | what it gives                                     |
|----------------|-----------|--------|--------------|---------------------------------------------------|
| ``conductivity`` | eis      | pellet | pellet       | σ per temperature, Arrhenius Ea, σ(25 °C)         |
| ``electronic``   | dcpol    | pellet | pellet       | electronic conductivity from DC polarisation      |
| ``drt``          | eis      | cell   | measurement  | DRT map over state of charge                      |
| ``cycling``      | cycling  | cell   | measurement  | capacity, CE, retention, polarisation, dQ/dV      |
| ``rate``         | cycling  | cell   | measurement  | rate table (``protocol = "rate"``)                |
| ``pressure``     | pressure | cell   | measurement  | stack-pressure growth per cycle                   |
| ``xrd``          | xrd      | sample | measurement  | Rietveld: lattice parameter, size, strain, wt %   |
| ``exsy``         | exsy     | sample | measurement  | D(T) from EXSY build-up, Arrhenius Ea             |

An analysis returns a JSON-safe ``dict`` (see :class:`AnalysisTask` for the input and
:data:`RESULT_KEYS` for the output); the report draws it with the kind's ``figures``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RESULT_KEYS", "AnalysisKind", "AnalysisTask", "FigureSpec", "TaskInput", "analysis_kinds",
           "get_kind"]

#: Keys of the dict an analysis returns. ``summary`` maps a quantity name (snake case, unit
#: in the unit field, e.g. ``"sigma_25C"``) to ``{"value", "stderr", "unit"}``; ``tables``
#: maps a table name to a list of row dicts whose keys are ``"name [unit]"`` labels;
#: ``series`` holds the arrays the figures need (lists of numbers), free-form per kind;
#: ``provenance`` is the technique result's provenance (settings, citations).
RESULT_KEYS = ("kind", "success", "message", "summary", "tables", "series", "provenance")


@dataclass(frozen=True)
class TaskInput:
    """One input file of an analysis.

    ``path`` is the stored, content-addressed copy (it keeps the original extension, so
    readers that look at it still can); ``name`` is the path as the manifest wrote it (use
    it in messages); ``conditions`` holds the measurement's manifest fields other than
    ``id``/``file``/``technique`` and the owner (``temperature_C``, ``soc_percent``,
    ``protocol``, ...).
    """

    measurement: str
    path: str
    name: str
    sha256: str
    conditions: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisTask:
    """Everything one analysis needs; it is pickled to Dask workers as is.

    ``settings`` are the kind's settings with the manifest's ``[settings.<kind>]`` applied
    over the defaults; ``context`` holds the manifest fields of the target (a pellet's
    ``diameter_mm``/``thickness_mm``, a cell's masses and areas, a sample's milling), with
    ``context["sample"]``/``context["material"]`` nested where the target has them.
    ``extra`` carries inputs from other techniques (a pressure log's cycling record, under
    ``extra["cycling"]``, a ``TaskInput``).
    """

    id: str
    kind: str
    target: str
    inputs: tuple[TaskInput, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, TaskInput] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureSpec:
    """A figure for the report: a file stem, the matplotlib Figure and its caption."""

    name: str
    figure: Any
    caption: str


@dataclass(frozen=True)
class AnalysisKind:
    """One kind of analysis: its name, what feeds it, default settings, run and figures."""

    name: str
    technique: str
    target: str
    title: str
    defaults: Mapping[str, Any]
    run: Callable[[AnalysisTask], dict[str, Any]]
    figures: Callable[[dict[str, Any]], list[FigureSpec]]
    grouped: bool = False


def analysis_kinds() -> dict[str, AnalysisKind]:
    """All kinds by name (imported lazily: the technique modules are heavy)."""
    from ssbkit.study import cell_analyses, drt_analysis, material_analyses, pellet_analyses

    kinds: dict[str, AnalysisKind] = {}
    for module in (pellet_analyses, drt_analysis, cell_analyses, material_analyses):
        for kind in module.KINDS:
            kinds[kind.name] = kind
    return kinds


def get_kind(name: str) -> AnalysisKind:
    """The kind called ``name``; an ``InputError`` lists the known ones."""
    from ssbkit.core.errors import InputError

    kinds = analysis_kinds()
    if name not in kinds:
        raise InputError(f"unknown analysis {name!r}; known: {', '.join(sorted(kinds))}")
    return kinds[name]
