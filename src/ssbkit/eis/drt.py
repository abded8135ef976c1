"""Distribution of relaxation times (DRT) by Tikhonov regularisation, as DRTtools defines it.

``drt(spectrum)`` finds the coefficients x ≥ 0 of the radial-basis expansion of γ
(``ssbkit.eis.drt_basis``), together with R∞ ≥ 0 and, optionally, a series inductance
L₀ ≥ 0, that minimise

    ‖A_re x − Z'‖² + ‖A_im x − Z''‖² + λ xᵀMx,

on both parts of Z (``data="combined"``) or on one (``"re"``, ``"im"``). ``inductance``
says what to do with inductive points: ``"fit"`` adds jωL₀ to the model, ``"none"``
leaves it out, ``"discard"`` drops the points with Z'' > 0 first.

**λ** is a given number or chosen per spectrum by

* ``"gcv"`` generalised cross-validation (Wahba), DRTtools' default;
* ``"mgcv"`` modified GCV (Kim & Gu), ρ = 1.3 below 50 equations, else 2: **the default
  here**. GCV under-smooths clean spectra: on 30 random two-ZARC spectra per noise level
  (0.05 %, 0.2 %, 1 % of |Z|) it gave 16, 8 and 7 spurious peaks holding > 5 % of R_pol,
  mGCV 5, 1 and 0, neither missed a process; the L-curve missed 6 at 1 % noise;
* ``"rgcv"`` robust GCV (Lukas et al.), ξ = 0.2 below 100 equations, else 0.3;
* ``"lcurve"`` the corner (largest curvature) of log residual vs log seminorm;
* ``"reim"`` re-im cross-validation (Saccoccio et al. 2014): γ fitted on Z' predicts Z''
  and vice versa;
* ``"kfold"`` 5-fold cross-validation over the frequency points (seeded folds).

The first four score the unconstrained ridge, as DRTtools does. Instead of an optimiser
started at one λ (pyDRTtools' SLSQP stops at its start value when the score is below its
absolute tolerance, e.g. for |Z| ≈ 0.1 Ω), each score is evaluated on a grid of 15 points
per decade over λ ∈ [1e−7, 1] and the best point is refined by a bounded Brent search. The
data are divided by their rms first and every score is a ratio, so the chosen λ does not
depend on the units of Z.

**Speed.** For a given grid the matrices are cached (``drt_basis``), and one generalised
eigen-decomposition of (AᵀA, M) turns every GCV-type score into O(M) work per λ and the
ridge solution into two matrix products, for a whole batch of spectra at once
(``drt_batch``). Only the non-negativity step is per spectrum: an active-set NNLS
(``scipy.optimize.nnls``) on the M × M square-root form of the normal equations.

**Peaks.** γ is evaluated on a grid ten times finer than the collocation grid, half a
decade wider at each end (as DRTtools plots it). Peaks are maxima with a prominence of at
least ``peak_prominence`` × max γ; the resistance of each is ∫γ d ln τ between the valleys
that separate it from its neighbours, and R_pol = Σ x_m ∫φ_m d ln τ, the low-frequency
limit of the model less R∞. ``deconvolve_peaks`` fits Gaussians in ln τ instead.

>>> import numpy as np
>>> from ssbkit.eis import simulate_spectrum
>>> f = np.logspace(6, -2, 81)
>>> s = simulate_spectrum("R0-p(R1,CPE1)", {"R0": 10, "R1": 50, "CPE1_0": 0.1**0.8 / 50,
...                       "CPE1_1": 0.8}, f)
>>> r = drt(s, lam=1e-4)
>>> round(r.R_inf, 2), round(r.R_pol, 1), len(r.peaks), round(float(np.log10(r.peaks[0].tau)), 1)
(10.0, 50.0, 1, -1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, make_provenance, to_json_safe
from ssbkit.core.validate import finite, finite_array, one_of, positive, positive_int
from ssbkit.eis.data import Spectrum
from ssbkit.eis.drt_basis import DRTBasis, drt_basis, normalise_rbf, shape_factor

__all__ = ["LAMBDA_METHODS", "DRTPeak", "DRTResult", "deconvolve_peaks", "drt", "drt_batch"]

citations.register(
    "maradesa2023",
    "A. Maradesa, B. Py, T. H. Wan, M. B. Effat, F. Ciucci, Selecting the Regularization "
    "Parameter in the Distribution of Relaxation Times, J. Electrochem. Soc. 170 (2023) 030502.",
    "10.1149/1945-7111/acbca4",
)

LAMBDA_METHODS = ("gcv", "mgcv", "rgcv", "lcurve", "reim", "kfold")
DATA_MODES = ("combined", "re", "im")
INDUCTANCE_MODES = ("fit", "none", "discard")
LAMBDA_BOUNDS = (1e-7, 1.0)
_PER_DECADE = 15
_MIN_POINTS = 5
_POOR_FIT = 0.05  # rms relative residual above which the result says the model does not fit


@dataclass(frozen=True)
class DRTPeak:
    """One peak of γ: position ``tau`` [s], height ``gamma`` [Ohm], area ``resistance`` [Ohm].

    ``tau_range`` [s] are the valleys (or the ends of the grid) that bound it; ``width`` is
    the standard deviation in ln τ of a fitted Gaussian (``deconvolve_peaks`` only).
    """

    tau: float
    gamma: float
    resistance: float
    tau_range: tuple[float, float]
    width: float | None = None

    @property
    def frequency(self) -> float:
        """The characteristic frequency 1/(2πτ) [Hz]."""
        return 1.0 / (2.0 * math.pi * self.tau)

    def to_dict(self) -> dict[str, Any]:
        out = {"tau": self.tau, "gamma": self.gamma, "resistance": self.resistance,
               "frequency": self.frequency, "tau_range": list(self.tau_range)}
        if self.width is not None:
            out["width"] = self.width
        return out


@dataclass(frozen=True, kw_only=True)
class DRTResult(Result):
    """A DRT: γ on the collocation grid and on a fine grid, R∞, L₀, R_pol, λ and the peaks.

    ``tau`` [s], ``gamma`` [Ohm] (γ per unit ln τ), ``coefficients`` x of the basis
    functions [Ohm], ``R_inf`` [Ohm], ``L0`` [H], ``R_pol`` [Ohm], ``lam`` (λ,
    dimensionless; ``"lambda"`` in JSON), ``impedance_fit`` the model at ``frequency``.
    """

    frequency: np.ndarray
    impedance: np.ndarray
    impedance_fit: np.ndarray
    tau: np.ndarray
    gamma: np.ndarray
    coefficients: np.ndarray
    tau_fine: np.ndarray
    gamma_fine: np.ndarray
    R_inf: float
    L0: float
    R_pol: float
    lam: float
    lambda_method: str
    peaks: tuple[DRTPeak, ...]
    rbf: str
    epsilon: float
    order: int
    data: str
    inductance: str
    residual_rms: float  # rms of (Z − Ẑ)/|Z| over both parts, a fraction
    source: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    basis: DRTBasis | None = field(default=None, repr=False, compare=False)

    def gamma_at(self, tau: Any) -> np.ndarray:
        """γ [Ohm] at any τ [s]."""
        t = finite_array("tau", tau)
        if self.basis is None:
            return np.interp(np.log(t), np.log(self.tau_fine), self.gamma_fine, left=0.0, right=0.0)
        return self.basis.gamma(self.coefficients, t)

    def resistance_between(self, tau_min: float, tau_max: float) -> float:
        """∫ γ d ln τ [Ohm] over [tau_min, tau_max] [s]."""
        lo, hi = sorted((positive("tau_min", tau_min), positive("tau_max", tau_max)))
        grid = np.geomspace(lo, hi, 400)
        return float(np.trapezoid(self.gamma_at(grid), np.log(grid)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "labels": to_json_safe(self.labels),
            "tau": to_json_safe(self.tau),
            "gamma": to_json_safe(self.gamma),
            "lambda": self.lam,
            "lambda_method": self.lambda_method,
            "R_inf": self.R_inf,
            "L0": self.L0,
            "R_pol": self.R_pol,
            "peaks": [p.to_dict() for p in self.peaks],
            "units": {"tau": "s", "gamma": "Ohm", "R_inf": "Ohm", "L0": "H", "R_pol": "Ohm",
                      "resistance": "Ohm", "frequency": "Hz", "lambda": "1"},
            "coefficients": to_json_safe(self.coefficients),
            "tau_fine": to_json_safe(self.tau_fine),
            "gamma_fine": to_json_safe(self.gamma_fine),
            "frequency": to_json_safe(self.frequency),
            "impedance_fit": {"real": to_json_safe(self.impedance_fit.real),
                              "imag": to_json_safe(self.impedance_fit.imag)},
            "residual_rms": self.residual_rms,
            "settings": {"rbf": self.rbf, "epsilon": self.epsilon, "order": self.order,
                         "data": self.data, "inductance": self.inductance},
            "success": self.success,
            "message": self.message,
            "provenance": None if self.provenance is None else self.provenance.to_dict(),
        }

    def to_frame(self) -> Any:
        """γ on the fine grid: one row per τ."""
        import pandas as pd

        return pd.DataFrame({"tau [s]": self.tau_fine, "gamma [Ohm]": self.gamma_fine})

    def peaks_frame(self) -> Any:
        """One row per peak."""
        import pandas as pd

        return pd.DataFrame([{"tau [s]": p.tau, "frequency [Hz]": p.frequency,
                              "gamma [Ohm]": p.gamma, "resistance [Ohm]": p.resistance}
                             for p in self.peaks],
                            columns=["tau [s]", "frequency [Hz]", "gamma [Ohm]", "resistance [Ohm]"])

    def _report_lines(self) -> list[str]:
        lines = [
            f"λ = {self.lam:.3g} ({self.lambda_method}), {self.rbf} ε = {self.epsilon:.4g}, "
            f"order {self.order}, {self.data} data, inductance {self.inductance}",
            f"R∞ = {self.R_inf:.5g} Ohm, L0 = {self.L0:.3g} H, R_pol = {self.R_pol:.5g} Ohm, "
            f"residual rms {100 * self.residual_rms:.3g} % of |Z|",
        ]
        lines += [f"peak τ = {p.tau:.3g} s (f = {p.frequency:.3g} Hz): γ = {p.gamma:.4g} Ohm, "
                  f"R = {p.resistance:.4g} Ohm" for p in self.peaks]
        return lines


# ---------------------------------------------------------------------------------------
# Problem set-up


@dataclass(frozen=True)
class _Settings:
    lam: float | str
    rbf: str
    fwhm_coeff: float
    shape: float | None
    order: int
    data: str
    inductance: str
    tau: np.ndarray | None
    prominence: float
    r_inf: bool


@dataclass(frozen=True, eq=False)
class _Problem:
    """The scaled least-squares problem of one grid: rows, columns, and their factorisations."""

    basis: DRTBasis
    design: np.ndarray  # (n, P): rows Z' then Z'' as used; columns [R∞][L₀] x, scaled
    penalty: np.ndarray  # (P, P)
    scale: np.ndarray  # column scale: true coefficient = scaled / scale
    r_col: int | None
    l_col: int | None
    offset: int  # index of the first basis coefficient
    rows: str
    # the simultaneous diagonalisation G + λM = C U diag(s + (λ/c)(1 − s)) Uᵀ Cᵀ
    c: float
    s: np.ndarray
    b_map: np.ndarray  # B = A C⁻ᵀ U  (n, P)
    t_map: np.ndarray  # T = C⁻ᵀ U   (P, P), x = T diag(d) Bᵀz
    v_map: np.ndarray  # V = Uᵀ Cᵀ   (P, P), H = Vᵀ diag(den) V

    @property
    def n(self) -> int:
        return self.design.shape[0]

    def stack(self, z: np.ndarray) -> np.ndarray:
        """The right-hand sides (B, n) for complex impedances (B, N)."""
        if self.rows == "combined":
            return np.concatenate([z.real, z.imag], axis=-1)
        return z.real if self.rows == "re" else z.imag


_PROBLEMS: dict[tuple[int, str, str, bool], _Problem] = {}


def _problem(basis: DRTBasis, rows: str, inductance: str, r_inf: bool = True) -> _Problem:
    key = (id(basis), rows, inductance, r_inf)
    hit = _PROBLEMS.get(key)
    if hit is not None and hit.basis is basis:
        return hit
    n_f, _ = basis.a_re.shape
    omega = 2.0 * np.pi * basis.frequency
    cols_re, cols_im, names = [], [], []
    if rows != "im" and r_inf:
        cols_re.append(np.ones(n_f))
        cols_im.append(np.zeros(n_f))
        names.append("R")
    if inductance == "fit" and rows != "re":
        cols_re.append(np.zeros(n_f))
        cols_im.append(omega / omega.max())
        names.append("L")
    extra = len(names)
    a_re = np.hstack([np.stack(cols_re, 1) if extra else np.zeros((n_f, 0)), basis.a_re])
    a_im = np.hstack([np.stack(cols_im, 1) if extra else np.zeros((n_f, 0)), basis.a_im])
    design = {"combined": np.vstack([a_re, a_im]), "re": a_re, "im": a_im}[rows]
    p = design.shape[1]
    scale = np.ones(p)
    if "L" in names:
        scale[names.index("L")] = omega.max()
    penalty = np.zeros((p, p))
    penalty[extra:, extra:] = basis.penalty
    gram = design.T @ design
    c = float(np.trace(gram) / np.trace(penalty))
    chol = _cholesky(gram + c * penalty)
    inv = np.linalg.inv(chol)
    sym = inv @ gram @ inv.T
    s, u = np.linalg.eigh(0.5 * (sym + sym.T))
    problem = _Problem(
        basis=basis, design=design, penalty=penalty, scale=scale,
        r_col=names.index("R") if "R" in names else None,
        l_col=names.index("L") if "L" in names else None,
        offset=extra, rows=rows, c=c, s=np.clip(s, 0.0, 1.0),
        b_map=design @ inv.T @ u, t_map=inv.T @ u, v_map=u.T @ chol.T,
    )
    if len(_PROBLEMS) > 64:
        _PROBLEMS.clear()
    _PROBLEMS[key] = problem
    return problem


# ---------------------------------------------------------------------------------------
# λ selection


def _grid() -> np.ndarray:
    lo, hi = (math.log10(v) for v in LAMBDA_BOUNDS)
    return np.logspace(lo, hi, int(round((hi - lo) * _PER_DECADE)) + 1)


def _ridge_terms(problem: _Problem, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q = Bᵀz/√s (B, P) and the part of ‖z‖² outside the column space (B,)."""
    b = rhs @ problem.b_map
    seen = problem.s > 1e-14
    q = np.where(seen, b / np.sqrt(np.where(seen, problem.s, 1.0)), 0.0)
    outside = np.maximum(np.einsum("ij,ij->i", rhs, rhs) - np.einsum("ij,ij->i", q, q), 0.0)
    return q, outside


def _scores(problem: _Problem, q: np.ndarray, outside: np.ndarray, lams: np.ndarray,
            method: str) -> np.ndarray:
    """GCV-type scores (B, L) of the unconstrained ridge; ``lams`` is (L,) or (B, L)."""
    s = problem.s
    lams = np.atleast_2d(lams)
    t = (lams / problem.c)[..., None]  # (B|1, L, 1)
    den = s + t * (1.0 - s)  # (B|1, L, P)
    keep = t * (1.0 - s) / den  # 1 − s d: the fraction of each component left in the residual
    q2 = q * q  # (B, P)
    shape = (q.shape[0], *den.shape[1:])
    residual = outside[:, None] + np.einsum("bp,blp->bl", q2, np.broadcast_to(keep**2, shape))
    n = problem.n
    trace = (s / den).sum(axis=-1)  # tr K (B|1, L)
    if method == "lcurve":
        seminorm = np.einsum("bp,blp->bl", q2, np.broadcast_to((1.0 - s) * s / den**2, shape)) / problem.c
        return _curvature(np.log(np.maximum(residual, 1e-300)), np.log(np.maximum(seminorm, 1e-300)),
                          np.log(lams[0]))
    if method == "mgcv":
        rho = 1.3 if n < 50 else 2.0
        return n * residual / np.maximum(n - rho * trace, 1e-12) ** 2
    gcv = n * residual / np.maximum(n - trace, 1e-12) ** 2
    if method == "rgcv":
        xi = 0.2 if n < 100 else 0.3
        return (xi + (1.0 - xi) * (s**2 / den**2).sum(axis=-1) / n) * gcv
    return gcv


def _curvature(rho: np.ndarray, eta: np.ndarray, t: np.ndarray) -> np.ndarray:
    """−κ of the curve (ρ(t), η(t)) so that the corner is the minimum (B, L)."""
    d1r, d1e = np.gradient(rho, t, axis=-1), np.gradient(eta, t, axis=-1)
    d2r, d2e = np.gradient(d1r, t, axis=-1), np.gradient(d1e, t, axis=-1)
    kappa = (d1r * d2e - d2r * d1e) / np.maximum((d1r**2 + d1e**2) ** 1.5, 1e-300)
    return -kappa


def _choose_gcv(problem: _Problem, rhs: np.ndarray, method: str) -> np.ndarray:
    """λ per spectrum: the best of a log grid, then a finer grid between its neighbours."""
    lams = _grid()
    width = 4 * lams.size if method == "lcurve" else lams.size
    chunk = max(1, 4_000_000 // (width * problem.s.size))  # bounds the (B, L, P) arrays to ~32 MB
    if rhs.shape[0] > chunk:
        return np.concatenate([_choose_gcv(problem, rhs[i:i + chunk], method)
                               for i in range(0, rhs.shape[0], chunk)])
    q, outside = _ridge_terms(problem, rhs)
    if method == "lcurve":
        fine = np.logspace(math.log10(lams[0]), math.log10(lams[-1]), width)
        scores = _scores(problem, q, outside, fine, method)
        return fine[np.argmin(scores[:, 2:-2], axis=1) + 2]
    best = np.argmin(_scores(problem, q, outside, lams, method), axis=1)
    lo = np.log(lams[np.maximum(best - 1, 0)])
    hi = np.log(lams[np.minimum(best + 1, lams.size - 1)])
    steps = np.linspace(0.0, 1.0, 41)
    log_fine = lo[:, None] + (hi - lo)[:, None] * steps[None, :]  # (B, 41)
    scores = _scores(problem, q, outside, np.exp(log_fine), method)
    k = np.clip(np.argmin(scores, axis=1), 1, steps.size - 2)
    rows = np.arange(len(k))
    y0, y1, y2 = scores[rows, k - 1], scores[rows, k], scores[rows, k + 1]
    curve = y0 - 2.0 * y1 + y2
    h = log_fine[rows, 1] - log_fine[rows, 0]
    shift = np.where(curve > 0, 0.5 * (y0 - y2) / np.where(curve > 0, curve, 1.0), 0.0)
    chosen = log_fine[rows, k] + np.clip(shift, -1.0, 1.0) * h
    best_on_grid = log_fine[rows, np.argmin(scores, axis=1)]
    # the parabola only refines an interior minimum; at an end of the range keep the end
    at_end = (np.argmin(scores, axis=1) == 0) | (np.argmin(scores, axis=1) == steps.size - 1)
    return np.exp(np.where(at_end, best_on_grid, chosen))


def _brent(fn: Any, lo: float, hi: float) -> float:
    from scipy.optimize import minimize_scalar

    if hi <= lo:
        return lo
    res = minimize_scalar(fn, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return float(res.x)


def _choose_by_solves(problem_re: _Problem, problem_im: _Problem, combined: _Problem,
                      rhs_complex: np.ndarray, method: str) -> float:
    """re-im or k-fold cross-validation for one spectrum (constrained solves at each λ)."""
    lams = np.logspace(math.log10(LAMBDA_BOUNDS[0]), math.log10(LAMBDA_BOUNDS[1]), 22)
    score = (_reim_score if method == "reim" else _kfold_score)
    args = (problem_re, problem_im, combined, rhs_complex)
    values = np.array([score(lam, *args) for lam in lams])
    j = int(np.nanargmin(values))
    lo, hi = math.log(lams[max(j - 1, 0)]), math.log(lams[min(j + 1, lams.size - 1)])
    return math.exp(_brent(lambda x: score(math.exp(x), *args), lo, hi))


def _reim_score(lam: float, p_re: _Problem, p_im: _Problem, combined: _Problem,
                z: np.ndarray) -> float:
    x_re = _true(p_re, _solve_one(p_re, p_re.stack(z), lam))
    x_im = _true(p_im, _solve_one(p_im, p_im.stack(z), lam))
    basis = p_re.basis
    g_re, g_im = x_re[p_re.offset:], x_im[p_im.offset:]
    r_inf = x_re[p_re.r_col] if p_re.r_col is not None else 0.0
    l0 = x_im[p_im.l_col] if p_im.l_col is not None else 0.0
    omega = 2.0 * np.pi * basis.frequency
    pred_re = r_inf + basis.a_re @ g_im
    pred_im = omega * l0 + basis.a_im @ g_re
    return float(np.sum((z.real - pred_re) ** 2) + np.sum((z.imag - pred_im) ** 2))


def _kfold_score(lam: float, _re: Any, _im: Any, combined: _Problem, z: np.ndarray) -> float:
    n_f = z.size
    folds = np.array_split(np.random.default_rng(34054).permutation(n_f), min(5, n_f))
    total = 0.0
    a = combined.design
    rhs = combined.stack(z)
    for test in folds:
        train = np.setdiff1d(np.arange(n_f), test)
        rows = np.concatenate([train, train + n_f]) if combined.rows == "combined" else train
        trows = np.concatenate([test, test + n_f]) if combined.rows == "combined" else test
        x = _nnls_dense(a[rows], rhs[rows], combined.penalty, lam)
        total += float(np.sum((a[trows] @ x - rhs[trows]) ** 2)) / test.size
    return total / len(folds)


# ---------------------------------------------------------------------------------------
# Solves


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive semi-definite matrix, with the smallest
    diagonal shift (from 1e-13 of the mean diagonal, ×100 per try) that rounding allows:
    wide basis functions or dense τ grids make AᵀA + λM singular to working precision."""
    scale = float(np.trace(matrix)) / matrix.shape[0]
    for exponent in (-13, -11, -9, -7):
        try:
            return np.linalg.cholesky(matrix + (scale * 10.0**exponent) * np.eye(matrix.shape[0]))
        except np.linalg.LinAlgError:
            continue
    raise InputError("the DRT problem is singular to working precision: the basis functions are "
                     "too wide for the τ grid (raise --fwhm-coeff or use fewer τ points)", source="tau")


def _nnls_dense(a: np.ndarray, rhs: np.ndarray, penalty: np.ndarray, lam: float) -> np.ndarray:
    """min ‖a x − rhs‖² + λ xᵀ P x, x ≥ 0 (scaled coordinates)."""
    from scipy.optimize import nnls

    h = a.T @ a + lam * penalty
    chol = _cholesky(0.5 * (h + h.T))
    d = np.linalg.solve(chol, a.T @ rhs)
    return nnls(chol.T, d, maxiter=50 * h.shape[0])[0]


def _solve_many(problem: _Problem, rhs: np.ndarray, lams: np.ndarray, nonneg: bool) -> np.ndarray:
    """Scaled coefficients (B, P) for right-hand sides (B, n), each at its own λ.

    The ridge solution of every spectrum comes from the shared decomposition. Where it has
    negative entries, the non-negative solution is found by a primal–dual active-set
    iteration (Hintermüller, Ito & Kunisch 2002) started from the active set of the previous
    spectrum of the batch, which is usually right or nearly so in a series; when that does
    not settle within a few steps, the Lawson–Hanson NNLS of SciPy decides.
    """
    b = rhs @ problem.b_map
    den = problem.s[None, :] + (lams[:, None] / problem.c) * (1.0 - problem.s[None, :])
    x = (b / den) @ problem.t_map.T
    if not nonneg:
        return x
    tol = 1e-12 * np.maximum(np.abs(x).max(axis=1), 1e-300)
    todo = np.flatnonzero((x < -tol[:, None]).any(axis=1))
    if todo.size == 0:
        return x
    gram = problem.design.T @ problem.design
    grad_rhs = rhs @ problem.design  # Aᵀz (B, P)
    hessian, last_lam, active = None, None, None
    for i in todo:
        if hessian is None or lams[i] != last_lam:
            hessian, last_lam = gram + lams[i] * problem.penalty, lams[i]
        start = x[i] < 0 if active is None else active
        solution = _active_set(hessian, grad_rhs[i], start)
        if solution is None:
            from scipy.optimize import nnls

            root = np.sqrt(den[i])
            solution = nnls(root[:, None] * problem.v_map, b[i] / root, maxiter=50 * x.shape[1])[0]
        x[i] = solution
        active = solution <= 0
    return x


def _active_set(hessian: np.ndarray, c: np.ndarray, active: np.ndarray, steps: int = 6) -> np.ndarray | None:
    """min ½xᵀHx − cᵀx, x ≥ 0 by primal–dual active sets; None if not settled in ``steps``."""
    from scipy.linalg import cho_factor, cho_solve

    x = np.zeros_like(c)
    for _ in range(steps):
        free = np.flatnonzero(~active)
        x[:] = 0.0
        if free.size:
            try:
                factor = cho_factor(hessian[np.ix_(free, free)], check_finite=False)
            except np.linalg.LinAlgError:
                return None
            x[free] = cho_solve(factor, c[free], check_finite=False)
        gradient = hessian @ x - c
        new = np.where(active, gradient > 0, x < 0)
        if np.array_equal(new, active):
            return np.maximum(x, 0.0)
        active = new
    return None


def _solve_one(problem: _Problem, rhs: np.ndarray, lam: float) -> np.ndarray:
    return _solve_many(problem, rhs[None, :], np.array([lam]), True)[0]


def _true(problem: _Problem, x_scaled: np.ndarray) -> np.ndarray:
    return x_scaled / problem.scale


# ---------------------------------------------------------------------------------------
# Public API


def _settings(lam: Any, rbf: str, fwhm_coeff: float, shape: float | None, order: int, data: str,
              inductance: str, tau: Any, prominence: float, r_inf: bool, nonneg: bool) -> _Settings:
    if isinstance(lam, str):
        try:
            value: float | str = float(lam)
        except ValueError:
            key = lam.strip().lower().replace("-", "").replace("_", "")
            value = one_of("lam", {"lc": "lcurve", "kf": "kfold"}.get(key, key), LAMBDA_METHODS)
    else:
        value = finite("lam", lam)
    if isinstance(value, float) and value <= 0:
        raise InputError(f"λ must be > 0, not {value:g}", source="lam")
    grid = None
    if tau is not None:
        grid = np.sort(finite_array("tau", tau))
        if grid.size < 3 or (grid <= 0).any() or np.unique(grid).size != grid.size:
            raise InputError("the τ grid needs at least three distinct values > 0 s", source="tau")
    if isinstance(order, bool) or order not in (1, 2):
        raise InputError(f"order must be 1 or 2, not {order!r}", source="order")
    for name, flag in (("nonneg", nonneg), ("fit_r_inf", r_inf)):
        if not isinstance(flag, bool | np.bool_):
            raise InputError(f"{name} must be True or False, not {flag!r}", source=name)
    prom = finite("peak_prominence", prominence)
    if not 0 <= prom < 1:
        raise InputError(f"peak_prominence must be in [0, 1), not {prom:g}", source="peak_prominence")
    return _Settings(
        lam=value, rbf=normalise_rbf(rbf), fwhm_coeff=positive("fwhm_coeff", fwhm_coeff),
        shape=None if shape is None else positive("shape_factor", shape), order=int(order),
        data=one_of("data", data, DATA_MODES), inductance=one_of("inductance", inductance, INDUCTANCE_MODES),
        tau=grid, prominence=prom, r_inf=bool(r_inf),
    )


def drt(
    spectrum: Spectrum,
    *,
    lam: float | str = "mgcv",
    rbf: str = "gaussian",
    fwhm_coeff: float = 0.5,
    shape_factor: float | None = None,
    order: int = 1,
    data: str = "combined",
    inductance: str = "fit",
    tau: Any = None,
    nonneg: bool = True,
    peak_prominence: float = 0.02,
    fit_r_inf: bool = True,
) -> DRTResult:
    """The DRT of one spectrum (see the module docstring for the model and every option).

    ``lam``: a number, or one of ``LAMBDA_METHODS``. ``rbf``: one of ``RBF_TYPES``, shaped by
    ``fwhm_coeff`` or a given ``shape_factor`` ε. ``order``: the derivative penalised (1 or
    2). ``tau``: the collocation times [s] (default 1/f of the points used). ``nonneg=False``
    drops the constraint x ≥ 0 (the plain ridge solution). ``fit_r_inf=False`` leaves R∞
    out of the model (R∞ = 0), e.g. for a spectrum whose series resistance was subtracted.
    """
    return drt_batch([spectrum], lam=lam, rbf=rbf, fwhm_coeff=fwhm_coeff, shape_factor=shape_factor,
                     order=order, data=data, inductance=inductance, tau=tau, nonneg=nonneg,
                     peak_prominence=peak_prominence, fit_r_inf=fit_r_inf)[0]


def drt_batch(
    spectra: Sequence[Spectrum],
    *,
    lam: float | str = "mgcv",
    rbf: str = "gaussian",
    fwhm_coeff: float = 0.5,
    shape_factor: float | None = None,
    order: int = 1,
    data: str = "combined",
    inductance: str = "fit",
    tau: Any = None,
    nonneg: bool = True,
    peak_prominence: float = 0.02,
    fit_r_inf: bool = True,
) -> list[DRTResult]:
    """The DRTs of many spectra, in order; spectra on the same grid are solved together.

    This is the fast path for series (impedance measured during cycling, temperature
    series): the matrices and their decomposition are built once per grid.
    """
    if isinstance(spectra, Spectrum) or not isinstance(spectra, Sequence):
        raise InputError(f"spectra must be a list of Spectrum, not {type(spectra).__name__}"
                         + (" (use drt() for one spectrum)" if isinstance(spectra, Spectrum) else ""),
                         source="spectra")
    items = list(spectra)
    if not items:
        raise InputError("no spectra given", source="spectra")
    for i, item in enumerate(items):
        if not isinstance(item, Spectrum):
            raise InputError(f"item {i} is a {type(item).__name__}, not a Spectrum", source="spectra")
    opts = _settings(lam, rbf, fwhm_coeff, shape_factor, order, data, inductance, tau, peak_prominence,
                     fit_r_inf, nonneg)
    prepared = [_prepare(s, opts) for s in items]
    groups: dict[bytes, list[int]] = {}
    for i, (f, _z, _src) in enumerate(prepared):
        groups.setdefault(f.tobytes(), []).append(i)
    results: list[DRTResult | None] = [None] * len(items)
    for members in groups.values():
        f = prepared[members[0]][0]
        z = np.stack([prepared[i][1] for i in members])
        for i, res in zip(members, _solve_group(f, z, opts, nonneg, [prepared[i][2] for i in members],
                                                [items[i] for i in members]), strict=True):
            results[i] = res
    return [r for r in results if r is not None]


def _prepare(spectrum: Spectrum, opts: _Settings) -> tuple[np.ndarray, np.ndarray, str]:
    s = spectrum.masked()
    where = spectrum.source or "spectrum"
    f, z = s.frequency, s.impedance
    if opts.inductance == "discard":
        keep = z.imag <= 0
        f, z = f[keep], z[keep]
    if f.size < _MIN_POINTS:
        raise InputError(f"a DRT needs at least {_MIN_POINTS} points, {f.size} left", source=where)
    if not np.abs(z).max() > 0:
        raise InputError("the impedance is zero everywhere", source=where)
    order = np.argsort(f)[::-1]  # high to low frequency: τ = 1/f ascending
    return f[order], z[order], where


def _solve_group(f: np.ndarray, z: np.ndarray, opts: _Settings, nonneg: bool, sources: list[str],
                 spectra: list[Spectrum]) -> list[DRTResult]:
    tau = np.sort(1.0 / f) if opts.tau is None else opts.tau
    eps = opts.shape if opts.shape is not None else shape_factor(f, rbf=opts.rbf, fwhm_coeff=opts.fwhm_coeff)
    if opts.rbf == "pwl":
        eps = 0.0
    basis = drt_basis(f, tau, rbf=opts.rbf, epsilon=eps, order=opts.order)
    problem = _problem(basis, opts.data, opts.inductance, opts.r_inf)
    top = np.abs(z).max(axis=1)  # per spectrum, so λ is unit-free; scaled first against overflow
    norm = top * np.sqrt(np.mean(np.abs(z / top[:, None]) ** 2, axis=1))
    zn = z / norm[:, None]
    rhs = problem.stack(zn)
    if isinstance(opts.lam, float):
        lams = np.full(len(z), opts.lam)
        method = "given"
    elif opts.lam in ("reim", "kfold"):
        p_re = _problem(basis, "re", "none", opts.r_inf)
        p_im = _problem(basis, "im", opts.inductance if opts.inductance == "fit" else "none")
        lams = np.array([_choose_by_solves(p_re, p_im, problem, zn[i], opts.lam) for i in range(len(z))])
        method = opts.lam
    else:
        lams = _choose_gcv(problem, rhs, opts.lam)
        method = opts.lam
    x_all = _solve_many(problem, rhs, lams, nonneg) / problem.scale * norm[:, None]
    gammas = x_all[:, problem.offset:]
    grid = _PeakGrid.of(basis)
    g_wide = gammas @ grid.wide_eval.T  # (B, K): γ on the fine grid extended by 3 decades
    cumulative = np.zeros_like(g_wide)  # ∫γ d ln τ from the left end of the wide grid
    np.cumsum(0.5 * (g_wide[:, 1:] + g_wide[:, :-1]) * grid.step, axis=1, out=cumulative[:, 1:])
    g_grid = gammas @ grid.grid_eval.T
    omega = 2.0 * np.pi * f
    provenance = make_provenance(
        "ssbkit.eis.drt",
        settings={"rbf": opts.rbf, "epsilon": eps, "order": opts.order, "data": opts.data,
                  "inductance": opts.inductance, "nonneg": nonneg, "fit_r_inf": opts.r_inf,
                  "lambda": opts.lam if isinstance(opts.lam, str) else float(opts.lam),
                  "tau_grid": None if opts.tau is None else [float(tau[0]), float(tau[-1]), tau.size]},
        citations=("wan2015", "maradesa2023"),
    )
    lo, hi = LAMBDA_BOUNDS
    out = []
    for k, x in enumerate(x_all):
        gamma_x = gammas[k]
        r_inf = float(x[problem.r_col]) if problem.r_col is not None else float("nan")
        l0 = float(x[problem.l_col]) if problem.l_col is not None else 0.0
        model = basis.a_re @ gamma_x + 1j * (basis.a_im @ gamma_x + omega * l0)
        if problem.r_col is None:  # imaginary part only: R∞ from the real part left over
            r_inf = float(np.mean(z[k].real - model.real)) if opts.r_inf else 0.0
        model = model + r_inf
        rel = (z[k] - model) / np.abs(z[k])
        notes = []
        if method != "given" and not lo * 1.01 < lams[k] < hi / 1.01:
            notes.append(f"{method} chose λ = {lams[k]:.3g}, at the end of the search range "
                         f"[{lo:g}, {hi:g}]; give λ explicitly if the DRT looks over- or under-smoothed")
        misfit = float(np.sqrt(np.mean(np.concatenate([rel.real, rel.imag]) ** 2)))
        if misfit > _POOR_FIT:
            notes.append(f"the DRT model leaves {100 * misfit:.3g} % of |Z| unexplained: a capacitive tail "
                         "(blocking electrodes) or diffusion below the lowest frequency has no finite DC "
                         "resistance; mask those points or fit a circuit instead")
        message = "; ".join(notes)
        out.append(DRTResult(
            frequency=f, impedance=z[k], impedance_fit=model, tau=tau, gamma=g_grid[k],
            coefficients=gamma_x, tau_fine=grid.fine, gamma_fine=g_wide[k, grid.inner],
            R_inf=r_inf, L0=l0, R_pol=float(basis.weights @ gamma_x), lam=float(lams[k]),
            lambda_method=method,
            peaks=_find_peaks(grid, g_wide[k], cumulative[k], opts.prominence, 1e-9 * norm[k]),
            rbf=opts.rbf, epsilon=float(eps), order=opts.order, data=opts.data,
            inductance=opts.inductance, message=message,
            residual_rms=misfit,
            source=sources[k], labels=dict(spectra[k].metadata), basis=basis, provenance=provenance,
        ))
    return out


@dataclass(frozen=True, eq=False)
class _PeakGrid:
    """The fine grid (10× denser, half a decade wider) inside a grid 3 decades wider still."""

    fine: np.ndarray
    wide: np.ndarray
    inner: slice
    wide_eval: np.ndarray
    grid_eval: np.ndarray
    step: float  # spacing of the wide grid in ln τ

    @classmethod
    def of(cls, basis: DRTBasis) -> _PeakGrid:
        hit = _PEAK_GRIDS.get(id(basis))
        if hit is not None and hit[0] is basis:
            return hit[1]
        lo, hi = math.log10(basis.tau[0]) - 0.5, math.log10(basis.tau[-1]) + 0.5
        n = 10 * basis.tau.size
        step = (hi - lo) / (n - 1)
        pad = int(math.ceil(3.0 / step))
        wide = 10.0 ** (lo + step * np.arange(-pad, n + pad))
        inner = slice(pad, pad + n)
        grid = cls(fine=wide[inner], wide=wide, inner=inner, wide_eval=basis.evaluation(wide),
                   grid_eval=basis.evaluation(basis.tau), step=step * math.log(10.0))
        for array in (grid.fine, grid.wide, grid.wide_eval, grid.grid_eval):
            array.flags.writeable = False
        if len(_PEAK_GRIDS) > 32:
            _PEAK_GRIDS.clear()
        _PEAK_GRIDS[id(basis)] = (basis, grid)
        return grid


_PEAK_GRIDS: dict[int, tuple[DRTBasis, _PeakGrid]] = {}


def _find_peaks(grid: _PeakGrid, g_wide: np.ndarray, cumulative: np.ndarray,
                prominence: float, floor: float) -> tuple[DRTPeak, ...]:
    """Peaks of γ on the fine grid, each with its area between the neighbouring valleys."""
    from scipy.signal import find_peaks

    g = g_wide[grid.inner]
    top = float(g.max())
    if top <= floor:  # no distribution at all (γ at rounding level): no peaks
        return ()
    padded = np.concatenate([[0.0], g, [0.0]])  # a peak at the edge of the grid still counts
    idx = find_peaks(padded, prominence=max(prominence * top, 1e-300))[0] - 1
    if idx.size == 0:
        return ()
    start = grid.inner.start
    cuts = [start + int(i + np.argmin(g[i:j + 1])) for i, j in zip(idx[:-1], idx[1:], strict=True)]
    bounds = [0, *cuts, grid.wide.size - 1]
    fine = grid.fine
    return tuple(
        DRTPeak(tau=float(fine[i]), gamma=float(g[i]),
                resistance=float(cumulative[bounds[k + 1]] - cumulative[bounds[k]]),
                tau_range=(float(max(grid.wide[bounds[k]], fine[0])),
                           float(min(grid.wide[bounds[k + 1]], fine[-1]))))
        for k, i in enumerate(idx)
    )


def deconvolve_peaks(result: DRTResult, *, n_peaks: int | None = None) -> tuple[DRTPeak, ...]:
    """Fit γ(ln τ) on the fine grid with a sum of Gaussians in ln τ.

    Each Gaussian h·exp(−(ln τ − ln τₖ)²/2w²) has the resistance h·w·√(2π). The number of
    Gaussians is the number of peaks found, or ``n_peaks``; the starts are the peaks found
    (split evenly in ln τ when more are asked for).
    """
    from scipy.optimize import least_squares

    found = result.peaks
    n = len(found) if n_peaks is None else positive_int("n_peaks", n_peaks)
    if n == 0:
        return ()
    y = np.log(result.tau_fine)
    g = result.gamma_fine
    if len(found) >= n:
        chosen = sorted(found, key=lambda p: -p.resistance)[:n]
        centres = [math.log(p.tau) for p in chosen]
        heights = [p.gamma for p in chosen]
    else:
        centres = list(np.linspace(y[0] + 1, y[-1] - 1, n))
        heights = [float(g.max())] * n
    width0 = 0.5
    start = np.array([v for c, h in zip(centres, heights, strict=True) for v in (h, c, width0)])
    lower = np.array([v for _ in range(n) for v in (0.0, y[0], 0.02)])
    upper = np.array([v for _ in range(n) for v in (np.inf, y[-1], y[-1] - y[0])])

    def model(p: np.ndarray) -> np.ndarray:
        h, c, w = p[0::3, None], p[1::3, None], p[2::3, None]
        return (h * np.exp(-0.5 * ((y[None, :] - c) / w) ** 2)).sum(axis=0)

    fit = least_squares(lambda p: model(p) - g, np.clip(start, lower, upper), bounds=(lower, upper))
    out = []
    for h, c, w in fit.x.reshape(n, 3):
        out.append(DRTPeak(tau=float(math.exp(c)), gamma=float(h),
                           resistance=float(h * w * math.sqrt(2 * math.pi)),
                           tau_range=(float(math.exp(c - 2 * w)), float(math.exp(c + 2 * w))),
                           width=float(w)))
    return tuple(sorted(out, key=lambda p: p.tau))
