"""The discretised DRT model: radial basis functions, the matrices A and M, and their cache.

The distribution of relaxation times γ(ln τ) [Ohm] describes a spectrum as

    Z(ω) = jωL₀ + R∞ + ∫ γ(ln τ) / (1 + jωτ) d ln τ.

As in DRTtools (Wan, Saccoccio, Chen & Ciucci 2015), γ is expanded in radial basis
functions centred on a grid of collocation times τₘ,

    γ(ln τ) = Σₘ xₘ φ(ε |ln τ − ln τₘ|),

so that Z is linear in the coefficients x: Z' = A_re x and Z'' = A_im x, with

    A_re[n, m] =  ∫ φ(ε|y|) / (1 + αₙₘ² e^{2y}) dy,
    A_im[n, m] = −∫ φ(ε|y|) αₙₘ e^{y} / (1 + αₙₘ² e^{2y}) dy,      αₙₘ = ωₙ τₘ,

integrated over y ∈ [−50, 50] (the range DRTtools integrates on, which matters only for
the slowly decaying inverse quadric and Cauchy functions). The penalty matrix M is the
exact L2 inner product of the k-th derivatives of the basis functions (k = 1 or 2), so
λ xᵀMx = λ ‖dᵏγ/d(ln τ)ᵏ‖². The shape factor ε comes from the "FWHM coefficient" c:
each function is 1/c times as wide at half maximum as the mean spacing of ln(1/f)
(ε = c · FWHM_φ / Δ), or it is given directly. Piecewise-linear (PWL) basis functions use
trapezoid weights and finite differences instead (x = γ at the nodes); their first-order
penalty is the exact inner product of the hat functions' slopes, Σ (xᵢ₊₁ − xᵢ)²/Δᵢ.
Two functions have a kink at their centre (C0 Matérn, Cauchy): their second derivative
holds a delta, which the second-order penalty leaves out, as DRTtools does.

Why written here: pyDRTtools computes every matrix element with ``scipy.integrate.quad``,
again for every spectrum (0.2–0.5 s), and has no cache. The integrals depend on ωₙτₘ
only through s = ln(ωₙτₘ), so here they are evaluated once per distinct s (N + M − 1
values on log-spaced grids) with composite Gauss–Legendre quadrature, vectorised, and the
result is cached per (frequency grid, τ grid, basis, ε, order): a series of spectra
measured on one grid pays for its matrices once.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite_array, positive

__all__ = ["RBF_TYPES", "DRTBasis", "drt_basis", "normalise_rbf", "shape_factor"]

citations.register(
    "wan2015",
    "T. H. Wan, M. Saccoccio, C. Chen, F. Ciucci, Influence of the Discretization Methods on "
    "the Distribution of Relaxation Times Deconvolution: Implementing Radial Basis Functions "
    "with DRTtools, Electrochim. Acta 184 (2015) 483-499.",
    "10.1016/j.electacta.2015.09.097",
)

RBF_TYPES = (
    "gaussian", "c0-matern", "c2-matern", "c4-matern", "c6-matern",
    "inverse-quadratic", "inverse-quadric", "cauchy", "pwl",
)
_ALIASES = {
    "c0": "c0-matern", "c2": "c2-matern", "c4": "c4-matern", "c6": "c6-matern",
    "piecewise-linear": "pwl", "inverse-quadratic": "inverse-quadratic",
}
_LIMIT = 50.0  # the integration range in y = ln(τ/τₘ), as in DRTtools
_GAUSS = np.polynomial.legendre.leggauss(10)
_CACHE: OrderedDict[str, DRTBasis] = OrderedDict()
_CACHE_SIZE = 32
MAX_TAU = 1000  # collocation times: the fine peak grid is 10× denser, so memory grows as 10 N²


def normalise_rbf(name: str) -> str:
    """The canonical RBF name: ``"C2 Matern"``, ``"c2_matern"`` and ``"c2"`` → ``"c2-matern"``."""
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-").replace("é", "e")
    key = _ALIASES.get(key, key)
    if key not in RBF_TYPES:
        raise InputError(f"unknown RBF {name!r}; choose one of {', '.join(RBF_TYPES)}", source="rbf")
    return key


def _phi(rbf: str, r: np.ndarray) -> np.ndarray:
    """φ(r) for r = |εx| ≥ 0."""
    if rbf == "gaussian":
        return np.exp(-r * r)
    if rbf == "inverse-quadratic":
        return 1.0 / (1.0 + r * r)
    if rbf == "inverse-quadric":
        return 1.0 / np.sqrt(1.0 + r * r)
    if rbf == "cauchy":
        return 1.0 / (1.0 + r)
    e = np.exp(-r)
    if rbf == "c0-matern":
        return e
    if rbf == "c2-matern":
        return e * (1.0 + r)
    if rbf == "c4-matern":
        return e * (3.0 + 3.0 * r + r * r) / 3.0
    return e * (15.0 + 15.0 * r + 6.0 * r * r + r**3) / 15.0  # c6-matern


def _half_width(rbf: str) -> float:
    """x½ with φ(x½) = ½."""
    closed = {"gaussian": math.sqrt(math.log(2.0)), "c0-matern": math.log(2.0),
              "inverse-quadratic": 1.0, "inverse-quadric": math.sqrt(3.0), "cauchy": 1.0}
    if rbf in closed:
        return closed[rbf]
    lo, hi = 0.0, 10.0  # φ decreases monotonically from 1: bisection
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _phi(rbf, np.array(mid)) > 0.5 else (lo, mid)
    return 0.5 * (lo + hi)


def shape_factor(frequency: Any, *, rbf: str = "gaussian", fwhm_coeff: float = 0.5) -> float:
    """ε such that each basis function is Δ/``fwhm_coeff`` wide at half maximum.

    Δ is the mean spacing of ln(1/f) over the measured frequencies, as in DRTtools; with
    10 points per decade and the default 0.5 the Gaussian gets ε = 3.6157.

    >>> round(shape_factor(np.logspace(6, -2, 81)), 4)
    3.6157
    """
    rbf = normalise_rbf(rbf)
    if rbf == "pwl":
        return 0.0
    f = finite_array("frequency", frequency)
    if f.size < 2:
        raise InputError("at least two frequencies are needed for the shape factor", source="frequency")
    delta = abs(float(np.mean(np.diff(np.log(f)))))
    if delta == 0.0:
        raise InputError("all frequencies are equal", source="frequency")
    return positive("fwhm_coeff", fwhm_coeff) * 2.0 * _half_width(rbf) / delta


@dataclass(frozen=True, eq=False)
class DRTBasis:
    """The DRT matrices of one (frequency grid, τ grid, basis, ε, order).

    ``a_re`` and ``a_im`` (N × M) map coefficients to Z' and Z'' [Ohm]; ``penalty`` (M × M)
    is the derivative inner product; ``weights`` [M] are ∫φ d ln τ, so R_pol = weights · x.
    """

    frequency: np.ndarray
    tau: np.ndarray
    rbf: str
    epsilon: float
    order: int
    a_re: np.ndarray
    a_im: np.ndarray
    penalty: np.ndarray
    weights: np.ndarray

    def gamma(self, x: np.ndarray, tau: np.ndarray | None = None) -> np.ndarray:
        """γ [Ohm] at ``tau`` (default: the collocation grid) from coefficients ``x`` (…, M)."""
        return np.asarray(x) @ self.evaluation(self.tau if tau is None else tau).T

    def evaluation(self, tau: Any) -> np.ndarray:
        """The matrix E (K × M) with γ(τ_k) = E @ x."""
        t = np.log(np.asarray(tau, dtype=float))
        if self.rbf == "pwl":
            eye = np.eye(self.tau.size)
            return np.stack([np.interp(t, np.log(self.tau), eye[m], left=0.0, right=0.0)
                             for m in range(self.tau.size)], axis=1)
        return _phi(self.rbf, self.epsilon * np.abs(t[:, None] - np.log(self.tau)[None, :]))


def drt_basis(frequency: Any, tau: Any, *, rbf: str = "gaussian", epsilon: float,
              order: int = 1) -> DRTBasis:
    """The matrices for this grid and basis, built once and then taken from a cache."""
    f = finite_array("frequency", frequency)
    t = finite_array("tau", tau)
    rbf = normalise_rbf(rbf)
    if order not in (1, 2):
        raise InputError(f"order must be 1 or 2, not {order!r}", source="order")
    if rbf != "pwl":
        epsilon = positive("epsilon", epsilon)
    if t.size > MAX_TAU:
        raise InputError(f"{t.size} collocation times; at most {MAX_TAU} (give a coarser τ grid)",
                         source="tau")
    digest = hashlib.sha1(f"{f.size}|{t.size}|{rbf}|{float(epsilon)!r}|{order}|".encode()
                          + f.tobytes() + t.tobytes()).hexdigest()
    hit = _CACHE.get(digest)
    if hit is not None:
        _CACHE.move_to_end(digest)
        return hit
    if rbf == "pwl":
        a_re, a_im, weights = _pwl_matrices(f, t)
        pen = _pwl_penalty(t, order)
    else:
        a_re, a_im, weights = _rbf_matrices(f, t, rbf, float(epsilon))
        pen = _rbf_penalty(t, rbf, float(epsilon), order)
    for array in (f, t, a_re, a_im, pen, weights):
        array.flags.writeable = False
    basis = DRTBasis(f, t, rbf, float(epsilon), order, a_re, a_im, pen, weights)
    _CACHE[digest] = basis
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return basis


def _reach(rbf: str, epsilon: float) -> float:
    """Half-range in y beyond which φ(ε|y|) no longer contributes (< 1e-30)."""
    if rbf == "gaussian":
        return min(_LIMIT, 8.5 / epsilon)
    if rbf.endswith("matern"):
        return min(_LIMIT, 80.0 / epsilon)
    return _LIMIT


def _nodes(rbf: str, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes and weights on [−reach, reach]."""
    reach = _reach(rbf, epsilon)
    width = min(0.5, 0.5 / epsilon)
    panels = 2 * max(4, math.ceil(reach / width))  # even: y = 0 (the kink of C0 Matérn) is an edge
    edges = np.linspace(-reach, reach, panels + 1)
    h = edges[1] - edges[0]
    x, w = _GAUSS
    y = (edges[:-1, None] + 0.5 * h * (x[None, :] + 1.0)).ravel()
    return y, np.tile(0.5 * h * w, panels)


def _rbf_matrices(f: np.ndarray, t: np.ndarray, rbf: str, epsilon: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.log(2.0 * np.pi * f)[:, None] + np.log(t)[None, :]
    keys, inverse = np.unique(np.round(s, 10), return_inverse=True)
    y, w = _nodes(rbf, epsilon)
    pw = _phi(rbf, epsilon * np.abs(y)) * w
    re = np.empty(keys.size)
    im = np.empty(keys.size)
    step = max(1, 2_000_000 // y.size)
    for start in range(0, keys.size, step):
        u = keys[start:start + step, None] + y[None, :]
        # 1/(1 + e^{2u}) and e^{u}/(1 + e^{2u}) without overflow
        re[start:start + step] = (0.5 * (1.0 - np.tanh(u))) @ pw
        im[start:start + step] = (0.5 / np.cosh(np.clip(u, -700, 700))) @ pw
    shape = s.shape
    weights = np.full(t.size, float(pw.sum()))
    return re[inverse].reshape(shape), -im[inverse].reshape(shape), weights


def _pwl_matrices(f: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if t.size < 2:
        raise InputError("a piecewise-linear DRT needs at least two τ points", source="tau")
    lt = np.log(t)
    w = np.empty(t.size)
    w[0] = 0.5 * abs(lt[1] - lt[0])
    w[-1] = 0.5 * abs(lt[-1] - lt[-2])
    w[1:-1] = 0.5 * np.abs(lt[2:] - lt[:-2])
    wt = (2.0 * np.pi * f)[:, None] * t[None, :]
    return w / (1.0 + wt**2), -w * wt / (1.0 + wt**2), w


def _pwl_penalty(t: np.ndarray, order: int) -> np.ndarray:
    lt = np.log(t)
    n = t.size
    if order == 1:
        d = np.diff(lt)
        diff = np.zeros((n - 1, n))
        idx = np.arange(n - 1)
        diff[idx, idx] = -1.0
        diff[idx, idx + 1] = 1.0
        return diff.T @ (diff / np.abs(d)[:, None])
    if n < 3:
        raise InputError("a second-order penalty needs at least three τ points", source="tau")
    diff = np.zeros((n - 2, n))
    for i in range(n - 2):
        h1, h2 = abs(lt[i + 1] - lt[i]), abs(lt[i + 2] - lt[i + 1])
        diff[i, i:i + 3] = (2.0 / (h1 + h2)) * np.array([1.0 / h1, -(1.0 / h1 + 1.0 / h2), 1.0 / h2])
    cell = 0.5 * np.abs(lt[2:] - lt[:-2])
    return diff.T @ (diff * cell[:, None])


# Closed forms of ∫ φ⁽ᵏ⁾(u) φ⁽ᵏ⁾(u − a) du for unit ε (multiply by ε^(2k−1)).
def _inner_closed(rbf: str, a: np.ndarray, order: int) -> np.ndarray | None:
    b = np.abs(a)
    e = np.exp(-b)
    if rbf == "gaussian":
        g = np.sqrt(np.pi / 2.0) * np.exp(-a * a / 2.0)
        return g * (1.0 - a * a) if order == 1 else g * (3.0 - 6.0 * a * a + a**4)
    if rbf == "inverse-quadratic":
        q = 4.0 + a * a
        return (4.0 * np.pi * (4.0 - 3.0 * a * a) / q**3 if order == 1
                else 48.0 * np.pi * (16.0 + 5.0 * a * a * (a * a - 8.0)) / q**5)
    table = {
        ("c0-matern", 1): (1.0 - b),
        ("c0-matern", 2): (1.0 + b),
        ("c2-matern", 1): (3.0 + 3.0 * b - b**3) / 6.0,
        ("c2-matern", 2): (3.0 + 3.0 * b - 6.0 * b**2 + b**3) / 6.0,
        # C4 and C6 are normalised to φ(0) = 1 (the factors 1/3 and 1/15), so their inner
        # products carry 1/9 and 1/225; DRTtools' tables leave those factors out, which is
        # the same as a λ 9 and 225 times larger.
        ("c4-matern", 1): (105.0 + 105.0 * b + 30.0 * b**2 - 5.0 * b**3 - 5.0 * b**4 - b**5) / 270.0,
        ("c4-matern", 2): (45.0 + 45.0 * b - 15.0 * b**3 - 5.0 * b**4 + b**5) / 270.0,
        ("c6-matern", 1): (10395.0 + 10395.0 * b + 3780.0 * b**2 + 315.0 * b**3 - 210.0 * b**4
                           - 84.0 * b**5 - 14.0 * b**6 - b**7) / 31500.0,
        ("c6-matern", 2): (2835.0 + 2835.0 * b + 630.0 * b**2 - 315.0 * b**3 - 210.0 * b**4
                           - 42.0 * b**5 + b**7) / 31500.0,
    }
    poly = table.get((rbf, order))
    return None if poly is None else poly * e


def _derivative(rbf: str, u: np.ndarray, order: int) -> np.ndarray:
    """dᵏφ(|u|)/duᵏ away from u = 0, for the two functions without a closed inner product."""
    if rbf == "inverse-quadric":
        q = 1.0 + u * u
        return -u * q**-1.5 if order == 1 else (2.0 * u * u - 1.0) * q**-2.5
    b = np.abs(u)  # cauchy
    return -np.sign(u) / (1.0 + b) ** 2 if order == 1 else 2.0 / (1.0 + b) ** 3


def _inner_numeric(rbf: str, a: np.ndarray, order: int, epsilon: float) -> np.ndarray:
    from scipy import integrate

    reach = epsilon * _LIMIT
    out = np.empty(a.size)
    for i, ai in enumerate(a.ravel()):
        def integrand(u: float, ai: float = ai) -> float:
            return float(_derivative(rbf, np.array(u), order) * _derivative(rbf, np.array(u - ai), order))

        points = sorted({0.0, float(ai)})
        lo, hi = -reach, reach + abs(ai)
        value = integrate.quad(integrand, lo, hi, points=points, limit=400, epsabs=1e-12, epsrel=1e-10)[0]
        out[i] = value
    return out.reshape(a.shape)


def _rbf_penalty(t: np.ndarray, rbf: str, epsilon: float, order: int) -> np.ndarray:
    a = epsilon * (np.log(t)[:, None] - np.log(t)[None, :])
    keys, inverse = np.unique(np.round(np.abs(a), 10), return_inverse=True)
    values = _inner_closed(rbf, keys, order)
    if values is None:
        values = _inner_numeric(rbf, keys, order, epsilon)
    return epsilon ** (2 * order - 1) * values[inverse].reshape(a.shape)
