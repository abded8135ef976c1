"""Crystallite size and microstrain from single diffraction peaks: pseudo-Voigt fits, Scherrer
and Williamson–Hall.

**Peak fits** (``fit_peaks``). Each peak, or each small group of peaks whose windows overlap,
is fitted by least squares (``scipy.optimize.least_squares``, weighted by 1/σ) with a linear
background and, per peak, an area-normalised pseudo-Voigt

    Ω(x) = η·L(x; Γ) + (1 − η)·G(x; Γ),   Γ = FWHM [deg 2θ],   0 ≤ η ≤ 1.

Kα2 is *modelled*, not stripped: every radiation line of the pattern (Cu Kα1 + Kα2 with
weights 1 : 0.5) draws the same peak at its own Bragg angle, 2θ_l = 2·asin(λ_l/λ_1·sin θ_1),
with the same Γ and η, and an area in the ratio of the line weights. The reported position,
width and area are those of the Kα1 line (the strongest). Stripping (Rachinger) would
propagate noise into the peak shape; a doublet model keeps the raw counts and their weights.
Standard errors come from cov = (JᵀJ)⁻¹·χ²_ν (scaled by the reduced χ² of the window).

**Breadths.** The integral breadth of a pseudo-Voigt is β = area/height
= Γ / (2·[η/π + (1 − η)·√(ln 2/π)]). For instrument correction the fitted (Γ, η) is split
into a Gaussian and a Lorentzian FWHM by inverting the Thompson–Cox–Hastings relations
(η(q) = 1.36603 q − 0.47719 q² + 0.11116 q³ with q = Γ_L/Γ, then Γ_G from the TCH quintic);
the instrument's Caglioti Gaussian FWHM (``Instrument.gaussian_fwhm``) is removed in
quadrature, its Lorentzian FWHM (``Instrument.lorentzian_fwhm``) linearly — exact for Voigt
profiles, because Gaussians convolve by adding variances and Lorentzians by adding widths.
The sample's own profile is then a Voigt with FWHM from TCH and the exact integral breadth
β = β_G / erfcx(k), k = β_L/(√π·β_G), β_G = Γ_G·½√(π/ln 2), β_L = (π/2)·Γ_L.
Without an instrument nothing is removed and sizes are lower bounds (the result says so).

**Scherrer** (``scherrer``): L = K·λ/(β·cosθ), β in radians, one size per peak.

- ``breadth="fwhm"`` (default), K = 0.9: the classic Scherrer size; the FWHM is no
  moment of the column-length distribution, so this is an *apparent* size (K = 0.89–0.94
  for spheres, Langford & Wilson 1978); the same convention as ssbkit's refinement, where
  L = 0.9·λ/(Y·π/180) from the Lorentzian Y term.
- ``breadth="integral"``, K = 1.0: the volume-weighted mean column length L_vol
  (Stokes & Wilson 1942); for spheres of diameter D, L_vol = 3D/4.

Scherrer ignores strain, so its sizes are lower bounds when the sample is strained.

**Williamson–Hall** (``williamson_hall``): β·cosθ = K·λ/L + 4ε·sinθ, a straight line in
x = 4 sinθ, y = β cosθ (radians): slope ε, intercept K·λ/L. ε is the *apparent* (upper-limit)
strain of Stokes and Wilson, ε = β_strain/(4 tanθ), reported in %; GSAS-II reports
"microstrain" μ×10⁶ with FWHM[rad] = 10⁻⁶·μ·tanθ (so μ = 4ε·10⁶ for a Lorentzian strain
profile), and FullProf its own apparent strain in its .mic file — compare broadening against 2θ, not
these numbers. Standard errors from the line fit, scaled by its residual variance (n − 2
degrees of freedom). An intercept ≤ 0 means no size broadening is resolved: the size is
reported as infinite, with a lower limit from the intercept's one-sided 95 % bound.
The line assumes isotropic broadening and one phase: give ``peaks=`` of one phase.

Why written here: the peers (xrdfit, GPL-3 with a Jupyter stack; powerxrd, fixed-η and
no Kα2) fit single peaks without a doublet model or instrument deconvolution; the rest is
a few lines of least squares.

Examples
--------
A Lorentzian doublet of FWHM 0.2° at 2θ = 40°, Cu Kα, no noise:

>>> import numpy as np
>>> from ssbkit.xrd.data import ANODES, Pattern
>>> x = np.arange(38.0, 42.0, 0.01)
>>> th1 = np.radians(20.0)
>>> c2 = 2 * np.degrees(np.arcsin(1.544414 / 1.540593 * np.sin(th1)))
>>> lor = lambda c: 1000 * 0.1 / np.pi / ((x - c) ** 2 + 0.1 ** 2)
>>> p = Pattern(x, 50 + lor(40.0) + 0.5 * lor(c2), wavelengths=ANODES["CuKa"])
>>> fit = fit_peaks(p, peaks=[40.0]).peaks[0]
>>> round(fit.position.value, 4), round(fit.fwhm.value, 4), round(fit.eta.value, 3)
(40.0, 0.2, 1.0)
>>> round(scherrer(fit, wavelength=1.540593).sizes[0].value, 2)  # 0.9·λ/(β cosθ), nm
42.27
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance
from ssbkit.core.validate import in_range, one_of, positive, positive_int
from ssbkit.xrd.data import Instrument, Pattern, wavelengths_from
from ssbkit.xrd.profile import pseudo_voigt, tch  # registers the TCH citation

__all__ = ["PeakFit", "PeakFitResult", "PeakList", "ScherrerResult", "SizeStrainResult",
           "WilliamsonHallResult", "fit_peaks", "integral_breadth", "pick_peaks", "scherrer", "sizestrain",
           "split_fwhm", "voigt_breadth", "williamson_hall"]

citations.register(
    "scherrer1918",
    "P. Scherrer, Bestimmung der Grösse und der inneren Struktur von Kolloidteilchen mittels "
    "Röntgenstrahlen, Nachr. Ges. Wiss. Göttingen, Math.-Phys. Kl. (1918) 98–100.",
)
citations.register(
    "williamson1953",
    "G. K. Williamson, W. H. Hall, X-ray line broadening from filed aluminium and wolfram, "
    "Acta Metall. 1 (1953) 22–31.",
    "10.1016/0001-6160(53)90006-6",
)
citations.register(
    "langford1978",
    "J. I. Langford, A. J. C. Wilson, Scherrer after sixty years: a survey and some new results "
    "in the determination of crystallite size, J. Appl. Cryst. 11 (1978) 102–113.",
    "10.1107/S0021889878012844",
)

BREADTHS = ("fwhm", "integral")
SHAPES = ("pseudo-voigt", "gaussian", "lorentzian")
_DEFAULT_K = {"fwhm": 0.9, "integral": 1.0}
_TCH_ETA = (1.36603, -0.47719, 0.11116)  # η(q), q = Γ_L/Γ
_TCH_FWHM = (1.0, 2.69269, 2.42843, 4.47163, 0.07842, 1.0)  # Γ⁵ = Σ c_k Γ_G^(5−k) Γ_L^k
_SQRT_LN2_PI = math.sqrt(math.log(2.0) / math.pi)
_ONE_SIDED_95 = 1.6448536269514722
_MIN_POINTS_PER_PARAMETER = 2


# -- profile algebra ---------------------------------------------------------------------------

def _tch_fwhm(fwhm_g: float, fwhm_l: float) -> float:
    return float(tch(fwhm_g, fwhm_l)[0])


def integral_breadth(fwhm: float, eta: float) -> float:
    """Integral breadth (area / height) of a pseudo-Voigt of FWHM ``fwhm`` and mixing ``eta``.

    >>> round(integral_breadth(1.0, 1.0), 6), round(integral_breadth(1.0, 0.0), 6)  # π/2, √(π/4ln2)
    (1.570796, 1.064467)
    """
    return fwhm / (2.0 * (eta / math.pi + (1.0 - eta) * _SQRT_LN2_PI))


def split_fwhm(fwhm: float, eta: float) -> tuple[float, float]:
    """(Gaussian, Lorentzian) FWHM whose Thompson–Cox–Hastings pseudo-Voigt has ``fwhm``, ``eta``.

    >>> g, lo = split_fwhm(0.2, 0.5)      # η(0.4222) = 0.5, and TCH gives back 0.2
    >>> round(_tch_fwhm(g, lo), 12), round(lo / 0.2, 4)
    (0.2, 0.4222)
    """
    eta = min(max(eta, 0.0), 1.0)
    a1, a2, a3 = _TCH_ETA
    # η(q) rises monotonically from 0 to 1.0000 on [0, 1]: the one real root there.
    roots = np.roots([a3, a2, a1, -eta])
    real = [r.real for r in roots if abs(r.imag) < 1e-9 and -1e-9 <= r.real <= 1.0 + 1e-6]
    q = float(min(max(min(real, key=lambda r: abs(r - eta)) if real else 1.0, 0.0), 1.0))
    fwhm_l = q * fwhm
    if q >= 1.0 - 1e-9:
        return 0.0, fwhm
    c = _TCH_FWHM
    poly = [c[0], c[1] * fwhm_l, c[2] * fwhm_l**2, c[3] * fwhm_l**3, c[4] * fwhm_l**4,
            c[5] * fwhm_l**5 - fwhm**5]
    roots = np.roots(poly)
    real = [r.real for r in roots if abs(r.imag) < 1e-7 * fwhm and -1e-9 <= r.real <= fwhm * (1 + 1e-9)]
    fwhm_g = float(max(real)) if real else 0.0
    return max(fwhm_g, 0.0), fwhm_l


def voigt_breadth(fwhm_g: float, fwhm_l: float) -> tuple[float, float]:
    """(FWHM, integral breadth) of the Voigt with Gaussian and Lorentzian FWHMs ``fwhm_g``, ``fwhm_l``.

    The FWHM by Thompson–Cox–Hastings, the integral breadth exactly (β_G / erfcx(k)).

    >>> [round(v, 6) for v in voigt_breadth(0.0, 0.1)], [round(v, 6) for v in voigt_breadth(0.1, 0.0)]
    ([0.1, 0.15708], [0.1, 0.106447])
    """
    from scipy.special import erfcx

    beta_g = fwhm_g * 0.5 * math.sqrt(math.pi / math.log(2.0))
    beta_l = 0.5 * math.pi * fwhm_l
    if beta_g <= 0:
        return fwhm_l, beta_l
    k = beta_l / (math.sqrt(math.pi) * beta_g)
    return _tch_fwhm(fwhm_g, fwhm_l), beta_g / float(erfcx(k))


def _propagate(func: Any, x: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Standard errors of the outputs of ``func(x)`` by first-order (delta-method) propagation."""
    base = np.atleast_1d(np.asarray(func(x), dtype=float))
    if not np.isfinite(cov).all():
        return np.full(base.shape, math.nan)
    jac = np.empty((base.size, x.size))
    for i in range(x.size):
        h = 1e-6 * max(abs(x[i]), 1e-6)
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        jac[:, i] = (np.atleast_1d(func(up)) - np.atleast_1d(func(down))) / (2 * h)
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, cov, jac), 0.0))


# -- results -----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PeakFit:
    """One fitted peak (its Kα1 line): observed profile and the sample's after instrument removal.

    Widths in deg 2θ; ``area`` in counts·deg; ``d_spacing`` in Å (NaN without a wavelength).
    ``sample_*`` are the breadths left once the instrument is removed (equal to the observed
    ones when no instrument was given). ``r_squared`` and ``reduced_chi2`` are those of the
    fit window, which it may share with neighbouring peaks (``group``).
    """

    position: Estimate
    fwhm: Estimate
    eta: Estimate
    area: Estimate
    integral_breadth: Estimate
    gaussian_fwhm: float
    lorentzian_fwhm: float
    sample_gaussian_fwhm: float
    sample_lorentzian_fwhm: float
    sample_fwhm: Estimate
    sample_integral_breadth: Estimate
    d_spacing: float
    background: tuple[float, float]  # counts at the peak, counts/deg
    window: tuple[float, float]
    group: int
    r_squared: float
    reduced_chi2: float
    success: bool = True
    message: str = ""

    def breadth(self, kind: str = "fwhm") -> Estimate:
        """The sample breadth [deg] of ``kind`` ``"fwhm"`` or ``"integral"``."""
        return self.sample_fwhm if kind == "fwhm" else self.sample_integral_breadth


@dataclass(frozen=True, kw_only=True)
class PeakFitResult(Result):
    """Peaks fitted one window at a time; ``model`` is the fitted curve over ``two_theta``."""

    peaks: tuple[PeakFit, ...]
    shape: str
    wavelengths: tuple[tuple[float, float], ...]
    instrument_corrected: bool
    two_theta: np.ndarray = field(repr=False)
    model: np.ndarray = field(repr=False)

    def to_frame(self) -> Any:
        import pandas as pd

        rows = []
        for p in self.peaks:
            rows.append({
                "2theta [deg]": p.position.value, "2theta stderr [deg]": p.position.stderr,
                "d [Å]": p.d_spacing, "FWHM [deg]": p.fwhm.value, "FWHM stderr [deg]": p.fwhm.stderr,
                "eta": p.eta.value, "integral breadth [deg]": p.integral_breadth.value,
                "area [counts·deg]": p.area.value, "area stderr [counts·deg]": p.area.stderr,
                "sample FWHM [deg]": p.sample_fwhm.value,
                "sample integral breadth [deg]": p.sample_integral_breadth.value,
                "R2": p.r_squared, "success": p.success})
        return pd.DataFrame(rows)

    def _report_lines(self) -> list[str]:
        lines = [f"  {len(self.peaks)} peak(s), {self.shape}, lines "
                 + " + ".join(f"{w:g}×{lam:.5f} Å" for lam, w in self.wavelengths)
                 + ("" if self.instrument_corrected else "; no instrument removed")]
        for p in self.peaks:
            lines.append(f"  2θ = {p.position}, FWHM = {p.fwhm}, η = {p.eta.value:.2f}, "
                         f"β = {p.integral_breadth.value:.4f}°, R² = {p.r_squared:.4f}")
        return lines


@dataclass(frozen=True, kw_only=True)
class ScherrerResult(Result):
    """Scherrer sizes [nm], one per peak, and their mean with the spread between peaks."""

    two_theta: tuple[float, ...]
    sizes: tuple[Estimate, ...]
    mean_size: Estimate
    K: float
    breadth: str
    convention: str
    wavelength: float

    def _report_lines(self) -> list[str]:
        lines = [f"  {self.convention}", f"  mean size {self.mean_size} (spread between peaks)"]
        lines += [f"  2θ = {t:.3f}°: {s}" for t, s in zip(self.two_theta, self.sizes, strict=True)]
        return lines


@dataclass(frozen=True, kw_only=True)
class WilliamsonHallResult(Result):
    """β·cosθ = K·λ/L + 4ε·sinθ fitted to the peaks: size L [nm] and apparent strain ε [%]."""

    size: Estimate
    size_lower_limit: float = field(metadata={"unit": "nm"})
    strain: Estimate
    intercept: Estimate
    slope: Estimate
    r_squared: float
    K: float
    breadth: str
    wavelength: float
    weighted: bool
    x: np.ndarray = field(repr=False)  # 4 sinθ
    y: np.ndarray = field(repr=False)  # β cosθ [rad]
    y_stderr: np.ndarray = field(repr=False)
    two_theta: np.ndarray = field(repr=False)

    def _report_lines(self) -> list[str]:
        return [f"  β cosθ = Kλ/L + 4ε sinθ, {self.breadth} breadths, K = {self.K:g}, "
                f"λ = {self.wavelength:.5f} Å, {self.x.size} peaks, "
                + ("weighted" if self.weighted else "unweighted"),
                f"  size L = {self.size}" + ("" if math.isfinite(self.size.value)
                                             else f" (> {self.size_lower_limit:.4g} nm)"),
                f"  strain ε = {self.strain}  (apparent, β/(4 tanθ))",
                f"  R² = {self.r_squared:.4f}"]


@dataclass(frozen=True, kw_only=True)
class SizeStrainResult(Result):
    """What ``ssbkit xrd sizestrain`` reports: the peak fits, Scherrer and Williamson–Hall."""

    fits: PeakFitResult
    scherrer: ScherrerResult
    williamson_hall: WilliamsonHallResult | None
    source: str = ""

    def _report_lines(self) -> list[str]:
        lines = [*self.fits._report_lines(), "Scherrer:", *self.scherrer._report_lines()]
        if self.williamson_hall is not None:
            lines += ["Williamson–Hall:", *self.williamson_hall._report_lines()]
        return lines


# -- peak picking ------------------------------------------------------------------------------

def _line_ratios(wavelengths: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(λ_l/λ_1, w_l/w_1) per line, the strongest line first."""
    if not wavelengths:
        return [(1.0, 1.0)]
    main = max(wavelengths, key=lambda line: line[1])
    rest = [line for line in wavelengths if line is not main]
    return [(1.0, 1.0)] + [(lam / main[0], w / main[1]) for lam, w in rest]


def _line_position(center: float, ratio: float) -> float:
    s = ratio * math.sin(math.radians(center / 2))
    return 2 * math.degrees(math.asin(s)) if s < 1 else math.nan


@dataclass(frozen=True)
class PeakList:
    """Picked peaks, by increasing 2θ: position [deg], rough FWHM [deg] and net height [counts]."""

    two_theta: np.ndarray
    fwhm: np.ndarray
    height: np.ndarray

    def __len__(self) -> int:
        return int(self.two_theta.size)


def pick_peaks(pattern: Pattern, *, wavelength: Any = None, max_peaks: int | None = 12,
               threshold: float = 10.0) -> PeakList:
    """The strongest peaks of ``pattern`` (at most ``max_peaks``; None for all).

    A peak counts when its smoothed maximum stands ``threshold`` standard errors above both
    a rolling-minimum background and the saddles to its neighbours (its prominence). Maxima
    on the flank of a stronger peak, and those where a stronger peak's Kα2 line falls
    (radiation from ``wavelength`` or the pattern), are left out.

    >>> import numpy as np
    >>> x = np.arange(20.0, 40.0, 0.02)
    >>> y = 100 + 2000 / (1 + ((x - 30) / 0.05) ** 2)
    >>> peaks = pick_peaks(Pattern(x, y, wavelengths="CuKa"))
    >>> peaks.two_theta.round(2).tolist(), len(peaks)   # the Kα2 shoulder is not a peak
    ([30.0], 1)
    """
    if not isinstance(pattern, Pattern):
        raise InputError(f"must be a Pattern, got {type(pattern).__name__}", source="pattern")
    lines = _line_ratios(_radiation(pattern, wavelength))
    limit = None if max_peaks is None else positive_int("max_peaks", max_peaks)
    picked = _pick(pattern, lines, max_peaks=limit, threshold=positive("threshold", threshold))
    return PeakList(*(frozen_array([p[i] for p in picked], float) for i in range(3)))


def _pick(pattern: Pattern, lines: list[tuple[float, float]], *, max_peaks: int | None,
          threshold: float) -> list[tuple[float, float, float]]:
    """(position, FWHM estimate, net height) of the strongest peaks, Kα2 shadows left out."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d
    from scipy.signal import find_peaks, peak_widths, savgol_filter

    x, y, s = pattern.two_theta, pattern.intensity, pattern.sigma
    step = float(np.median(np.diff(x)))
    span = max(int(round(1.5 / step)), 5)
    background = uniform_filter1d(minimum_filter1d(y, span, mode="nearest"), span, mode="nearest")
    smooth = savgol_filter(y, 7, 2) if y.size >= 9 else y
    # Prominence, not height: noise splits a peak's top into several maxima, each of which
    # stands only a few standard errors above the saddle between them.
    idx, props = find_peaks(smooth, prominence=0.0)
    prominence = props["prominences"]
    net = smooth[idx] - background[idx]
    keep = (prominence > threshold * s[idx]) & (net > threshold * s[idx])
    idx, net = idx[keep], net[keep]
    if idx.size == 0:
        return []
    widths = peak_widths(smooth, idx, rel_height=0.5)[0] * step
    order = np.argsort(net)[::-1]
    chosen: list[int] = []
    dropped: set[int] = set()
    for i in order:
        if i in dropped:
            continue
        chosen.append(int(i))
        for j in order:  # a weaker maximum on this peak's own flank is the same peak
            if j != i and abs(float(x[idx[j]] - x[idx[i]])) < 0.6 * widths[i] and net[j] < net[i]:
                dropped.add(int(j))
        for ratio, _ in lines[1:]:
            shadow = _line_position(float(x[idx[i]]), ratio)
            for j in order:
                near = abs(float(x[idx[j]]) - shadow) < max(0.6 * widths[i], 2 * step)
                if j != i and near and net[j] < 0.8 * net[i]:
                    dropped.add(int(j))
        if len(chosen) == max_peaks:
            break
    return sorted((float(x[idx[i]]), max(float(widths[i]), 2 * step), float(net[i])) for i in chosen)


# -- fitting -----------------------------------------------------------------------------------

def _groups(centers: list[tuple[float, float]], half: list[float], lines: list[tuple[float, float]],
            lo: float, hi: float) -> list[tuple[list[int], float, float]]:
    """Windows around each peak (the Kα2 side widened by the doublet splitting), merged where
    they overlap; each group of peaks is fitted together."""
    spans = []
    for (c, _), h in zip(centers, half, strict=True):
        split = max([_line_position(c, r) - c for r, _ in lines[1:] if math.isfinite(_line_position(c, r))],
                    default=0.0)
        spans.append((max(c - h, lo), min(c + h + split, hi)))
    order = sorted(range(len(centers)), key=lambda i: spans[i][0])
    groups: list[tuple[list[int], float, float]] = []
    for i in order:
        a, b = spans[i]
        if groups and a < groups[-1][2]:
            members, ga, gb = groups[-1]
            groups[-1] = (members + [i], ga, max(gb, b))
        else:
            groups.append(([i], a, b))
    return groups


def _model(params: np.ndarray, x: np.ndarray, n: int, lines: list[tuple[float, float]], x0: float,
           eta_fixed: float | None) -> np.ndarray:
    per = 3 if eta_fixed is not None else 4
    out = params[n * per] + params[n * per + 1] * (x - x0)
    for j in range(n):
        c, area, fwhm = params[j * per: j * per + 3]
        eta = eta_fixed if eta_fixed is not None else params[j * per + 3]
        for ratio, weight in lines:
            cl = c if ratio == 1.0 else _line_position(c, ratio)
            if math.isfinite(cl):
                out = out + weight * area * pseudo_voigt(x, cl, fwhm, eta)
    return out


def _fit_group(pattern: Pattern, members: list[tuple[float, float]], a: float, b: float,
               lines: list[tuple[float, float]], shape: str) -> dict[str, Any]:
    from scipy.optimize import least_squares

    x_all = pattern.two_theta
    inside = (x_all >= a) & (x_all <= b)
    x, y, s = x_all[inside], pattern.intensity[inside], pattern.sigma[inside]
    eta_fixed = {"gaussian": 0.0, "lorentzian": 1.0}.get(shape)
    per = 3 if eta_fixed is not None else 4
    n = len(members)
    if x.size < _MIN_POINTS_PER_PARAMETER * (per * n + 2):
        return {"ok": False, "message": f"{x.size} points in {a:.3f}–{b:.3f}° are too few for "
                f"{n} peak(s)", "x": x, "inside": inside}
    step = float(np.median(np.diff(x)))
    x0 = 0.5 * (a + b)
    edge = max(3, x.size // 20)
    left, right = float(np.median(y[:edge])), float(np.median(y[-edge:]))
    slope = (right - left) / max(float(x[-edge:].mean() - x[:edge].mean()), step)
    level = left + slope * (x0 - float(x[:edge].mean()))
    start, low, high = [], [], []
    total_weight = sum(w for _, w in lines)
    for c, width in members:
        k = int(np.argmin(np.abs(x - c)))
        height = max(float(y[k]) - (level + slope * (c - x0)), float(s[k]))
        fwhm = min(max(width, 2 * step), b - a)
        start += [c, height * fwhm * 1.2 / total_weight, fwhm]
        low += [c - max(fwhm, 2 * step), 0.0, 0.25 * step]
        high += [c + max(fwhm, 2 * step), np.inf, b - a]
        if eta_fixed is None:
            start.append(0.5)
            low.append(0.0)
            high.append(1.0)
    start += [level, slope]
    low += [-np.inf, -np.inf]
    high += [np.inf, np.inf]
    start_arr = np.clip(np.array(start), np.array(low) + 1e-12, np.array(high) - 1e-12)

    def residual(p: np.ndarray) -> np.ndarray:
        return (y - _model(p, x, n, lines, x0, eta_fixed)) / s

    fit = least_squares(residual, start_arr, bounds=(low, high), x_scale="jac", method="trf",
                        max_nfev=200 * start_arr.size)
    dof = x.size - start_arr.size
    chi2 = float(np.sum(fit.fun**2))
    reduced = chi2 / dof if dof > 0 else math.nan
    try:
        cov = np.linalg.pinv(fit.jac.T @ fit.jac) * reduced
    except np.linalg.LinAlgError:
        cov = np.full((start_arr.size, start_arr.size), math.nan)
    calc = _model(fit.x, x, n, lines, x0, eta_fixed)
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - calc) ** 2)) / total if total > 0 else math.nan
    return {"ok": bool(fit.success) and np.isfinite(fit.x).all(), "message": "" if fit.success
            else f"least squares stopped: {fit.message}", "params": fit.x, "cov": cov, "per": per,
            "eta_fixed": eta_fixed, "x0": x0, "r2": r2, "reduced": reduced, "inside": inside,
            "calc": calc, "low": np.array(low), "high": np.array(high)}


def _peak_from(fit: dict[str, Any], j: int, group: int, window: tuple[float, float],
               instrument: Instrument | None, lam: float | None) -> PeakFit:
    per, p, cov = fit["per"], fit["params"], fit["cov"]
    sl = slice(j * per, j * per + per)
    c, area, fwhm = (float(v) for v in p[sl][:3])
    se = np.sqrt(np.maximum(np.diag(cov)[sl], 0.0))
    eta = fit["eta_fixed"] if fit["eta_fixed"] is not None else float(p[sl][3])
    eta_se = math.nan if fit["eta_fixed"] is not None else float(se[3])
    # (FWHM, η) and their covariance, for the breadths derived from them
    if fit["eta_fixed"] is None:
        idx = [j * per + 2, j * per + 3]
        shape_cov = cov[np.ix_(idx, idx)]
    else:
        shape_cov = np.array([[cov[j * per + 2, j * per + 2], 0.0], [0.0, 0.0]])
    ins_g = float(instrument.gaussian_fwhm(c)) if instrument is not None else 0.0
    ins_l = float(instrument.lorentzian_fwhm(c)) if instrument is not None else 0.0

    def sample(v: np.ndarray) -> np.ndarray:
        g, lo = split_fwhm(float(v[0]), float(v[1]))
        gs = math.sqrt(max(g * g - ins_g * ins_g, 0.0))
        ls = max(lo - ins_l, 0.0)
        return np.array(voigt_breadth(gs, ls))

    fwhm_g, fwhm_l = split_fwhm(fwhm, eta)
    sample_g = math.sqrt(max(fwhm_g**2 - ins_g**2, 0.0))
    sample_l = max(fwhm_l - ins_l, 0.0)
    shape_x = np.array([fwhm, eta])
    s_fwhm, s_beta = voigt_breadth(sample_g, sample_l)
    s_err = _propagate(sample, shape_x, shape_cov)
    beta_err = _propagate(lambda v: integral_breadth(float(v[0]), float(v[1])), shape_x, shape_cov)
    notes = []
    success = fit["ok"]
    if fwhm <= fit["low"][j * per + 2] * 1.0001:
        notes.append("FWHM at its lower bound (a spike, or too few points across the peak)")
        success = False
    if instrument is not None and (fwhm_g < ins_g or fwhm_l < ins_l):
        notes.append("narrower than the instrument in its "
                     + " and ".join(n for n, bad in (("Gaussian", fwhm_g < ins_g),
                                                      ("Lorentzian", fwhm_l < ins_l)) if bad)
                     + " part (that part set to 0)")
    d = lam / (2 * math.sin(math.radians(c / 2))) if lam else math.nan
    x0, base = fit["x0"], p[-2:]
    return PeakFit(
        position=Estimate(c, float(se[0]), "deg"), fwhm=Estimate(fwhm, float(se[2]), "deg"),
        eta=Estimate(eta, eta_se), area=Estimate(area, float(se[1]), "counts·deg"),
        integral_breadth=Estimate(integral_breadth(fwhm, eta), float(beta_err[0]), "deg"),
        gaussian_fwhm=fwhm_g, lorentzian_fwhm=fwhm_l, sample_gaussian_fwhm=sample_g,
        sample_lorentzian_fwhm=sample_l, sample_fwhm=Estimate(s_fwhm, float(s_err[0]), "deg"),
        sample_integral_breadth=Estimate(s_beta, float(s_err[1]), "deg"), d_spacing=d,
        background=(float(base[0] + base[1] * (c - x0)), float(base[1])), window=window, group=group,
        r_squared=float(fit["r2"]), reduced_chi2=float(fit["reduced"]), success=bool(success),
        message="; ".join(filter(None, [fit["message"], *notes])))


def _radiation(pattern: Pattern, wavelength: Any) -> tuple[tuple[float, float], ...]:
    if wavelength is not None:
        return wavelengths_from(wavelength, source="wavelength")
    return tuple(pattern.wavelengths)


def fit_peaks(pattern: Pattern, *, peaks: Sequence[float] | None = None, window_deg: float | None = None,
              shape: str = "pseudo-voigt", wavelength: Any = None, instrument: Instrument | None = None,
              max_peaks: int = 12, threshold: float = 10.0) -> PeakFitResult:
    """Fit peaks one window (or one group of overlapping windows) at a time.

    Parameters
    ----------
    pattern
        The scan; its ``wavelengths`` give the Kα doublet unless ``wavelength`` is given.
    peaks
        Approximate 2θ [deg] of the peaks to fit; ``None`` picks up to ``max_peaks`` of the
        strongest, those whose smoothed net height exceeds ``threshold`` standard errors
        (Kα2 shoulders are recognised and left to the doublet model).
    window_deg
        Full width [deg] of the window around each peak (widened on the high-angle side by
        the Kα1–Kα2 splitting); default ±4 estimated FWHM, at least ±8 steps.
    shape
        ``"pseudo-voigt"`` (η free), ``"gaussian"`` (η = 0) or ``"lorentzian"`` (η = 1).
    wavelength
        Radiation (anode name, λ [Å] or ``[(λ, weight), …]``) overriding the pattern's.
    instrument
        Instrument whose Caglioti profile is removed from the breadths (see the module
        docstring); ``None`` removes nothing.
    """
    if not isinstance(pattern, Pattern):
        raise InputError(f"must be a Pattern, got {type(pattern).__name__}", source="pattern")
    shape = one_of("shape", shape, SHAPES)
    if instrument is not None and not isinstance(instrument, Instrument):
        raise InputError(f"must be an Instrument or None, got {type(instrument).__name__}",
                         source="instrument")
    max_peaks = positive_int("max_peaks", max_peaks)
    threshold = positive("threshold", threshold)
    radiation = _radiation(pattern, wavelength)
    if not radiation and instrument is not None:
        radiation = tuple(instrument.wavelengths)
    lines = _line_ratios(radiation)
    lo, hi = float(pattern.two_theta[0]), float(pattern.two_theta[-1])
    step = float(np.median(np.diff(pattern.two_theta)))
    where = pattern.source or "pattern"
    if peaks is None:
        picked = [(c, w) for c, w, _ in _pick(pattern, lines, max_peaks=max_peaks, threshold=threshold)]
    else:
        positions = np.atleast_1d(np.asarray(peaks, dtype=float)) if len(peaks) else np.array([])
        if positions.size == 0 or not np.isfinite(positions).all():
            raise InputError("give at least one finite 2θ [deg], or None to pick peaks", source="peaks")
        outside = positions[(positions <= lo) | (positions >= hi)]
        if outside.size:
            raise InputError(f"peak(s) at {', '.join(f'{v:g}' for v in outside)}° lie outside the "
                             f"scan of {where} ({lo:g}–{hi:g}°)", source="peaks")
        picked = sorted((float(v), _width_near(pattern, float(v))) for v in positions)
    if window_deg is not None:
        window_half = in_range("window_deg", window_deg, 2 * step, hi - lo) / 2
        half = [window_half] * len(picked)
    else:
        half = [max(4.0 * w, 8.0 * step) for _, w in picked]
    lam = max(radiation, key=lambda line: line[1])[0] if radiation else None
    settings = {"peaks": None if peaks is None else [c for c, _ in picked], "window_deg": window_deg,
                "shape": shape, "wavelengths": radiation, "max_peaks": max_peaks, "threshold": threshold,
                "instrument": None if instrument is None else _instrument_dict(instrument)}
    provenance = make_provenance("ssbkit.xrd.sizestrain.fit_peaks", settings=settings,
                                 inputs={"two_theta": pattern.two_theta, "intensity": pattern.intensity},
                                 citations=("thompson1987",))
    model = np.full(pattern.two_theta.shape, np.nan)
    if not picked:
        return PeakFitResult(success=False, message=f"no peak stands {threshold:g} standard errors "
                             "above the background", peaks=(), shape=shape, wavelengths=radiation,
                             instrument_corrected=instrument is not None,
                             two_theta=frozen_array(pattern.two_theta), model=frozen_array(model),
                             provenance=provenance)
    fitted: list[PeakFit] = []
    for g, (members, a, b) in enumerate(_groups(picked, half, lines, lo, hi)):
        result = _fit_group(pattern, [picked[i] for i in members], a, b, lines, shape)
        if "params" not in result:
            for i in members:
                fitted.append(_failed(picked[i][0], (a, b), g, result["message"]))
            continue
        model[result["inside"]] = result["calc"]
        for j, _ in enumerate(members):
            fitted.append(_peak_from(result, j, g, (a, b), instrument, lam))
    fitted.sort(key=lambda p: p.position.value)
    bad = [p for p in fitted if not p.success]
    message = "" if not bad else (f"{len(bad)} of {len(fitted)} peak fit(s) failed: "
                                  + "; ".join(f"{p.position.value:.3f}°: {p.message}" for p in bad))
    if instrument is None:
        message = "; ".join(filter(None, [message, "no instrument given: breadths include the "
                                          "instrument's, sizes are lower bounds"]))
    return PeakFitResult(success=len(bad) < len(fitted), message=message, peaks=tuple(fitted),
                         shape=shape, wavelengths=radiation, instrument_corrected=instrument is not None,
                         two_theta=frozen_array(pattern.two_theta), model=frozen_array(model),
                         provenance=provenance)


def _width_near(pattern: Pattern, center: float) -> float:
    """A rough FWHM [deg] of the peak nearest ``center``: the half-maximum crossings around it."""
    x, y = pattern.two_theta, pattern.intensity
    step = float(np.median(np.diff(x)))
    near = np.abs(x - center) <= max(0.5, 10 * step)
    k = int(np.flatnonzero(near)[np.argmax(y[near])])
    floor = float(np.percentile(y[np.abs(x - center) <= max(2.0, 40 * step)], 10))
    half = floor + 0.5 * (float(y[k]) - floor)
    left, right = k, k
    while left > 0 and y[left] > half:
        left -= 1
    while right < y.size - 1 and y[right] > half:
        right += 1
    return max(float(x[right] - x[left]), 2 * step)


def _failed(center: float, window: tuple[float, float], group: int, message: str) -> PeakFit:
    nan = Estimate(math.nan, math.nan, "deg")
    return PeakFit(position=Estimate(center, math.nan, "deg"), fwhm=nan, eta=Estimate(math.nan),
                   area=Estimate(math.nan, math.nan, "counts·deg"), integral_breadth=nan,
                   gaussian_fwhm=math.nan, lorentzian_fwhm=math.nan, sample_gaussian_fwhm=math.nan,
                   sample_lorentzian_fwhm=math.nan, sample_fwhm=nan, sample_integral_breadth=nan,
                   d_spacing=math.nan, background=(math.nan, math.nan), window=window, group=group,
                   r_squared=math.nan, reduced_chi2=math.nan, success=False, message=message)


def _instrument_dict(instrument: Instrument) -> dict[str, Any]:
    return {name: getattr(instrument, name) for name in ("U", "V", "W", "X", "Y")}


# -- Scherrer and Williamson–Hall ----------------------------------------------------------------

def _peaks_of(fits: Any) -> list[PeakFit]:
    if isinstance(fits, SizeStrainResult):
        fits = fits.fits
    if isinstance(fits, PeakFitResult):
        items = list(fits.peaks)
    elif isinstance(fits, PeakFit):
        items = [fits]
    elif isinstance(fits, Sequence) and all(isinstance(f, PeakFit) for f in fits):
        items = list(fits)
    else:
        raise InputError(f"must be a PeakFitResult, a PeakFit or a list of them, got {type(fits).__name__}",
                         source="fits")
    usable = [p for p in items if p.success and math.isfinite(p.sample_fwhm.value)]
    if not usable:
        raise InputError("no successfully fitted peak to use", source="fits")
    return usable


def _wavelength_of(fits: Any, wavelength: Any) -> float:
    if wavelength is not None:
        lines = wavelengths_from(wavelength, source="wavelength")
        return max(lines, key=lambda line: line[1])[0]
    source = fits.fits if isinstance(fits, SizeStrainResult) else fits
    lines = getattr(source, "wavelengths", ())
    if not lines:
        raise InputError("the fits carry no wavelength: pass wavelength= (Å or an anode name)",
                         source="wavelength")
    return max(lines, key=lambda line: line[1])[0]


def _breadth_and_k(breadth: str, K: float | None) -> tuple[str, float]:
    breadth = one_of("breadth", breadth, BREADTHS)
    k = _DEFAULT_K[breadth] if K is None else in_range("K", K, 0.5, 2.0)
    return breadth, k


def _convention(breadth: str, k: float) -> str:
    if breadth == "fwhm":
        return (f"Scherrer L = Kλ/(β cosθ), β = sample FWHM, K = {k:g}: apparent crystallite size "
                "(not a moment of the size distribution)")
    return (f"Scherrer L = Kλ/(β cosθ), β = sample integral breadth, K = {k:g}: volume-weighted "
            "mean column length (Stokes–Wilson; = 3/4 of a sphere's diameter when K = 1)")


def scherrer(fits: Any, *, K: float | None = None, wavelength: Any = None,
             breadth: str = "fwhm") -> ScherrerResult:
    """Scherrer size L = K·λ/(β·cosθ) [nm] of each fitted peak (see the module docstring).

    ``K`` defaults to 0.9 for ``breadth="fwhm"`` and 1.0 for ``breadth="integral"``;
    ``wavelength`` (Å or an anode name) defaults to the fits' strongest line.
    """
    peaks = _peaks_of(fits)
    breadth, k = _breadth_and_k(breadth, K)
    lam = _wavelength_of(fits, wavelength)
    sizes, notes = [], []
    for p in peaks:
        beta = p.breadth(breadth)
        cos = math.cos(math.radians(p.position.value / 2))
        if beta.value <= 0:
            sizes.append(Estimate(math.inf, math.nan, "nm"))
            notes.append(f"{p.position.value:.3f}°: no sample broadening left")
            continue
        size = k * lam / (math.radians(beta.value) * cos) / 10.0
        sizes.append(Estimate(size, size * beta.stderr / beta.value, "nm"))
    finite = np.array([s.value for s in sizes if math.isfinite(s.value)])
    if finite.size:
        spread = float(np.std(finite, ddof=1)) if finite.size > 1 else math.nan
        mean = Estimate(float(finite.mean()), spread, "nm")
    else:
        mean = Estimate(math.inf, math.nan, "nm")
    return ScherrerResult(
        success=bool(finite.size), message="; ".join(notes), two_theta=tuple(p.position.value for p in peaks),
        sizes=tuple(sizes), mean_size=mean, K=k, breadth=breadth, convention=_convention(breadth, k),
        wavelength=lam,
        provenance=make_provenance("ssbkit.xrd.sizestrain.scherrer",
                                   settings={"K": k, "breadth": breadth, "wavelength": lam},
                                   inputs={"breadths": [p.breadth(breadth).value for p in peaks],
                                           "two_theta": [p.position.value for p in peaks]},
                                   citations=("scherrer1918", "langford1978")))


def williamson_hall(fits: Any, *, K: float | None = None, wavelength: Any = None, breadth: str = "fwhm",
                    weighted: bool = False) -> WilliamsonHallResult:
    """Williamson–Hall line β·cosθ = K·λ/L + 4ε·sinθ through the fitted peaks.

    Needs at least 2 peaks (3 for standard errors). ``weighted`` weights each point by the
    inverse variance of its β·cosθ. See the module docstring for the conventions.
    """
    peaks = _peaks_of(fits)
    breadth, k = _breadth_and_k(breadth, K)
    lam = _wavelength_of(fits, wavelength)
    if len(peaks) < 2:
        raise InputError(f"a Williamson–Hall line needs at least 2 fitted peaks, got {len(peaks)}",
                         source="fits")
    theta = np.radians([p.position.value / 2 for p in peaks])
    beta = np.radians([p.breadth(breadth).value for p in peaks])
    beta_se = np.radians([p.breadth(breadth).stderr for p in peaks])
    x, y, y_se = 4 * np.sin(theta), beta * np.cos(theta), beta_se * np.cos(theta)
    if np.unique(np.round(x, 12)).size < 2:
        raise InputError("the peaks must lie at at least 2 different angles", source="fits")
    use_weights = weighted and np.isfinite(y_se).all() and (y_se > 0).all()
    w = 1.0 / y_se**2 if use_weights else np.ones_like(x)
    x_mean = float(np.sum(w * x) / np.sum(w))
    xc = x - x_mean
    sxx = float(np.sum(w * xc**2))
    slope = float(np.sum(w * xc * y)) / sxx
    level = float(np.sum(w * y) / np.sum(w))
    intercept = level - slope * x_mean
    residual = y - (intercept + slope * x)
    dof = x.size - 2
    scale = float(np.sum(w * residual**2)) / dof if dof > 0 else math.nan
    var_slope = scale / sxx
    var_intercept = scale * (1.0 / float(np.sum(w)) + x_mean**2 / sxx)
    total = float(np.sum(w * (y - level) ** 2))
    r2 = 1.0 - float(np.sum(w * residual**2)) / total if total > 0 else math.nan
    se_i, se_s = math.sqrt(var_intercept), math.sqrt(var_slope)
    notes = []
    if dof == 0:
        notes.append("two peaks fit the line exactly: no standard errors")
    length = k * lam / 10.0  # nm·rad
    if intercept > 0:
        size = Estimate(length / intercept, length / intercept * se_i / intercept, "nm")
    else:
        size = Estimate(math.inf, math.nan, "nm")
        notes.append("intercept ≤ 0: no size broadening resolved (size reported as infinite)")
    upper = intercept + _ONE_SIDED_95 * se_i
    lower_limit = length / upper if math.isfinite(upper) and upper > 0 else math.nan
    if slope < 0:
        notes.append("slope < 0: no strain broadening resolved (strain reported as fitted)")
    return WilliamsonHallResult(
        message="; ".join(notes), size=size, size_lower_limit=lower_limit,
        strain=Estimate(100 * slope, 100 * se_s, "%"), intercept=Estimate(intercept, se_i, "rad"),
        slope=Estimate(slope, se_s), r_squared=r2, K=k, breadth=breadth, wavelength=lam,
        weighted=bool(use_weights), x=frozen_array(x), y=frozen_array(y), y_stderr=frozen_array(y_se),
        two_theta=frozen_array([p.position.value for p in peaks]),
        provenance=make_provenance("ssbkit.xrd.sizestrain.williamson_hall",
                                   settings={"K": k, "breadth": breadth, "wavelength": lam,
                                             "weighted": bool(use_weights)},
                                   inputs={"x": x, "y": y}, citations=("williamson1953", "langford1978")))


def sizestrain(pattern: Pattern, *, peaks: Sequence[float] | None = None,
               instrument: Instrument | None = None, wavelength: Any = None,
               window_deg: float | None = None, shape: str = "pseudo-voigt",
               breadth: str = "fwhm", K: float | None = None, max_peaks: int = 12,
               threshold: float = 10.0, weighted: bool = False) -> SizeStrainResult:
    """Peak fits, Scherrer sizes and a Williamson–Hall line in one call (``ssbkit xrd sizestrain``).

    Options as in ``fit_peaks``, ``scherrer`` and ``williamson_hall``. The Williamson–Hall
    part is ``None`` when fewer than 2 peaks were fitted.
    """
    if not isinstance(pattern, Pattern):
        raise InputError(f"must be a Pattern, got {type(pattern).__name__}", source="pattern")
    if wavelength is None and not pattern.wavelengths and instrument is None:
        raise InputError("sizes need the wavelength and the file does not give it: pass wavelength= "
                         "(Å or an anode name such as 'CuKa')", source=pattern.source or "pattern")
    fits = fit_peaks(pattern, peaks=peaks, window_deg=window_deg, shape=shape, wavelength=wavelength,
                     instrument=instrument, max_peaks=max_peaks, threshold=threshold)
    good = [p for p in fits.peaks if p.success]
    settings = {"breadth": breadth, "K": K, "weighted": weighted, **fits.provenance.settings}
    provenance = make_provenance("ssbkit.xrd.sizestrain.sizestrain", settings=settings,
                                 inputs={"two_theta": pattern.two_theta, "intensity": pattern.intensity},
                                 citations=("thompson1987", "scherrer1918", "williamson1953",
                                            "langford1978"))
    if not good:
        lam = _wavelength_of(fits, wavelength) if (wavelength is not None or fits.wavelengths) else math.nan
        empty = ScherrerResult(success=False, message="no peak", two_theta=(), sizes=(),
                               mean_size=Estimate(math.nan, math.nan, "nm"), K=_breadth_and_k(breadth, K)[1],
                               breadth=breadth, convention="", wavelength=lam)
        return SizeStrainResult(success=False, message=fits.message or "no peak fitted", fits=fits,
                                scherrer=empty, williamson_hall=None, source=pattern.source,
                                provenance=provenance)
    size = scherrer(fits, K=K, wavelength=wavelength, breadth=breadth)
    wh = williamson_hall(fits, K=K, wavelength=wavelength, breadth=breadth,
                         weighted=weighted) if len(good) >= 2 else None
    notes = [fits.message, "" if wh is not None else "one peak: no Williamson–Hall line",
             wh.message if wh is not None else ""]
    return SizeStrainResult(success=True, message="; ".join(filter(None, notes)), fits=fits, scherrer=size,
                            williamson_hall=wh, source=pattern.source, provenance=provenance)
