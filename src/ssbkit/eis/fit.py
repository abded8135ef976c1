"""Complex non-linear least-squares fit of an equivalent circuit to a spectrum.

``fit_circuit(spectrum, circuit)`` fits every free parameter in a transformed space where
the optimiser cannot leave the physical range: ln p for positive parameters (resistances,
capacitances, time constants span 1e-12 to 1e6 in one circuit, so a step in ln p is the
same relative step for each of them), a logistic map for bounded ones (CPE exponents in
[0, 1]). The Jacobian is analytic (``Circuit.impedance_and_jacobian``), so each
Levenberg–Marquardt iteration costs one evaluation of Z and dZ/dp rather than P+1.

Starting values come from the data when not given (``ssbkit.eis.guess``); only when the
fit from that start is clearly worse than the data allow does a seeded multi-start run.

Weights (the residual of each point divided by):

- ``"modulus"`` (default): |Z| of the measured point, so every decade counts alike; the
  usual choice for solid electrolytes whose |Z| spans orders of magnitude;
- ``"unit"``: nothing, as impedance.py does by default;
- ``"proportional"``: |Z'| for the real part and |Z''| for the imaginary part (floored at
  1e-3·|Z| so a point on the real axis cannot dominate).

A point at the origin (|Z| = 0) cannot be divided by: with ``"modulus"`` or ``"proportional"``
weights it is an ``InputError`` (mask it), and a spectrum that is zero everywhere always is.

Why our own fitter rather than impedance.py or lmfit: impedance.py builds and ``eval``\\ s a
string per call, fits in linear space from user-given starts and uses numerical
derivatives; lmfit is general and slow per call. Here the model is a compiled tree with
exact derivatives, which is both more robust and far faster for batches.

>>> import numpy as np
>>> from ssbkit.eis.simulate import simulate_spectrum
>>> truth = {"R0": 20.0, "R1": 150.0, "CPE1_0": 2e-9, "CPE1_1": 0.9, "CPE2_0": 3e-6, "CPE2_1": 0.85}
>>> s = simulate_spectrum("R0-p(R1,CPE1)-CPE2", truth, np.logspace(7, -1, 57))
>>> fit = fit_circuit(s, "R0-p(R1,CPE1)-CPE2")
>>> fit.success, round(fit.parameters["R1"].value, 6), round(fit.parameters["CPE1_1"].value, 6)
(True, 150.0, 0.9)
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance, to_json_safe
from ssbkit.core.validate import one_of
from ssbkit.eis.circuits import Circuit, _Leaf, _Node, parse_circuit
from ssbkit.eis.data import Spectrum

__all__ = ["WEIGHTS", "FitResult", "fit_circuit", "fit_circuits"]

WEIGHTS = ("modulus", "unit", "proportional")
# A fit is redone from several starts when its residual is this many times the residual of
# a flexible Voigt model of the same data (an estimate of what the data allow).
_POOR_FIT_RATIO = 3.0
# How many data-derived starts (ways of assigning processes to arcs) are fitted.
_CANDIDATE_STARTS = 8
# Multi-start: every start runs this many iterations, then the best three run on.
_SCOUT_ITERATIONS = 40


@dataclass(frozen=True, kw_only=True)
class FitResult(Result):
    """A fitted circuit: parameters with standard errors, goodness of fit and residuals.

    ``residuals_real``/``residuals_imag`` are (Z_data − Z_fit)/|Z_data| per point.
    ``chi_square`` is the weighted sum of squares; ``reduced_chi_square`` divides it by
    2N − P. Standard errors scale the covariance by ``reduced_chi_square`` (the weights
    are relative, not measured variances), as curve_fit does with ``absolute_sigma=False``.
    """

    circuit: str
    parameters: dict[str, Estimate]
    initial: dict[str, float]
    fixed: tuple[str, ...] = ()
    weights: str = "modulus"
    start: str = "given"
    chi_square: float = math.nan
    reduced_chi_square: float = math.nan
    correlation: dict[str, dict[str, float]] = field(default_factory=dict)
    frequency: np.ndarray = field(default_factory=lambda: np.empty(0))
    impedance: np.ndarray = field(default_factory=lambda: np.empty(0, complex))
    impedance_fit: np.ndarray = field(default_factory=lambda: np.empty(0, complex))
    iterations: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def residuals_real(self) -> np.ndarray:
        return (self.impedance.real - self.impedance_fit.real) / np.abs(self.impedance)

    @property
    def residuals_imag(self) -> np.ndarray:
        return (self.impedance.imag - self.impedance_fit.imag) / np.abs(self.impedance)

    def values(self) -> dict[str, float]:
        """Parameter values by name (the mapping ``Circuit.impedance`` takes)."""
        return {name: e.value for name, e in self.parameters.items()}

    def predict(self, frequency: Any) -> np.ndarray:
        """Z [Ohm] of the fitted circuit at ``frequency`` [Hz]."""
        return parse_circuit(self.circuit).impedance(frequency, self.values())

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for name in ("impedance", "impedance_fit"):
            z = getattr(self, name)
            out[name] = {"real": to_json_safe(z.real), "imag": to_json_safe(z.imag), "unit": "Ohm"}
        out["residuals"] = {"real": to_json_safe(self.residuals_real),
                            "imag": to_json_safe(self.residuals_imag)}
        return out

    def to_frame(self) -> Any:
        """One row per parameter: name, value, stderr, unit, fixed."""
        import pandas as pd

        return pd.DataFrame([{"parameter": name, "value": e.value, "stderr": e.stderr, "unit": e.unit,
                              "fixed": name in self.fixed} for name, e in self.parameters.items()])

    def _report_lines(self) -> list[str]:
        width = max((len(n) for n in self.parameters), default=1)
        lines = [f"  circuit: {self.circuit}  ({self.weights} weights, start: {self.start})"]
        for name, e in self.parameters.items():
            err = "fixed" if name in self.fixed else (
                f"± {e.stderr:.2e}" if math.isfinite(e.stderr) else "± n/a")
            lines.append(f"  {name:>{width}} = {e.value:.4e} {err:>11} [{e.unit}]")
        lines.append(f"  chi-square {self.chi_square:.4g}, reduced {self.reduced_chi_square:.4g}, "
                     f"{self.impedance.size} points")
        return lines


# --- parameter transforms -------------------------------------------------------------

_EXP, _SHIFT_UP, _SHIFT_DOWN, _LOGISTIC, _LOG_LOGISTIC, _IDENTITY = range(6)


class _Transform:
    """Maps unconstrained θ to parameters p within (lower, upper), elementwise."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.lower, self.upper = lower, upper
        kind = np.full(lower.shape, _IDENTITY)
        finite_lo, finite_hi = np.isfinite(lower), np.isfinite(upper)
        kind[finite_lo & ~finite_hi] = _SHIFT_UP
        kind[(lower == 0) & ~finite_hi] = _EXP
        kind[~finite_lo & finite_hi] = _SHIFT_DOWN
        both = finite_lo & finite_hi
        kind[both] = _LOGISTIC
        wide = both & (lower > 0) & (upper > 100 * lower)
        kind[wide] = _LOG_LOGISTIC
        self.kind = kind
        self.log_lo = np.log(np.where(wide, lower, 1.0))
        self.log_span = np.log(np.where(wide, upper, np.e)) - self.log_lo
        self.groups = [(code, np.flatnonzero(kind == code)) for code in range(_IDENTITY)
                       if (kind == code).any()]

    def forward(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p(θ) and dp/dθ, along the last axis."""
        theta = np.where(np.isfinite(theta), theta, 0.0)
        p = np.array(theta, dtype=float)
        d = np.ones_like(p)
        for code, index in self.groups:
            t = theta[..., index]
            if code == _LOGISTIC or code == _LOG_LOGISTIC:
                s = 0.5 * (1.0 + np.tanh(0.5 * t))  # the logistic function, without overflow
                if code == _LOGISTIC:
                    lo, span = self.lower[index], self.upper[index] - self.lower[index]
                    p[..., index], d[..., index] = lo + span * s, span * s * (1 - s)
                else:
                    value = np.exp(self.log_lo[index] + self.log_span[index] * s)
                    p[..., index], d[..., index] = value, value * self.log_span[index] * s * (1 - s)
                continue
            e = np.exp(np.clip(t, -700, 700))
            if code == _EXP:
                p[..., index], d[..., index] = e, e
            elif code == _SHIFT_UP:
                p[..., index], d[..., index] = self.lower[index] + e, e
            else:
                p[..., index], d[..., index] = self.upper[index] - e, -e
        return p, d

    def inverse(self, p: np.ndarray) -> np.ndarray:
        k, lo, hi = self.kind, self.lower, self.upper
        theta = np.array(p, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            for code, value in (
                (_EXP, np.log(p)),
                (_SHIFT_UP, np.log(p - lo)),
                (_SHIFT_DOWN, np.log(hi - p)),
                (_LOGISTIC, _logit((p - lo) / (hi - lo))),
                (_LOG_LOGISTIC, _logit((np.log(np.maximum(p, 1e-300)) - self.log_lo) / self.log_span)),
            ):
                m = k == code
                theta[..., m] = value[..., m]
        return theta


def _logit(s: np.ndarray) -> np.ndarray:
    return np.log(s) - np.log1p(-s)


# --- the problem set-up ---------------------------------------------------------------

@dataclass
class _Batch:
    """B spectra with the same number of points, fitted with one circuit at once."""

    model: Circuit
    frequency: np.ndarray  # (B, N)
    impedance: np.ndarray  # (B, N)
    weight_re: np.ndarray  # (B, N)
    weight_im: np.ndarray
    free: np.ndarray  # (P,) bool over parameter_names
    values: np.ndarray  # (B, P): fixed entries hold their values
    transform: _Transform

    def parameters(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, dp = self.transform.forward(theta)
        full = self.values[rows].copy()
        full[:, self.free] = p
        return full, dp

    def residual_and_jacobian(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted residuals (b, 2N) and their Jacobian in θ (b, 2N, P_free) for ``rows``."""
        full, dp = self.parameters(theta, rows)
        z, jac = self.model.impedance_and_jacobian(self.frequency[rows], full)
        jac = jac[..., self.free] * dp[:, None, :]
        diff = z - self.impedance[rows]
        w_re, w_im = self.weight_re[rows], self.weight_im[rows]
        r = np.concatenate([diff.real / w_re, diff.imag / w_im], axis=1)
        j = np.concatenate([jac.real / w_re[..., None], jac.imag / w_im[..., None]], axis=1)
        return r, j


def _weights(z: np.ndarray, weights: str) -> tuple[np.ndarray, np.ndarray]:
    if weights == "unit":
        one = np.ones(z.shape)
        return one, one
    modulus = np.abs(z)
    if weights == "modulus":
        return modulus, modulus
    floor = 1e-3 * modulus
    return np.maximum(np.abs(z.real), floor), np.maximum(np.abs(z.imag), floor)


def _named_values(circuit: Circuit, values: Mapping[str, float] | None, what: str) -> dict[str, float]:
    values = dict(values or {})
    unknown = [n for n in values if n not in circuit.parameter_names]
    if unknown:
        raise InputError(f"{what}: unknown parameter {', '.join(unknown)} "
                         f"(circuit {circuit.to_string()} has {', '.join(circuit.parameter_names)})",
                         source=what)
    out = {}
    for name, value in values.items():
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{what}: {name} must be a number, got {value!r}", source=what) from None
        if not math.isfinite(out[name]):
            raise InputError(f"{what}: {name} must be finite, got {value!r}", source=what)
    return out


def _bounds(circuit: Circuit, bounds: Mapping[str, Sequence[float]] | None) -> tuple[np.ndarray, np.ndarray]:
    specs = [spec for leaf_specs in _specs(circuit) for spec in leaf_specs]
    lower = np.array([s.lower for s in specs], dtype=float)
    upper = np.array([s.upper for s in specs], dtype=float)
    names = circuit.parameter_names
    for name, pair in (bounds or {}).items():
        if name not in names:
            raise InputError(f"bounds: unknown parameter {name} (circuit has {', '.join(names)})",
                             source="bounds")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InputError(f"bounds: {name} needs (lower, upper), got {pair!r}", source="bounds") from None
        if not lo < hi:
            raise InputError(f"bounds: {name} lower {lo:g} must be below upper {hi:g}", source="bounds")
        i = names.index(name)
        lower[i], upper[i] = lo, hi
    return lower, upper


def _specs(circuit: Circuit) -> list[tuple[Any, ...]]:
    from ssbkit.eis.circuits import _leaves

    return [leaf.element.parameters for leaf in _leaves(circuit.tree)]


def _start_inside(p: np.ndarray, lower: np.ndarray, upper: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Starting values strictly inside the bounds: values on a bound move just inside it
    (an ideal n = 1 is a fine start); values outside are an error naming the parameter."""
    outside = (p < lower) | (p > upper)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(f"initial value {names[i]} = {p[i]:g} lies outside its bounds "
                         f"[{lower[i]:g}, {upper[i]:g}]", source="initial")
    span = np.where(np.isfinite(upper - lower), upper - lower, np.abs(p) + 1.0)
    eps = 1e-6 * span
    p = np.where(p <= lower, lower + eps, p)
    return np.where(p >= upper, upper - eps, p)


# --- solving: Levenberg–Marquardt on a whole batch at once ----------------------------
#
# Each spectrum has its own damping; one iteration evaluates Z and dZ/dp for every
# spectrum still running in one vectorised call and solves the B small normal equations
# together, so the Python overhead is paid once per iteration, not once per spectrum.
# Steps follow Marquardt's scaling (the diagonal of JᵀJ, never shrinking) and Nielsen's
# damping update; a spectrum stops when a step no longer changes its cost or parameters.

_FTOL = 1e-10
_XTOL = 1e-7
_GTOL = 1e-12
_MAX_STEP = 0.5


@dataclass
class _Solution:
    theta: np.ndarray  # (B, P_free)
    cost: np.ndarray  # (B,) sum of squared weighted residuals
    jacobian: np.ndarray  # (B, 2N, P_free) at theta
    iterations: np.ndarray  # (B,)
    converged: np.ndarray  # (B,) bool
    status: list[str]


def _levenberg_marquardt(batch: _Batch, theta0: np.ndarray, max_iterations: int) -> _Solution:
    size, n_free = theta0.shape
    rows_all = np.arange(size)
    theta = theta0.copy()
    with np.errstate(all="ignore"):
        r, jac = batch.residual_and_jacobian(theta, rows_all)
    cost = np.einsum("bm,bm->b", r, r)
    status = ["running"] * size
    converged = np.zeros(size, bool)
    iterations = np.zeros(size, int)
    bad = ~np.isfinite(cost) | ~np.isfinite(jac).all(axis=(1, 2))
    for i in np.flatnonzero(bad):
        status[i] = "the model is not finite at the starting values"
    active = ~bad
    mu = np.full(size, 1e-3)
    nu = np.full(size, 2.0)
    scale = np.zeros((size, n_free))
    eye = np.eye(n_free)
    for _ in range(max_iterations):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        j, res = jac[rows], r[rows]
        jtj = np.einsum("bmi,bmj->bij", j, j)
        grad = np.einsum("bmi,bm->bi", j, res)
        diag = np.einsum("bii->bi", jtj)
        scale[rows] = np.maximum(scale[rows], diag)
        d = np.maximum(scale[rows], 1e-30)
        gnorm = np.max(np.abs(grad) / np.sqrt(d), axis=1) / np.sqrt(np.maximum(cost[rows], 1e-300))
        small_gradient = gnorm <= _GTOL
        system = jtj + (mu[rows, None] * d)[:, :, None] * eye
        try:
            step = -np.linalg.solve(system, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(system[0], grad[0], rcond=None)[0][None] if rows.size == 1 else \
                np.stack([-np.linalg.pinv(s) @ g for s, g in zip(system, grad, strict=True)])
        # No parameter moves by more than a factor e^_MAX_STEP per iteration: a long step in
        # ln p can otherwise land on a plateau (a Warburg whose τ ran far beyond the data)
        # where the gradient vanishes before the minimum is reached.
        longest = np.max(np.abs(step), axis=1, keepdims=True)
        step = step * np.minimum(1.0, _MAX_STEP / np.maximum(longest, 1e-300))
        trial = theta[rows] + step
        with np.errstate(all="ignore"):
            r_new, j_new = batch.residual_and_jacobian(trial, rows)
        cost_new = np.einsum("bm,bm->b", r_new, r_new)
        finite = np.isfinite(cost_new) & np.isfinite(j_new).all(axis=(1, 2))
        cost_new = np.where(finite, cost_new, np.inf)
        predicted = -(2 * np.einsum("bi,bi->b", step, grad) + np.einsum("bi,bij,bj->b", step, jtj, step))
        rho = (cost[rows] - cost_new) / np.where(predicted > 0, predicted, np.inf)
        accept = finite & (cost_new < cost[rows]) & (rho > 1e-4)
        iterations[rows] += 1
        # Accepted steps: move, relax the damping (Nielsen), test for convergence.
        ok = rows[accept]
        old_cost = cost[ok]
        theta[ok], r[ok], jac[ok], cost[ok] = trial[accept], r_new[accept], j_new[accept], cost_new[accept]
        mu[ok] *= np.maximum(1 / 3, 1 - (2 * rho[accept] - 1) ** 3)
        nu[ok] = 2.0
        tiny_cost = old_cost - cost[ok] <= _FTOL * old_cost
        tiny_step = np.max(np.abs(step[accept]), axis=1) <= _XTOL * (1 + np.max(np.abs(theta[ok]), axis=1))
        done = ok[(tiny_cost & tiny_step) | (cost[ok] == 0.0)]
        converged[done], active[done] = True, False
        # Rejected steps: stop at a vanishing gradient, else damp harder; a damping that has
        # grown past any use means no step lowers the cost: a minimum to working precision.
        rejected = ~accept
        flat = rows[rejected & small_gradient]
        converged[flat], active[flat] = True, False
        retry = rows[rejected & ~small_gradient]
        mu[retry] *= nu[retry]
        nu[retry] *= 2
        stuck = retry[mu[retry] > 1e16]
        converged[stuck], active[stuck] = True, False
    for b in range(size):
        if converged[b]:
            status[b] = "converged"
        elif active[b]:
            status[b] = f"no convergence in {max_iterations} iterations"
    return _Solution(theta, cost, jac, iterations, converged, status)


def _covariance(jacobian: np.ndarray, cost: float, dof: int) -> np.ndarray:
    """Covariance of θ, scaled by the residual variance; NaN rows for unidentifiable directions."""
    n = jacobian.shape[1]
    if dof <= 0 or n == 0:
        return np.full((n, n), np.nan)
    _, s, vt = np.linalg.svd(jacobian, full_matrices=False)
    keep = s > s[0] * max(jacobian.shape) * np.finfo(float).eps
    cov = (vt[keep].T / s[keep] ** 2) @ vt[keep] * (cost / dof)
    if not keep.all():
        # A direction the data cannot see: parameters in it have no finite error.
        blind = np.abs(vt[~keep]).max(axis=0) > 1e-8
        cov[blind, :] = np.nan
        cov[:, blind] = np.nan
    return cov


# --- the public functions -------------------------------------------------------------

@dataclass
class _Prepared:
    spectrum: Spectrum
    data: Spectrum
    start: dict[str, float]
    values: np.ndarray
    alternatives: list[np.ndarray]  # further data-derived starts (full vectors)
    guessed: bool
    how: str
    voigt_rms: float


def _prepare(spectrum: Spectrum, model: Circuit, given: Mapping[str, float], held: Mapping[str, float],
             free: np.ndarray, lower: np.ndarray, upper: np.ndarray, weights: str) -> _Prepared:
    if not isinstance(spectrum, Spectrum):
        raise InputError(f"expected a Spectrum, got {type(spectrum).__name__}", source="spectrum")
    data = spectrum if spectrum.mask.all() else spectrum.masked()
    where = spectrum.source or "spectrum"
    origin = np.abs(data.impedance) == 0
    if origin.all():
        raise InputError("the impedance is zero everywhere: nothing to fit", source=where)
    if origin.any() and weights != "unit":
        # the residual of each point is divided by its |Z| (or |Z'|, |Z''|): 1/0 has no meaning
        first = float(data.frequency[np.flatnonzero(origin)[0]])
        raise InputError(f"|Z| = 0 at {int(origin.sum())} point(s) (first at {first:g} Hz), which "
                         f"{weights!r} weights divide by: mask them or fit with weights='unit'",
                         source=where)
    if 2 * len(data) <= free.sum():
        raise InputError(f"{len(data)} points (= {2 * len(data)} real numbers) cannot determine "
                         f"{int(free.sum())} free parameters", source=spectrum.source or "spectrum")
    names = model.parameter_names
    candidates: list[dict[str, float]] = [{}]
    voigt_rms = math.nan
    if len(given) + len(held) < len(names):
        from ssbkit.eis.guess import guess_candidates

        candidates, voigt_rms = guess_candidates(data, model, fixed=held)
    free_names = [n for n, f in zip(names, free, strict=True) if f]
    vectors = []
    for guess in candidates[:_CANDIDATE_STARTS]:
        start = {**guess, **given, **held}
        values = np.array([start[n] for n in names], dtype=float)
        # A guessed value outside bounds the user set is moved onto them (then just inside);
        # only a value the user gave is an error.
        guessed = np.array([n in guess and n not in given and n not in held for n in names])
        values[guessed] = np.clip(values[guessed], lower[guessed], upper[guessed])
        values[free] = _start_inside(values[free], lower[free], upper[free], free_names)
        vectors.append(values)
    start = {**candidates[0], **given, **held}
    guessed = bool(candidates[0])
    how = "given" if not guessed else ("guessed" if not given else "given + guessed")
    return _Prepared(spectrum, data, start, vectors[0], vectors[1:], guessed, how, voigt_rms)


def fit_circuit(
    spectrum: Spectrum,
    circuit: str | Circuit,
    *,
    initial: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, Sequence[float]] | None = None,
    weights: str = "modulus",
    multistart: int = 24,
    max_iterations: int = 500,
    rng: np.random.Generator | int = 0,
) -> FitResult:
    """Fit ``circuit`` to the masked points of ``spectrum``.

    ``initial`` gives starting values by name; parameters it leaves out are guessed from
    the data (``ssbkit.eis.guess.guess_parameters``). ``fixed`` holds parameters at given
    values. ``bounds`` maps a name to ``(lower, upper)`` (default: each element's physical
    range, e.g. R ≥ 0, 0 ≤ n ≤ 1). When the start was guessed and the fit is clearly poor
    (it did not converge, or its residual is far above what a Voigt description of the
    same data reaches), up to ``multistart`` further starts are tried together, seeded by
    ``rng``, and the best is kept. A fit that does not converge is returned with
    ``success=False``.
    """
    return fit_circuits([spectrum], circuit, initial=initial, fixed=fixed, bounds=bounds,
                        weights=weights, multistart=multistart, max_iterations=max_iterations,
                        rng=rng)[0]


def fit_circuits(
    spectra: Iterable[Spectrum],
    circuit: str | Circuit,
    *,
    initial: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, Sequence[float]] | None = None,
    weights: str = "modulus",
    multistart: int = 24,
    max_iterations: int = 500,
    rng: np.random.Generator | int = 0,
) -> list[FitResult]:
    """Fit one circuit to many spectra (a temperature series, a batch): one result each, in
    order, with the options of ``fit_circuit``.

    Spectra with the same number of points are fitted together, one vectorised
    Levenberg–Marquardt iteration for all of them at a time, which is where the speed of
    a batch comes from; each result is the same as fitting that spectrum alone.
    """
    model = circuit if isinstance(circuit, Circuit) else parse_circuit(circuit)
    weights = one_of("weights", weights, WEIGHTS)
    if not isinstance(max_iterations, int) or max_iterations < 1:
        raise InputError(f"max_iterations must be a positive integer, got {max_iterations!r}",
                         source="max_iterations")
    names = model.parameter_names
    given = _named_values(model, initial, "initial")
    held = _named_values(model, fixed, "fixed")
    both = sorted(set(given) & set(held))
    if both:
        raise InputError(f"{', '.join(both)} both fixed and given a starting value", source="fixed")
    free = np.array([n not in held for n in names])
    if free.sum() == 0:
        raise InputError("every parameter is fixed: nothing to fit", source="fixed")
    lower, upper = _bounds(model, bounds)
    transform = _Transform(lower[free], upper[free])
    prepared = [_prepare(s, model, given, held, free, lower, upper, weights) for s in spectra]
    # Each spectrum's multi-start draws come from (seed, its own data), so a spectrum gets the
    # same starts whether it is fitted alone or anywhere in a batch.
    base = int(rng.integers(2**63)) if isinstance(rng, np.random.Generator) else int(rng)
    settings = {"multistart": multistart, "max_iterations": max_iterations,
                "bounds": {k: list(v) for k, v in (bounds or {}).items()}}

    results: list[FitResult | None] = [None] * len(prepared)
    by_length: dict[int, list[int]] = {}
    for i, item in enumerate(prepared):
        by_length.setdefault(len(item.data), []).append(i)
    for indices in by_length.values():
        group = [prepared[i] for i in indices]
        batch = _make_batch(model, group, free, transform, weights)
        theta0 = transform.inverse(batch.values[:, free])
        solution = _levenberg_marquardt(batch, theta0, max_iterations)
        for k, i in enumerate(indices):
            item = group[k]
            best = _pick(solution, k)
            how = item.how
            if item.alternatives:
                best = _best_of(batch, k, best, np.stack(item.alternatives), max_iterations)
            if item.guessed and multistart > 0 and _poor(best, item, batch, k):
                own = np.random.default_rng([base, zlib.crc32(item.data.frequency.tobytes()
                                                              + item.data.impedance.tobytes())])
                best = _multistart(batch, k, best, theta0[k], multistart, max_iterations, own)
                how += " + multistart"
            results[i] = _result(item, model, batch, k, best, held, weights, how, settings)
    return results  # type: ignore[return-value]


def _make_batch(model: Circuit, group: list[_Prepared], free: np.ndarray, transform: _Transform,
                weights: str) -> _Batch:
    z = np.stack([g.data.impedance for g in group])
    w_re, w_im = _weights(z, weights)
    return _Batch(model, np.stack([g.data.frequency for g in group]), z, w_re, w_im, free,
                  np.stack([g.values for g in group]), transform)


def _pick(solution: _Solution, k: int) -> _Solution:
    return _Solution(solution.theta[k:k + 1], solution.cost[k:k + 1], solution.jacobian[k:k + 1],
                     solution.iterations[k:k + 1], solution.converged[k:k + 1], [solution.status[k]])


def _relative_rms(batch: _Batch, k: int, theta: np.ndarray) -> float:
    rows = np.array([k])
    full, _ = batch.parameters(theta, rows)
    with np.errstate(all="ignore"):
        z = batch.model.impedance(batch.frequency[k], full[0])
    data = batch.impedance[k]
    away = np.abs(data) > 0  # a point at the origin (allowed with unit weights) has no relative error
    return float(np.sqrt(np.mean(np.abs(z - data)[away] ** 2 / np.abs(data[away]) ** 2)))


def _poor(solution: _Solution, item: _Prepared, batch: _Batch, k: int) -> bool:
    """A guessed start that led nowhere good: no convergence, a parameter run off by more
    than six decades, or a residual far above what the data allow (the residual of the
    Voigt description)."""
    if not solution.converged[0]:
        return True
    # A parameter that ran off by more than six decades from a data-derived start (R0 → 1e-29)
    # has usually left the basin the data describe.
    theta0 = batch.transform.inverse(item.values[batch.free])
    runaway = (batch.transform.kind == _EXP) & (np.abs(solution.theta[0] - theta0) > math.log(1e6))
    if runaway.any():
        return True
    if not math.isfinite(item.voigt_rms):
        return False
    rms = _relative_rms(batch, k, solution.theta)
    return rms > _POOR_FIT_RATIO * max(item.voigt_rms, 1e-4)


def _best_of(batch: _Batch, k: int, best: _Solution, starts: np.ndarray, max_iterations: int) -> _Solution:
    """Fit spectrum ``k`` from further full parameter vectors ``starts`` (one batch); keep
    the lowest converged cost."""
    rows = np.full(len(starts), k)
    copies = _Batch(batch.model, batch.frequency[rows], batch.impedance[rows], batch.weight_re[rows],
                    batch.weight_im[rows], batch.free, starts, batch.transform)
    trials = _levenberg_marquardt(copies, batch.transform.inverse(starts[:, batch.free]), max_iterations)
    return _keep_best(best, trials)


def _keep_best(best: _Solution, trials: _Solution) -> _Solution:
    cost = np.where(trials.converged, trials.cost, np.inf)
    i = int(np.argmin(cost))
    total = best.iterations[0] + int(trials.iterations.sum())
    if np.isfinite(cost[i]) and (not best.converged[0] or cost[i] < best.cost[0] * (1 - 1e-9)):
        best = _pick(trials, i)
    return _Solution(best.theta, best.cost, best.jacobian, np.array([total]), best.converged, best.status)


def _multistart(batch: _Batch, k: int, best: _Solution, theta0: np.ndarray, count: int,
                max_iterations: int, rng: np.random.Generator) -> _Solution:
    """``count`` starts scattered around the guess (ln p by a decade, bounded parameters
    anywhere), run together as one batch for a few iterations; the three lowest are then
    run to convergence and the lowest converged cost wins."""
    starts = theta0[None, :] + rng.normal(0.0, math.log(10.0), (count, theta0.size))
    bounded = batch.transform.kind == _LOGISTIC
    starts[:, bounded] = rng.uniform(-1.5, 3.0, (count, int(bounded.sum())))
    rows = np.full(count, k)
    copies = _Batch(batch.model, batch.frequency[rows], batch.impedance[rows], batch.weight_re[rows],
                    batch.weight_im[rows], batch.free, batch.values[rows], batch.transform)
    scouts = _levenberg_marquardt(copies, starts, min(_SCOUT_ITERATIONS, max_iterations))
    cost = np.where(np.isfinite(scouts.cost), scouts.cost, np.inf)
    keep = np.argsort(cost)[:3]
    finals = _levenberg_marquardt(_Batch(batch.model, copies.frequency[keep], copies.impedance[keep],
                                         copies.weight_re[keep], copies.weight_im[keep], batch.free,
                                         copies.values[keep], batch.transform),
                                  scouts.theta[keep], max_iterations)
    finals.iterations = finals.iterations + int(scouts.iterations.sum()) // len(keep)
    return _keep_best(best, finals)


def _shape(tree: Any) -> str:
    if isinstance(tree, _Leaf):
        return tree.element.symbol
    return tree.kind + "(" + ",".join(_shape(c) for c in tree.children) + ")"


def _arc_tau(tree: Any, values: Mapping[str, float]) -> float:
    """Time constant of a top-level arc: R·C or (R·Q)^(1/n) for R‖C / R‖CPE, τ for a leaf
    with one (ZARC, HN, G, Wo, Ws); NaN where there is no single one."""
    if isinstance(tree, _Leaf):
        names = tree.element.parameter_names(tree.name)
        return values[names[1]] if len(names) > 1 and tree.element.parameters[1].unit == "s" else math.nan
    kids = {c.element.symbol: c for c in tree.children if isinstance(c, _Leaf)}
    if tree.kind != "parallel" or len(tree.children) != 2 or "R" not in kids:
        return math.nan
    r = values[kids["R"].name]
    if "C" in kids:
        return r * values[kids["C"].name]
    if "CPE" in kids:
        q, n = (values[x] for x in kids["CPE"].element.parameter_names(kids["CPE"].name))
        return (r * q) ** (1 / n) if n > 0 else math.nan
    return math.nan


def _canonical_order(model: Circuit, full: np.ndarray, free: np.ndarray) -> np.ndarray:
    """A permutation of the parameters that numbers arcs of the same form from fast to slow
    in the order they are written (``p(R1,CPE1)-p(R2,CPE2)``: 1 is the high-frequency arc).
    Such arcs are interchangeable in the model, so their labels would otherwise depend on
    which start the fit came from."""
    names = model.parameter_names
    values = dict(zip(names, full, strict=True))
    index = {n: i for i, n in enumerate(names)}
    order = np.arange(len(names))
    terms = list(model.tree.children) if isinstance(model.tree, _Node) and model.tree.kind == "series" \
        else [model.tree]
    groups: dict[str, list[Any]] = {}
    for term in terms:
        groups.setdefault(_shape(term), []).append(term)
    for arcs in groups.values():
        if len(arcs) < 2:
            continue
        slots = [[index[n] for n in _names_in(arc)] for arc in arcs]
        taus = [_arc_tau(arc, values) for arc in arcs]
        if any(not math.isfinite(t) for t in taus) or not all(free[i] for slot in slots for i in slot):
            continue
        ranked = sorted(range(len(arcs)), key=taus.__getitem__)
        for slot, source in zip(slots, ranked, strict=True):
            order[slot] = slots[source]
    return order


def _names_in(tree: Any) -> list[str]:
    if isinstance(tree, _Leaf):
        return list(tree.element.parameter_names(tree.name))
    return [n for child in tree.children for n in _names_in(child)]


def _result(item: _Prepared, model: Circuit, batch: _Batch, k: int, best: _Solution,
            held: Mapping[str, float], weights: str, how: str, settings: Mapping[str, Any]) -> FitResult:
    names = model.parameter_names
    units = model.parameter_units()
    data = item.data
    full, dp = batch.parameters(best.theta, np.array([k]))
    full, dp = full[0], dp[0]
    free = batch.free
    order = _canonical_order(model, full, free)
    if not np.array_equal(order, np.arange(order.size)):
        free_order = np.argsort(np.argsort(order[free]))  # the same permutation among free ones
        full, dp = full[order], dp[free_order]
        best = _Solution(best.theta[:, free_order], best.cost, best.jacobian[:, :, free_order],
                         best.iterations, best.converged, best.status)
    dof = 2 * len(data) - int(free.sum())
    cost = float(best.cost[0])
    cov = _covariance(best.jacobian[0], cost, dof)
    with np.errstate(invalid="ignore", divide="ignore"):
        theta_err = np.sqrt(np.diag(cov))
        corr = cov / np.outer(theta_err, theta_err)
    err = np.full(len(names), math.nan)
    err[free] = np.abs(dp) * theta_err
    free_names = [n for n, f in zip(names, free, strict=True) if f]
    correlation = {a: {b: float(corr[i, j]) for j, b in enumerate(free_names) if j != i}
                   for i, a in enumerate(free_names)}
    success = bool(best.converged[0]) and bool(np.all(np.isfinite(full)))
    message = "" if success else f"fit did not converge: {best.status[0]}"
    if success and not np.all(np.isfinite(err[free])):
        message = "some standard errors cannot be estimated (parameters the data do not determine)"
    digest = hashlib.sha256(np.ascontiguousarray(data.frequency).tobytes()
                            + np.ascontiguousarray(data.impedance).tobytes()).hexdigest()
    provenance = make_provenance(
        "ssbkit.eis.fit_circuit",
        settings={"circuit": model.to_string(), "weights": weights, "fixed": dict(held),
                  "start": how, **settings},
        inputs={"spectrum": f"sha256:{digest}", "initial": dict(item.start)},
    )
    with np.errstate(all="ignore"):
        z_fit = model.impedance(data.frequency, full)
    return FitResult(
        success=success,
        message=message,
        provenance=provenance,
        circuit=model.to_string(),
        parameters={n: Estimate(full[i], err[i], units[n]) for i, n in enumerate(names)},
        initial={n: float(item.start[n]) for n in names},
        fixed=tuple(n for n in names if n in held),
        weights=weights,
        start=how,
        chi_square=cost,
        reduced_chi_square=cost / dof if dof > 0 else math.nan,
        correlation=correlation,
        frequency=data.frequency,
        impedance=data.impedance,
        impedance_fit=z_fit,
        iterations=int(best.iterations[0]),
        metadata=dict(item.spectrum.metadata),
        source=item.spectrum.source,
    )
