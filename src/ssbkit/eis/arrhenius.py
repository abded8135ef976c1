"""Activation energy from conductivities at several temperatures (Arrhenius fits).

Two forms, and results always say which was used:

- ``form="sigmaT"``: σT = A·exp(−Ea/(k_B T)), A in S·K/cm; the usual choice for ion conductors,
  since σ = n q² D/(k_B T) (Nernst–Einstein) with an activated D;
- ``form="sigma"``: σ = σ0·exp(−Ea/(k_B T)), σ0 in S/cm.

Because ln(σT) = ln σ + ln T, the two Ea differ by k_B times the least-squares slope of
ln T against 1/T, which is close to k_B·T̄ (0.026 eV near room temperature, 0.038 eV at 440 K).

The fit is a straight line y = ln A − (Ea/k_B)·(1/T), with y = ln(σT) or ln σ, by least squares:
unweighted, or weighted by (σ/δσ)² when standard errors are given (a standard error below
``RELATIVE_STDERR_FLOOR`` of its σ is raised to that floor: a noise-free spectrum gives a
resistance known to 1e-16, whose weight, 1e32 times the others', would leave the line to
rounding error; the message says when the floor was used). Parameter standard errors
come from the covariance scaled by the residual variance (as most published Arrhenius reports
do), or, with ``absolute_sigma=True``, from the given errors alone. The extrapolated σ at
25 °C (298.15 K, stated in the result) carries an interval from the t distribution with n − 2
degrees of freedom. A two-parameter line is a few lines of linear algebra, written out here so
that every number in the report can be traced. A line so steep that its prefactor exp(ln A)
overflows a float (Ea of tens of eV: temperatures a hair apart, or not in kelvin) is returned
with ``success=False`` and a message, not an exception.

Examples
--------
>>> import numpy as np
>>> T = np.array([300.0, 320.0, 340.0, 360.0])
>>> sigma = 1e4 / T * np.exp(-0.30 / (BOLTZMANN_EV * T))      # exact σT form, Ea = 0.30 eV
>>> r = arrhenius(T, sigma)
>>> round(r.activation_energy.value, 12), round(r.prefactor.value, 6)
(0.3, 10000.0)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core.errors import DependencyError, InputError
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.units import BOLTZMANN_EV, convert, dimension_of
from ssbkit.core.validate import finite_array, in_range, one_of

__all__ = ["RELATIVE_STDERR_FLOOR", "ArrheniusResult", "arrhenius", "arrhenius_from_conductivities",
           "arrhenius_from_table"]

FORMS = {
    "sigmaT": ("σT = A·exp(−Ea/(k_B·T))", "S·K/cm"),
    "sigma": ("σ = σ0·exp(−Ea/(k_B·T))", "S/cm"),
}
ROOM_TEMPERATURE_K = 298.15
RELATIVE_STDERR_FLOOR = 1e-9
_LOOKS_LIKE_CELSIUS_K = 150.0


@dataclass(frozen=True, kw_only=True)
class ArrheniusResult(Result):
    """Ea [eV], prefactor and σ extrapolated to ``reference_temperature_K`` of one Arrhenius fit."""

    form: str
    equation: str
    activation_energy: Estimate
    prefactor: Estimate
    ln_prefactor: Estimate
    r_squared: float
    reference_temperature_K: float
    conductivity_at_reference: Estimate
    interval_low: float = field(metadata={"unit": "S/cm"})
    interval_high: float = field(metadata={"unit": "S/cm"})
    confidence: float
    mean_temperature_K: float
    weighted: bool
    absolute_sigma: bool
    degrees_of_freedom: int
    temperature_K: tuple[float, ...]
    conductivity: tuple[float, ...]
    conductivity_stderr: tuple[float, ...] | None
    covariance: tuple[tuple[float, float], tuple[float, float]]  # of (slope, ln A)

    def _line(self, temperature_K: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(temperature_K, dtype=float)
        x = 1.0 / t
        slope = -self.activation_energy.value / BOLTZMANN_EV
        (vmm, vmb), (_, vbb) = self.covariance
        y = self.ln_prefactor.value + slope * x
        var = x * x * vmm + 2 * x * vmb + vbb
        return t, y, np.sqrt(var)

    def predict(self, temperature_K: Any) -> np.ndarray:
        """σ [S/cm] of the fitted line at ``temperature_K`` [K]."""
        t, y, _ = self._line(temperature_K)
        return np.exp(y) / t if self.form == "sigmaT" else np.exp(y)

    def conductivity_at(self, temperature_K: float) -> Estimate:
        """σ [S/cm] at one temperature [K] with its first-order standard error."""
        in_range("temperature_K", temperature_K, 0.0, math.inf, low_inclusive=False)
        _, _, se = self._line(temperature_K)
        value = float(self.predict(temperature_K))
        return Estimate(value, value * float(se), "S/cm")

    def _report_lines(self) -> list[str]:
        spread = BOLTZMANN_EV * self.mean_temperature_K
        other = "sigma" if self.form == "sigmaT" else "sigmaT"
        weights = ("weighted by (σ/δσ)²" if self.weighted else "unweighted") + (
            ", absolute errors" if self.absolute_sigma else "")
        low, high = self.interval_low, self.interval_high
        return [
            f"  form: {self.form}, {self.equation}; fit of ln({'σT' if self.form == 'sigmaT' else 'σ'}) "
            f"vs 1/T, {weights}, {len(self.temperature_K)} points, "
            f"{min(self.temperature_K):g}–{max(self.temperature_K):g} K",
            f"  Ea = {self.activation_energy}  (the {other} form differs by ≈ k_B·T̄ = "
            f"{spread:.3f} eV at T̄ = {self.mean_temperature_K:.1f} K)",
            f"  prefactor = {self.prefactor}  (ln = {self.ln_prefactor})",
            f"  R² = {self.r_squared:.4f}",
            f"  σ({self.reference_temperature_K:g} K) = {self.conductivity_at_reference.value:.4g} S/cm, "
            f"{100 * self.confidence:g} % interval [{low:.4g}, {high:.4g}] S/cm (extrapolated)",
        ]


def _quantile(confidence: float, dof: int, absolute: bool) -> float:
    try:
        from scipy import stats
    except ImportError:  # pragma: no cover - scipy comes with the eis extra
        raise DependencyError("the Arrhenius interval needs scipy: pip install 'ssbkit[eis]'") from None
    level = 0.5 + confidence / 2
    return float(stats.norm.ppf(level)) if absolute else float(stats.t.ppf(level, dof))


def _exp(x: float) -> float:
    """exp(x), infinite where it overflows a float (the caller reports it)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def arrhenius(
    temperature_K: Any,
    conductivity_S_cm: Any,
    *,
    stderr: Any = None,
    form: str = "sigmaT",
    temperature_unit: str = "K",
    absolute_sigma: bool = False,
    reference_temperature_K: float = ROOM_TEMPERATURE_K,
    confidence: float = 0.95,
) -> ArrheniusResult:
    """Fit ln(σT) (or ln σ) against 1/T; see the module docstring.

    Parameters
    ----------
    temperature_K
        Temperatures, in K unless ``temperature_unit="°C"``. All below 150 K is refused as
        probably °C.
    conductivity_S_cm
        σ [S/cm] at each temperature, all > 0.
    stderr
        Standard errors of σ [S/cm]; given, the fit is weighted by (σ/δσ)².
    form
        ``"sigmaT"`` (σT = A exp(−Ea/k_B T)) or ``"sigma"`` (σ = σ0 exp(−Ea/k_B T)).
    absolute_sigma
        Take ``stderr`` as the true errors instead of scaling by the residual variance.
    reference_temperature_K, confidence
        Where to extrapolate σ (default 298.15 K = 25 °C) and the interval's level.
    """
    form = one_of("form", form, tuple(FORMS))
    unit = str(temperature_unit)
    if dimension_of(unit) != "temperature":
        raise InputError(f"must be a temperature unit (K or °C), got {unit!r}", source="temperature_unit")
    t = finite_array("temperature_K", temperature_K)
    sigma = finite_array("conductivity_S_cm", conductivity_S_cm)
    if t.size != sigma.size:
        raise InputError(f"{t.size} temperatures but {sigma.size} conductivities", source="conductivity_S_cm")
    t = np.asarray(convert(t, unit, "K"), dtype=float)
    if (t <= 0).any():
        raise InputError(f"temperatures must be > 0 K; got {t.min():g} K", source="temperature_K")
    if (t < _LOOKS_LIKE_CELSIUS_K).all():
        raise InputError(f"every temperature is below {_LOOKS_LIKE_CELSIUS_K:g} K "
                         f"({t.min():g}–{t.max():g}); they look like °C: pass temperature_unit='°C'",
                         source="temperature_K")
    if np.unique(t).size < 2:
        raise InputError(f"an Arrhenius fit needs at least 2 different temperatures, got {t.size} "
                         f"point(s) at {np.unique(t).size} temperature(s)", source="temperature_K")
    if (sigma <= 0).any():
        first = int(np.flatnonzero(sigma <= 0)[0])
        raise InputError(f"conductivities must be > 0; point {first} is {sigma[first]:g}",
                         source="conductivity_S_cm")
    if stderr is not None:
        err = finite_array("stderr", stderr)
        if err.size != sigma.size:
            raise InputError(f"{err.size} standard errors for {sigma.size} conductivities", source="stderr")
        if (err <= 0).any():
            raise InputError("standard errors must be > 0 (leave stderr out for an unweighted fit)",
                             source="stderr")
    else:
        err = None
    floored = err is not None and bool((err < RELATIVE_STDERR_FLOOR * sigma).any())
    if floored:
        err = np.maximum(err, RELATIVE_STDERR_FLOOR * sigma)
    if absolute_sigma and err is None:
        raise InputError("absolute_sigma needs stderr", source="absolute_sigma")
    confidence = in_range("confidence", confidence, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    t_ref = in_range("reference_temperature_K", reference_temperature_K, 0.0, math.inf,
                     low_inclusive=False)

    x = 1.0 / t
    y = np.log(sigma * t) if form == "sigmaT" else np.log(sigma)
    w = np.ones_like(x) if err is None else (sigma / err) ** 2
    # Centred on the weighted mean of 1/T, slope and level are uncorrelated and the sums stay
    # well conditioned (1/T spans a few per cent of its size); ln A is the level moved to 1/T = 0.
    x_mean = float(np.sum(w * x) / np.sum(w))
    xc = x - x_mean
    sxx = float(np.sum(w * xc**2))
    level = float(np.sum(w * y) / np.sum(w))
    # y centred too: Σw·xc is zero only to rounding, and times a heavy weight's y it is not small
    slope = float(np.sum(w * xc * (y - level))) / sxx
    ln_a = level - slope * x_mean
    residual = y - (level + slope * xc)
    dof = t.size - 2
    chi2 = float(np.sum(w * residual**2))
    var_slope, var_level = 1.0 / sxx, 1.0 / float(np.sum(w))
    unscaled = np.array([[var_slope, -x_mean * var_slope],
                         [-x_mean * var_slope, var_level + x_mean**2 * var_slope]])
    if absolute_sigma:
        cov = unscaled
    elif dof > 0:
        cov = unscaled * chi2 / dof
    else:
        cov = np.full((2, 2), math.nan)
    total = float(np.sum(w * (y - level) ** 2))
    r_squared = 1.0 - chi2 / total if total > 0 else math.nan

    ea = Estimate(-slope * BOLTZMANN_EV, math.sqrt(cov[0, 0]) * BOLTZMANN_EV, "eV")
    prefactor_unit = FORMS[form][1]
    prefactor = Estimate(_exp(ln_a), _exp(ln_a) * math.sqrt(cov[1, 1]), prefactor_unit)
    x0 = 1.0 / t_ref
    y0 = ln_a + slope * x0
    se0 = math.sqrt(max(x0 * x0 * cov[0, 0] + 2 * x0 * cov[0, 1] + cov[1, 1], 0.0))
    scale = 1.0 / t_ref if form == "sigmaT" else 1.0
    at_ref = Estimate(_exp(y0) * scale, _exp(y0) * scale * se0, "S/cm")
    if math.isfinite(se0):
        q = _quantile(confidence, dof, absolute_sigma)
        low, high = _exp(y0 - q * se0) * scale, _exp(y0 + q * se0) * scale
    else:
        low = high = math.nan
    mean_t = float(np.mean(t))
    notes = []
    if dof == 0 and not absolute_sigma:
        notes.append("two temperatures fit the line exactly: no standard errors")
    if floored:
        notes.append(f"standard errors below {RELATIVE_STDERR_FLOOR:g} of σ raised to that floor")
    success = math.isfinite(slope) and math.isfinite(ln_a) and math.isfinite(prefactor.value) \
        and math.isfinite(at_ref.value)
    if not success:
        notes.append(f"no usable Arrhenius line: Ea = {-slope * BOLTZMANN_EV:.4g} eV and ln A = {ln_a:.4g} "
                     f"give a prefactor or a σ({t_ref:g} K) beyond floating point (are the temperatures "
                     f"{t.min():.10g}–{t.max():.10g} K right?)")
    return ArrheniusResult(
        success=success, message="; ".join(notes),
        form=form, equation=FORMS[form][0], activation_energy=ea, prefactor=prefactor,
        ln_prefactor=Estimate(float(ln_a), math.sqrt(cov[1, 1])), r_squared=float(r_squared),
        reference_temperature_K=t_ref, conductivity_at_reference=at_ref,
        interval_low=low, interval_high=high, confidence=confidence, mean_temperature_K=mean_t,
        weighted=err is not None, absolute_sigma=bool(absolute_sigma), degrees_of_freedom=dof,
        temperature_K=tuple(map(float, t)), conductivity=tuple(map(float, sigma)),
        conductivity_stderr=None if err is None else tuple(map(float, err)),
        covariance=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        provenance=make_provenance(
            "ssbkit.eis.arrhenius",
            settings={"form": form, "weighted": err is not None, "absolute_sigma": bool(absolute_sigma),
                      "reference_temperature_K": t_ref, "confidence": confidence,
                      "temperature_unit": unit},
            inputs={"temperature_K": t, "conductivity_S_cm": sigma, "stderr": err}),
    )


def arrhenius_from_conductivities(results: Sequence[Any], *, form: str = "sigmaT", weighted: bool = True,
                                  **options: Any) -> ArrheniusResult:
    """``arrhenius`` of conductivity results (anything with ``.conductivity``, an Estimate in a
    conductivity unit, and ``.temperature_K``).

    Weighted by their standard errors when ``weighted`` and every one is known (finite; an exact
    zero is raised to the floor, see ``arrhenius``); otherwise unweighted, and the result's
    message says so.

    >>> from ssbkit.eis.conductivity import PelletGeometry, ionic_conductivity
    >>> g = PelletGeometry.from_diameter(8.0, 2.1)
    >>> rs = [ionic_conductivity(r, g, temperature_K=t) for r, t in [(1e5, 400), (2e4, 450)]]
    >>> round(arrhenius_from_conductivities(rs).activation_energy.value, 4)
    0.5358
    """
    items = list(results)
    if len(items) < 2:
        raise InputError(f"an Arrhenius fit needs at least 2 conductivities, got {len(items)}",
                         source="results")
    temperatures, values, errors = [], [], []
    for i, item in enumerate(items):
        sigma = getattr(item, "conductivity", None)
        if not isinstance(sigma, Estimate):
            raise InputError(f"item {i} ({type(item).__name__}) has no .conductivity Estimate",
                             source="results")
        if dimension_of(sigma.unit or "S/cm") != "conductivity":
            raise InputError(f"item {i}: conductivity is in {sigma.unit!r}, not a conductivity unit",
                             source="results")
        sigma = sigma.to("S/cm") if sigma.unit else sigma
        temperature = getattr(item, "temperature_K", None)
        if temperature is None:
            raise InputError(f"item {i} carries no temperature_K (pass temperature_K= when computing "
                             "the conductivity)", source="results")
        temperatures.append(temperature)
        values.append(sigma.value)
        errors.append(sigma.stderr)
    usable = weighted and all(math.isfinite(e) and e >= 0 for e in errors)
    note = "" if usable or not weighted else "unweighted: not every conductivity has a standard error"
    if usable and any(e == 0 for e in errors):
        # ``arrhenius`` refuses a zero it is given; an exact conductivity here gets the floor
        errors = [max(e, RELATIVE_STDERR_FLOOR * abs(v)) for e, v in zip(errors, values, strict=True)]
        note = f"zero standard errors raised to {RELATIVE_STDERR_FLOOR:g} of σ"
    result = arrhenius(temperatures, values, stderr=errors if usable else None, form=form, **options)
    if note and note not in result.message:
        result = dataclasses.replace(result, message=f"{result.message}; {note}" if result.message else note)
    return result


def arrhenius_from_table(path: Any, *, form: str = "sigmaT", **options: Any) -> ArrheniusResult:
    """``arrhenius`` of a CSV/TSV table with ``name [unit]`` columns: ``temperature [K]`` (or
    ``[°C]``), ``conductivity [S/cm]`` (any conductivity unit) and optionally
    ``conductivity stderr [S/cm]``."""
    import pandas as pd

    from ssbkit.core.units import parse_label

    try:
        frame = pd.read_csv(path, sep=None, engine="python")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table: {exc}", source=path) from None
    found = ", ".join(repr(str(c).strip()) for c in frame.columns)
    labels = {}
    for column in frame.columns:
        try:
            name, unit = parse_label(str(column).strip())
        except InputError:
            continue
        labels[name] = (column, unit)
    for needed in ("temperature", "conductivity"):
        if needed not in labels:
            raise InputError(f"needs a column '{needed} [unit]'; found {found}", source=path)
    (t_col, t_unit), (s_col, s_unit) = labels["temperature"], labels["conductivity"]
    sigma = convert(frame[s_col].to_numpy(float), s_unit, "S/cm")
    stderr = None
    if "conductivity stderr" in labels:
        e_col, e_unit = labels["conductivity stderr"]
        stderr = convert(frame[e_col].to_numpy(float), e_unit, "S/cm")
    return arrhenius(frame[t_col].to_numpy(float), sigma, stderr=stderr, form=form,
                     temperature_unit=t_unit, **options)
