"""Every circuit element against an independent form of its equation."""

import cmath
import math

import numpy as np
import pytest

from ssbkit.eis import ELEMENTS, parse_circuit

OMEGA = np.logspace(-3, 7, 61)  # rad/s


def z(symbol, *params, omega=OMEGA):
    return ELEMENTS[symbol].impedance(omega, *params)


def check_resistor():
    np.testing.assert_allclose(z("R", 47.0), 47.0 + 0j)


def check_capacitor():
    # Z = -j/(ωC): purely imaginary, negative.
    np.testing.assert_allclose(z("C", 2e-6), -1j / (OMEGA * 2e-6), rtol=1e-12)


def check_inductor():
    np.testing.assert_allclose(z("L", 3e-7), 1j * OMEGA * 3e-7, rtol=1e-12)


def check_constant_phase():
    q, n = 3e-6, 0.8
    values = z("CPE", q, n)
    # Constant phase −nπ/2 and modulus 1/(Q ω^n), written in polar form.
    expected = [cmath.rect(1 / (q * w**n), -n * math.pi / 2) for w in OMEGA]
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    # n = 1 is a capacitor, n = 0 a resistor of 1/Q.
    np.testing.assert_allclose(z("CPE", q, 1.0), -1j / (OMEGA * q), rtol=1e-12)
    np.testing.assert_allclose(z("CPE", q, 0.0), 1 / q + 0j, rtol=1e-12)


def check_warburg():
    a = 12.0
    values = z("W", a)
    np.testing.assert_allclose(np.abs(values), math.sqrt(2) * a / np.sqrt(OMEGA), rtol=1e-12)
    np.testing.assert_allclose(np.angle(values), -math.pi / 4, rtol=1e-12)


def check_warburg_open():
    r, tau = 20.0, 5.0
    low = np.array([1e-6, 1e-5])
    # coth(x)/x → 1/x² + 1/3 for small x: a capacitor τ/R in series with R/3.
    expected = r / (1j * low * tau) + r / 3
    np.testing.assert_allclose(z("Wo", r, tau, omega=low), expected, rtol=1e-6)
    high = np.array([1e5, 1e7])
    # coth(x) → 1 for large |x|: the semi-infinite Warburg r/√(jωτ).
    np.testing.assert_allclose(z("Wo", r, tau, omega=high), r / np.sqrt(1j * high * tau),
                               rtol=1e-9)


def check_warburg_short():
    r, tau = 20.0, 5.0
    low = np.array([1e-7, 1e-6])
    # tanh(x)/x → 1 − x²/3: a resistance r with a small capacitive part.
    np.testing.assert_allclose(z("Ws", r, tau, omega=low), r * (1 - 1j * low * tau / 3),
                               rtol=1e-9)
    high = np.array([1e5, 1e7])
    np.testing.assert_allclose(z("Ws", r, tau, omega=high), r / np.sqrt(1j * high * tau),
                               rtol=1e-9)


def check_gerischer():
    r, tau = 30.0, 1e-3
    np.testing.assert_allclose(z("G", r, tau, omega=np.array([1e-9])), [r], rtol=1e-9)
    # |Z|⁴ = r⁴ / (1 + (ωτ)²) for the square root of a complex denominator.
    np.testing.assert_allclose(np.abs(z("G", r, tau)) ** 4, r**4 / (1 + (OMEGA * tau) ** 2),
                               rtol=1e-12)


def check_zarc():
    r, tau = 100.0, 1e-4
    # φ = 1: R in parallel with C = τ/R.
    c = tau / r
    np.testing.assert_allclose(z("ZARC", r, tau, 1.0), 1 / (1 / r + 1j * OMEGA * c), rtol=1e-12)
    # Apex at ω = 1/τ: Z = R/(1 + j^φ); for φ = 0.5 that is R/(1 + e^{jπ/4}).
    apex = z("ZARC", r, tau, 0.5, omega=np.array([1 / tau]))[0]
    assert apex == pytest.approx(r / (1 + cmath.exp(1j * math.pi / 4)), rel=1e-12)


def check_havriliak_negami():
    r, tau = 100.0, 1e-4
    # β = 1 is the ZARC (Cole–Cole); α = β = 1 is Debye (R ∥ C).
    np.testing.assert_allclose(z("HN", r, tau, 0.7, 1.0), r / (1 + (1j * OMEGA * tau) ** 0.7),
                               rtol=1e-12)
    np.testing.assert_allclose(z("HN", r, tau, 1.0, 1.0), r / (1 + 1j * OMEGA * tau), rtol=1e-12)
    # α = 1 is Cole–Davidson: phase of the denominator is β·atan(ωτ).
    values = z("HN", r, tau, 1.0, 0.5)
    np.testing.assert_allclose(np.angle(values), -0.5 * np.arctan(OMEGA * tau), rtol=1e-12)


CHECKS = {
    "R": check_resistor, "C": check_capacitor, "L": check_inductor, "CPE": check_constant_phase,
    "W": check_warburg, "Wo": check_warburg_open, "Ws": check_warburg_short,
    "G": check_gerischer, "ZARC": check_zarc, "HN": check_havriliak_negami,
}


@pytest.mark.parametrize("symbol", sorted(ELEMENTS))
def test_every_element_matches_its_analytic_form(symbol):
    # A newly registered element without a check fails here until it gets one.
    assert symbol in CHECKS, f"element {symbol} has no analytic check"
    CHECKS[symbol]()


@pytest.mark.parametrize("symbol", sorted(ELEMENTS))
def test_every_element_declares_units_equation_and_names(symbol):
    element = ELEMENTS[symbol]
    assert element.equation.startswith("Z = ")
    assert all(p.unit for p in element.parameters)
    names = element.parameter_names(f"{symbol}1")
    assert len(names) == len(element.parameters)
    # impedance.py's convention: bare name for one parameter, _0, _1 … otherwise.
    expected = (f"{symbol}1",) if len(names) == 1 else tuple(
        f"{symbol}1_{i}" for i in range(len(names)))
    assert names == expected


def test_cpe_parameter_names_follow_impedance_py():
    c = parse_circuit("R0-p(R1,CPE1)-Wo1")
    assert c.parameter_names == ("R0", "R1", "CPE1_0", "CPE1_1", "Wo1_0", "Wo1_1")
    assert c.parameter_units()["CPE1_1"] == "1"
    assert c.parameter_units()["Wo1_1"] == "s"
