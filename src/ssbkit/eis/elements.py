"""Equivalent-circuit elements: each a small declaration with its equation.

An element declares its symbol (the letters of its name in a circuit string: ``R0``,
``CPE1``, ``Wo2``), its parameters with units and bounds, the equation as text, and a
vectorised ``impedance(ω, *params)``. Parameter names follow impedance.py: the element's
name for one-parameter elements (``R1``), and ``_0``, ``_1``… for the others (``CPE1_0`` =
Q, ``CPE1_1`` = n; ``Wo1_0`` = R, ``Wo1_1`` = τ). Tests check every element against an
independent form of its equation (limits, known values) at many frequencies.

Sign convention: Z = Z' + jZ'', with ω = 2πf [rad/s].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ssbkit.core.errors import InputError

__all__ = ["ELEMENTS", "Element", "ParameterSpec", "element"]


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


_R = ParameterSpec("resistance", "Ohm")
_TAU = ParameterSpec("time constant", "s")
_EXPONENT = ParameterSpec("exponent", "1", 0.0, 1.0)


@element("R", "resistor", "Z = R", _R)
def resistor(omega: np.ndarray, r: float) -> np.ndarray:
    return np.full(np.shape(omega), r, dtype=complex)


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
