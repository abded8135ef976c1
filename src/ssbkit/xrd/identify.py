"""Phase identification: which phases of a library are in a pattern, and how much of each.

Three steps, each explainable on its own:

1. **Peak matching** (the screen). Peaks are picked from the pattern (``sizestrain.pick_peaks``).
   For every library phase the strong calculated lines (m·|F|²·LP at least 5 % of the
   strongest, up to 20) are matched against them within ``tolerance_deg``, over isotropic cell
   scalings a → a·s with |s − 1| ≤ ``cell_tolerance`` (milled and substituted phases shift).
   The figure of merit is the fraction of the strong lines' calculated intensity that finds a
   picked peak, at the best s. Phases with a figure of merit ≥ ``min_figure_of_merit`` go on,
   if also at least 60 % of their lines above 10 % of the strongest find a peak (counted, not
   weighted: one coincident strong line must not carry a phase whose other lines are absent; a
   4 % impurity shows about two thirds of those lines above the noise).
2. **Whole-pattern fit**. The patterns of those phases (``simulate.calculate_pattern``, one
   column per phase at unit scale) and a Chebyshev background are fitted to the counts by
   weighted least squares: the scales (≥ 0) and background linearly, inside a non-linear fit
   of a common zero shift, a common width factor and one cell scaling per phase (variable
   projection). Phases whose patterns are nearly the same (cosine similarity > 0.9 — two
   argyrodites, say) are alternatives: the one that fits better is kept. Phases below
   ``min_fraction`` or below 3 standard errors are dropped and the rest refitted, keeping at
   most ``max_phases``. A phase must also hold up line by line: where its strong lines
   (5 σ and a quarter of its strongest) fall, the counts less background and the other phases
   must hold at least half its own intensity, peaked within the line's half-maximum width; a
   phase with more than a quarter of that intensity missing is dropped (a cubic phase with a
   free cell finds coincident peaks in any dense pattern, and there its scale is a compromise
   that a standard error does not reveal).
3. **Quantities and limits**. Weight fractions by Hill & Howard, w_p = S_p (ZMV)_p / Σ S (ZMV),
   with standard errors propagated from the covariance of the scales ((AᵀWA)⁻¹·χ²_ν, the
   non-linear parameters held at their optimum). For each library phase not detected, a
   detection limit: its pattern (library cell) is added to the final fit, and the weight
   fraction its scale could have at max(S, 0) + 3σ is reported as "not detected (< x %)".

The profile is estimated from the pattern when no ``instrument`` is given: pseudo-Voigt fits
of the strongest picked peaks give a median Gaussian and Lorentzian FWHM (``split_fwhm``),
used as a constant W and a Y/cosθ term; the width factor then adjusts it. ``explained`` is
the share of the picked peaks' height at lines of the fitted phases; below a half, the main
phase is probably not in the library: the fitted phases are then reported in ``uncertain``, not
in ``phases``, and the message says so. Amorphous content is not seen (fractions are of the
crystalline phases). P2S5 and Li3PS4 have no built-in structure (``structures``); give their
CIFs in ``library`` to screen for them.

Why written here: search-match programs (e.g. against the ICDD PDF) are commercial and
database-bound; the field meets a short, known list of phases, for which a full-profile fit
with real structure factors is both more sensitive and quantitative.

Examples
--------
>>> from ssbkit.xrd.simulate import simulate_pattern
>>> from ssbkit.xrd.structures import li2s, licl
>>> p = simulate_pattern([licl(), li2s()], weight_fractions=[0.7, 0.3], background=[100.0], rng=4)
>>> r = identify(p, library={"LiCl": licl(), "Li2S": li2s()})
>>> [(m.name, round(m.weight_fraction.value)) for m in r.phases]
[('LiCl', 70), ('Li2S', 30)]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance
from ssbkit.core.validate import in_range, non_negative, positive, positive_int
from ssbkit.xrd.data import Instrument, Pattern, wavelengths_from
from ssbkit.xrd.simulate import calculate_pattern  # registers the Hill–Howard citation

__all__ = ["PRECURSORS", "Identification", "PhaseMatch", "identify"]

PRECURSORS = ("Li2S", "LiCl", "LiBr", "LiI", "P2S5", "Li3PS4")
_STRONG = 0.05  # of the strongest calculated line
_COUNTED = 0.10  # lines above this share of the strongest are counted one by one
_MATCHED_LINES = 0.6  # least share of the counted lines that must find a peak
_MAX_STRONG_LINES = 20
_SIMILAR = 0.9  # cosine similarity above which two candidates are alternatives
_SIGNIFICANCE = 3.0
_MAX_CANDIDATES = 8
_CELL_STEP = 5e-4
_EXPLAINED = 0.5  # below this share of the picked peak height explained, the result says so
_MISSING = 0.25  # largest share of a phase's strong-line intensity that may be absent from the pattern


@dataclass(frozen=True, kw_only=True)
class PhaseMatch:
    """One library phase: how well its lines match, and its fitted or limiting weight fraction [%].

    ``cell`` is the refined (a, b, c, α, β, γ) [Å, deg] (the library's when not fitted);
    ``cell_scale`` the isotropic factor on its lengths; ``detection_limit`` the upper limit
    [wt %] of a phase not detected (NaN when detected or not fitted); ``strong_lines`` the lines
    above 10 % of its strongest in the scan and ``matched_lines`` those that found a peak;
    ``uncertain`` a phase fitted to a pattern whose peaks it and the others mostly do not explain.
    """

    name: str
    detected: bool
    weight_fraction: Estimate
    detection_limit: float
    figure_of_merit: float
    strong_lines: int
    matched_lines: int
    cell_scale: float
    cell: tuple[float, ...]
    precursor: bool
    note: str = ""
    uncertain: bool = False

    def describe(self) -> str:
        if self.uncertain:
            return (f"{self.name}: uncertain ({self.weight_fraction.value:.2f} ± "
                    f"{self.weight_fraction.stderr:.2f} wt % of the fitted phases; {self.note})")
        if self.detected:
            return f"{self.name}: {self.weight_fraction.value:.2f} ± {self.weight_fraction.stderr:.2f} wt %"
        if math.isfinite(self.detection_limit):
            return f"{self.name}: not detected (< {self.detection_limit:.2g} wt %)"
        return f"{self.name}: not detected" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True, kw_only=True)
class Identification(Result):
    """Detected phases (by decreasing weight fraction), every candidate, and the fitted curves.

    ``uncertain`` holds the phases fitted where less than half of the picked peak height is at
    their lines (``explained`` < 0.5); ``phases`` is then empty."""

    phases: tuple[PhaseMatch, ...]
    candidates: tuple[PhaseMatch, ...]
    uncertain: tuple[PhaseMatch, ...] = ()
    Rwp: float = field(metadata={"unit": "%"})
    zero: float = field(metadata={"unit": "deg"})
    wavelengths: tuple[tuple[float, float], ...]
    peaks: np.ndarray = field(repr=False)
    unexplained_peaks: np.ndarray = field(repr=False)
    explained: float  # share of the picked peaks' net height at lines of the detected phases
    two_theta: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    calculated: np.ndarray = field(repr=False)
    background: np.ndarray = field(repr=False)
    components: Mapping[str, np.ndarray] = field(repr=False)
    ticks: Mapping[str, np.ndarray] = field(repr=False)

    @property
    def impurities(self) -> tuple[PhaseMatch, ...]:
        """Detected precursors and impurities (``PRECURSORS``)."""
        return tuple(m for m in self.phases if m.precursor)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"phase": m.name, "detected": m.detected,
                              "weight fraction [%]": m.weight_fraction.value,
                              "weight fraction stderr [%]": m.weight_fraction.stderr,
                              "detection limit [%]": m.detection_limit, "figure of merit": m.figure_of_merit,
                              "a [Å]": m.cell[0], "precursor": m.precursor} for m in self.candidates])

    def _report_lines(self) -> list[str]:
        lines = [f"  Rwp {self.Rwp:.2f} %, zero {self.zero:+.3f}°, {self.peaks.size} peaks picked, "
                 f"{self.unexplained_peaks.size} unexplained"]
        lines += [f"  {m.describe()}  (FoM {m.figure_of_merit:.2f}, a = {m.cell[0]:.4f} Å)"
                  for m in self.phases]
        lines += [f"  {m.describe()}" for m in self.candidates if not m.detected]
        if self.unexplained_peaks.size:
            lines.append("  unexplained peaks at " + ", ".join(f"{v:.2f}°" for v in self.unexplained_peaks))
        return lines


# -- library -------------------------------------------------------------------------------------

def _library(library: Any) -> list[tuple[str, Any]]:
    from ssbkit.xrd.crystal import Phase

    if library is None:
        from ssbkit.xrd.structures import BUILTIN_PHASES

        library = BUILTIN_PHASES
    items = list(library.items()) if isinstance(library, Mapping) else [(None, v) for v in library]
    out: list[tuple[str, Any]] = []
    for i, (name, value) in enumerate(items):
        where = f"library[{name if name is not None else i}]"
        if isinstance(value, str | PathLike):
            value = Phase.from_cif(value)
        elif callable(value) and not isinstance(value, Phase):
            value = value()
        if not isinstance(value, Phase):
            raise InputError(f"must be a Phase, a CIF path or a builder, got {type(value).__name__}",
                             source=where)
        out.append((str(name) if name is not None else value.name, value))
    if not out:
        raise InputError("the library is empty", source="library")
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise InputError(f"phase names must differ, got {', '.join(names)}", source="library")
    return out


def _scaled(phase: Any, scale: float) -> Any:
    lengths = {k: v * scale for k, v in phase.free_cell_parameters().items() if k in ("a", "b", "c")}
    return phase.with_cell(lengths) if scale != 1.0 else phase


# -- step 1: the screen ----------------------------------------------------------------------------

@dataclass
class _Candidate:
    name: str
    phase: Any
    fom: float = 0.0
    strong: int = 0
    matched: int = 0
    scale: float = 1.0
    note: str = ""
    in_range: bool = True


def _screen(candidate: _Candidate, peaks: np.ndarray, lam: float, lo: float, hi: float, tolerance: float,
            cell_tolerance: float) -> None:
    from ssbkit.xrd.crystal import reflections, structure_factors
    from ssbkit.xrd.profile import lorentz_polarization

    margin = math.degrees(2 * cell_tolerance) * 2  # lines that a cell change can bring in
    try:
        refl = reflections(candidate.phase, two_theta_min=max(lo - margin, 0.5),
                           two_theta_max=min(hi + margin, 179.0), wavelength=lam)
    except InputError:
        candidate.in_range, candidate.note = False, "no reflection in the scan"
        return
    f2 = structure_factors(candidate.phase, refl)
    intensity = refl.multiplicity * f2 * lorentz_polarization(refl.two_theta)
    order = np.argsort(intensity)[::-1][:_MAX_STRONG_LINES]
    strong = order[intensity[order] >= _STRONG * intensity[order[0]]]
    d, weight = refl.d[strong], intensity[strong]
    counted = intensity[strong] >= _COUNTED * intensity[order[0]]
    best = (-1.0, math.inf, 1.0, 0, 0)
    steps = max(int(round(cell_tolerance / _CELL_STEP)), 0)
    for s in 1.0 + _CELL_STEP * np.arange(-steps, steps + 1):
        ratio = lam / (2 * d * s)
        tt = np.degrees(2 * np.arcsin(np.minimum(ratio, 1.0)))
        inside = (ratio < 1) & (tt >= lo) & (tt <= hi)
        if not inside.any():
            continue
        if peaks.size:
            miss = np.min(np.abs(tt[inside, None] - peaks[None, :]), axis=1)
        else:
            miss = np.full(int(inside.sum()), np.inf)
        hit = miss <= tolerance
        fom = float(weight[inside][hit].sum() / weight[inside].sum())
        spread = float(miss[hit].mean()) if hit.any() else math.inf
        key = (round(fom, 9), -spread, -abs(s - 1.0))
        if key > (round(best[0], 9), -best[1], -abs(best[2] - 1.0)):
            best = (fom, spread, float(s), int((inside & counted).sum()), int(hit[counted[inside]].sum()))
    candidate.fom, _, candidate.scale, candidate.strong, candidate.matched = best
    candidate.fom = max(candidate.fom, 0.0)


# -- step 2: the whole-pattern fit ----------------------------------------------------------------

@dataclass
class _Fit:
    names: list[str]
    scales: np.ndarray  # phase scales (calculate_pattern's)
    covariance: np.ndarray  # of the phase scales
    cells: list[float]  # isotropic cell factors
    widths: list[float]  # width factors
    zero: float
    chi2: float
    calculated: np.ndarray
    background: np.ndarray
    components: list[np.ndarray]
    columns: list[np.ndarray]  # unit-scale patterns at the optimum


class _Fitter:
    """Weighted full-pattern fit of a set of candidates (variable projection)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, sigma: np.ndarray, base: Instrument, terms: int,
                 cell_tolerance: float) -> None:
        self.x, self.y, self.w = x, y, 1.0 / sigma
        self.base, self.cell_tolerance = base, cell_tolerance
        u = (2 * x - (x[0] + x[-1])) / (x[-1] - x[0])
        vander = np.polynomial.chebyshev.chebvander
        self.chebyshev = vander(u, terms - 1) if terms else np.zeros((x.size, 0))

    def instrument(self, zero: float, width: float) -> Instrument:
        b = self.base
        return dataclasses.replace(b, zero=zero, U=b.U * width**2, V=b.V * width**2, W=b.W * width**2,
                                   X=b.X * width, Y=b.Y * width)

    def column(self, phase: Any, scale: float, zero: float, width: float) -> np.ndarray:
        return calculate_pattern(self.x, [_scaled(phase, scale)], scales=[1.0],
                                 instrument=self.instrument(zero, width))

    def linear(self, columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scales (≥ 0) and background coefficients; the weighted design matrix; the column norms.

        Normal equations of the few columns, with an active set for the non-negative scales
        (a scale that comes out negative is held at zero and the rest solved again).
        """
        norms = np.array([max(float(c.max()), 1e-300) for c in columns])
        design = np.column_stack([*(c / n for c, n in zip(columns, norms, strict=True)), self.chebyshev])
        weighted = design * self.w[:, None]
        gram, rhs = weighted.T @ weighted, weighted.T @ (self.y * self.w)
        free = np.ones(gram.shape[0], bool)
        solution = np.zeros(gram.shape[0])
        for _ in range(len(columns) + 1):
            solution[:] = 0.0
            solution[free] = np.linalg.lstsq(gram[np.ix_(free, free)], rhs[free], rcond=None)[0]
            negative = np.flatnonzero(solution[:len(columns)] < 0)
            if not negative.size:
                break
            free[negative[np.argmin(solution[negative])]] = False
        return solution, weighted, norms

    def fit(self, candidates: list[_Candidate]) -> _Fit:
        """Zero, one width factor and one cell factor per phase (non-linear); scales and background
        (linear). Each phase has its own width: a minor phase is often sharper or broader than
        the main one, and a shared width would move intensity between them."""
        from scipy.optimize import least_squares

        n = len(candidates)
        tol = self.cell_tolerance
        start = np.r_[0.0, np.zeros(n), [c.scale for c in candidates]]
        low = np.r_[-0.3, np.full(n, math.log(0.3)), [max(c.scale - tol / 2, 1 - tol) for c in candidates]]
        high = np.r_[0.3, np.full(n, math.log(3.0)), [min(c.scale + tol / 2, 1 + tol) for c in candidates]]
        start = np.clip(start, low + 1e-12, high - 1e-12)

        def columns_for(v: np.ndarray) -> list[np.ndarray]:
            zero, widths, cells = float(v[0]), np.exp(v[1:n + 1]), v[n + 1:]
            return [self.column(c.phase, float(s), zero, float(w))
                    for c, w, s in zip(candidates, widths, cells, strict=True)]

        def residual(v: np.ndarray) -> np.ndarray:
            solution, weighted, _ = self.linear(columns_for(v))
            return weighted @ solution - self.y * self.w

        v = start
        if n:
            v = least_squares(residual, start, bounds=(low, high),
                              x_scale=np.r_[0.01, [0.05] * n, [1e-3] * n], diff_step=1e-4, ftol=1e-6,
                              xtol=1e-6, max_nfev=20 * (2 * n + 1)).x
        cols = columns_for(v)
        solution, weighted, norms = self.linear(cols)
        calc = weighted @ solution / self.w
        r = (self.y - calc) * self.w
        chi2 = float(r @ r)
        dof = max(self.x.size - weighted.shape[1] - len(v), 1)
        active = np.r_[solution[:n] > 0, np.ones(self.chebyshev.shape[1], bool)]
        cov_all = np.full((weighted.shape[1],) * 2, math.nan)
        sub = weighted[:, active]
        try:
            cov_all[np.ix_(active, active)] = np.linalg.inv(sub.T @ sub) * chi2 / dof
        except np.linalg.LinAlgError:
            pass
        scales = solution[:n] / norms
        cov = cov_all[:n, :n] / np.outer(norms, norms)
        cov[~np.isfinite(cov)] = 0.0
        return _Fit(names=[c.name for c in candidates], scales=scales, covariance=cov,
                    cells=[float(s) for s in v[n + 1:]], widths=[float(w) for w in np.exp(v[1:n + 1])],
                    zero=float(v[0]), chi2=chi2, calculated=calc, background=self.chebyshev @ solution[n:],
                    components=[c * s for c, s in zip(cols, scales, strict=True)], columns=cols)


def _fractions(phases: list[Any], scales: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hill–Howard weight fractions [%] and their standard errors."""
    zmv = np.array([p.cell_mass * p.volume for p in phases])
    mass = scales * zmv
    total = float(mass.sum())
    if not total > 0:
        return np.full(len(phases), math.nan), np.full(len(phases), math.nan)
    w = mass / total
    jac = (np.diag(zmv) * total - np.outer(mass, zmv)) / total**2  # ∂w_i/∂S_j
    err = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, cov, jac), 0.0))
    return 100 * w, 100 * err


# -- the profile -----------------------------------------------------------------------------------

def _estimate_instrument(pattern: Pattern, radiation: tuple[tuple[float, float], ...],
                         peaks: Any) -> Instrument:
    from ssbkit.xrd.sizestrain import fit_peaks

    strongest = np.argsort(peaks.height)[::-1][:8]
    fits = fit_peaks(pattern, peaks=sorted(peaks.two_theta[strongest].tolist()), wavelength=radiation)
    good = [p for p in fits.peaks if p.success and p.r_squared > 0.8]
    if good:
        gauss = float(np.median([p.gaussian_fwhm for p in good]))
        lorentz = float(np.median([p.lorentzian_fwhm for p in good]))
        cos = float(np.median([math.cos(math.radians(p.position.value / 2)) for p in good]))
    else:
        gauss, lorentz, cos = float(np.median(peaks.fwhm)), 0.0, 1.0
    gauss = max(gauss, 1e-3)
    return Instrument(wavelengths=radiation, U=0.0, V=0.0, W=gauss**2, X=0.0, Y=lorentz * cos)


# -- identify ---------------------------------------------------------------------------------------

def identify(pattern: Pattern, *, library: Any = None, wavelength: Any = None,
             instrument: Instrument | None = None, max_phases: int = 4, tolerance_deg: float | None = None,
             cell_tolerance: float = 0.01, min_fraction: float = 0.5, min_figure_of_merit: float = 0.5,
             threshold: float = 6.0, background_terms: int = 6) -> Identification:
    """Identify and quantify the phases of ``library`` in ``pattern`` (module docstring).

    Parameters
    ----------
    library
        Phases to look for: a mapping name → ``Phase`` (or builder, or CIF path), or a list;
        default ``structures.BUILTIN_PHASES``.
    wavelength
        Radiation (anode, λ [Å] or [(λ, weight), …]) when the pattern does not say.
    instrument
        Profile to use (U, V, W, X, Y); default estimated from the pattern's peaks.
    max_phases
        Most phases reported as detected.
    tolerance_deg
        Peak-position match tolerance [deg]; default half the median peak FWHM, in 0.03–0.15°.
    cell_tolerance
        Largest relative change of the cell lengths allowed (isotropic), default 1 %.
    min_fraction
        Weight fraction [%] below which a phase is not reported as detected.
    min_figure_of_merit
        Fraction of strong-line intensity that must match picked peaks for a phase to be fitted.
    threshold
        Peak-picking threshold in standard errors (``pick_peaks``).
    background_terms
        Chebyshev background terms.
    """
    from ssbkit.xrd.sizestrain import pick_peaks

    if not isinstance(pattern, Pattern):
        raise InputError(f"must be a Pattern, got {type(pattern).__name__}", source="pattern")
    where = pattern.source or "pattern"
    if instrument is not None and not isinstance(instrument, Instrument):
        raise InputError(f"must be an Instrument or None, got {type(instrument).__name__}",
                         source="instrument")
    if wavelength is not None:
        radiation = wavelengths_from(wavelength, source="wavelength")
    elif pattern.wavelengths:
        radiation = tuple(pattern.wavelengths)
    elif instrument is not None:
        radiation = tuple(instrument.wavelengths)
    else:
        raise InputError("the pattern gives no wavelength: pass wavelength= (Å or an anode, e.g. 'CuKa')",
                         source=where)
    max_phases = positive_int("max_phases", max_phases)
    cell_tolerance = in_range("cell_tolerance", cell_tolerance, 0.0, 0.1)
    min_fraction = non_negative("min_fraction", min_fraction)
    min_fom = in_range("min_figure_of_merit", min_figure_of_merit, 0.0, 1.0)
    terms = int(in_range("background_terms", background_terms, 0, 20))
    candidates = [_Candidate(name, phase) for name, phase in _library(library)]
    if not np.any(pattern.intensity > 0):
        raise InputError("the pattern has no intensities (every count is ≤ 0)", source=where)

    lam = max(radiation, key=lambda line: line[1])[0]
    x, y, sigma = pattern.two_theta, pattern.intensity, pattern.sigma
    lo, hi = float(x[0]), float(x[-1])
    step = float(np.median(np.diff(x)))
    threshold = positive("threshold", threshold)
    peaks = pick_peaks(pattern, wavelength=radiation, max_peaks=None, threshold=threshold)
    if tolerance_deg is None:
        width = float(np.median(peaks.fwhm)) if len(peaks) else 0.1
        tolerance = min(max(0.5 * width, 2 * step, 0.03), 0.15)
    else:
        tolerance = positive("tolerance_deg", tolerance_deg)
    for c in candidates:
        _screen(c, np.asarray(peaks.two_theta), lam, lo, hi, tolerance, cell_tolerance)
    settings = {"library": [c.name for c in candidates], "wavelengths": radiation, "max_phases": max_phases,
                "tolerance_deg": tolerance, "cell_tolerance": cell_tolerance, "min_fraction": min_fraction,
                "min_figure_of_merit": min_fom, "threshold": threshold, "background_terms": terms,
                "instrument": None if instrument is None else dataclasses.asdict(instrument)}
    provenance = make_provenance("ssbkit.xrd.identify", settings=settings,
                                 inputs={"two_theta": x, "intensity": y}, citations=("hill1987",))

    base = instrument if instrument is not None else (
        _estimate_instrument(pattern, radiation, peaks) if len(peaks) else Instrument(wavelengths=radiation))
    base = dataclasses.replace(base, wavelengths=radiation)
    fitter = _Fitter(x, y, sigma, base, terms, cell_tolerance)
    passed = sorted((c for c in candidates if c.in_range and c.fom >= min_fom and c.matched >= 1
                     and c.matched >= _MATCHED_LINES * c.strong), key=lambda c: -c.fom)[:_MAX_CANDIDATES]
    for c in candidates:
        if c.in_range and c.fom >= min_fom and c.matched < _MATCHED_LINES * c.strong:
            c.note = f"only {c.matched} of its {c.strong} strong lines match a peak"
    if passed:
        # a candidate the linear fit gives no intensity at its screened cell is left out before the
        # non-linear fit, where its width and cell would be parameters with no effect
        start, _, _ = fitter.linear([fitter.column(c.phase, c.scale, 0.0, 1.0) for c in passed])
        passed = [c for c, scale in zip(passed, start, strict=False) if scale > 0]
    chosen, fit = _choose(fitter, passed)
    missing: dict[str, float] = {}
    while chosen:
        fractions, errors = _fractions([_scaled(c.phase, s) for c, s in zip(chosen, fit.cells, strict=True)],
                                       fit.scales, fit.covariance)
        absent = [_missing_share(fit, i, y, sigma) for i in range(len(chosen))]
        inconsistent = [i for i, share in enumerate(absent) if share > _MISSING]
        weak = [i for i, (w, e) in enumerate(zip(fractions, errors, strict=True))
                if not (w >= min_fraction and w >= _SIGNIFICANCE * e)]
        if not weak and not inconsistent and len(chosen) <= max_phases:
            break
        if inconsistent:
            drop = max(inconsistent, key=lambda i: absent[i])
            missing[chosen[drop].name] = absent[drop]
        elif weak:
            drop = min(weak, key=lambda i: fractions[i] / max(errors[i], 1e-12))
        else:
            drop = int(np.argmin(fractions))
        chosen = chosen[:drop] + chosen[drop + 1:]
        fit = fitter.fit(chosen)
    for c in candidates:
        if c.name in missing:
            c.note = f"{100 * missing[c.name]:.0f} % of its strong-line intensity is not in the pattern"
    return _result(pattern, fitter, fit, chosen, candidates, peaks, tolerance, min_fom, radiation, provenance)


def _missing_share(fit: _Fit, i: int, y: np.ndarray, sigma: np.ndarray) -> float:
    """Share of phase i's strong-line intensity that the pattern does not hold where it should.

    For each maximum of the phase's fitted contribution that stands 5 standard errors and a
    quarter of its strongest line high, the observed counts less the background and the other
    phases ("net") are compared with the phase's own over the line's half-maximum width: the
    line is missing when the net sum there is below half the phase's, or when, within one
    width either side, the net peaks more than half a width away from where the phase's own
    curve peaks (the counts belong to a neighbouring peak). A phase placed on a few coincident peaks of
    another pattern predicts lines where there are none, or beside the ones there are; the
    scale the fit gives it is a compromise that this test sees and a standard error does not.
    """
    from scipy.signal import find_peaks, peak_widths

    component = fit.components[i]
    net = y - (fit.calculated - component)
    idx, _ = find_peaks(component)
    if not idx.size:
        return 1.0
    heights = component[idx]
    strong = idx[(heights >= 0.25 * heights.max()) & (heights >= 5 * sigma[idx])]
    if not strong.size:
        return 0.0  # too weak to check: the significance test decides
    _, _, left, right = peak_widths(component, strong, rel_height=0.5)
    predicted = absent = 0.0
    for lo, hi in zip(np.floor(left).astype(int), np.ceil(right).astype(int) + 1, strict=True):
        own = float(component[lo:hi].sum())
        predicted += own
        width = hi - lo
        a, b = max(lo - width, 0), min(hi + width, y.size)
        # the net counts must peak where the phase's own curve peaks (within one width either
        # side of the line, so that a resolved Kα2 maximum is judged with its Kα1 line)
        offset = int(np.argmax(net[a:b])) - int(np.argmax(component[a:b]))
        if float(net[lo:hi].sum()) < 0.5 * own or abs(offset) > width / 2:
            absent += own
    return absent / predicted if predicted > 0 else 0.0


def _choose(fitter: _Fitter, passed: list[_Candidate]) -> tuple[list[_Candidate], _Fit]:
    """One member of each group of near-identical candidates (the one that fits best), and the fit."""
    if len(passed) < 2:
        return passed, fitter.fit(passed)
    columns = [fitter.column(c.phase, c.scale, 0.0, 1.0) for c in passed]
    unit = [c / max(float(np.linalg.norm(c)), 1e-300) for c in columns]
    group = list(range(len(passed)))
    for i in range(len(passed)):
        for j in range(i):
            if float(unit[i] @ unit[j]) > _SIMILAR:
                old, new = group[i], group[j]
                group = [new if g == old else g for g in group]
    chosen = {g: next(c for k, c in enumerate(passed) if group[k] == g) for g in group}
    best_fit = None
    for g in dict.fromkeys(group):
        members = [c for k, c in enumerate(passed) if group[k] == g]
        if len(members) < 2:
            continue
        trials = []
        for m in members:
            trial = [m if key == g else c for key, c in chosen.items()]
            trials.append((fitter.fit(trial), m))
        best_fit, chosen[g] = min(trials, key=lambda t: t[0].chi2)
    picked = list(chosen.values())
    if best_fit is None or best_fit.names != [c.name for c in picked]:
        best_fit = fitter.fit(picked)
    return picked, best_fit


def _result(pattern: Pattern, fitter: _Fitter, fit: _Fit, chosen: list[_Candidate],
            candidates: list[_Candidate], peaks: Any, tolerance: float, min_fom: float,
            radiation: tuple[tuple[float, float], ...], provenance: Any) -> Identification:
    from ssbkit.xrd.crystal import reflections

    lo, hi = float(pattern.two_theta[0]), float(pattern.two_theta[-1])
    refined = {c.name: _scaled(c.phase, s) for c, s in zip(chosen, fit.cells, strict=True)}
    fractions, errors = _fractions(list(refined.values()), fit.scales, fit.covariance)
    detected = {c.name: i for i, c in enumerate(chosen)}
    # detection limits: each other candidate added to the final fit at its library cell
    limits: dict[str, float] = {}
    if chosen:
        final_columns = fit.columns
        width = float(np.median(fit.widths))
        zmv_detected = float(sum(s * p.cell_mass * p.volume for s, p in zip(fit.scales, refined.values(),
                                                                            strict=True)))
        for c in candidates:
            if c.name in detected or not c.in_range:
                continue
            column = fitter.column(c.phase, 1.0, fit.zero, width)
            solution, weighted, norms = fitter.linear([*final_columns, column])
            k = len(final_columns)
            r = weighted @ solution - pattern.intensity * fitter.w
            dof = max(pattern.two_theta.size - weighted.shape[1], 1)
            try:
                var = float(np.linalg.inv(weighted.T @ weighted)[k, k]) * float(r @ r) / dof
            except np.linalg.LinAlgError:
                continue
            upper = (max(float(solution[k]), 0.0) + _SIGNIFICANCE * math.sqrt(max(var, 0.0))) / norms[k]
            mass = upper * c.phase.cell_mass * c.phase.volume
            limits[c.name] = 100 * mass / (zmv_detected + mass)
    matches = []
    for c in candidates:
        i = detected.get(c.name)
        phase = refined.get(c.name, c.phase)
        if not peaks.two_theta.size:
            note = "no peak picked"
        else:
            note = c.note or ("lines do not match" if c.fom < min_fom else "not significant")
        matches.append(PhaseMatch(
            name=c.name, detected=i is not None,
            weight_fraction=Estimate(float(fractions[i]) if i is not None else math.nan,
                                     float(errors[i]) if i is not None else math.nan, "%"),
            detection_limit=limits.get(c.name, math.nan), figure_of_merit=c.fom, strong_lines=c.strong,
            matched_lines=c.matched, cell_scale=fit.cells[i] if i is not None else 1.0,
            cell=tuple(phase.cell),
            precursor=c.name in PRECURSORS, note="" if i is not None else note))
    found = tuple(sorted((m for m in matches if m.detected), key=lambda m: -m.weight_fraction.value))
    ranked = tuple(sorted(matches, key=lambda m: (not m.detected, -m.figure_of_merit)))
    ticks: dict[str, np.ndarray] = {}
    lines_at: list[np.ndarray] = []
    for name, phase in refined.items():
        for k, (lam, _) in enumerate(sorted(radiation, key=lambda line: -line[1])):
            try:
                refl = reflections(phase, two_theta_min=lo, two_theta_max=hi, wavelength=lam)
            except InputError:
                continue
            if k == 0:
                ticks[name] = frozen_array(refl.two_theta + fit.zero)
            lines_at.append(refl.two_theta + fit.zero)
    all_lines = np.concatenate(lines_at) if lines_at else np.zeros(0)
    picked = np.asarray(peaks.two_theta)
    lost = np.array([not (all_lines.size and np.min(np.abs(all_lines - p)) <= 2 * tolerance) for p in picked],
                    dtype=bool)
    unexplained = picked[lost] if picked.size else picked
    height = np.asarray(peaks.height)
    explained = 1.0 - float(height[lost].sum() / height.sum()) if picked.size else math.nan
    w = fitter.w
    rwp = 100 * math.sqrt(fit.chi2 / float(np.sum((pattern.intensity * w) ** 2)))
    uncertain: tuple[PhaseMatch, ...] = ()
    if found and explained < _EXPLAINED:
        why = (f"{int(lost.sum())} of {picked.size} peaks ({100 * (1 - explained):.0f} % of the picked peak "
               "height) belong to no fitted phase")
        uncertain = tuple(dataclasses.replace(m, detected=False, uncertain=True, note=why) for m in found)
        by_name = {m.name: m for m in uncertain}
        ranked = tuple(by_name.get(m.name, m) for m in ranked)
        found = ()
        message = (f"no library phase identified with confidence: {why}, so the main phase is probably "
                   "not in the library; uncertain: "
                   + ", ".join(f"{m.name} {m.weight_fraction.value:.1f} %" for m in uncertain))
    elif found:
        message = "detected: " + ", ".join(f"{m.name} {m.weight_fraction.value:.1f} %" for m in found)
    elif not picked.size:
        message = "no peak above the noise: nothing identified"
    else:
        message = "no library phase identified"
    return Identification(
        message=message, phases=found, candidates=ranked, uncertain=uncertain, Rwp=rwp, zero=fit.zero,
        wavelengths=radiation,
        explained=explained,
        peaks=frozen_array(picked), unexplained_peaks=frozen_array(unexplained),
        two_theta=frozen_array(pattern.two_theta), observed=frozen_array(pattern.intensity),
        calculated=frozen_array(fit.calculated), background=frozen_array(fit.background),
        components={n: frozen_array(c) for n, c in zip(fit.names, fit.components, strict=True)},
        ticks=ticks, provenance=provenance)
