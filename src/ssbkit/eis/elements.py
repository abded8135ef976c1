"""Equivalent-circuit elements: each a small declaration with its equation.

An element declares its symbol (the letters of its name in a circuit string: ``R0``,
``CPE1``, ``Wo2``), its parameters with units and bounds, the equation as text, a
vectorised ``impedance(ω, *params)``, and ``gradient(ω, *params)`` returning Z with its
analytic derivatives (Z, (dZ/dp_0, dZ/dp_1, …)) for the fit's Jacobian. Parameter names
follow impedance.py: the element's name for one-parameter elements (``R1``), and ``_0``,
``_1``… for the others (``CPE1_0`` = Q, ``CPE1_1`` = n; ``Wo1_0`` = R, ``Wo1_1`` = τ).
Tests check every element against an independent form of its equation (limits, known
values) at many frequencies, and every gradient against a finite difference.

Sign convention: Z = Z' + jZ'', with ω = 2πf [rad/s].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError

# Z and (dZ/dp_0, dZ/dp_1, …)
_ValueAndGradient = tuple[np.ndarray, tuple[np.ndarray, ...]]

__all__ = ["ELEMENTS", "Element", "ParameterSpec", "element", "gradient"]


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of an element: what it means, its unit and its admissible range."""

    meaning: str
    unit: str
    lower: float = 0.0
    upper: float = np.inf


@dataclass(frozen=True)
class Element:
    """A circuit element type."""

    symbol: str
    description: str
    equation: str
    parameters: tuple[ParameterSpec, ...]
    impedance: Callable[..., np.ndarray]
    gradient: Callable[..., tuple[np.ndarray, tuple[np.ndarray, ...]]] | None = None

    def parameter_names(self, name: str) -> tuple[str, ...]:
        """Names of the parameters of the element called ``name`` in a circuit."""
        if len(self.parameters) == 1:
            return (name,)
        return tuple(f"{name}_{i}" for i in range(len(self.parameters)))


ELEMENTS: dict[str, Element] = {}


def element(symbol: str, description: str, equation: str, *parameters: ParameterSpec):
    """Register ``impedance(ω, *params)`` as the element ``symbol``."""

    def register(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if symbol in ELEMENTS:
            raise InputError(f"element {symbol!r} is registered twice")
        ELEMENTS[symbol] = Element(symbol, description, equation, tuple(parameters), func)
        return func

    return register


def gradient(symbol: str):
    """Register ``gradient(ω, *params) -> (Z, (dZ/dp_0, dZ/dp_1, …))`` for the element ``symbol``."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        ELEMENTS[symbol] = replace(ELEMENTS[symbol], gradient=func)
        return func

    return register


_R = ParameterSpec("resistance", "Ohm")
_TAU = ParameterSpec("time constant", "s")
_EXPONENT = ParameterSpec("exponent", "1", 0.0, 1.0)


@element("R", "resistor", "Z = R", _R)
def resistor(omega: np.ndarray, r: float) -> np.ndarray:
    return np.zeros(np.broadcast_shapes(np.shape(omega), np.shape(r)), dtype=complex) + r


@element("C", "capacitor", "Z = 1 / (jωC)", ParameterSpec("capacitance", "F"))
def capacitor(omega: np.ndarray, c: float) -> np.ndarray:
    return 1.0 / (1j * omega * c)


@element("L", "inductor", "Z = jωL", ParameterSpec("inductance", "H"))
def inductor(omega: np.ndarray, inductance: float) -> np.ndarray:
    return 1j * omega * inductance


@element("CPE", "constant-phase element", "Z = 1 / (Q (jω)^n)",
         ParameterSpec("Q", "F·s^(n-1)"), _EXPONENT)
def constant_phase(omega: np.ndarray, q: float, n: float) -> np.ndarray:
    return 1.0 / (q * (1j * omega) ** n)


@element("W", "semi-infinite Warburg", "Z = A_W (1 − j) / √ω",
         ParameterSpec("Warburg coefficient", "Ohm·s^-1/2"))
def warburg(omega: np.ndarray, a_w: float) -> np.ndarray:
    return a_w * (1.0 - 1j) / np.sqrt(omega)


@element("Wo", "finite-space (open, reflective) Warburg",
         "Z = R coth(√(jωτ)) / √(jωτ)", _R, _TAU)
def warburg_open(omega: np.ndarray, r: float, tau: float) -> np.ndarray:
    x = np.sqrt(1j * omega * tau)
    return r / (x * np.tanh(x))


@element("Ws", "finite-length (short, transmissive) Warburg",
         "Z = R tanh(√(jωτ)) / √(jωτ)", _R, _TAU)
def warburg_short(omega: np.ndarray, r: float, tau: float) -> np.ndarray:
    x = np.sqrt(1j * omega * tau)
    return r * np.tanh(x) / x


@element("G", "Gerischer", "Z = R / √(1 + jωτ)", _R, _TAU)
def gerischer(omega: np.ndarray, r: float, tau: float) -> np.ndarray:
    return r / np.sqrt(1.0 + 1j * omega * tau)


@element("ZARC", "ZARC (R in parallel with a CPE, written with τ)",
         "Z = R / (1 + (jωτ)^φ)", _R, _TAU, _EXPONENT)
def zarc(omega: np.ndarray, r: float, tau: float, phi: float) -> np.ndarray:
    return r / (1.0 + (1j * omega * tau) ** phi)


@element("HN", "Havriliak–Negami relaxation", "Z = R / (1 + (jωτ)^α)^β",
         _R, _TAU, _EXPONENT, _EXPONENT)
def havriliak_negami(omega: np.ndarray, r: float, tau: float, alpha: float,
                     beta: float) -> np.ndarray:
    return r / (1.0 + (1j * omega * tau) ** alpha) ** beta


# Analytic derivatives: each returns Z and (dZ/dp_0, …), the derivative of the equation
# above it, written with Z itself where that is shorter (dZ/dQ = −Z/Q for the CPE) and so
# that Z is computed once per call.

@gradient("R")
def _resistor_gradient(omega: np.ndarray, r: float) -> _ValueAndGradient:
    z = resistor(omega, r)
    return z, (np.ones(z.shape, dtype=complex),)


@gradient("C")
def _capacitor_gradient(omega: np.ndarray, c: float) -> _ValueAndGradient:
    z = capacitor(omega, c)
    return z, (-z / c,)


@gradient("L")
def _inductor_gradient(omega: np.ndarray, inductance: float) -> _ValueAndGradient:
    return inductor(omega, inductance), (1j * omega + 0.0j,)


@gradient("CPE")
def _constant_phase_gradient(omega: np.ndarray, q: float, n: float) -> _ValueAndGradient:
    log_jw = np.log(omega) + 0.5j * np.pi
    z = np.exp(-n * log_jw) / q
    return z, (-z / q, -z * log_jw)


@gradient("W")
def _warburg_gradient(omega: np.ndarray, a_w: float) -> _ValueAndGradient:
    unit = (1.0 - 1j) / np.sqrt(omega)
    return a_w * unit, (unit,)


def _coth_terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """coth(x) and csch²(x) for Re x ≥ 0, through e^(−2x) so that large x cannot overflow."""
    e = np.exp(-2.0 * x)
    one_minus = -np.expm1(-2.0 * x)
    return (1.0 + e) / one_minus, 4.0 * e / one_minus**2


@gradient("Wo")
def _warburg_open_gradient(omega: np.ndarray, r: float, tau: float) -> _ValueAndGradient:
    x = np.sqrt(1j * omega * tau)
    coth, csch2 = _coth_terms(x)
    unit = coth / x
    return r * unit, (unit, -r / (2.0 * tau) * (csch2 + unit))


@gradient("Ws")
def _warburg_short_gradient(omega: np.ndarray, r: float, tau: float) -> _ValueAndGradient:
    x = np.sqrt(1j * omega * tau)
    tanh = np.tanh(x)
    unit = tanh / x
    return r * unit, (unit, r / (2.0 * tau) * ((1.0 - tanh**2) - unit))


@gradient("G")
def _gerischer_gradient(omega: np.ndarray, r: float, tau: float) -> _ValueAndGradient:
    z = gerischer(omega, r, tau)
    return z, (z / r, -z * 1j * omega / (2.0 * (1.0 + 1j * omega * tau)))


@gradient("ZARC")
def _zarc_gradient(omega: np.ndarray, r: float, tau: float, phi: float) -> _ValueAndGradient:
    log_jwt = np.log(omega * tau) + 0.5j * np.pi
    u = np.exp(phi * log_jwt)
    unit = 1.0 / (1.0 + u)
    common = -r * unit**2 * u
    return r * unit, (unit, common * phi / tau, common * log_jwt)


@gradient("HN")
def _havriliak_negami_gradient(omega: np.ndarray, r: float, tau: float, alpha: float,
                               beta: float) -> _ValueAndGradient:
    log_jwt = np.log(omega * tau) + 0.5j * np.pi
    u = np.exp(alpha * log_jwt)
    z = r / (1.0 + u) ** beta
    common = -beta * z / (1.0 + u) * u
    return z, (z / r, common * alpha / tau, common * log_jwt, -z * np.log(1.0 + u))
