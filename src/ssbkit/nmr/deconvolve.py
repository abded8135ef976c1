"""Deconvolution of a 1D spectrum into pseudo-Voigt lines: positions, widths, areas and site fractions.

Each line is a pseudo-Voigt, the weighted sum of a Lorentzian and a Gaussian of the same full
width at half maximum w [ppm] (Wertheim et al. 1974), written with its area a as parameter:

    f(δ) = a·[η·L(δ) + (1 − η)·G(δ)],   s = 2(δ − δ0)/w
    L = (2/(π w)) / (1 + s²),   G = (2/w)·√(ln 2/π)·exp(−ln 2·s²)

L and G each have unit area and height 2/(π w) and (2/w)√(ln 2/π), so a is the line's area
[a.u.·ppm] whatever η (0: Gaussian, 1: Lorentzian). ``shape="lorentzian"`` or ``"gaussian"``
fixes η; ``shared_width=True`` gives every line one w (lines broadened alike, as in a mixture
measured at one spinning rate). A baseline, constant or a straight line, is fitted with the lines.

Spinning sidebands of a line (MAS at ν_r, observe frequency ν0) sit at δ0 ± n·ν_r/ν0 ppm
(ν_r in Hz, ν0 in MHz), n = 1 … ``orders``; each has its own area (≥ 0) but the centre line's
position, width and η. **A site's area is its centre band plus its sidebands**: spinning moves
intensity into the sidebands without removing nuclei, so site fractions count all of it.
Sidebands falling outside the fitted region are left out (the data cannot tell their area).

Starting values: the given positions (``peaks``), or peak picking: maxima whose prominence is at
least ``min_snr`` times the noise, the standard deviation of the quietest sixteenth of the spectrum
once a straight line is removed (or of ``noise_region``). Widths start from where the data fall
to half the peak. The fit is bounded least squares (``scipy.optimize.least_squares``, analytic
Jacobian); each position stays nearer its own start than its neighbours' (lines keep the names and
order given). Standard errors come from the Jacobian, scaled by the residual variance
Σr²/(n − p); site fractions a_k/Σa and their errors are propagated through the full covariance,
so they sum to 1 and their errors account for the correlation of overlapping lines.

Why written here: nmrglue's ``linesh`` fits lineshapes but has no sidebands tied to their centre
line, shared widths, fitted baseline or covariance-propagated fractions; lmfit is not a dependency.

>>> import numpy as np
>>> ppm = np.linspace(10, -10, 801)
>>> y = 3 * pseudo_voigt(ppm, 2.31, 0.8, 0.3) + 1 * pseudo_voigt(ppm, -4.56, 1.2, 0.3)
>>> r = deconvolve(NMRSpectrum(y, (ppm,)), peaks=[2.31, -4.56], names=["Li2S", "LiI"])
>>> [(line.name, round(line.area.value, 4), round(line.fraction.value, 4)) for line in r.lines]
[('Li2S', 3.0, 0.75), ('LiI', 1.0, 0.25)]
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance
from ssbkit.core.units import label
from ssbkit.core.validate import finite, finite_array, one_of, positive, positive_int
from ssbkit.nmr.data import NMRSpectrum

__all__ = ["BASELINES", "SHAPES", "Deconvolution", "Line", "deconvolve", "estimate_noise", "pseudo_voigt"]

SHAPES = ("pseudo-voigt", "lorentzian", "gaussian")
BASELINES = ("constant", "linear")
AREA_UNIT = "a.u.·ppm"
_LN2 = math.log(2.0)
_GAUSS_NORM = 2.0 * math.sqrt(_LN2 / math.pi)
_NOISE_SEGMENTS = 16
_MISFIT = 3.0  # residual rms / noise above which the result says the model misses something

citations.register(
    "wertheim1974",
    "G. K. Wertheim, M. A. Butler, K. W. West, D. N. E. Buchanan, Determination of the Gaussian and "
    "Lorentzian content of experimental line shapes, Rev. Sci. Instrum. 45 (1974) 1369.",
    "10.1063/1.1686503",
)


def pseudo_voigt(ppm: Any, position: float, fwhm: float, eta: float = 0.5) -> np.ndarray:
    """The unit-area pseudo-Voigt η·L + (1 − η)·G of FWHM ``fwhm`` at ``position`` (module docstring).

    >>> import numpy as np
    >>> x = np.linspace(-50, 50, 200001)
    >>> round(float(np.trapezoid(pseudo_voigt(x, 0.0, 1.0, 0.0), x)), 6)
    1.0
    >>> round(float(pseudo_voigt(0.5, 0.0, 1.0, 1.0) / pseudo_voigt(0.0, 0.0, 1.0, 1.0)), 12)
    0.5
    """
    return _profile(np.asarray(ppm, dtype=float), position, fwhm, eta)[0]


def _profile(x: np.ndarray, x0: float, w: float, eta: float) -> tuple[np.ndarray, ...]:
    """Value and derivatives (by position, width, η) of the unit-area pseudo-Voigt."""
    s = 2.0 * (x - x0) / w
    s2 = s * s
    lor = (2.0 / (math.pi * w)) / (1.0 + s2)
    gau = (_GAUSS_NORM / w) * np.exp(-_LN2 * s2)
    value = eta * lor + (1.0 - eta) * gau
    d_pos = eta * lor * (4.0 * s / ((1.0 + s2) * w)) + (1.0 - eta) * gau * (4.0 * _LN2 * s / w)
    d_width = (eta * (lor / w) * (2.0 * s2 / (1.0 + s2) - 1.0)
               + (1.0 - eta) * (gau / w) * (2.0 * _LN2 * s2 - 1.0))
    return value, d_pos, d_width, lor - gau


def estimate_noise(spectrum: NMRSpectrum, *, region: Sequence[float] | None = None) -> float:
    """Standard deviation of the noise of a 1D spectrum, once a straight line is removed.

    From ``region`` (two ppm limits, chosen free of signal), or else from the quietest of 16
    equal segments of the spectrum (a spectrum has signal-free stretches at its edges).

    >>> import numpy as np
    >>> ppm = np.linspace(10, -10, 4001)
    >>> y = np.random.default_rng(1).normal(0, 0.01, ppm.size) + pseudo_voigt(ppm, 0, 1)
    >>> round(estimate_noise(NMRSpectrum(y, (ppm,))), 2)
    0.01
    """
    axis, data = spectrum.ppm[0], spectrum.data
    if region is not None:
        lo, hi = _limits("noise_region", region)
        inside = (axis >= lo) & (axis <= hi)
        if inside.sum() < 8:
            raise InputError(f"holds {int(inside.sum())} points; a noise estimate needs at least 8",
                             source="noise_region")
        return _detrended_std(axis[inside], data[inside])
    segments = max(1, min(_NOISE_SEGMENTS, data.size // 8))
    bounds = np.linspace(0, data.size, segments + 1).astype(int)
    return min(_detrended_std(axis[a:b], data[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def _detrended_std(x: np.ndarray, y: np.ndarray) -> float:
    coefficients = np.polyfit(x - x.mean(), y, 1)
    return float(np.std(y - np.polyval(coefficients, x - x.mean()), ddof=2))


def _limits(name: str, values: Any) -> tuple[float, float]:
    items = list(values) if isinstance(values, Sequence | np.ndarray) else None
    if items is None or len(items) != 2:
        raise InputError(f"must be two ppm limits (high, low), got {values!r}", source=name)
    a, b = sorted(finite(name, v) for v in items)
    if a == b:
        raise InputError(f"the two limits are equal ({a:g} ppm)", source=name)
    return a, b


@dataclass(frozen=True, slots=True)
class Line:
    """One site: its centre line's position, FWHM [ppm] and η, and its area (centre + sidebands)."""

    name: str
    position: Estimate
    fwhm: Estimate
    eta: Estimate
    area: Estimate
    centreband_area: Estimate
    fraction: Estimate


@dataclass(frozen=True, kw_only=True)
class Deconvolution(Result):
    """Lines fitted to a 1D spectrum, with the curves over the fitted region (``ppm``)."""

    lines: tuple[Line, ...]
    shape: str
    shared_width: bool
    baseline: str | None
    spinning_rate_Hz: float | None
    sideband_orders: int
    ppm: np.ndarray = field(repr=False)
    data: np.ndarray = field(repr=False)
    fit: np.ndarray = field(repr=False)  # lines + baseline
    background: np.ndarray = field(repr=False)  # the baseline alone
    components: np.ndarray = field(repr=False)  # one row per line (with its sidebands), no baseline
    residual: np.ndarray = field(repr=False)  # data − fit
    r_squared: float
    noise: float
    residual_to_noise: float  # rms(residual) / noise: about 1 when the lines describe the data

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(line.name for line in self.lines)

    def line(self, name: str) -> Line:
        """The line called ``name``."""
        for candidate in self.lines:
            if candidate.name == name:
                return candidate
        raise InputError(f"no line {name!r}; lines are {', '.join(self.names)}", source="name")

    def to_frame(self) -> Any:
        """One row per line: name, then value and stderr of position, FWHM, η, area and fraction."""
        import pandas as pd

        rows = []
        for line in self.lines:
            row: dict[str, Any] = {"name": line.name}
            for key, title in (("position", "position"), ("fwhm", "FWHM"), ("eta", "eta"),
                               ("area", "area"), ("centreband_area", "centre-band area"),
                               ("fraction", "fraction")):
                estimate: Estimate = getattr(line, key)
                row[label(title, estimate.unit)] = estimate.value
                row[label(f"{title} stderr", estimate.unit)] = estimate.stderr
            rows.append(row)
        return pd.DataFrame(rows)

    def _report_lines(self) -> list[str]:
        out = [f"  {len(self.lines)} {self.shape} line(s), baseline {self.baseline or 'none'}"
               + (", shared width" if self.shared_width else "")
               + (f", sidebands ±{self.sideband_orders} at {self.spinning_rate_Hz:g} Hz"
                  if self.sideband_orders else ""),
               f"  R² = {self.r_squared:.5f}, residual rms / noise = {self.residual_to_noise:.3g}"]
        for line in self.lines:
            out.append(f"  {line.name}: δ = {line.position}, FWHM = {line.fwhm}, η = {line.eta}, "
                       f"area = {line.area}, fraction = {line.fraction}")
        return out


# -- the model -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Layout:
    """Where each quantity lives in the parameter vector."""

    n_lines: int
    shared_width: bool
    free_eta: bool
    components: tuple[tuple[int, float], ...]  # (line, offset [ppm]): centre lines first, then sidebands
    n_baseline: int

    @property
    def width0(self) -> int:
        return self.n_lines

    def width(self, k: int) -> int:
        return self.width0 + (0 if self.shared_width else k)

    @property
    def eta0(self) -> int:
        return self.width0 + (1 if self.shared_width else self.n_lines)

    @property
    def area0(self) -> int:
        return self.eta0 + (self.n_lines if self.free_eta else 0)

    @property
    def baseline0(self) -> int:
        return self.area0 + len(self.components)

    @property
    def size(self) -> int:
        return self.baseline0 + self.n_baseline


def _evaluate(theta: np.ndarray, x: np.ndarray, xn: np.ndarray, layout: _Layout, fixed_eta: float,
              *, jacobian: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Model, its Jacobian (or None), and the per-line curves (rows) without baseline."""
    model = np.zeros_like(x)
    per_line = np.zeros((layout.n_lines, x.size))
    jac = np.zeros((x.size, layout.size)) if jacobian else None
    for c, (line, offset) in enumerate(layout.components):
        area_index = layout.area0 + c
        w = theta[layout.width(line)]
        eta = theta[layout.eta0 + line] if layout.free_eta else fixed_eta
        area = theta[area_index]
        value, d_pos, d_width, d_eta = _profile(x, theta[line] + offset, w, eta)
        per_line[line] += area * value
        if jac is not None:
            jac[:, line] += area * d_pos
            jac[:, layout.width(line)] += area * d_width
            if layout.free_eta:
                jac[:, layout.eta0 + line] += area * d_eta
            jac[:, area_index] = value
    model += per_line.sum(axis=0)
    for power in range(layout.n_baseline):
        model += theta[layout.baseline0 + power] * xn ** power
        if jac is not None:
            jac[:, layout.baseline0 + power] = xn ** power
    return model, jac, per_line


def _half_width(x: np.ndarray, y: np.ndarray, index: int, floor: float) -> float:
    """FWHM guess: twice the nearer distance at which y falls to half its value at ``index``."""
    half = floor + (y[index] - floor) / 2.0
    sides = []
    for step in (-1, 1):
        j = index
        while 0 <= j + step < y.size and y[j] > half:
            j += step
        if j != index:
            sides.append(abs(x[j] - x[index]))
    return 2.0 * min(sides) if sides else abs(x[-1] - x[0]) / 10.0


def _covariance(jac: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """(JᵀJ)⁻¹ · Σr²/(n − p) by SVD; directions the data do not constrain get NaN."""
    n, p = jac.shape
    _, s, vt = np.linalg.svd(jac, full_matrices=False)
    keep = s > s[0] * max(n, p) * np.finfo(float).eps
    cov = (vt[keep].T / s[keep] ** 2) @ vt[keep] * (float(residual @ residual) / max(n - p, 1))
    if not keep.all():
        blind = np.abs(vt[~keep]).max(axis=0) > 1e-8
        cov[blind, :] = np.nan
        cov[:, blind] = np.nan
    return cov


# -- the public function -------------------------------------------------------------------------

def deconvolve(
    spectrum: NMRSpectrum,
    *,
    peaks: Sequence[float] | None = None,
    names: Sequence[str] | None = None,
    shape: str = "pseudo-voigt",
    shared_width: bool = False,
    sidebands: Mapping[str, Any] | None = None,
    region: Sequence[float] | None = None,
    baseline: str | None = "constant",
    noise_region: Sequence[float] | None = None,
    min_snr: float = 10.0,
) -> Deconvolution:
    """Fit lines to a 1D spectrum; see the module docstring for the model.

    Parameters
    ----------
    spectrum
        A 1D ``NMRSpectrum``.
    peaks
        Starting positions [ppm], one per line, in the order the lines are reported; None picks
        maxima standing ``min_snr`` × the noise above their surroundings (highest ppm first).
    names
        One name per line (default ``"peak 1"``, …).
    shape
        ``"pseudo-voigt"`` (η fitted per line), ``"lorentzian"`` (η = 1) or ``"gaussian"`` (η = 0).
    shared_width
        One FWHM for all lines.
    sidebands
        ``{"spinning_rate_Hz": ν_r, "orders": n}`` fits sidebands ±1…n of each line; ν_r defaults
        to ``metadata["spinning_rate_Hz"]``, the observe frequency to ``metadata["observe_MHz"]``
        (or ``"observe_MHz"`` here).
    region
        Two ppm limits of the fitted stretch (default: the whole spectrum).
    baseline
        ``"constant"``, ``"linear"`` or None.
    noise_region
        Two ppm limits of a signal-free stretch for the noise (default: the quietest sixteenth).
    """
    if not isinstance(spectrum, NMRSpectrum):
        raise InputError(f"must be an NMRSpectrum, got {type(spectrum).__name__}", source="spectrum")
    where = spectrum.source or "spectrum"
    if spectrum.ndim != 1:
        raise InputError(f"deconvolve takes a 1D spectrum, this one is {spectrum.ndim}D "
                         "(2D peak volumes: ssbkit.nmr.volumes.exsy_volumes)", source=where)
    shape = one_of("shape", shape, SHAPES)
    if baseline is not None:
        baseline = one_of("baseline", baseline, BASELINES)
    min_snr = positive("min_snr", min_snr)
    axis, values = spectrum.ppm[0], spectrum.data
    if region is None:
        inside = np.ones(axis.size, dtype=bool)
    else:
        lo, hi = _limits("region", region)
        inside = (axis >= lo) & (axis <= hi)
    x, y = axis[inside], values[inside]
    if x.size < 2:
        raise InputError(f"holds {x.size} point(s) of the spectrum", source="region")
    if not np.any(y):
        raise InputError("holds no signal: every intensity is 0" + (" in the region" if region else ""),
                         source=where)
    noise = estimate_noise(spectrum, region=noise_region)
    x_lo, x_hi = float(x.min()), float(x.max())
    step = float(np.abs(np.diff(axis)).mean())

    if peaks is None:
        starts = _pick(x, y, noise, min_snr)
    else:
        starts = list(finite_array("peaks", peaks))
        if not starts:
            raise InputError("give at least one peak position (or peaks=None to pick them)", source="peaks")
        for p in starts:
            if not x_lo <= p <= x_hi:
                what = "the region" if region is not None else "the spectrum"
                raise InputError(f"{p:g} ppm lies outside {what} ({x_hi:g} to {x_lo:g} ppm)", source="peaks")
    n_lines = len(starts)
    if names is None:
        names = [f"peak {k + 1}" for k in range(n_lines)]
    else:
        names = [str(n) for n in names]
        if len(names) != n_lines:
            raise InputError(f"{len(names)} names for {n_lines} lines", source="names")
        if len(set(names)) != n_lines:
            raise InputError(f"names must differ, got {names}", source="names")

    rate, orders = _sideband_settings(sidebands, spectrum.metadata)
    observe = _observe_MHz(spectrum.metadata, sidebands) if orders else math.nan
    components = [(k, 0.0) for k in range(n_lines)]
    components += [(k, sign * n * rate / observe) for k in range(n_lines) for n in range(1, orders + 1)
                   for sign in (-1.0, 1.0) if x_lo <= starts[k] + sign * n * rate / observe <= x_hi]
    n_baseline = {None: 0, "constant": 1, "linear": 2}[baseline]
    layout = _Layout(n_lines, bool(shared_width), shape == "pseudo-voigt", tuple(components), n_baseline)
    if x.size <= layout.size:
        raise InputError(f"{x.size} points cannot fix {layout.size} parameters ({n_lines} line(s), "
                         f"{len(components) - n_lines} sideband(s), {n_baseline} baseline term(s)); "
                         "widen the region or fit fewer lines",
                         source="region" if region is not None else where)

    # Scale intensities to about 1 so that areas, widths and positions are alike for the optimiser.
    scale = float(np.abs(y).max()) or 1.0
    ys = y / scale
    xn = (x - (x_hi + x_lo) / 2.0) / ((x_hi - x_lo) / 2.0)
    fixed_eta = {"lorentzian": 1.0, "gaussian": 0.0, "pseudo-voigt": 0.5}[shape]
    theta0, lower, upper = _start(x, ys, starts, layout, fixed_eta, step)

    from scipy.optimize import least_squares

    def fun(theta: np.ndarray) -> np.ndarray:
        return _evaluate(theta, x, xn, layout, fixed_eta, jacobian=False)[0] - ys

    def jac(theta: np.ndarray) -> np.ndarray:
        return _evaluate(theta, x, xn, layout, fixed_eta, jacobian=True)[1]

    solution = least_squares(fun, theta0, jac=jac, bounds=(lower, upper), method="trf", x_scale="jac",
                             xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=200 * layout.size)
    theta = solution.x
    model, jacobian, per_line = _evaluate(theta, x, xn, layout, fixed_eta, jacobian=True)
    residual = ys - model
    cov = _covariance(jacobian, residual)
    # Back to the spectrum's intensities: areas and baseline terms scale, the rest does not.
    scaling = np.ones(layout.size)
    scaling[layout.area0:] = scale
    theta = theta * scaling
    cov = cov * np.outer(scaling, scaling)
    lines = _lines(theta, cov, layout, names, fixed_eta)

    fit = model * scale
    background = fit - per_line.sum(axis=0) * scale
    resid = y - fit
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r_squared = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else math.nan
    misfit = float(np.sqrt(np.mean(resid ** 2))) / noise if noise > 0 else math.inf
    success = bool(solution.status > 0)
    notes = [] if success else [f"the fit did not converge: {solution.message}"]
    if misfit > _MISFIT:
        notes.append(f"residuals are {misfit:.3g}× the noise: a line may be missing or the line shape "
                     "does not describe the data")
    provenance = make_provenance(
        "ssbkit.nmr.deconvolve",
        settings={"peaks": None if peaks is None else [float(p) for p in starts], "names": names,
                  "shape": shape, "shared_width": bool(shared_width), "region": region,
                  "baseline": baseline, "sidebands": None if not orders else
                  {"spinning_rate_Hz": rate, "orders": orders, "observe_MHz": observe},
                  "noise_region": noise_region, "min_snr": min_snr},
        inputs={"spectrum": _digest(axis, values)},
        citations=("wertheim1974",),
    )
    return Deconvolution(
        success=success, message="; ".join(notes), provenance=provenance,
        lines=lines, shape=shape, shared_width=bool(shared_width), baseline=baseline,
        spinning_rate_Hz=rate if orders else None, sideband_orders=orders,
        ppm=frozen_array(x), data=frozen_array(y), fit=frozen_array(fit), background=frozen_array(background),
        components=frozen_array(per_line * scale), residual=frozen_array(resid),
        r_squared=r_squared, noise=noise, residual_to_noise=misfit,
    )


def _digest(*arrays: np.ndarray) -> str:
    """sha256 of the arrays' bytes: hashing their JSON, as make_provenance would, is slow for spectra."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return "sha256:" + digest.hexdigest()


def _start(x: np.ndarray, ys: np.ndarray, starts: Sequence[float], layout: _Layout, fixed_eta: float,
           step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starting values and bounds: heights and half-height widths read off the data at each start."""
    x_lo, x_hi = float(x.min()), float(x.max())
    half_span = (x_hi - x_lo) / 2.0
    floor = float(np.percentile(ys, 5)) if layout.n_baseline else 0.0
    theta0, lower, upper = (np.zeros(layout.size) for _ in range(3))
    widths = []
    for k, p in enumerate(starts):
        index = int(np.argmin(np.abs(x - p)))
        # each line stays nearer its own start than its neighbours', so names keep to their lines
        gap = min([abs(p - q) for j, q in enumerate(starts) if j != k] or [2 * half_span])
        reach = max(gap / 2.0, 2 * step)
        theta0[k], lower[k], upper[k] = p, max(p - reach, x_lo), min(p + reach, x_hi)
        widths.append(float(np.clip(_half_width(x, ys, index, floor), 3 * step, half_span)))
        height = max(float(ys[index]) - floor, 1e-3)
        unit_height = float(_profile(np.array([0.0]), 0.0, widths[-1], fixed_eta)[0][0])
        theta0[layout.area0 + k] = height / unit_height
    for i, w in enumerate([float(np.median(widths))] if layout.shared_width else widths):
        theta0[layout.width0 + i], lower[layout.width0 + i], upper[layout.width0 + i] = w, step, 4 * half_span
    if layout.free_eta:
        theta0[layout.eta0:layout.area0], upper[layout.eta0:layout.area0] = 0.5, 1.0
    upper[layout.area0:layout.baseline0] = np.inf
    for c, (line, offset) in enumerate(layout.components):
        if offset:
            theta0[layout.area0 + c] = 0.05 * theta0[layout.area0 + line]
    if layout.n_baseline:
        theta0[layout.baseline0] = floor
        lower[layout.baseline0:], upper[layout.baseline0:] = -np.inf, np.inf
    return np.clip(theta0, lower, upper), lower, upper


def _pick(x: np.ndarray, y: np.ndarray, noise: float, min_snr: float) -> list[float]:
    from scipy.signal import find_peaks

    found, _ = find_peaks(y, prominence=min_snr * noise)
    if found.size == 0:
        raise InputError(f"no maximum stands {min_snr:g}× the noise ({noise:.3g}) above its surroundings; "
                         "give the positions with peaks=", source="peaks")
    return sorted((float(x[i]) for i in found), reverse=True)


def _sideband_settings(sidebands: Mapping[str, Any] | None, metadata: Mapping[str, Any]) -> tuple[float, int]:
    if sidebands is None:
        return math.nan, 0
    if not isinstance(sidebands, Mapping):
        raise InputError(f"must be a mapping such as {{'spinning_rate_Hz': 10000, 'orders': 2}}, "
                         f"got {type(sidebands).__name__}", source="sidebands")
    unknown = set(sidebands) - {"spinning_rate_Hz", "orders", "observe_MHz"}
    if unknown:
        raise InputError(f"unknown key(s) {sorted(unknown)}; use spinning_rate_Hz, orders, observe_MHz",
                         source="sidebands")
    rate = sidebands.get("spinning_rate_Hz", metadata.get("spinning_rate_Hz"))
    if rate is None:
        raise InputError("no spinning rate: give sidebands={'spinning_rate_Hz': …} "
                         "(the spectrum's metadata has no spinning_rate_Hz)", source="sidebands")
    return positive("sidebands: spinning_rate_Hz", rate), positive_int("sidebands: orders",
                                                                      sidebands.get("orders", 2))


def _observe_MHz(metadata: Mapping[str, Any], sidebands: Mapping[str, Any] | None) -> float:
    value = (sidebands or {}).get("observe_MHz", metadata.get("observe_MHz"))
    if value is None:
        raise InputError("sidebands need the observe frequency: give sidebands={'observe_MHz': …} "
                         "(the spectrum's metadata has no observe_MHz)", source="sidebands")
    if isinstance(value, Sequence | np.ndarray):
        value = list(value)[0] if len(value) else None
    return positive("sidebands: observe_MHz", value)


def _lines(theta: np.ndarray, cov: np.ndarray, layout: _Layout, names: Sequence[str],
           fixed_eta: float) -> tuple[Line, ...]:
    n = layout.n_lines
    site = np.zeros((n, layout.size))  # site area = centre band + sidebands, a linear map of theta
    for c, (line, _) in enumerate(layout.components):
        site[line, layout.area0 + c] = 1.0
    areas = site @ theta
    areas_cov = site @ cov @ site.T
    total = float(areas.sum())
    if total > 0:
        gradient = (np.eye(n) * total - areas[:, None]) / total ** 2
        fractions, fractions_cov = areas / total, gradient @ areas_cov @ gradient.T
    else:
        fractions, fractions_cov = np.full(n, math.nan), np.full((n, n), math.nan)

    def se(variance: float) -> float:
        return math.sqrt(variance) if variance >= 0 else math.nan  # NaN stays NaN

    out = []
    for k in range(n):
        centre_index = layout.area0 + k  # centre lines come first
        w_index = layout.width(k)
        e = layout.eta0 + k
        eta = (Estimate(theta[e], se(cov[e, e]), "1") if layout.free_eta
               else Estimate(fixed_eta, math.nan, "1"))
        out.append(Line(
            name=names[k],
            position=Estimate(theta[k], se(cov[k, k]), "ppm"),
            fwhm=Estimate(theta[w_index], se(cov[w_index, w_index]), "ppm"),
            eta=eta,
            area=Estimate(areas[k], se(areas_cov[k, k]), AREA_UNIT),
            centreband_area=Estimate(theta[centre_index], se(cov[centre_index, centre_index]), AREA_UNIT),
            fraction=Estimate(fractions[k], se(fractions_cov[k, k]), "1"),
        ))
    return tuple(out)
