"""Fits of 2D-EXSY cross-peak build-up curves, series over temperature, and their Arrhenius law.

``fit_buildup(mixing_time_s, intensity, model=…)`` fits f(t) = A·g(x) of one model of
``ssbkit.nmr.models`` to one build-up curve: the rate (D [cm²/s] or k [1/s]) and, unless it is
given, the plateau A. ``fit_buildup_series(table)`` fits one curve per temperature, then
ln D against 1/T (the Arrhenius law D = D0 exp(−Ea/k_B T), Ea [eV]); with ``arrhenius=True``
it also fits every curve at once with D(T) constrained to that law (``GlobalArrheniusFit``).
``read_buildup_table(path)`` reads the table the command line gets.

How a fit runs. For a given rate the plateau is linear, A = Σw²gy/Σw²g², so the fit first
scans ln(rate) over twelve decades around the guess with A eliminated (a 1-D profile that
cannot be trapped by a poor start), then polishes (ln rate, A) by least squares
(scipy.optimize.least_squares). Standard errors come from the Jacobian, scaled by the residual
variance (like curve_fit) unless ``absolute_sigma``; the stderr of D is D·σ(ln D). With a
free plateau A and D are correlated when the curve is far from its plateau at the last
mixing time; the result reports that correlation. The √t law has no plateau and needs a
fixed A. ``T1_s`` multiplies the model by exp(−t/T1) for volumes that were not normalised in
a way that cancels longitudinal relaxation (a cross/(cross + diagonal) ratio cancels it when
both sites share one T1).

Arrhenius. ln(rate) against 1/T is a straight line fitted by weighted least squares with
weights (rate/δrate)² (unweighted where a stderr is missing); the prefactor is D0 (or k0).
The line is written out here (a technique may not import another: ``ssbkit.eis.arrhenius``
has its twin for σT). The global fit parametrises D(T) = D_ref exp(−(Ea/k_B)(1/T − 1/T_ref))
with T_ref = 1/mean(1/T), where D_ref and Ea are nearly uncorrelated, and has one plateau
per temperature (``shared_plateau=False``, the default, as the accessible fraction may
change with temperature) or one for all.

Which model and normalisation the study's sources used (the evidence)
------------------------------------------------------------------------
Searched (the stored pages, docs and code indexes open to ssbkit's authors) for Yu et al.,
Nat. Commun. 8, 1086 (2017); Ganapathy et al., ACS Energy Lett. 4, 1092 (2019); Yu et al.,
JACS 138, 11192 (2016); and the target study, Liu et al., Nat. Commun. (2021),
"Quantification of the Li-ion diffusion over an interface coating in all-solid-state
batteries via NMR measurements". What could be read:

- Ganapathy 2019 (https://datapdf.com/download/peeking-across-grain-boundaries-in-a-solid-
  state-ionic-condu48af128287f403272b380ed40d95eeeb55721.html): the abstract only, "two-
  dimensional 6Li−6Li exchange NMR on a mixture of Li6PS5Br and Li6PS5Cl, we observe Li
  ex[change]…", where the indexed text stops.
- Liu 2021 (https://biomed.reviewer.ly/app/publication/77ccc346-a4b5-442d-831b-970cc627a29f):
  the abstract only, "Via exchange-NMR measurements, we quantify the equilibrium between the
  various phases present at the interface".
- Yu 2016 (https://datapdf.com/unravelling-li-ion-transport-from-picoseconds-to-seconds-
  bul34773.html): the title page only. Yu 2017: not in the indexes.

The methods and supplementary text with the diffusion equation and the normalisation could
not be retrieved (the indexes hold the first part of each page), so the defaults are a
choice, not a reproduction: ``model="sphere"`` (a particle of radius L, the particle radius,
exchanging with a well-mixed surrounding, Crank eq. 6.20), the textbook "3D diffusion model
from Fick's law" with one particle length that the issue names, whose plateau A has a
meaning (the exchangeable fraction; for two phases in equilibrium it tends to the partner's
population); and the normalisation f = I_AB/(I_AA + I_AB), cross over cross plus diagonal of
the same starting site, which cancels a common T1. The other models stay one option away,
because D, and with a free plateau even Ea, depends on the choice (``../shared/reference``
B.2: the same data give Ea = 0.103 eV with the sphere and 0.089 eV with the Gaussian).
For two sites exchanging at first order that normalisation is exactly
p_B(1 − e^(−(k_AB + k_BA)t)), the ``"first-order"`` model with k = k_AB + k_BA and A = p_B,
which ties these fits to ``ssbkit.nmr.exchange``.

Examples
--------
>>> import numpy as np
>>> from ssbkit.nmr.models import MODELS
>>> t = np.geomspace(0.01, 10, 12)
>>> y = MODELS["sphere"](t, D=2e-10, A=0.4, length_um=1.0)
>>> fit = fit_buildup(t, y, model="sphere", length_um=1.0)
>>> fit.success, f"{fit.D.value:.4g}", round(fit.plateau.value, 6), fit.D.unit
(True, '2e-10', 0.4, 'cm²/s')
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance, to_json_safe
from ssbkit.core.units import BOLTZMANN_EV, convert, parse_label
from ssbkit.core.validate import finite_array, positive
from ssbkit.nmr.models import BuildupModel, get_model

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_NORMALISATION",
    "MIXING_TIME",
    "INTENSITY",
    "INTENSITY_STDERR",
    "PAIR",
    "TEMPERATURE",
    "BuildupFit",
    "BuildupSeriesFit",
    "GlobalArrheniusFit",
    "RateArrhenius",
    "arrhenius_rate",
    "fit_buildup",
    "fit_buildup_series",
    "noise_estimate",
    "read_buildup_table",
]

DEFAULT_MODEL = "sphere"
DEFAULT_NORMALISATION = "cross/(cross+diagonal)"
MIXING_TIME = "mixing_time [s]"
INTENSITY = "intensity"
INTENSITY_STDERR = "intensity stderr"
TEMPERATURE = "temperature [K]"
PAIR = "pair"
_SCAN_DECADES = 6.0
_SCAN_POINTS = 241
# An intensity below −max(3 × noise, 5 % of the plateau) is a sign or phasing error, not noise.
_NOISE_FACTOR = 3.0
_PLATEAU_FRACTION = 0.05
_LARGEST_INTENSITY = 1e100  # squares and sums of squares must stay far from the float limit (1.8e308)

citations.register("yu2017", "C. Yu, S. Ganapathy, E. R. H. van Eck, H. Wang, S. Basak, Z. Li, M. Wagemaker, "
                   "Accessing the bottleneck in all-solid state batteries, lithium-ion transport over the "
                   "solid-electrolyte-electrode interface, Nat. Commun. 8 (2017) 1086.",
                   "10.1038/s41467-017-01187-y")
citations.register("ganapathy2019", "S. Ganapathy, C. Yu, E. R. H. van Eck, M. Wagemaker, Peeking across "
                   "grain boundaries in a solid-state ionic conductor, ACS Energy Lett. 4 (2019) 1092.")
citations.register("liu2021", "M. Liu, C. Wang, C. Zhao, E. van der Maas, K. Lin, V. A. Arszelewska, B. Li, "
                   "S. Ganapathy, M. Wagemaker, Quantification of the Li-ion diffusion over an interface "
                   "coating in all-solid-state batteries via NMR measurements, Nat. Commun. (2021).")


# -- results ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class BuildupFit(Result):
    """One fitted build-up curve: the rate (``D`` [cm²/s] or ``k`` [1/s]), the plateau and the fit.

    ``correlation`` is the correlation of ln(rate) with the plateau (NaN when A is fixed);
    near ±1 the data do not separate them.
    """

    model: str
    equation: str
    D: Estimate | None = None
    k: Estimate | None = None
    plateau: Estimate
    plateau_fixed: bool = False
    length_um: float | None = None
    temperature_K: float | None = None
    T1_s: float | None = None
    correlation: float = math.nan
    chi_square: float = math.nan
    reduced_chi_square: float = math.nan
    r_squared: float = math.nan
    degrees_of_freedom: int = 0
    weighted: bool = False
    absolute_sigma: bool = False
    mixing_time_s: np.ndarray = field(default_factory=lambda: frozen_array([]))
    intensity: np.ndarray = field(default_factory=lambda: frozen_array([]))
    fitted: np.ndarray = field(default_factory=lambda: frozen_array([]))
    stderr: np.ndarray | None = None
    source: str = ""

    @property
    def rate(self) -> Estimate:
        """D for diffusion models, k for first-order exchange."""
        return self.D if self.D is not None else self.k  # type: ignore[return-value]

    @property
    def residuals(self) -> np.ndarray:
        return self.intensity - self.fitted

    def predict(self, mixing_time_s: Any) -> np.ndarray:
        """The fitted curve at ``mixing_time_s`` [s] (with the T1 factor when one was given)."""
        m = get_model(self.model)
        t = np.asarray(mixing_time_s, dtype=float)
        curve = m(t, A=self.plateau.value, length_um=self.length_um, **{m.rate_parameter: self.rate.value})
        return curve * (np.exp(-t / self.T1_s) if self.T1_s else 1.0)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["temperature"] = self.temperature_K
        out["residuals"] = to_json_safe(self.residuals)
        return out

    def _report_lines(self) -> list[str]:
        name = "D" if self.D is not None else "k"
        where = f" at {self.temperature_K:g} K" if self.temperature_K is not None else ""
        length = f", L = {self.length_um:g} µm" if self.length_um is not None else ""
        fixed = " (fixed)" if self.plateau_fixed else ""
        return [f"  model: {self.model}{length}{where}: {self.equation}",
                f"  {name} = {self.rate}", f"  A = {self.plateau}{fixed}",
                f"  R² = {self.r_squared:.5f}, reduced χ² = {self.reduced_chi_square:.4g}, "
                f"{self.mixing_time_s.size} points"]


@dataclass(frozen=True, kw_only=True)
class RateArrhenius(Result):
    """ln(rate) = ln(prefactor) − Ea/(k_B T): Ea [eV] and the prefactor (D0 [cm²/s] or k0 [1/s])."""

    quantity: str
    activation_energy: Estimate
    prefactor: Estimate
    r_squared: float
    weighted: bool
    temperature_K: tuple[float, ...]
    values: tuple[float, ...]
    stderr: tuple[float, ...] | None
    degrees_of_freedom: int

    def predict(self, temperature_K: Any) -> np.ndarray:
        t = np.asarray(temperature_K, dtype=float)
        return self.prefactor.value * np.exp(-self.activation_energy.value / (BOLTZMANN_EV * t))


@dataclass(frozen=True, kw_only=True)
class GlobalArrheniusFit(Result):
    """Every curve at once with rate(T) = prefactor·exp(−Ea/k_B T); one plateau per T or shared."""

    quantity: str
    activation_energy: Estimate
    prefactor: Estimate
    reference_temperature_K: float
    rate_at_reference: Estimate
    plateaus: tuple[Estimate, ...]
    shared_plateau: bool
    temperature_K: tuple[float, ...]
    chi_square: float
    reduced_chi_square: float
    degrees_of_freedom: int


@dataclass(frozen=True, kw_only=True)
class BuildupSeriesFit(Result):
    """One ``BuildupFit`` per temperature, the Arrhenius line of their rates and, when asked,
    the global fit constrained to the Arrhenius law. ``Ea`` and ``prefactor`` are the global
    fit's when there is one (``Ea_method`` says which)."""

    model: str
    fits: tuple[BuildupFit, ...]
    pair: str | None = None
    arrhenius: RateArrhenius | None = None
    global_fit: GlobalArrheniusFit | None = None
    Ea: Estimate | None = None
    prefactor: Estimate | None = None
    Ea_method: str = ""
    normalisation: str = DEFAULT_NORMALISATION

    def to_frame(self) -> Any:
        """One row per temperature: temperature, rate and plateau with their stderr, R²."""
        import pandas as pd

        rows = []
        for fit in self.fits:
            name = "D" if fit.D is not None else "k"
            rows.append({"temperature [K]": fit.temperature_K, f"{name} [{fit.rate.unit}]": fit.rate.value,
                         f"{name} stderr [{fit.rate.unit}]": fit.rate.stderr, "plateau": fit.plateau.value,
                         "plateau stderr": fit.plateau.stderr, "R²": fit.r_squared, "success": fit.success})
        return pd.DataFrame(rows)

    def _report_lines(self) -> list[str]:
        of = f" of {self.pair}" if self.pair else ""
        lines = [f"  model: {self.model}, {len(self.fits)} curve(s){of}"]
        lines += [f"  {fit.temperature_K if fit.temperature_K is not None else '-'} K: "
                  f"{'D' if fit.D is not None else 'k'} = {fit.rate}, A = {fit.plateau}" for fit in self.fits]
        if self.Ea is not None:
            lines.append(f"  Ea = {self.Ea} ({self.Ea_method}), prefactor = {self.prefactor}")
        return lines


# -- single curve ----------------------------------------------------------------------------

def _plateau_option(plateau: Any, model: BuildupModel) -> float | None:
    if isinstance(plateau, str) and plateau.lower() == "free":
        if not model.plateau_identifiable:
            raise InputError(f"the {model.name!r} law has no plateau, so A and {model.rate_parameter} cannot "
                             "both be fitted: give plateau=<value> (e.g. the partner's population)",
                             source="plateau")
        return None
    return positive("plateau", plateau)


def _stderr_option(stderr: Any, size: int) -> np.ndarray | None:
    if stderr is None:
        return None
    err = np.broadcast_to(finite_array("stderr", np.atleast_1d(stderr)), (size,)).astype(float) \
        if np.ndim(stderr) == 0 else finite_array("stderr", stderr)
    if err.size != size:
        raise InputError(f"{err.size} standard errors for {size} intensities", source="stderr")
    if (err <= 0).any():
        raise InputError("standard errors must be > 0 (leave stderr out for an unweighted fit)",
                         source="stderr")
    return err


def noise_estimate(mixing_time_s: np.ndarray, intensity: np.ndarray) -> float:
    """A robust noise level of a curve: 1.4826·median|y_i − (y_(i−1) + y_(i+1))/2| / √1.5, in time
    order. A smooth curve nearly cancels in that difference (successive differences do not),
    and the median ignores a few outliers; with fewer than ten points it overestimates."""
    y = intensity[np.argsort(mixing_time_s, kind="stable")]
    if y.size < 3:
        return 0.0
    r = y[1:-1] - 0.5 * (y[:-2] + y[2:])
    return float(1.4826 * np.median(np.abs(r)) / math.sqrt(1.5))


def _check_intensities(t: np.ndarray, y: np.ndarray, err: np.ndarray | None, where: str,
                       rows: np.ndarray | None = None) -> None:
    # The noise is estimated with the negative points (the candidates) set to 0: an outlier must
    # not widen the band it is tested against (−0.5 among four points otherwise passed).
    noise = err if err is not None else np.full(y.size, noise_estimate(t, np.clip(y, 0.0, None)))
    plateau = max(float(np.max(y)), 0.0)
    floor = -np.maximum(_NOISE_FACTOR * noise, _PLATEAU_FRACTION * plateau)
    bad = np.flatnonzero(y < floor)
    if bad.size:
        i = int(bad[0])
        point = f"row {int(rows[i]) + 1}" if rows is not None else f"point {i}"
        raise InputError(
            f"{point} (mixing time {t[i]:g} s): intensity {y[i]:.4g} is out of range, below "
            f"{floor[i]:.3g} = −max({_NOISE_FACTOR:g} × noise {noise[i]:.3g}, "
            f"{100 * _PLATEAU_FRACTION:g} % of the plateau {plateau:.3g}); a sign, phase or baseline error?",
            source=where)


def _profile_cost(curve: Any, y: np.ndarray, w: np.ndarray, a_fixed: float | None, ln_rate: float) -> float:
    """Σ w²(y − A·g)² at one rate, with the best A ≥ 0 when it is free (it is linear)."""
    g = curve(math.exp(ln_rate))
    if a_fixed is None:
        gg = float(np.sum((w * g) ** 2))
        a = max(float(np.sum(w * w * g * y)) / gg, 0.0) if gg > 0 else 0.0
    else:
        a = a_fixed
    return float(np.sum((w * (y - a * g)) ** 2))


def _profile_scan(curve: Any, y: np.ndarray, w: np.ndarray, a_fixed: float | None,
                  start: float) -> tuple[float, bool]:
    """The ln(rate) of least cost on a grid with A eliminated, and whether it is inside the grid."""
    grid = math.log(start) + np.linspace(-_SCAN_DECADES, _SCAN_DECADES, _SCAN_POINTS) * math.log(10.0)
    costs = np.array([_profile_cost(curve, y, w, a_fixed, ln_rate) for ln_rate in grid])
    best = int(np.argmin(costs))
    return float(grid[best]), 0 < best < grid.size - 1


def _central_jacobian(residual: Any) -> Any:
    """A Jacobian by central differences with steps 1e-6·max(1, |p|): scipy's relative steps
    vanish where a parameter is exactly 0 (ln k = 0 at k = 1/s)."""
    def jac(p: np.ndarray) -> np.ndarray:
        columns = []
        for j in range(p.size):
            h = 1e-6 * max(1.0, abs(float(p[j])))
            up, down = p.copy(), p.copy()
            up[j] += h
            down[j] -= h
            columns.append((residual(up) - residual(down)) / (2 * h))
        return np.column_stack(columns)

    return jac


def _covariance(jac: np.ndarray, chi2: float, dof: int, absolute: bool) -> np.ndarray:
    jtj = jac.T @ jac
    try:
        cov = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        return np.full(jtj.shape, math.nan)
    if not np.isfinite(cov).all():
        return np.full(jtj.shape, math.nan)
    if absolute:
        return cov
    return cov * (chi2 / dof) if dof > 0 else np.full(jtj.shape, math.nan)


def fit_buildup(
    mixing_time_s: Any,
    intensity: Any,
    *,
    model: str | BuildupModel = DEFAULT_MODEL,
    length_um: float | None = None,
    plateau: float | str = "free",
    stderr: Any = None,
    T1_s: float | None = None,
    absolute_sigma: bool = False,
    temperature_K: float | None = None,
    source: str = "",
) -> BuildupFit:
    """Fit one build-up curve with ``model`` (see the module docstring).

    Parameters
    ----------
    mixing_time_s, intensity
        The curve: mixing times [s] (≥ 0) and normalised cross-peak intensities.
    model
        ``"sphere"`` (default), ``"cube"``, ``"gaussian"``, ``"sqrt"`` or ``"first-order"``.
    length_um
        The model's length L [µm] (radius of the sphere, edge of the cube, distance of the
        Gaussian); not used by ``"first-order"``.
    plateau
        ``"free"`` (fitted) or the fixed value of A.
    stderr
        Standard errors of the intensities (one per point, or one for all): a weighted fit.
    T1_s
        Multiply the model by exp(−t/T1) (volumes whose normalisation leaves T1 decay in).
    """
    m = get_model(model)
    where = source or "intensity"
    t = finite_array("mixing_time_s", mixing_time_s)
    y = finite_array("intensity", intensity)
    if t.size != y.size:
        raise InputError(f"{t.size} mixing times but {y.size} intensities", source="intensity")
    if (t < 0).any():
        raise InputError(f"mixing times must be ≥ 0 s; got {t.min():g} s", source="mixing_time_s")
    a_fixed = _plateau_option(plateau, m)
    free = 2 if a_fixed is None else 1
    distinct = np.unique(t[t > 0]).size
    if distinct < 2 or t.size < free + 1:
        raise InputError(f"a build-up fit needs at least 2 different mixing times > 0 and {free + 1} points; "
                         f"got {t.size} point(s) at {distinct} mixing time(s) > 0", source=where)
    if m.needs_length and length_um is None:
        raise InputError(f"the {m.name!r} model needs a length: pass length_um", source="length_um")
    length = positive("length_um", length_um) if m.needs_length else None
    t1 = None if T1_s is None else positive("T1_s", T1_s)
    largest = float(np.max(np.abs(y)))
    if largest > _LARGEST_INTENSITY:
        raise InputError(f"intensities up to {largest:.3g} overflow the fit's sums of squares; scale them "
                         "(normalised build-ups lie between 0 and 1)", source=where)
    err = _stderr_option(stderr, y.size)
    if err is not None and (err < 1e-9 * np.max(np.abs(y))).any():
        raise InputError("a standard error below 1e-9 of the largest intensity is not a measurement error",
                         source="stderr")
    _check_intensities(t, y, err, where)
    temperature = None if temperature_K is None else positive("temperature_K", temperature_K)

    relax = np.exp(-t / t1) if t1 else np.ones_like(t)
    w = 1.0 / err if err is not None else np.ones_like(y)
    # Weights scaled to at most 1 so that tiny stderr cannot overflow the sums; undone below.
    w_scale = float(np.max(w))
    w = w / w_scale
    rate_name = m.rate_parameter

    def curve(rate: float) -> np.ndarray:
        return m.shape(m.argument(t, rate, length)) * relax

    start = m.guess(t, y, length_um=length, plateau=a_fixed)[rate_name]
    ln_rate, inside = _profile_scan(curve, y, w, a_fixed, start)
    g0 = curve(math.exp(ln_rate))
    gg = float(np.sum((w * g0) ** 2))
    a0 = a_fixed if a_fixed is not None else float(np.sum(w * w * g0 * y)) / max(gg, 1e-300)
    a0 = a0 if math.isfinite(a0) and a0 > 0 else max(float(np.max(y)), 1e-12)
    ln_rate, a, cov, chi2, dof, ok, message = _polish(curve, y, w, ln_rate, a0, a_fixed, absolute_sigma)
    if absolute_sigma:
        cov = cov / w_scale**2
    # Determined when a tenfold change of the rate costs Δχ² ≥ 1 (in noise units) on both sides:
    # otherwise the data give only a bound (a curve complete, or hardly begun, within the window).
    noise2 = max(chi2 / dof if dof > 0 else 0.0, 1e-24 * float(np.sum((w * y) ** 2)))
    tenfold = math.log(10.0)
    steps = [_profile_cost(curve, y, w, a_fixed, ln_rate + s) - chi2 for s in (tenfold, -tenfold)]
    if not inside or min(steps) < noise2:
        ok = False
        side = "lower" if steps[0] < noise2 else "upper"
        message = (f"{rate_name} is not determined, only a {side} bound: the curve is flat, or complete "
                   "(or hardly begun) within the mixing times")
    rate = math.exp(ln_rate)
    rate_est = Estimate(rate, rate * math.sqrt(cov[0, 0]) if math.isfinite(cov[0, 0]) else math.nan,
                        m.units[rate_name])
    plateau_est = (Estimate(a_fixed, 0.0, "1") if a_fixed is not None
                   else Estimate(a, math.sqrt(cov[1, 1]) if math.isfinite(cov[1, 1]) else math.nan, "1"))
    correlation = (float(cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1]))
                   if a_fixed is None and np.isfinite(cov).all() and cov[0, 0] > 0 and cov[1, 1] > 0
                   else math.nan)
    model_y = a * curve(rate)
    mean = float(np.sum(w * w * y) / np.sum(w * w))
    total = float(np.sum((w * (y - mean)) ** 2))
    r_squared = 1.0 - chi2 / total if total > 0 else math.nan
    chi2 = chi2 * w_scale**2
    settings = {"model": m.name, "length_um": length, "plateau": "free" if a_fixed is None else a_fixed,
                "T1_s": t1, "absolute_sigma": bool(absolute_sigma), "weighted": err is not None}
    return BuildupFit(
        success=ok, message=message, model=m.name, equation=m.equation,
        D=rate_est if rate_name == "D" else None, k=rate_est if rate_name == "k" else None,
        plateau=plateau_est, plateau_fixed=a_fixed is not None, length_um=length, temperature_K=temperature,
        T1_s=t1, correlation=correlation, chi_square=chi2,
        reduced_chi_square=chi2 / dof if dof > 0 else math.nan,
        r_squared=r_squared, degrees_of_freedom=dof,
        weighted=err is not None, absolute_sigma=bool(absolute_sigma),
        mixing_time_s=frozen_array(t), intensity=frozen_array(y), fitted=frozen_array(model_y),
        stderr=None if err is None else frozen_array(err), source=source,
        provenance=make_provenance("ssbkit.nmr.buildup.fit_buildup", settings=settings,
                                   inputs={"mixing_time_s": t, "intensity": y, "stderr": err},
                                   citations=m.citations),
    )


def _polish(curve: Any, y: np.ndarray, w: np.ndarray, ln_rate: float, a0: float, a_fixed: float | None,
            absolute: bool) -> tuple[float, float, np.ndarray, float, int, bool, str]:
    """Least squares in (ln rate, A) from the scan's best point; the covariance is 2×2 (NaN for a
    fixed A)."""
    from scipy.optimize import least_squares

    if a_fixed is None:
        def residual(p: np.ndarray) -> np.ndarray:
            return w * (y - p[1] * curve(math.exp(p[0])))

        x0, lower, upper = np.array([ln_rate, a0]), [-np.inf, 0.0], [np.inf, np.inf]
    else:
        def residual(p: np.ndarray) -> np.ndarray:
            return w * (y - a_fixed * curve(math.exp(p[0])))

        x0, lower, upper = np.array([ln_rate]), [-np.inf], [np.inf]
    res = least_squares(residual, x0, jac=_central_jacobian(residual), bounds=(lower, upper), method="trf",
                        x_scale="jac", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=2000)
    chi2 = float(np.sum(res.fun**2))
    dof = y.size - x0.size
    cov = _covariance(res.jac, chi2, dof, absolute)
    if cov.shape == (1, 1):
        cov = np.array([[cov[0, 0], math.nan], [math.nan, math.nan]])
    a = float(res.x[1]) if a_fixed is None else a_fixed
    ok = bool(res.success) and math.isfinite(float(res.x[0]))
    message = "" if ok else f"least squares did not converge: {res.message}"
    return float(res.x[0]), a, cov, chi2, dof, ok, message


# -- Arrhenius -------------------------------------------------------------------------------

def arrhenius_rate(temperature_K: Any, values: Any, *, stderr: Any = None, quantity: str = "D",
                   unit: str = "cm²/s", absolute_sigma: bool = False) -> RateArrhenius:
    """Weighted straight line ln(rate) = ln(prefactor) − Ea/(k_B T); weights (rate/δrate)².

    >>> T = np.array([293.0, 313.0, 333.0, 353.0, 373.0])
    >>> D = 3e-8 * np.exp(-0.107 / (BOLTZMANN_EV * T))
    >>> r = arrhenius_rate(T, D)
    >>> round(r.activation_energy.value, 12), f"{r.prefactor.value:.6g}", r.prefactor.unit
    (0.107, '3e-08', 'cm²/s')
    """
    t = finite_array("temperature_K", temperature_K)
    v = finite_array(quantity, values)
    if t.size != v.size:
        raise InputError(f"{t.size} temperatures but {v.size} values", source=quantity)
    if (t <= 0).any() or (v <= 0).any():
        raise InputError("temperatures and rates must be > 0", source=quantity)
    if np.unique(t).size < 2:
        raise InputError("an Arrhenius fit needs at least 2 different temperatures", source="temperature_K")
    err = None
    if stderr is not None:
        err = finite_array("stderr", stderr)
        if err.size != v.size or (err <= 0).any():
            raise InputError("one standard error > 0 per value is needed", source="stderr")
    x, yv = 1.0 / t, np.log(v)
    w = np.ones_like(x) if err is None else (v / err) ** 2
    x_mean = float(np.sum(w * x) / np.sum(w))
    xc = x - x_mean
    sxx = float(np.sum(w * xc * xc))
    slope = float(np.sum(w * xc * yv) / sxx)
    level = float(np.sum(w * yv) / np.sum(w))
    ln_pre = level - slope * x_mean
    chi2 = float(np.sum(w * (yv - level - slope * xc) ** 2))
    dof = t.size - 2
    var_slope, var_level = 1.0 / sxx, 1.0 / float(np.sum(w))
    var_ln_pre = var_level + x_mean**2 * var_slope
    if not absolute_sigma or err is None:
        scale = chi2 / dof if dof > 0 else math.nan
        var_slope, var_ln_pre = var_slope * scale, var_ln_pre * scale
    total = float(np.sum(w * (yv - level) ** 2))
    return RateArrhenius(
        message="" if dof > 0 else "two temperatures fit the line exactly: no standard errors",
        quantity=quantity,
        activation_energy=Estimate(-slope * BOLTZMANN_EV, math.sqrt(var_slope) * BOLTZMANN_EV, "eV"),
        prefactor=Estimate(math.exp(ln_pre), math.exp(ln_pre) * math.sqrt(var_ln_pre), unit),
        r_squared=1.0 - chi2 / total if total > 0 else math.nan, weighted=err is not None,
        temperature_K=tuple(map(float, t)), values=tuple(map(float, v)),
        stderr=None if err is None else tuple(map(float, err)), degrees_of_freedom=dof,
        provenance=make_provenance("ssbkit.nmr.buildup.arrhenius_rate",
                                   settings={"quantity": quantity, "unit": unit, "weighted": err is not None,
                                             "absolute_sigma": bool(absolute_sigma)},
                                   inputs={"temperature_K": t, "values": v, "stderr": err}),
    )


# -- series over temperature ---------------------------------------------------------------------

def _as_frame(table: Any) -> Any:
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        # row numbers in messages are positions: a fresh index, the caller's frame untouched
        out = table.reset_index(drop=True)
        out.attrs = dict(table.attrs)
        return out
    if isinstance(table, Mapping):
        try:
            return pd.DataFrame({str(k): np.asarray(v) for k, v in table.items()})
        except ValueError as exc:
            raise InputError(f"the columns cannot form one table: {exc}", source="table") from None
    raise InputError("must be a table (pandas DataFrame or a mapping of columns), got "
                     f"{type(table).__name__}", source="table")


def _pairs(frame: Any) -> list[tuple[str | None, Any]]:
    if PAIR in frame.columns:
        labels = frame[PAIR].astype(str).to_numpy()
        return [(str(p), frame[labels == p]) for p in dict.fromkeys(labels)]
    return [(None, frame)]


def _groups(frame: Any) -> list[tuple[float | None, Any]]:
    if TEMPERATURE in frame.columns:
        temperatures = frame[TEMPERATURE].to_numpy(float)
        return [(float(T), frame[temperatures == T]) for T in np.unique(temperatures)]
    return [(None, frame)]


def _validate_frame(frame: Any, source: str) -> None:
    """What both the reader and the series fit check, on canonical columns."""
    from ssbkit.core.validate import require_columns

    require_columns(frame, [MIXING_TIME, INTENSITY], source=source)
    if len(frame) == 0:
        raise InputError("the table has a header but no data rows", source=source)
    columns = [c for c in (MIXING_TIME, INTENSITY, INTENSITY_STDERR, TEMPERATURE) if c in frame.columns]
    for column in columns:
        values = _numbers(frame[column])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(f"column {column!r}, row {int(bad[0]) + 1}: not a finite number "
                             f"({frame[column].iloc[int(bad[0])]!r})", source=source)
    t = frame[MIXING_TIME].to_numpy(float)
    if (t < 0).any():
        row = int(np.flatnonzero(t < 0)[0])
        raise InputError(f"row {row + 1}: mixing time {t[row]:g} s is negative", source=source)
    if TEMPERATURE in frame.columns and (frame[TEMPERATURE].to_numpy(float) <= 0).any():
        raise InputError("temperatures must be > 0 K", source=source)
    if INTENSITY_STDERR in frame.columns and (frame[INTENSITY_STDERR].to_numpy(float) <= 0).any():
        raise InputError(f"column {INTENSITY_STDERR!r} must be > 0", source=source)
    curves = [(pair, temperature, group) for pair, part in _pairs(frame)
              for temperature, group in _groups(part)]
    for pair, temperature, group in curves:
        at = (f" of {pair}" if pair is not None else "") + (
            f" at {temperature:g} K" if temperature is not None else "")
        rows = frame.index.get_indexer(group.index)
        times = group[MIXING_TIME].to_numpy(float)
        distinct = np.unique(times)
        if distinct.size < 2:
            raise InputError(f"a single mixing time ({distinct[0]:g} s){at}: a build-up needs several "
                             "(at least 3, better ten spread over the rise)", source=source)
        # Replicates sit on adjacent rows; a time that comes back after others is a pasted block.
        seen: dict[float, int] = {}
        for i, value in enumerate(times):
            if value in seen and seen[value] != i - 1 and times[i - 1] != value:
                first = int(rows[seen[value]]) + 1
                raise InputError(f"row {int(rows[i]) + 1}: mixing time {value:g} s{at} appears again after "
                                 f"other mixing times (first on row {first}); replicates belong on adjacent "
                                 "rows, a repeated block is probably pasted twice", source=source)
            seen[value] = i
        err = group[INTENSITY_STDERR].to_numpy(float) if INTENSITY_STDERR in group.columns else None
        _check_intensities(times, group[INTENSITY].to_numpy(float), err, source, rows=rows)


def _numbers(column: Any) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").to_numpy(float)


def _per_temperature(option: Any, temperature: float | None, name: str) -> Any:
    if isinstance(option, Mapping):
        if temperature is None or temperature not in option:
            known = ", ".join(f"{k:g}" for k in option)
            raise InputError(f"no value for {temperature} K (given for {known} K)", source=name)
        return option[temperature]
    return option


def fit_buildup_series(
    table: Any,
    *,
    model: str | BuildupModel = DEFAULT_MODEL,
    length_um: float | None = None,
    plateau: float | str = "free",
    T1_s: float | Mapping[float, float] | None = None,
    arrhenius: bool = False,
    shared_plateau: bool = False,
    absolute_sigma: bool = False,
    pair: str | None = None,
    source: str | None = None,
) -> BuildupSeriesFit:
    """One fit per temperature of a build-up table, the Arrhenius line of the rates and, with
    ``arrhenius=True``, the global fit with rate(T) constrained to the Arrhenius law.

    ``table``: a DataFrame (``read_buildup_table``, ``simulate_buildup``) or a mapping with the
    columns ``mixing_time [s]``, ``intensity``, optionally ``intensity stderr`` (weights) and
    ``temperature [K]``. ``T1_s`` may be one value or one per temperature (a mapping).
    ``shared_plateau`` (global fit only): one A for all temperatures instead of one each. A
    table with a ``pair`` column (``"from->to"``, as ``ssbkit.nmr.volumes.normalize`` writes)
    holds one curve per pair: choose one with ``pair=``.
    """
    m = get_model(model)
    frame = _as_frame(table)
    where = source or str(getattr(frame, "attrs", {}).get("source", "") or "table")
    _validate_frame(frame, where)
    if PAIR in frame.columns:
        pairs = [p for p, _ in _pairs(frame)]
        if pair is None and len(pairs) > 1:
            raise InputError(f"the table holds {len(pairs)} pairs ({', '.join(pairs)}): choose one "
                             "with pair=", source=where)
        chosen = pairs[0] if pair is None else str(pair)
        if chosen not in pairs:
            raise InputError(f"no pair {chosen!r}; the table holds {', '.join(pairs)}", source="pair")
        frame = frame[frame[PAIR].astype(str).to_numpy() == chosen]
        where = f"{where} ({chosen})"
        pair = chosen
    elif pair is not None:
        raise InputError("the table has no 'pair' column", source="pair")
    fits = []
    for temperature, group in _groups(frame):
        err = group[INTENSITY_STDERR].to_numpy(float) if INTENSITY_STDERR in group.columns else None
        fits.append(fit_buildup(group[MIXING_TIME].to_numpy(float), group[INTENSITY].to_numpy(float),
                                model=m, length_um=length_um, plateau=plateau, stderr=err,
                                T1_s=_per_temperature(T1_s, temperature, "T1_s"),
                                absolute_sigma=absolute_sigma, temperature_K=temperature,
                                source=where if temperature is None else f"{where} at {temperature:g} K"))
    if arrhenius and len(fits) < 2:
        raise InputError("a global Arrhenius fit needs curves at 2 or more temperatures", source=where)
    line = None
    good = [f for f in fits if f.success and f.temperature_K is not None]
    notes = [(f"{f.temperature_K:g} K: " if f.temperature_K is not None else "") + f.message
             for f in fits if not f.success]
    if len(good) >= 2 and len({f.temperature_K for f in good}) >= 2:
        errs = [f.rate.stderr for f in good]
        weighted = all(math.isfinite(e) and e > 0 for e in errs)
        line = arrhenius_rate([f.temperature_K for f in good], [f.rate.value for f in good],
                              stderr=errs if weighted else None, quantity=m.rate_parameter,
                              unit=m.units[m.rate_parameter])
        if not weighted:
            notes.append("Arrhenius line unweighted: not every rate has a standard error")
    global_fit = _global_fit(frame, fits, m, line, length_um, plateau, T1_s, shared_plateau,
                             absolute_sigma) if arrhenius else None
    chosen = global_fit if global_fit is not None else line
    return BuildupSeriesFit(
        success=all(f.success for f in fits) and (global_fit is None or global_fit.success),
        message="; ".join(notes + ([global_fit.message] if global_fit and global_fit.message else [])),
        model=m.name, pair=pair, fits=tuple(fits), arrhenius=line, global_fit=global_fit,
        Ea=None if chosen is None else chosen.activation_energy,
        prefactor=None if chosen is None else chosen.prefactor,
        Ea_method="" if chosen is None else ("global fit" if global_fit is not None else "weighted line"
                                             if line is not None and line.weighted else "line"),
        provenance=make_provenance("ssbkit.nmr.buildup.fit_buildup_series",
                                   settings={"model": m.name, "length_um": length_um, "plateau": plateau,
                                             "T1_s": T1_s, "arrhenius": bool(arrhenius),
                                             "shared_plateau": bool(shared_plateau)},
                                   inputs={"table": frame.to_dict(orient="list")},
                                   citations=m.citations),
    )


def _global_fit(frame: Any, fits: list[BuildupFit], m: BuildupModel, line: RateArrhenius | None,
                length_um: float | None, plateau: float | str, T1_s: Any, shared: bool,
                absolute: bool) -> GlobalArrheniusFit:
    from scipy.optimize import least_squares

    a_fixed = _plateau_option(plateau, m)
    length = positive("length_um", length_um) if m.needs_length else None
    curves, ys, ws, temps = [], [], [], []
    for temperature, group in _groups(frame):
        t = group[MIXING_TIME].to_numpy(float)
        t1 = _per_temperature(T1_s, temperature, "T1_s")
        relax = np.exp(-t / float(t1)) if t1 else np.ones_like(t)
        curves.append((t, relax))
        ys.append(group[INTENSITY].to_numpy(float))
        ws.append(1.0 / group[INTENSITY_STDERR].to_numpy(float) if INTENSITY_STDERR in group.columns
                  else np.ones(t.size))
        temps.append(float(temperature))  # type: ignore[arg-type]
    temps_a = np.array(temps)
    t_ref = float(1.0 / np.mean(1.0 / temps_a))
    if line is not None:
        ea0 = line.activation_energy.value
        ln_ref0 = math.log(line.prefactor.value) - ea0 / (BOLTZMANN_EV * t_ref)
    else:
        ea0, ln_ref0 = 0.1, float(np.mean([math.log(f.rate.value) for f in fits]))
    n_a = 0 if a_fixed is not None else (1 if shared else len(fits))
    a0 = [float(np.mean([f.plateau.value for f in fits]))] if shared else [f.plateau.value for f in fits]

    def unpack(p: np.ndarray) -> tuple[np.ndarray, list[float]]:
        rates = np.exp(p[0] - (p[1] / BOLTZMANN_EV) * (1.0 / temps_a - 1.0 / t_ref))
        if a_fixed is not None:
            return rates, [a_fixed] * len(fits)
        return rates, [float(p[2])] * len(fits) if shared else list(map(float, p[2:]))

    def residual(p: np.ndarray) -> np.ndarray:
        rates, plateaus = unpack(p)
        parts = [w * (y - a * m.shape(m.argument(t, r, length)) * relax)
                 for (t, relax), y, w, r, a in zip(curves, ys, ws, rates, plateaus, strict=True)]
        return np.concatenate(parts)

    x0 = np.array([ln_ref0, ea0] + ([] if a_fixed is not None else a0[:n_a]))
    lower = [-np.inf, -np.inf] + [0.0] * n_a
    res = least_squares(residual, x0, jac=_central_jacobian(residual), bounds=(lower, [np.inf] * x0.size),
                        method="trf", x_scale="jac", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=5000)
    chi2 = float(np.sum(res.fun**2))
    dof = int(res.fun.size - x0.size)
    cov = _covariance(res.jac, chi2, dof, absolute)
    ea, ln_ref = float(res.x[1]), float(res.x[0])
    kt = BOLTZMANN_EV * t_ref
    ln_pre = ln_ref + ea / kt
    var_ln_pre = cov[0, 0] + cov[1, 1] / kt**2 + 2 * cov[0, 1] / kt
    unit = m.units[m.rate_parameter]
    if a_fixed is not None:
        plateaus = [Estimate(a_fixed, 0.0, "1")] * len(fits)
    else:
        index = [2] * len(fits) if shared else list(range(2, 2 + len(fits)))
        plateaus = [Estimate(float(res.x[j]), math.sqrt(cov[j, j]), "1") for j in index]
    return GlobalArrheniusFit(
        success=bool(res.success), message="" if res.success else f"global fit: {res.message}",
        quantity=m.rate_parameter,
        activation_energy=Estimate(ea, math.sqrt(cov[1, 1]), "eV"),
        prefactor=Estimate(math.exp(ln_pre), math.exp(ln_pre) * math.sqrt(var_ln_pre), unit),
        reference_temperature_K=t_ref,
        rate_at_reference=Estimate(math.exp(ln_ref), math.exp(ln_ref) * math.sqrt(cov[0, 0]), unit),
        plateaus=tuple(plateaus), shared_plateau=bool(shared) and a_fixed is None,
        temperature_K=tuple(temps), chi_square=chi2,
        reduced_chi_square=chi2 / dof if dof > 0 else math.nan, degrees_of_freedom=dof,
        provenance=make_provenance("ssbkit.nmr.buildup.global_arrhenius",
                                   settings={"model": m.name, "shared_plateau": bool(shared)},
                                   citations=m.citations),
    )


# -- the table the command line reads --------------------------------------------------------------

_MIXING_NAMES = {"mixing time", "mixing_time", "mixing", "tmix", "t mix", "t_mix", "tm", "d8"}
_INTENSITY_NAMES = {"intensity", "normalised intensity", "normalized intensity"}
_STDERR_NAMES = {"intensity stderr", "intensity error", "intensity_stderr", "stderr"}
_TEMPERATURE_NAMES = {"temperature", "temp", "t"}
_PAIR_NAMES = {"pair", "from", "to"}


def read_buildup_table(path: str | PathLike[str]) -> Any:
    """Read a build-up table (CSV or TSV; the delimiter is sniffed) into canonical columns.

    Columns (case-insensitive, ``_`` or space): ``mixing_time [s]`` (or ``[ms]``, ``[µs]``,
    ``[min]``; a unit is required), ``intensity`` (``[%]`` is divided by 100, any other unit is
    taken as normalised intensity), optionally ``intensity stderr`` and ``temperature [K]``
    (or ``[°C]``/``[C]``). Returns a DataFrame with ``mixing_time [s]``, ``intensity``,
    ``intensity stderr`` and ``temperature [K]`` (those present), ``attrs["source"]`` the path.

    Refused with an ``InputError`` naming the file and row: a missing or unreadable file, no
    mixing-time or intensity column, a value that is not a finite number, a negative mixing
    time, one mixing time only (per temperature), a mixing time that reappears after other
    ones (replicates must be on adjacent rows), and an intensity out of range: below
    −max(3 × noise, 5 % of the plateau), with the noise the ``intensity stderr`` column or
    ``noise_estimate`` of the curve (second differences), and the plateau its largest value.
    """
    import pandas as pd

    where = Path(path)
    if not where.is_file():
        raise InputError("no such file", source=where)
    try:
        raw = pd.read_csv(where, sep=None, engine="python")
    except (OSError, ValueError, csv.Error, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table: {exc}", source=where) from None
    found = ", ".join(repr(str(c)) for c in raw.columns)
    roles: dict[str, tuple[Any, str]] = {}
    for column in raw.columns:
        name, unit = parse_label(str(column).strip())
        key = name.strip().lower()
        if key in _PAIR_NAMES:
            roles[key] = (column, "")
            continue
        for role, names in (("mixing", _MIXING_NAMES), ("intensity", _INTENSITY_NAMES),
                            ("stderr", _STDERR_NAMES), ("temperature", _TEMPERATURE_NAMES)):
            if key in names or key.replace("_", " ") in names:
                if role in roles:
                    raise InputError(f"two {role} columns: {roles[role][0]!r} and {column!r}", source=where)
                roles[role] = (column, unit.strip())
    if "mixing" not in roles:
        raise InputError(f"no mixing-time column (expected 'mixing_time [s]'); found {found}", source=where)
    if "intensity" not in roles:
        raise InputError(f"no intensity column (expected 'intensity'); found {found}", source=where)
    out = pd.DataFrame()
    targets = (("mixing", MIXING_TIME, "time"), ("intensity", INTENSITY, None),
               ("stderr", INTENSITY_STDERR, None), ("temperature", TEMPERATURE, "temperature"))
    for role, target, kind in targets:
        if role not in roles:
            continue
        column, unit = roles[role]
        values = _numbers(raw[column])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(f"column {str(column)!r}, row {int(bad[0]) + 1}: not a finite number "
                             f"({raw[column].iloc[int(bad[0])]!r})", source=where)
        out[target] = _to_canonical(values, unit, kind, str(column), where)
    if "pair" in roles:
        out[PAIR] = raw[roles["pair"][0]].astype(str).str.strip().to_numpy()
    elif "from" in roles and "to" in roles:
        out[PAIR] = (raw[roles["from"][0]].astype(str).str.strip() + "->"
                     + raw[roles["to"][0]].astype(str).str.strip()).to_numpy()
    out.attrs["source"] = str(where)
    _validate_frame(out, str(where))
    return out


def _to_canonical(values: np.ndarray, unit: str, kind: str | None, column: str, where: Path) -> np.ndarray:
    if kind is None:
        return values / 100.0 if unit == "%" else values
    if unit in ("", "1"):
        example = "mixing_time [s]" if kind == "time" else "temperature [K]"
        raise InputError(f"column {column!r} has no unit: write it as {example!r}", source=where)
    if kind == "temperature" and unit.upper() == "C":
        unit = "°C"  # in a temperature column C is Celsius, not coulomb
    target = "s" if kind == "time" else "K"
    try:
        return np.asarray(convert(values, unit, target), dtype=float)
    except InputError:
        raise InputError(f"column {column!r}: unit {unit!r} is not a {kind} unit", source=where) from None
