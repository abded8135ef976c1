"""Every circuit element against an independent form of its equation."""

import cmath
import math

import numpy as np
import pytest

from ssbkit import InputError
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


# -- analytic gradients against central finite differences -------------------------------
#
# Each element's gradient(ω, *p) returns Z and dZ/dp; the reference here is the element's own
# impedance(ω, *p) differenced at p·(1 ± h). The error of a central difference is about
# h²·|Z'''| + ε|Z|/h, so h = 1e-5 leaves ~1e-10 of max |dZ/dp|; 1e-6 leaves room.

GRADIENT_VALUES = {
    "R": [(47.0,), (1e-3,)],
    "C": [(2e-6,), (1e-11,)],
    "L": [(3e-7,)],
    "CPE": [(3e-6, 0.8), (1e-10, 0.55), (2e-5, 0.98)],
    "W": [(12.0,)],
    "Wo": [(20.0, 5.0), (1e3, 1e-4)],
    "Ws": [(20.0, 5.0), (1e3, 1e-4)],
    "G": [(30.0, 1e-3), (5.0, 10.0)],
    "ZARC": [(100.0, 1e-4, 0.75), (1e5, 1e-7, 0.95)],
    "HN": [(100.0, 1e-4, 0.7, 0.6), (1e3, 1e-2, 0.95, 0.3)],
}
GRAD_OMEGA = np.logspace(-3, 8, 67)  # rad/s: both sides of every time constant above


def finite_difference(func, omega, params, k, h=1e-5):
    """Central difference of func(ω, *params) in params[k], with a relative step."""
    step = h * np.abs(np.asarray(params[k], dtype=float))
    up = list(params)
    down = list(params)
    up[k] = params[k] + step
    down[k] = params[k] - step
    return (func(omega, *up) - func(omega, *down)) / (2 * step)


def assert_gradient_matches(symbol, omega, params):
    element = ELEMENTS[symbol]
    z, columns = element.gradient(omega, *params)
    expected_z = element.impedance(omega, *params)
    np.testing.assert_allclose(np.broadcast_to(z, expected_z.shape), expected_z, rtol=1e-12,
                               atol=1e-14 * np.abs(expected_z).max())
    assert len(columns) == len(element.parameters)
    for k, column in enumerate(columns):
        numeric = finite_difference(element.impedance, omega, params, k)
        column = np.broadcast_to(column, numeric.shape)
        scale = np.abs(numeric).max()
        assert scale > 0, f"{symbol}: dZ/dp{k} vanishes everywhere; the check would be empty"
        error = np.abs(column - numeric).max() / scale
        assert error < 1e-6, f"{symbol} dZ/dp{k}: max error {error:.2e} of max |dZ/dp|"


@pytest.mark.parametrize("symbol", sorted(ELEMENTS))
def test_every_element_gradient_matches_a_finite_difference(symbol):
    assert symbol in GRADIENT_VALUES, f"element {symbol} has no gradient check"
    assert ELEMENTS[symbol].gradient is not None, f"element {symbol} has no analytic gradient"
    for params in GRADIENT_VALUES[symbol]:
        assert_gradient_matches(symbol, GRAD_OMEGA, params)


@pytest.mark.parametrize("symbol", sorted(ELEMENTS))
def test_every_element_gradient_broadcasts_over_a_batch(symbol):
    # A batch of B parameter sets, each (B, 1), with its own frequencies (B, N), as the
    # batched fit calls it: every row must equal the unbatched call of that row.
    sets = GRADIENT_VALUES[symbol]
    rows = [sets[i % len(sets)] for i in range(3)]
    scale = np.array([1.0, 1.3, 0.7])[:, None]
    params = [np.array([row[k] for row in rows], dtype=float)[:, None] for k in range(len(rows[0]))]
    params = [p * scale if ELEMENTS[symbol].parameters[k].upper == np.inf else p
              for k, p in enumerate(params)]
    omega = np.stack([GRAD_OMEGA, GRAD_OMEGA * 2.0, GRAD_OMEGA / 3.0])
    assert_gradient_matches(symbol, omega, params)
    z, columns = ELEMENTS[symbol].gradient(omega, *params)
    for b in range(3):
        z_row, columns_row = ELEMENTS[symbol].gradient(omega[b], *(float(p[b, 0]) for p in params))
        np.testing.assert_allclose(np.broadcast_to(z, omega.shape)[b], z_row, rtol=1e-13)
        for c, c_row in zip(columns, columns_row, strict=True):
            np.testing.assert_allclose(np.broadcast_to(c, omega.shape)[b],
                                       np.broadcast_to(c_row, omega[b].shape), rtol=1e-13)


def test_gradient_check_catches_a_wrong_derivative():
    # The check above must be able to fail: a CPE whose dZ/dn lacks the j·π/2 term.
    def wrong(omega, q, n):
        z = ELEMENTS["CPE"].impedance(omega, q, n)
        return z, (-z / q, -z * np.log(omega))

    numeric = finite_difference(ELEMENTS["CPE"].impedance, GRAD_OMEGA, (3e-6, 0.8), 1)
    _, (_, dn) = wrong(GRAD_OMEGA, 3e-6, 0.8)
    assert np.abs(dn - numeric).max() / np.abs(numeric).max() > 1e-2


# -- circuits: Jacobian of the whole tree ---------------------------------------------------

JACOBIAN_CIRCUITS = {
    "R0-p(R1,C1)-p(R2-Wo1,C2)": [10.0, 100.0, 1e-7, 300.0, 200.0, 10.0, 1e-4],
    "p(R1,CPE1)-p(R2,CPE2)-CPE3": [1e5, 3e-11, 0.9, 1e6, 2e-9, 0.8, 1e-6, 0.6],
    "L0-R0-p(R1,ZARC1)-HN1-G1-Ws1": [2e-7, 5.0, 80.0, 40.0, 1e-5, 0.8, 60.0, 1e-3, 0.85, 0.7,
                                     25.0, 1e-2, 15.0, 3.0],
    "p(R1,p(C1,R2-W1))-CPE1": [50.0, 1e-8, 200.0, 30.0, 1e-5, 0.9],
}
FREQ = np.logspace(7, -2, 46)


def circuit_finite_difference(circuit, frequency, values, h=1e-4):
    """Five-point difference in each parameter: a whole circuit adds large terms that do not
    depend on the parameter (a blocking CPE at 10 mHz), whose rounding a two-point difference
    with a small step would divide by that step."""
    values = np.asarray(values, dtype=float)
    out = []
    for k in range(values.size):
        step = h * abs(values[k])

        def z_at(shift, k=k, step=step):
            moved = values.copy()
            moved[k] += shift * step
            return circuit.impedance(frequency, moved)

        out.append((z_at(-2) - 8 * z_at(-1) + 8 * z_at(1) - z_at(2)) / (12 * step))
    return np.stack(out, axis=-1)


@pytest.mark.parametrize("text", sorted(JACOBIAN_CIRCUITS))
def test_circuit_jacobian_matches_finite_differences(text):
    c = parse_circuit(text)
    values = JACOBIAN_CIRCUITS[text]
    assert len(values) == len(c.parameter_names)
    z, jac = c.impedance_and_jacobian(FREQ, values)
    assert z.shape == (FREQ.size,) and jac.shape == (FREQ.size, len(values))
    np.testing.assert_allclose(z, c.impedance(FREQ, values), rtol=1e-12)
    numeric = circuit_finite_difference(c, FREQ, values)
    for k, name in enumerate(c.parameter_names):
        scale = np.abs(numeric[:, k]).max()
        error = np.abs(jac[:, k] - numeric[:, k]).max() / scale
        assert error < 1e-6, f"{text}: dZ/d{name} max error {error:.2e}"


@pytest.mark.parametrize("text", sorted(JACOBIAN_CIRCUITS))
def test_circuit_jacobian_in_a_batch_with_shared_and_own_frequencies(text):
    c = parse_circuit(text)
    base = np.array(JACOBIAN_CIRCUITS[text])
    factors = np.array([1.0, 1.5, 0.6, 2.0])[:, None]
    bounded = np.array([spec.upper < np.inf for spec in
                        (ELEMENTS[s].parameters[i] for s, i in _parameter_specs(c))])
    batch = np.where(bounded, base, base * factors)  # exponents stay inside [0, 1]
    batch[:, bounded] = base[bounded] * np.array([1.0, 0.97, 0.93, 0.99])[:, None]
    # Shared frequencies (N,)
    z, jac = c.impedance_and_jacobian(FREQ, batch)
    assert z.shape == (4, FREQ.size) and jac.shape == (4, FREQ.size, base.size)
    # Own frequencies per row (B, N)
    own = np.stack([FREQ * s for s in (1.0, 0.5, 3.0, 10.0)])
    z_own, jac_own = c.impedance_and_jacobian(own, batch)
    assert z_own.shape == (4, FREQ.size) and jac_own.shape == (4, FREQ.size, base.size)
    for b in range(4):
        z_one, jac_one = c.impedance_and_jacobian(FREQ, batch[b])
        np.testing.assert_allclose(z[b], z_one, rtol=1e-13)
        np.testing.assert_allclose(jac[b], jac_one, rtol=1e-13, atol=0)
        np.testing.assert_allclose(z_own[b], c.impedance(own[b], batch[b]), rtol=1e-12)
        numeric = circuit_finite_difference(c, own[b], batch[b])
        scale = np.abs(numeric).max(axis=0)
        assert (np.abs(jac_own[b] - numeric).max(axis=0) / scale < 1e-6).all()


def _parameter_specs(circuit):
    """(symbol, index) of every parameter, in parameter_names order."""
    out = []
    for name in circuit.elements:
        symbol = name.rstrip("0123456789")
        out += [(symbol, i) for i in range(len(ELEMENTS[symbol].parameters))]
    return out


def test_circuit_jacobian_refuses_a_wrong_parameter_count():
    c = parse_circuit("R0-p(R1,C1)")
    with pytest.raises(InputError, match="3 parameters"):
        c.impedance_and_jacobian(FREQ, [1.0, 2.0])
    with pytest.raises(InputError, match="3 parameters"):
        c.impedance_and_jacobian(FREQ, np.ones((2, 2, 3)))
