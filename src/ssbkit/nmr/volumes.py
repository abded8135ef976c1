"""Peak volumes of 2D exchange (EXSY) spectra, their normalisations and T1 correction.

``exsy_volumes`` integrates, in each 2D spectrum of a mixing-time series, every diagonal peak
(i, i) and cross peak (i, j) of the given sites. **Convention**: the first array axis of an
``NMRSpectrum`` is F1 (indirect, t1: where the magnetisation was before mixing) and the second
F2 (direct, t2: where it is detected after mixing), so the peak at (F1 = δ_i, F2 = δ_j) is
magnetisation that went from site i to site j during t_m: ``from`` is the F1 site, ``to`` the F2
site, and ``from == to`` for diagonal peaks. The result's table is long form with columns
``mixing_time [s]``, ``from``, ``to``, ``volume``, ``volume stderr`` (and ``spectrum``, the index
in the series, and ``temperature [K]`` where every spectrum's metadata gives one), the format
the exchange fit reads. Volumes are in a.u.·ppm².

Two methods:

- ``"box"``: the sum of the points inside the rectangle δ_i ± h_i (F1) × δ_j ± h_j (F2), times
  the two axis steps (each point stands for one cell of the grid). Boxes of different sites must
  not overlap, or a point would count in two peaks. The error is the noise (standard deviation
  of the quietest of 8 × 8 tiles of the spectrum) × √(points) × cell area, which assumes
  uncorrelated points (zero filling correlates them, so it is then a lower bound).
- ``"fit"``: a sum of products of unit-area lineshapes, V_ij·g_i(F1)·h_j(F2), Gaussian or
  Lorentzian, with one position and width per site and dimension shared by every peak in that
  site's row and column; this separates overlapping sites (such as LPSC and LiI) that boxes
  cannot. The volumes enter linearly: for given shapes G (F1 points × sites) and H (F2 points ×
  sites) the best V = G⁺·D·H⁺ᵀ exactly, so only the 4 shape parameters per site are iterated
  (variable projection). Errors come from the full Jacobian (shapes and volumes) scaled by the
  residual variance. The fit covers the sites ± twice their ``box_ppm``; the spectrum should
  have a flat, zero baseline there.

Normalisations, each a function of the table returning a build-up table (one row per cross
peak and mixing time, columns ``mixing_time [s]``, ``pair`` (``"from->to"``), ``from``, ``to``,
``intensity`` and ``intensity stderr``, with ``temperature [K]`` kept), always against the
diagonal peak of the *origin* (``from``) site, the magnetisation the cross peak came from:

- ``"cross/(cross+diagonal)"``: I_ij / (I_ij + I_ii), whose plateau is the share of the partner
  phase (default; ``ssbkit.nmr.buildup`` says why, and that the methods of the study's sources
  could not be read to confirm it);
- ``"cross/diagonal"``: I_ij / I_ii;
- ``"diagonal0"``: I_ij(t_m) / I_ii(0), the fraction of site i's magnetisation moved to j, whose
  initial slope is the rate k_ij (Perrin and Dwyer 1990); I_ii(0) is given or extrapolated
  from ln I_ii against t_m at the shortest mixing times.

``t1_correct`` divides each peak by the longitudinal relaxation it suffered during t_m. A
diagonal peak relaxed at its own site: exp(−t_m/T1_i). A cross peak relaxed at site i until the
jump and at j after it; with the jump at a uniformly random time in [0, t_m] (first-order
exchange in its initial-rate regime) the average is exactly

    (exp(−t_m/T1_i) − exp(−t_m/T1_j)) / (t_m·(1/T1_j − 1/T1_i))

(``cross_peaks="jump"``, the default; it tends to exp(−t_m/T1) when both T1 agree and lies
between the two sites' decays). ``"detecting"`` uses the F2 site's T1 (magnetisation spends the
later, longer part of a long t_m there), ``"mean-rate"`` exp(−t_m·(1/T1_i + 1/T1_j)/2), the jump
average to second order. With equal T1 all three agree and the ratio normalisations cancel it.

>>> import numpy as np
>>> from ssbkit.nmr.deconvolve import pseudo_voigt
>>> ppm = np.linspace(6, -8, 281)
>>> g = {s: pseudo_voigt(ppm, p, 0.5, 0.0) for s, p in DEFAULT_SITES.items()}
>>> data = 4 * np.outer(g["Li2S"], g["Li2S"]) + np.outer(g["Li2S"], g["LiI"])
>>> s = NMRSpectrum(data, (ppm, ppm), metadata={"mixing_time_s": 0.1})
>>> t = exsy_volumes(s, method="fit").table
>>> [round(v, 6) + 0.0 for v in t.loc[t["from"] == "Li2S", "volume"]]
[4.0, 0.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, frozen_table, make_provenance
from ssbkit.core.validate import finite, non_negative, one_of, positive, positive_int, require_columns
from ssbkit.nmr.data import NMRSpectrum
from ssbkit.nmr.deconvolve import _covariance, _digest, _half_width, _profile

__all__ = ["CROSS_PEAK_T1", "DEFAULT_SITES", "METHODS", "NORMALIZATIONS", "VolumeTable", "exsy_volumes",
           "normalize", "t1_correct"]

DEFAULT_SITES = {"Li2S": 2.31, "LPSC": 1.29, "LiI": -4.56}
METHODS = ("box", "fit")
LINESHAPES = {"gaussian": 0.0, "lorentzian": 1.0}
NORMALIZATIONS = ("cross/(cross+diagonal)", "cross/diagonal", "diagonal0")
CROSS_PEAK_T1 = ("jump", "detecting", "mean-rate")
VOLUME_UNIT = "a.u.·ppm²"
_TIME, _TEMPERATURE = "mixing_time [s]", "temperature [K]"
_NOISE_TILES = 8

@dataclass(frozen=True, kw_only=True)
class VolumeTable(Result):
    """Diagonal and cross-peak volumes of a series of 2D spectra, long form (see the module docstring)."""

    columns: Mapping[str, np.ndarray]
    sites: Mapping[str, float]  # name -> ppm, in the order given
    half_widths: Mapping[str, float]  # box half-widths [ppm] ("box"), fit window and start ("fit")
    method: str
    lineshape: str | None
    lineshapes: Mapping[str, np.ndarray] | None = None  # "fit": positions and FWHM per spectrum and site
    volume_unit: str = VOLUME_UNIT

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", frozen_table(self.columns))
        object.__setattr__(self, "sites", MappingProxyType(dict(self.sites)))
        object.__setattr__(self, "half_widths", MappingProxyType(dict(self.half_widths)))
        if self.lineshapes is not None:
            object.__setattr__(self, "lineshapes", frozen_table(self.lineshapes))

    @property
    def table(self) -> Any:
        """The long-form table (a pandas DataFrame, a copy)."""
        return self.to_frame()

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({name: np.array(values) for name, values in self.columns.items()})

    def matrix(self, spectrum: int = 0) -> np.ndarray:
        """Volumes of one spectrum as a matrix: rows F1 (``from``) sites, columns F2 (``to``) sites."""
        index = np.flatnonzero(self.columns["spectrum"] == spectrum)
        if index.size == 0:
            raise InputError(f"no spectrum {spectrum}; the table holds "
                             f"{int(self.columns['spectrum'].max()) + 1}", source="spectrum")
        return np.array(self.columns["volume"][index]).reshape(len(self.sites), len(self.sites))

    def _report_lines(self) -> list[str]:
        times = np.unique(self.columns[_TIME])
        return [f"  {self.method} volumes of {len(self.sites)} sites ({', '.join(self.sites)}) in "
                f"{int(self.columns['spectrum'].max()) + 1} spectra, t_m {times.min():g}–{times.max():g} s "
                f"[{self.volume_unit}]"]


# -- checks ---------------------------------------------------------------------------------------

def _spectra(spectra: Any) -> list[NMRSpectrum]:
    items = [spectra] if isinstance(spectra, NMRSpectrum) else (
        list(spectra) if isinstance(spectra, Sequence) else None)
    if not items:
        raise InputError("must be a 2D NMRSpectrum or a list of them, got "
                         f"{type(spectra).__name__ if items is None else 'an empty list'}", source="spectra")
    for k, item in enumerate(items):
        if not isinstance(item, NMRSpectrum):
            raise InputError(f"item {k} is a {type(item).__name__}, not an NMRSpectrum", source="spectra")
        if item.ndim != 2:
            raise InputError(f"spectrum {k} ({item.source or 'no file'}) is {item.ndim}D; EXSY volumes need "
                             "2D spectra (1D areas: ssbkit.nmr.deconvolve)", source="spectra")
    return items


def _sites(sites: Any, box_ppm: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    if not isinstance(sites, Mapping) or not sites:
        raise InputError("must map site names to shifts [ppm], e.g. {'Li2S': 2.31, 'LiI': -4.56}",
                         source="sites")
    names = [str(n) for n in sites]
    shifts = np.array([finite(f"sites: {n}", v) for n, v in zip(names, sites.values(), strict=True)])
    if isinstance(box_ppm, Mapping):
        missing = [n for n in names if n not in box_ppm]
        if missing:
            raise InputError(f"no half-width for site(s) {', '.join(missing)}", source="box_ppm")
        halves = np.array([positive(f"box_ppm: {n}", box_ppm[n]) for n in names])
    else:
        halves = np.full(len(names), positive("box_ppm", box_ppm))
    return names, shifts, halves


def _mixing_times(items: list[NMRSpectrum], mixing_times_s: Any) -> np.ndarray:
    if mixing_times_s is not None:
        values = np.atleast_1d(np.asarray(mixing_times_s, dtype=object))
        if values.size != len(items):
            raise InputError(f"{values.size} mixing times for {len(items)} spectra", source="mixing_times_s")
        return np.array([non_negative(f"mixing_times_s[{k}]", v) for k, v in enumerate(values)])
    times = []
    for k, item in enumerate(items):
        value = item.metadata.get("mixing_time_s")
        if value is None:
            raise InputError(f"spectrum {k} ({item.source or 'no file'}) has no mixing time "
                             "(metadata['mixing_time_s']); pass mixing_times_s=", source="spectra")
        times.append(non_negative(f"spectrum {k}: mixing_time_s", value))
    return np.array(times)


def _step(axis: np.ndarray, which: str, where: str) -> float:
    steps = np.abs(np.diff(axis))
    step = float(steps.mean())
    if steps.max() - steps.min() > 1e-3 * step:
        raise InputError(f"the {which} axis is not evenly spaced; volumes need a regular grid", source=where)
    return step


def _check_inside(names: list[str], shifts: np.ndarray, halves: np.ndarray, s: NMRSpectrum, k: int,
                  *, whole_box: bool) -> None:
    for dim, which in ((0, "F1"), (1, "F2")):
        lo, hi = float(s.ppm[dim].min()), float(s.ppm[dim].max())
        for name, p, h in zip(names, shifts, halves, strict=True):
            a, b = (p - h, p + h) if whole_box else (p, p)
            if a < lo or b > hi:
                what = f"its box {a:g} to {b:g} ppm reaches" if whole_box and lo <= p <= hi else "lies"
                raise InputError(f"site {name} at {p:g} ppm: {what} outside the {which} axis of spectrum {k} "
                                 f"({hi:g} to {lo:g} ppm)", source="sites")


# -- the two methods ------------------------------------------------------------------------------

def _box(s: NMRSpectrum, shifts: np.ndarray, halves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f1, f2 = s.ppm
    where = s.source or "spectrum"
    cell = _step(f1, "F1", where) * _step(f2, "F2", where)
    rows = [np.flatnonzero(np.abs(f1 - p) <= h) for p, h in zip(shifts, halves, strict=True)]
    cols = [np.flatnonzero(np.abs(f2 - p) <= h) for p, h in zip(shifts, halves, strict=True)]
    noise = _noise_2d(s.data)
    n = len(shifts)
    volumes, errors = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            block = s.data[np.ix_(rows[i], cols[j])]
            volumes[i, j] = block.sum() * cell
            errors[i, j] = noise * math.sqrt(block.size) * cell
    return volumes, errors


def _noise_2d(data: np.ndarray) -> float:
    n1, n2 = (max(1, min(_NOISE_TILES, size // 4)) for size in data.shape)
    rows = np.linspace(0, data.shape[0], n1 + 1).astype(int)
    cols = np.linspace(0, data.shape[1], n2 + 1).astype(int)
    # The median tile: the quietest one is biased low (the least of many estimates), and the tiles
    # that hold peaks are fewer than half in an EXSY spectrum.
    return float(np.median([np.std(data[r0:r1, c0:c1], ddof=1)
                            for r0, r1 in zip(rows[:-1], rows[1:], strict=True)
                            for c0, c1 in zip(cols[:-1], cols[1:], strict=True)]))


def _fit(s: NMRSpectrum, shifts: np.ndarray, halves: np.ndarray, eta: float
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, str]:
    """Volumes, their errors, the fitted (p1, p2, w1, w2) per site, success and message."""
    from scipy.optimize import least_squares

    where = s.source or "spectrum"
    n = len(shifts)
    lo, hi = float((shifts - 2 * halves).min()), float((shifts + 2 * halves).max())
    axes = []
    for dim, which in ((0, "F1"), (1, "F2")):
        inside = (s.ppm[dim] >= lo) & (s.ppm[dim] <= hi)
        axes.append((np.flatnonzero(inside), _step(s.ppm[dim], which, where)))
    (rows, step1), (cols, step2) = axes
    x1, x2 = s.ppm[0][rows], s.ppm[1][cols]
    data = s.data[np.ix_(rows, cols)]
    scale = float(np.abs(data).max()) or 1.0
    d = data / scale
    if d.size <= 4 * n + n * n:
        raise InputError(f"the fit window holds {d.size} points for {4 * n + n * n} parameters", source=where)

    gaps = [min([abs(p - q) for q in np.delete(shifts, i)] or [np.inf]) for i, p in enumerate(shifts)]
    reach = np.minimum(halves, np.array(gaps) / 2)
    start, lower, upper = (np.zeros(4 * n) for _ in range(3))
    for i, (p, h) in enumerate(zip(shifts, halves, strict=True)):
        r, c = int(np.argmin(np.abs(x1 - p))), int(np.argmin(np.abs(x2 - p)))
        slices = ((x1, d[:, c], r, step1), (x2, d[r, :], c, step2))  # through the diagonal peak
        for block, (axis, profile, index, step) in enumerate(slices):
            width = float(np.clip(_half_width(axis, profile, index, 0.0), 2 * step, 4 * h))
            start[block * n + i], lower[block * n + i], upper[block * n + i] = p, p - reach[i], p + reach[i]
            k = (2 + block) * n + i
            start[k], lower[k], upper[k] = width, step, 8 * h

    def shapes(theta: np.ndarray) -> tuple[np.ndarray, ...]:
        g = [_profile(x1, theta[i], theta[2 * n + i], eta) for i in range(n)]
        h = [_profile(x2, theta[n + i], theta[3 * n + i], eta) for i in range(n)]
        return tuple(np.stack([part[m] for part in parts], axis=1) for parts in (g, h) for m in (0, 1, 2))

    def volumes(g: np.ndarray, h: np.ndarray) -> np.ndarray:
        return np.linalg.pinv(g) @ d @ np.linalg.pinv(h).T

    def factors(theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """The shapes, V, and ∂(G·V·Hᵀ)/∂θ at fixed V as rank-one pairs (F1 part, F2 part) in θ's order."""
        g, dg_pos, dg_width, h, dh_pos, dh_width = shapes(theta)
        v = volumes(g, h)
        left = np.concatenate([dg_pos, g @ v, dg_width, g @ v], axis=1)
        right = np.concatenate([h @ v.T, dh_pos, h @ v.T, dh_width], axis=1)
        return g, h, v, left, right

    def residual(theta: np.ndarray) -> np.ndarray:
        g, _, _, h, _, _ = shapes(theta)
        return (d - g @ volumes(g, h) @ h.T).ravel()

    def jacobian(theta: np.ndarray) -> np.ndarray:
        # Kaufman's variable-projection Jacobian: the fixed-V derivative with the part the volumes
        # can absorb projected out, P⊥(a·bᵀ) = a·bᵀ − (P_G a)(P_H b)ᵀ.
        g, h, _, left, right = factors(theta)
        pg_left, ph_right = g @ (np.linalg.pinv(g) @ left), h @ (np.linalg.pinv(h) @ right)
        return -(np.einsum("ik,jk->ijk", left, right) - np.einsum("ik,jk->ijk", pg_left, ph_right)
                 ).reshape(d.size, left.shape[1])

    solution = least_squares(residual, start, jac=jacobian, bounds=(lower, upper), method="trf",
                             x_scale="jac", xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=50 * (4 * n + 1))
    theta = solution.x
    g, h, v, left, right = factors(theta)
    # Jacobian of the model G·V·Hᵀ in (p1, p2, w1, w2, vec V), for the covariance of everything.
    shape_part = np.einsum("ik,jk->ijk", left, right).reshape(d.size, left.shape[1])
    volume_part = np.einsum("ik,jl->ijkl", g, h).reshape(d.size, n * n)
    jac = np.concatenate([shape_part, volume_part], axis=1)
    cov = _covariance(jac, (d - g @ v @ h.T).ravel())
    errors = np.sqrt(np.clip(np.diag(cov)[4 * n:], 0, None)).reshape(n, n) * scale
    success = bool(solution.status > 0)
    return v * scale, errors, theta.reshape(4, n).T, success, "" if success else solution.message


# -- the public functions -------------------------------------------------------------------------

def exsy_volumes(
    spectra: NMRSpectrum | Sequence[NMRSpectrum],
    *,
    sites: Mapping[str, float] = DEFAULT_SITES,
    method: str = "box",
    box_ppm: float | Mapping[str, float] = 0.5,
    lineshape: str = "gaussian",
    mixing_times_s: Sequence[float] | None = None,
) -> VolumeTable:
    """Volumes of every diagonal and cross peak of ``sites`` in each 2D spectrum (module docstring).

    Parameters
    ----------
    spectra
        One 2D ``NMRSpectrum`` or a series (F1 the first axis, F2 the second).
    sites
        Site name -> shift [ppm], the same in F1 and F2.
    method
        ``"box"`` (rectangle sums) or ``"fit"`` (2D lineshapes with shared per-site widths).
    box_ppm
        Half-width [ppm] of each site's box, one for all or per site; for ``"fit"`` the fit covers
        the sites ± 2·box_ppm and positions may move by up to box_ppm.
    lineshape
        ``"gaussian"`` or ``"lorentzian"`` (``"fit"`` only).
    mixing_times_s
        One per spectrum; default ``metadata["mixing_time_s"]`` of each spectrum.
    """
    items = _spectra(spectra)
    method = one_of("method", method, METHODS)
    lineshape = one_of("lineshape", lineshape, tuple(LINESHAPES))
    names, shifts, halves = _sites(sites, box_ppm)
    times = _mixing_times(items, mixing_times_s)
    n = len(names)
    if method == "box":
        for i in range(n):
            for j in range(i + 1, n):
                if abs(shifts[i] - shifts[j]) <= halves[i] + halves[j]:
                    raise InputError(
                        f"the boxes of {names[i]} ({shifts[i]:g} ± {halves[i]:g} ppm) and {names[j]} "
                        f"({shifts[j]:g} ± {halves[j]:g} ppm) overlap: points between them would count in "
                        "both peaks; make box_ppm smaller or use method='fit'", source="box_ppm")
    temperatures = [item.metadata.get("temperature_K") for item in items]
    has_temperature = all(t is not None for t in temperatures)

    names_out = ["spectrum", _TIME, *([_TEMPERATURE] if has_temperature else []), "from", "to", "volume",
                 "volume stderr"]
    columns: dict[str, list[Any]] = {name: [] for name in names_out}
    shape_columns = ("spectrum", "site", "F1 position [ppm]", "F2 position [ppm]", "F1 FWHM [ppm]",
                     "F2 FWHM [ppm]")
    fitted: dict[str, list[Any]] = {name: [] for name in shape_columns}
    failures = []
    for k, item in enumerate(items):
        _check_inside(names, shifts, halves, item, k, whole_box=method == "box")
        if method == "box":
            volumes, errors = _box(item, shifts, halves)
        else:
            volumes, errors, shapes, ok, why = _fit(item, shifts, halves, LINESHAPES[lineshape])
            if not ok:
                failures.append(f"spectrum {k}: {why}")
            for i, name in enumerate(names):
                for key, value in zip(list(fitted), [k, name, *shapes[i]], strict=True):
                    fitted[key].append(value)
        for i in range(n):
            for j in range(n):
                columns["spectrum"].append(k)
                columns[_TIME].append(times[k])
                if has_temperature:
                    columns[_TEMPERATURE].append(positive(f"spectrum {k}: temperature_K", temperatures[k]))
                columns["from"].append(names[i])
                columns["to"].append(names[j])
                columns["volume"].append(volumes[i, j])
                columns["volume stderr"].append(errors[i, j])
    provenance = make_provenance(
        "ssbkit.nmr.exsy_volumes",
        settings={"sites": dict(zip(names, shifts.tolist(), strict=True)), "method": method,
                  "box_ppm": dict(zip(names, halves.tolist(), strict=True)),
                  "lineshape": lineshape if method == "fit" else None, "mixing_times_s": times.tolist()},
        inputs={f"spectrum {k}": _digest(*item.ppm, item.data) for k, item in enumerate(items)},
    )
    return VolumeTable(
        success=not failures, message="; ".join(f"the fit did not converge for {f}" for f in failures),
        provenance=provenance, columns=columns, sites=dict(zip(names, shifts.tolist(), strict=True)),
        half_widths=dict(zip(names, halves.tolist(), strict=True)), method=method,
        lineshape=lineshape if method == "fit" else None, lineshapes=fitted if method == "fit" else None,
    )


def _frame(table: Any) -> Any:
    import pandas as pd

    if isinstance(table, VolumeTable):
        frame = table.table
    elif isinstance(table, pd.DataFrame):
        frame = table.copy()
    else:
        raise InputError(f"must be a VolumeTable or a DataFrame, got {type(table).__name__}", source="table")
    if "volume_stderr" in frame and "volume stderr" not in frame:
        frame = frame.rename(columns={"volume_stderr": "volume stderr"})
    require_columns(frame, [_TIME, "from", "to", "volume"], source="table")
    times = frame[_TIME].to_numpy(float)
    if not np.isfinite(times).all() or (times < 0).any():
        raise InputError(f"{_TIME} must hold finite times ≥ 0", source="table")
    if not np.isfinite(frame["volume"].to_numpy(float)).all():
        raise InputError("volume holds NaN or infinite values", source="table")
    frame["from"], frame["to"] = frame["from"].astype(str), frame["to"].astype(str)
    return frame


def normalize(table: Any, *, method: str = "cross/(cross+diagonal)",
              diagonal0: Mapping[str, float] | None = None, n_extrapolate: int = 3) -> Any:
    """Build-up intensities of every cross peak (module docstring), a pandas DataFrame.

    ``diagonal0`` gives I_ii(0) per site for ``method="diagonal0"``; otherwise it is extrapolated
    (per temperature) by a straight line through ln I_ii at the ``n_extrapolate`` shortest mixing
    times. Errors propagate the volumes' (I_ii(0) taken as exact).
    """
    method = one_of("method", method, NORMALIZATIONS)
    n_extrapolate = positive_int("n_extrapolate", n_extrapolate)
    frame = _frame(table)
    has_error = "volume stderr" in frame
    if not has_error:
        frame["volume stderr"] = np.nan
    group = [c for c in (_TEMPERATURE,) if c in frame]
    key = group + [_TIME] + [c for c in ("spectrum",) if c in frame]
    diagonal = frame[frame["from"] == frame["to"]]
    cross = frame[frame["from"] != frame["to"]]
    if cross.empty:
        raise InputError("holds no cross peaks (rows with from != to)", source="table")
    repeated = diagonal.duplicated(key + ["from"])
    if repeated.any():
        row = diagonal[repeated].iloc[0]
        raise InputError(f"two diagonal peaks of {row['from']} at t_m = {row[_TIME]:g} s; tell repeated "
                         "spectra apart with a 'spectrum' column", source="table")
    if method == "diagonal0":
        reference = _diagonal0(diagonal, group, diagonal0, n_extrapolate)
        merged = cross.merge(reference, on=group + ["from"], how="left")
        d, d_err = merged["diagonal"].to_numpy(float), np.zeros(len(merged))
    else:
        pick = diagonal[key + ["from", "volume", "volume stderr"]].rename(
            columns={"volume": "diagonal", "volume stderr": "diagonal stderr"})
        merged = cross.merge(pick, on=key + ["from"], how="left")
        d, d_err = merged["diagonal"].to_numpy(float), merged["diagonal stderr"].to_numpy(float)
    if np.isnan(d).any():
        row = merged[np.isnan(d)].iloc[0]
        raise InputError(f"no diagonal peak of {row['from']} for the cross peak {row['from']}->{row['to']} "
                         f"at t_m = {row[_TIME]:g} s", source="table")
    c, c_err = merged["volume"].to_numpy(float), merged["volume stderr"].to_numpy(float)
    if method == "cross/(cross+diagonal)":
        total = c + d
        intensity = c / total
        error = np.hypot(d * c_err, c * d_err) / total ** 2
    else:
        intensity = c / d
        error = np.hypot(c_err / d, c * d_err / d ** 2)
    merged["pair"] = merged["from"] + "->" + merged["to"]
    merged["intensity"], merged["intensity stderr"] = intensity, error
    keep = group + [_TIME, "pair", "from", "to", "intensity"] + (["intensity stderr"] if has_error else [])
    keep += [c for c in ("spectrum",) if c in merged]
    return merged[keep].sort_values(["pair", *group, _TIME], kind="stable").reset_index(drop=True)


def _diagonal0(diagonal: Any, group: list[str], given: Mapping[str, float] | None, n_points: int) -> Any:
    import pandas as pd

    rows = []
    for keys, part in (diagonal.groupby(group) if group else [((), diagonal)]):
        for site, block in part.groupby("from"):
            if given is not None:
                if site not in given:
                    raise InputError(f"no I(0) for site {site}", source="diagonal0")
                value = positive(f"diagonal0: {site}", given[site])
            else:
                value = _extrapolate(block, str(site), n_points)
            prefix = dict(zip(group, keys if isinstance(keys, tuple) else (keys,), strict=True))
            rows.append({**prefix, "from": site, "diagonal": value})
    return pd.DataFrame(rows)


def _extrapolate(block: Any, site: str, n_points: int) -> float:
    block = block.sort_values(_TIME)
    times, volumes = block[_TIME].to_numpy(float), block["volume"].to_numpy(float)
    distinct = np.unique(times)[:n_points]
    use = np.isin(times, distinct)
    if (volumes[use] <= 0).any():
        raise InputError(f"the diagonal peak of {site} is ≤ 0 at a short mixing time; cannot extrapolate "
                         "ln I to t_m = 0: give diagonal0=", source="table")
    if distinct.size < 2:
        if distinct[0] == 0:
            return float(volumes[use].mean())
        raise InputError(f"one mixing time for the diagonal of {site}: I(0) needs two to extrapolate; give "
                         "diagonal0=", source="table")
    slope, intercept = np.polyfit(times[use], np.log(volumes[use]), 1)
    return float(np.exp(intercept))


def t1_correct(table: Any, *, T1_s: Mapping[str, float], cross_peaks: str = "jump") -> Any:
    """The volumes divided by their T1 decay during t_m (module docstring), a pandas DataFrame."""
    cross_peaks = one_of("cross_peaks", cross_peaks, CROSS_PEAK_T1)
    frame = _frame(table)
    if not isinstance(T1_s, Mapping):
        raise InputError("must map site names to T1 [s]", source="T1_s")
    sites = sorted(set(frame["from"]) | set(frame["to"]))
    missing = [s for s in sites if s not in T1_s]
    if missing:
        raise InputError(f"no T1 for site(s) {', '.join(missing)}", source="T1_s")
    rate = {s: 1.0 / positive(f"T1_s: {s}", T1_s[s]) for s in sites}
    t = frame[_TIME].to_numpy(float)
    r_from = frame["from"].map(rate).to_numpy(float)
    r_to = frame["to"].map(rate).to_numpy(float)
    if cross_peaks == "detecting":
        factor = np.exp(-r_to * t)
    elif cross_peaks == "mean-rate":
        factor = np.exp(-(r_from + r_to) * t / 2)
    else:
        # the average of exp(−R_i τ − R_j (t − τ)) over τ in [0, t], written to stay exact when R_i ≈ R_j
        x = (r_to - r_from) * t
        small = np.abs(x) < 1e-8
        ratio = np.where(small, 1.0 - x / 2, -np.expm1(-np.where(small, 1.0, x)) / np.where(small, 1.0, x))
        factor = np.exp(-r_from * t) * ratio
    frame["volume"] = frame["volume"].to_numpy(float) / factor
    if "volume stderr" in frame:
        frame["volume stderr"] = frame["volume stderr"].to_numpy(float) / factor
    return frame
