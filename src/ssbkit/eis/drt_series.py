"""DRTs of a series of spectra: impedance measured along a charge, a cycle or a temperature scan.

``drt_series(spectra, labels={"soc": [...]})`` solves every DRT in one ``drt_batch`` call
(spectra on one frequency grid share their matrices) and wraps the results in a
``DRTSeries`` with

* ``matrix``: γ(τ, label) [Ohm], one row per spectrum, on one τ grid (``tau`` [s]): the
  results' fine grid when they share it, else a log grid spanning all of them;
* ``region_resistances(regions)``: ∫γ d ln τ over named τ regions (bulk and grain boundary,
  interfaces, charge transfer, diffusion), one row per spectrum;
* ``track_peaks()``: peaks followed from spectrum to spectrum;
* ``to_frame()`` (γ as a long table) and ``to_dict()`` (JSON).

Labels are what the spectra were measured against: a mapping of name → one value per
spectrum (numbers, or text such as file names). Names may carry a unit, ``"soc [%]"``.

Peak tracking is written here, not taken from a tracking library, because the problem is
small and one-dimensional: in each spectrum the peaks are taken largest first, and each
joins the track whose latest peak is nearest in log τ (at most ``max_shift_decades`` away
and not yet continued by this spectrum), or starts a new track. Tracks are numbered from
the fastest (smallest median τ) to the slowest.

>>> import numpy as np
>>> from ssbkit.eis import simulate_spectrum
>>> f = np.logspace(6, -2, 81)
>>> def cell(r2):
...     return simulate_spectrum("R0-ZARC1-ZARC2", {"R0": 10, "ZARC1_0": 20, "ZARC1_1": 1e-4,
...                              "ZARC1_2": 0.95, "ZARC2_0": r2, "ZARC2_1": 0.1, "ZARC2_2": 0.95}, f)
>>> series = drt_series([cell(20), cell(40), cell(60)], labels={"soc [%]": [0, 50, 100]}, lam=1e-4)
>>> series.matrix.shape == (3, series.tau.size)
True
>>> table = series.region_resistances({"interface": (1e-6, 1e-2), "charge transfer": (1e-2, 10)})
>>> (table["charge transfer [Ohm]"] / [20, 40, 60]).round(2).tolist()  # ZARC φ = 0.95: 99.3 % inside
[0.99, 0.99, 0.99]
>>> tracks = series.track_peaks()
>>> ct = tracks[tracks["tau [s]"].between(0.05, 0.2)]
>>> ct["track"].nunique(), ct["soc [%]"].tolist()
(1, [0.0, 50.0, 100.0])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, make_provenance, to_json_safe
from ssbkit.core.validate import positive
from ssbkit.eis.drt import DRTResult, drt_batch

__all__ = ["DRTSeries", "check_regions", "drt_series"]

_RESERVED = ("index", "track", "tau [s]", "gamma [Ohm]", "resistance [Ohm]", "R_inf [Ohm]",
             "R_pol [Ohm]")
_MAX_GRID = 4000  # points of a merged τ grid


def _check_results(results: Any) -> tuple[DRTResult, ...]:
    items = tuple(results) if isinstance(results, Sequence) else None
    if not items:
        raise InputError("must be a non-empty list of DRTResults", source="results")
    for i, item in enumerate(items):
        if not isinstance(item, DRTResult):
            raise InputError(f"item {i} is a {type(item).__name__}, not a DRTResult", source="results")
    return items


def _check_labels(labels: Any, n: int) -> dict[str, np.ndarray]:
    """Each label as a read-only array of n floats (all numbers) or n strings."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InputError(f"must be a mapping of name -> one value per spectrum, got "
                         f"{type(labels).__name__}", source="labels")
    out: dict[str, np.ndarray] = {}
    for name, values in labels.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"label names must be non-empty strings, got {name!r}", source="labels")
        if name in _RESERVED:
            raise InputError(f"{name!r} is a column of the series' tables; rename the label",
                             source="labels")
        if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
            raise InputError(f"{name}: must be a sequence of {n} values, got {type(values).__name__}",
                             source="labels")
        items = list(values)
        if len(items) != n:
            raise InputError(f"{name}: {len(items)} values for {n} spectra", source="labels")
        numeric = all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
                      for v in items)
        if numeric:
            array = np.array(items, dtype=float)
            if not np.isfinite(array).all():
                first = int(np.flatnonzero(~np.isfinite(array))[0])
                raise InputError(f"{name}: value {first} is not finite", source="labels")
        else:
            array = np.array([str(v) for v in items], dtype=str)
        array.flags.writeable = False
        out[name] = array
    return out


def check_regions(regions: Any) -> dict[str, tuple[float, float]]:
    """``regions`` (name → (τ_min, τ_max) [s]) checked: names non-empty, 0 < τ_min < τ_max."""
    if not isinstance(regions, Mapping):
        raise InputError(f"must be a mapping of name -> (tau_min, tau_max) [s], got "
                         f"{type(regions).__name__}", source="regions")
    out: dict[str, tuple[float, float]] = {}
    for name, bounds in regions.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"region names must be non-empty strings, got {name!r}", source="regions")
        pair = list(bounds) if isinstance(bounds, Sequence) and not isinstance(bounds, str) else []
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InputError(f"{name}: must be a pair (tau_min, tau_max) of numbers [s], got "
                             f"{bounds!r}", source="regions") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise InputError(f"{name}: needs 0 < tau_min < tau_max (finite, in s), got "
                             f"({lo:g}, {hi:g})", source="regions")
        out[name] = (lo, hi)
    return out


def _common_grid(results: tuple[DRTResult, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(τ, γ matrix): the shared fine grid, or a log grid over all of them with γ from each basis."""
    first = results[0].tau_fine
    if all(r.tau_fine.shape == first.shape and np.allclose(r.tau_fine, first, rtol=1e-12, atol=0)
           for r in results):
        return first.copy(), np.stack([r.gamma_fine for r in results])
    lo = min(float(r.tau_fine[0]) for r in results)
    hi = max(float(r.tau_fine[-1]) for r in results)
    # as dense as the densest result, so no peak is flattened by the merge
    density = max((r.tau_fine.size - 1) / max(math.log10(r.tau_fine[-1] / r.tau_fine[0]), 1e-12)
                  for r in results)
    n = min(_MAX_GRID, int(math.ceil(math.log10(hi / lo) * density)) + 1)
    tau = np.geomspace(lo, hi, max(n, 2))
    return tau, np.stack([r.gamma_at(tau) for r in results])


@dataclass(frozen=True, kw_only=True, eq=False)
class DRTSeries(Result):
    """DRTs of a series of spectra with their labels, on one τ grid.

    ``results``: the DRTs in measurement order. ``labels``: name → one value per spectrum
    (float arrays for numbers, string arrays otherwise). ``tau`` [s] and ``matrix`` (γ
    [Ohm], n_spectra × n_tau) are derived. ``success`` is False when any DRT failed.
    """

    results: tuple[DRTResult, ...]
    labels: Mapping[str, np.ndarray] = field(default_factory=dict)
    tau: np.ndarray = field(init=False, repr=False)
    matrix: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        results = _check_results(self.results)
        labels = _check_labels(self.labels, len(results))
        tau, matrix = _common_grid(results)
        for array in (tau, matrix):
            array.flags.writeable = False
        failed = [i for i, r in enumerate(results) if not r.success]
        object.__setattr__(self, "results", results)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "matrix", matrix)
        if failed:
            object.__setattr__(self, "success", False)
            if not self.message:
                object.__setattr__(self, "message", f"the DRT failed for spectra {failed}")

    def __len__(self) -> int:
        return len(self.results)

    def _label_columns(self) -> dict[str, Any]:
        return {"index": np.arange(len(self)), **self.labels}

    def region_resistances(self, regions: Mapping[str, tuple[float, float]]) -> Any:
        """One row per spectrum: the labels, ∫γ d ln τ [Ohm] over each region, R∞ and R_pol.

        ``regions``: name → (τ_min, τ_max) [s]; each gives a column ``"<name> [Ohm]"``.
        Regions may overlap or leave gaps: each is integrated on its own. An empty mapping
        gives the labels, R∞ and R_pol alone.
        """
        import pandas as pd

        bounds = check_regions(regions)
        columns = self._label_columns()
        for name in bounds:
            if f"{name} [Ohm]" in columns or f"{name} [Ohm]" in _RESERVED:
                raise InputError(f"region {name!r} would clash with the column {name} [Ohm]",
                                 source="regions")
        for name, (lo, hi) in bounds.items():
            columns[f"{name} [Ohm]"] = [r.resistance_between(lo, hi) for r in self.results]
        columns["R_inf [Ohm]"] = [r.R_inf for r in self.results]
        columns["R_pol [Ohm]"] = [r.R_pol for r in self.results]
        return pd.DataFrame(columns)

    def track_peaks(self, max_shift_decades: float = 0.3) -> Any:
        """Peaks followed across the series: one row per (track, spectrum) it holds a peak in.

        Columns ``track`` (0 = fastest), ``index``, the labels, ``tau [s]``, ``gamma [Ohm]``
        and ``resistance [Ohm]``. A peak joins the track whose latest peak is nearest in
        log₁₀ τ, within ``max_shift_decades``; a track takes at most one peak per spectrum,
        the largest peaks choosing first; a peak with no such track starts a new one.
        """
        import pandas as pd

        shift = positive("max_shift_decades", max_shift_decades)
        latest: list[float] = []  # log₁₀ τ of each track's latest peak
        members: list[list[tuple[int, Any]]] = []
        for k, result in enumerate(self.results):
            taken: set[int] = set()
            for peak in sorted(result.peaks, key=lambda p: -p.resistance):
                position = math.log10(peak.tau)
                free = [(abs(position - t), j) for j, t in enumerate(latest)
                        if j not in taken and abs(position - t) <= shift]
                if free:
                    j = min(free)[1]
                else:
                    j = len(latest)
                    latest.append(position)
                    members.append([])
                latest[j] = position
                members[j].append((k, peak))
                taken.add(j)
        order = sorted(range(len(members)),
                       key=lambda j: float(np.median([math.log10(p.tau) for _, p in members[j]])))
        labels = self._label_columns()
        rows = []
        for number, j in enumerate(order):
            for k, peak in sorted(members[j], key=lambda item: item[0]):
                row: dict[str, Any] = {"track": number}
                row.update({name: values[k].item() for name, values in labels.items()})
                row.update({"tau [s]": peak.tau, "gamma [Ohm]": peak.gamma,
                            "resistance [Ohm]": peak.resistance})
                rows.append(row)
        columns = ["track", *labels, "tau [s]", "gamma [Ohm]", "resistance [Ohm]"]
        return pd.DataFrame(rows, columns=columns)

    def to_frame(self) -> Any:
        """γ as a long table: the labels, ``tau [s]`` and ``gamma [Ohm]``, one row per (spectrum, τ)."""
        import pandas as pd

        n, m = self.matrix.shape
        labels = self._label_columns()
        columns: dict[str, Any] = {name: np.repeat(values, m) for name, values in labels.items()}
        columns["tau [s]"] = np.tile(self.tau, n)
        columns["gamma [Ohm]"] = self.matrix.ravel()
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        return to_json_safe({
            "labels": to_json_safe(dict(self.labels)),
            "tau": to_json_safe(self.tau),
            "gamma": to_json_safe(self.matrix),
            "spectra": [{
                "index": k, "source": r.source, "lambda": r.lam, "lambda_method": r.lambda_method,
                "R_inf": r.R_inf, "L0": r.L0, "R_pol": r.R_pol,
                "residual_rms": r.residual_rms, "peaks": [p.to_dict() for p in r.peaks],
                "success": r.success, "message": r.message,
            } for k, r in enumerate(self.results)],
            "units": {"tau": "s", "gamma": "Ohm", "R_inf": "Ohm", "L0": "H", "R_pol": "Ohm",
                      "resistance": "Ohm", "frequency": "Hz", "lambda": "1"},
            "success": self.success,
            "message": self.message,
            "provenance": None if self.provenance is None else self.provenance.to_dict(),
        })

    def _report_lines(self) -> list[str]:
        lams = [r.lam for r in self.results]
        lines = [f"{len(self)} spectra, τ {self.tau[0]:.3g}–{self.tau[-1]:.3g} s, "
                 f"λ {min(lams):.3g}–{max(lams):.3g}"]
        for name, values in self.labels.items():
            lines.append(f"{name}: {_format(values[0])} … {_format(values[-1])}")
        for k, r in enumerate(self.results):
            tags = ", ".join(f"{name} = {_format(values[k])}" for name, values in self.labels.items())
            peaks = ", ".join(f"{p.tau:.3g}" for p in r.peaks) or "none"
            lines.append(f"{k}{' (' + tags + ')' if tags else ''}: R∞ = {r.R_inf:.5g} Ohm, "
                         f"R_pol = {r.R_pol:.5g} Ohm, peaks at τ = {peaks} s")
        return lines


def _format(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, int | float | np.floating) else str(value)


def drt_series(spectra: Sequence[Any], *, labels: Mapping[str, Sequence[Any]] | None = None,
               **drt_options: Any) -> DRTSeries:
    """The DRTs of ``spectra`` (one ``drt_batch`` call) with their ``labels``.

    ``labels``: name → one value per spectrum, e.g. ``{"soc [%]": [0, 10, …], "cycle": [...]}``.
    ``drt_options`` are those of ``ssbkit.eis.drt`` (``lam``, ``rbf``, ``order``, ``tau``, …).
    """
    items = list(spectra) if isinstance(spectra, Sequence) else None
    if not items:
        raise InputError("must be a non-empty list of spectra", source="spectra")
    checked = _check_labels(labels, len(items))  # before the solves: a bad label fails fast
    results = drt_batch(items, **drt_options)
    settings = {k: (to_json_safe(v) if not isinstance(v, np.ndarray) else
                    [float(v.min()), float(v.max()), int(v.size)]) for k, v in drt_options.items()}
    provenance = make_provenance("ssbkit.eis.drt_series", settings=settings,
                                 inputs={"labels": checked} if checked else None,
                                 citations=("wan2015", "maradesa2023"))
    return DRTSeries(results=tuple(results), labels=checked, provenance=provenance)
