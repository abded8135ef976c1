"""Build-up models for 2D-EXSY cross peaks: how the exchanged fraction grows with mixing time.

Each model is a small declaration (``BuildupModel``): its name, its parameters with units
and bounds, its equation, a vectorised ``f(t, **params)`` and a ``guess`` from data. All of
them are f(t) = A · g(x), with A the plateau (the accessible fraction the curve tends to)
and g a dimensionless shape of one argument x that rises from g(0) = 0:

- diffusion models, x = D·t / L²: D [cm²/s], the unit the exchange-NMR papers quote (ssbkit's
  core table lists m²/s as the reference unit of diffusivity: ``Estimate.to("m²/s")``
  converts), t [s], and the length L [µm] (``length_um``), converted with 1 µm² = 1e-8 cm²;
- ``"first-order"``, x = k·t with k [1/s] and no length.

The models (Crank, *The Mathematics of Diffusion*, 2nd ed. 1975, for the series):

``"sphere"``  a sphere of radius r = L exchanging with a well-mixed surrounding (Crank eq. 6.20),
    g = 1 − (6/π²) Σ_{n≥1} n⁻² exp(−n²π² x); below x = 0.1, where that series needs many
    terms, the short-time form (Crank eq. 6.21) g = 6√x [π^(−1/2) + 2 Σ_{n≥1} ierfc(n/√x)] − 3x,
    both exact to rounding with the terms kept (20 and 4).
``"cube"``    a cube of edge L, the product of three slabs of thickness L open on both faces:
    1 − g = (1 − g_slab)³, g_slab = 1 − Σ_{n≥0} 8/((2n+1)²π²) exp(−(2n+1)²π² x), and below
    x = 0.1 g_slab = 4√x [π^(−1/2) + 2 Σ_{n≥1} (−1)ⁿ ierfc(n/(2√x))] (Crank eqs. 4.18, 4.24).
``"gaussian"`` the 3D Gaussian propagator, ⟨r²⟩ = 6Dt: the probability that a Li has moved
    farther than L, g = erfc(u) + (2u/√π) e^(−u²), u = L/√(4Dt) = 1/(2√x).
``"sqrt"``    the short-time law of any shape, g = (2/√π)(S/V)√(Dt) (Mitra et al. 1992), with
    the surface-to-volume ratio of a sphere of radius L, S/V = 3/L, so g = (6/√π)√x (for a
    cube of edge a, S/V = 6/a: pass L = a/2). It has no plateau: A only scales, and A and D
    cannot both be fitted (``fit_buildup`` asks for a fixed plateau).
``"first-order"`` g = 1 − e^(−kt).

At short times the sphere and cube both follow the √t law with their own S/V (3/r, 6/L);
at long times 1 − g decays as one exponential, (6/π²)e^(−π²x) for the sphere and
(8/π²)³ e^(−3π²x) for the cube. Only D/L² is measured: the absolute D is as good as L.

ierfc(z) = e^(−z²)/√π − z·erfc(z) is computed as e^(−z²)(1/√π − z·erfcx(z)), which keeps its
digits for large z where the two terms nearly cancel.

>>> import numpy as np
>>> m = MODELS["sphere"]
>>> t = np.array([0.0, 0.1, 1.0, 10.0])
>>> np.round(m(t, D=1e-10, A=0.5, length_um=1.0), 4).tolist()
[0.0, 0.052, 0.1543, 0.3852]
>>> m.units
{'D': 'cm²/s', 'A': '1'}
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite_array, positive

__all__ = [
    "MODELS",
    "UM2_TO_CM2",
    "BuildupModel",
    "ModelParameter",
    "cube_shape",
    "first_order_shape",
    "gaussian_shape",
    "get_model",
    "slab_shape",
    "sphere_shape",
    "sqrt_shape",
]

UM2_TO_CM2 = 1e-8  # 1 µm² in cm²
_SHORT_TIME_LIMIT = 0.1  # x below which the short-time series are used
_LONG_TERMS = 20
_SHORT_TERMS = 8

citations.register(
    "crank1975", "J. Crank, The Mathematics of Diffusion, 2nd ed., Oxford University Press (1975), "
    "eqs. 4.18, 4.24, 6.20, 6.21.")
citations.register(
    "mitra1992", "P. P. Mitra, P. N. Sen, L. M. Schwartz, P. Le Doussal, Diffusion propagator as a probe "
    "of the structure of porous media, Phys. Rev. Lett. 68 (1992) 3555.")


@dataclass(frozen=True)
class ModelParameter:
    """One fitted parameter: its name, unit, admissible range and meaning."""

    name: str
    unit: str
    lower: float
    upper: float
    meaning: str


def _ierfc(z: np.ndarray) -> np.ndarray:
    from scipy.special import erfcx

    return np.exp(-z * z) * (1.0 / math.sqrt(math.pi) - z * erfcx(z))


def _split(x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    short = (x > 0) & (x < _SHORT_TIME_LIMIT)
    long = x >= _SHORT_TIME_LIMIT
    return x, short, long


def sphere_shape(x: Any) -> np.ndarray:
    """g(x) of a sphere, x = D t / r² (Crank eqs. 6.20 and 6.21)."""
    x, short, long = _split(x)
    out = np.zeros_like(x)
    if short.any():
        s = np.sqrt(x[short])
        series = sum(_ierfc(n / s) for n in range(1, _SHORT_TERMS + 1))
        out[short] = 6.0 * s * (1.0 / math.sqrt(math.pi) + 2.0 * series) - 3.0 * x[short]
    if long.any():
        n = np.arange(1, _LONG_TERMS + 1, dtype=float)[:, None]
        tail = np.sum(np.exp(-(n * n) * math.pi**2 * x[long]) / (n * n), axis=0)
        out[long] = 1.0 - 6.0 / math.pi**2 * tail
    return out


def slab_shape(x: Any) -> np.ndarray:
    """g(x) of a slab of thickness L open on both faces, x = D t / L² (Crank eqs. 4.18, 4.24)."""
    x, short, long = _split(x)
    out = np.zeros_like(x)
    if short.any():
        s = np.sqrt(x[short])
        series = sum((-1) ** n * _ierfc(n / (2.0 * s)) for n in range(1, _SHORT_TERMS + 1))
        out[short] = 4.0 * s * (1.0 / math.sqrt(math.pi) + 2.0 * series)
    if long.any():
        m = 2.0 * np.arange(_LONG_TERMS, dtype=float)[:, None] + 1.0
        tail = np.sum(8.0 / (m * m * math.pi**2) * np.exp(-(m * m) * math.pi**2 * x[long]), axis=0)
        out[long] = 1.0 - tail
    return out


def cube_shape(x: Any) -> np.ndarray:
    """g(x) of a cube of edge L, x = D t / L²: what is left inside is the product of three slabs'."""
    return 1.0 - (1.0 - slab_shape(x)) ** 3


def gaussian_shape(x: Any) -> np.ndarray:
    """P(|r| > L) of the 3D Gaussian propagator, x = D t / L² (u = 1/(2√x))."""
    from scipy.special import erfc

    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    moving = x > 0
    u = 0.5 / np.sqrt(x[moving])
    out[moving] = erfc(u) + 2.0 * u / math.sqrt(math.pi) * np.exp(-u * u)
    return out


def sqrt_shape(x: Any) -> np.ndarray:
    """(2/√π)(S/V)√(Dt) with S/V = 3/L: (6/√π)√x (unbounded; a short-time law)."""
    x = np.asarray(x, dtype=float)
    return 6.0 / math.sqrt(math.pi) * np.sqrt(np.clip(x, 0.0, None))


def first_order_shape(x: Any) -> np.ndarray:
    """1 − e^(−x), x = k t."""
    x = np.asarray(x, dtype=float)
    return -np.expm1(-np.clip(x, 0.0, None))


@dataclass(frozen=True)
class BuildupModel:
    """A build-up model f(t) = A · g(x): see the module docstring for x and each g."""

    name: str
    description: str
    equation: str
    parameters: tuple[ModelParameter, ...]
    shape: Callable[[Any], np.ndarray]
    needs_length: bool
    citations: tuple[str, ...] = ()
    plateau_identifiable: bool = True

    @property
    def rate_parameter(self) -> str:
        """``"D"`` for diffusion models, ``"k"`` for first-order exchange."""
        return self.parameters[0].name

    @property
    def units(self) -> dict[str, str]:
        return {p.name: p.unit for p in self.parameters}

    def argument(self, t: Any, rate: float, length_um: float | None = None) -> np.ndarray:
        """x = D t / L² (D [cm²/s], L [µm]) or x = k t."""
        t = np.asarray(t, dtype=float)
        if not self.needs_length:
            return rate * t
        if length_um is None:
            raise InputError(f"the {self.name!r} model needs a length: pass length_um", source="length_um")
        length = positive("length_um", length_um)
        return rate * t / (length * length * UM2_TO_CM2)

    def __call__(self, t: Any, *, A: float = 1.0, length_um: float | None = None,
                 **rate: float) -> np.ndarray:
        """f(t) = A · g(x); the rate is passed by name (``D=…`` or ``k=…``)."""
        name = self.rate_parameter
        if set(rate) != {name}:
            raise InputError(f"the {self.name!r} model takes its rate as {name}=…, got "
                             f"{', '.join(rate) or 'none'}", source="model")
        return A * self.shape(self.argument(t, float(rate[name]), length_um))

    def argument_at(self, fraction: float) -> float:
        """The x at which g(x) = ``fraction`` (0 < fraction < 1), by bisection in ln x."""
        lo, hi = 1e-12, 1e6
        if not 0.0 < fraction < float(self.shape(np.array([hi]))[0]):
            raise InputError(f"g never reaches {fraction:g} for the {self.name!r} model", source="fraction")
        for _ in range(200):
            mid = math.sqrt(lo * hi)
            if float(self.shape(np.array([mid]))[0]) < fraction:
                lo = mid
            else:
                hi = mid
            if hi / lo < 1 + 1e-14:
                break
        return math.sqrt(lo * hi)

    def guess(self, t: Any, y: Any, *, length_um: float | None = None,
              plateau: float | None = None) -> dict[str, float]:
        """Starting values from data: A from the highest points (or ``plateau``), the rate from
        the time at which the running maximum first reaches half of it.

        >>> import numpy as np
        >>> m = MODELS["first-order"]
        >>> t = np.linspace(0, 5, 26)
        >>> g = m.guess(t, m(t, k=2.0, A=0.4))
        >>> round(g["k"], 1), round(g["A"], 2)
        (2.0, 0.4)
        """
        t = finite_array("mixing_time_s", t)
        y = finite_array("intensity", y)
        if self.needs_length and length_um is None:
            raise InputError(f"the {self.name!r} model needs a length: pass length_um", source="length_um")
        order = np.argsort(t, kind="stable")
        t, y = t[order], y[order]
        if not self.plateau_identifiable:
            # g ∝ √rate: y = √rate · s with s the curve at rate 1, a line through the origin in √rate
            a = 1.0 if plateau is None else float(plateau)
            s = a * self.shape(self.argument(t, 1.0, length_um))
            root = float(np.sum(y * s) / np.sum(s * s)) if np.sum(s * s) > 0 else 0.0
            return {self.rate_parameter: max(root, 1e-12) ** 2, "A": a}
        a = float(np.max(y)) if plateau is None else float(plateau)
        running = np.maximum.accumulate(y)
        above = np.flatnonzero(running >= 0.5 * a)
        positive_t = t[t > 0]
        if above.size and a > 0 and above[0] > 0:
            i = int(above[0])
            t0, t1, y0, y1 = t[i - 1], t[i], running[i - 1], running[i]
            t_half = t1 if y1 == y0 else t0 + (0.5 * a - y0) * (t1 - t0) / (y1 - y0)
        else:
            t_half = float(np.median(positive_t)) if positive_t.size else 1.0
        t_half = max(float(t_half), 1e-9)
        rate_at_unit_time = self.argument_at(0.5) / float(self.argument(1.0, 1.0, length_um))
        return {self.rate_parameter: rate_at_unit_time / t_half, "A": a}


def _diffusion_parameters() -> tuple[ModelParameter, ...]:
    return (ModelParameter("D", "cm²/s", 0.0, math.inf, "diffusion coefficient"),
            ModelParameter("A", "1", 0.0, math.inf, "plateau (accessible fraction)"))


MODELS: dict[str, BuildupModel] = {
    "sphere": BuildupModel(
        "sphere", "diffusion out of a sphere of radius L into a well-mixed surrounding",
        "f = A[1 − (6/π²) Σ n⁻² exp(−n²π² D t / L²)]", _diffusion_parameters(), sphere_shape, True,
        ("crank1975",)),
    "cube": BuildupModel(
        "cube", "diffusion out of a cube of edge L (three slabs of thickness L)",
        "f = A[1 − (Σ 8/((2n+1)²π²) exp(−(2n+1)²π² D t / L²))³]", _diffusion_parameters(), cube_shape,
        True, ("crank1975",)),
    "gaussian": BuildupModel(
        "gaussian", "3D Gaussian propagator: fraction moved farther than L",
        "f = A[erfc(u) + (2u/√π) e^(−u²)], u = L/√(4Dt)", _diffusion_parameters(), gaussian_shape, True),
    "sqrt": BuildupModel(
        "sqrt", "short-time √t law with the S/V of a sphere of radius L (3/L)",
        "f = A (2/√π)(3/L)√(D t)", _diffusion_parameters(), sqrt_shape, True, ("mitra1992",),
        plateau_identifiable=False),
    "first-order": BuildupModel(
        "first-order", "first-order exchange", "f = A(1 − e^(−k t))",
        (ModelParameter("k", "1/s", 0.0, math.inf, "rate constant"),
         ModelParameter("A", "1", 0.0, math.inf, "plateau")), first_order_shape, False),
}


def get_model(name: str | BuildupModel) -> BuildupModel:
    """The model called ``name`` (a ``BuildupModel`` passes through); the error lists them."""
    if isinstance(name, BuildupModel):
        return name
    if not isinstance(name, str) or name.lower() not in MODELS:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}", source="model")
    return MODELS[name.lower()]
