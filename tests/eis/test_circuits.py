"""Circuit strings: both notations, series/parallel arithmetic, and bad circuits."""

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.eis import Spectrum, parse_circuit, simulate_spectrum

F = np.logspace(6, -2, 41)
W = 2 * np.pi * F


def test_rc_semicircle_by_hand():
    # R0 + R1 ∥ C1: Re = R0 + R1/(1+(ωRC)²), Im = −R1 ωRC/(1+(ωRC)²).
    r0, r1, c1 = 10.0, 100.0, 1e-6
    x = W * r1 * c1
    z = parse_circuit("R0-p(R1,C1)").impedance(F, [r0, r1, c1])
    np.testing.assert_allclose(z.real, r0 + r1 / (1 + x**2), rtol=1e-12)
    np.testing.assert_allclose(z.imag, -r1 * x / (1 + x**2), rtol=1e-12)


def test_nested_parallel_and_series_by_hand():
    # p(R1,C1) in series with p(R2-W1, C2): the Randles-like arm written out.
    p = {"R1": 5.0, "C1": 1e-7, "R2": 50.0, "W1": 20.0, "C2": 1e-5}
    z = parse_circuit("p(R1,C1)-p(R2-W1,C2)").impedance(F, p)
    arm = p["R2"] + p["W1"] * (1 - 1j) / np.sqrt(W)
    expected = 1 / (1 / p["R1"] + 1j * W * p["C1"]) + 1 / (1 / arm + 1j * W * p["C2"])
    np.testing.assert_allclose(z, expected, rtol=1e-12)


def test_cdc_and_dash_notations_are_the_same_circuit():
    cdc = parse_circuit("R(RQ)(RQ)Q")
    dash = parse_circuit("R0-p(R1,CPE0)-p(R2,CPE1)-CPE2")
    assert cdc.to_string() == dash.to_string()
    values = [10, 100, 1e-6, 0.9, 300, 1e-5, 0.8, 1e-3, 0.7]
    np.testing.assert_allclose(cdc.impedance(F, values), dash.impedance(F, values), rtol=0)


def test_cdc_square_brackets_are_series_inside_parallel():
    assert parse_circuit("R(C[RW])").to_string() == "R0-p(C0,R1-W0)"


def test_parameters_by_name_or_vector_agree():
    c = parse_circuit("R0-p(R1,CPE1)")
    by_name = c.impedance(F, {"R0": 1, "R1": 2, "CPE1_0": 3e-6, "CPE1_1": 0.9})
    np.testing.assert_array_equal(by_name, c.impedance(F, [1, 2, 3e-6, 0.9]))


@pytest.mark.parametrize(("text", "match"), [
    ("R0-p(R1", "not closed"),
    ("R0-X1", "unknown element 'X'"),
    ("R0--R1", "expected an element"),
    ("R0-R0", "used twice"),
    ("p(R1)", "at least two branches"),
    ("R()", "empty brackets"),
    ("R(RQ", "not closed"),
    ("", "non-empty"),
    ("R0-p(R1,C1))", "unexpected"),
])
def test_bad_circuits_are_refused(text, match):
    with pytest.raises(InputError, match=match):
        parse_circuit(text)


def test_wrong_parameters_are_named():
    c = parse_circuit("R0-p(R1,C1)")
    with pytest.raises(InputError, match="missing C1; unknown C2"):
        c.impedance(F, {"R0": 1, "R1": 2, "C2": 3})
    with pytest.raises(InputError, match="3 parameters, got 2"):
        c.impedance(F, [1, 2])


@pytest.mark.parametrize(("frequency", "match"), [
    ([1.0, -1.0], "must be > 0"),
    ([1.0, 0.0], "must be > 0"),
    ([1.0, 1.0], "duplicate frequency 1 Hz"),
    ([1.0, float("nan")], "NaN or infinite"),
])
def test_spectrum_refuses_bad_frequencies(frequency, match):
    with pytest.raises(InputError, match=match):
        Spectrum(frequency, [1 + 1j, 2 + 2j], source="cell.mpt")


def test_spectrum_is_read_only_and_masks_instead_of_deleting():
    raw = np.array([3.0, 2.0, 1.0])
    s = Spectrum(raw, [1, 2, 3], mask=[True, False, True])
    raw[0] = 99  # the caller's array is copied, not locked or shared
    assert s.frequency[0] == 3.0
    with pytest.raises(ValueError):
        s.frequency[0] = 5.0
    assert len(s) == 3 and len(s.masked()) == 2


def test_simulate_is_seeded_and_noise_has_the_asked_level():
    truth = {"R0": 10, "R1": 100, "C1": 1e-6}
    f = np.logspace(6, -1, 2000)
    a = simulate_spectrum("R0-p(R1,C1)", truth, f, noise=0.005, rng=np.random.default_rng(7))
    b = simulate_spectrum("R0-p(R1,C1)", truth, f, noise=0.005, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.impedance, b.impedance)
    exact = parse_circuit("R0-p(R1,C1)").impedance(f, truth)
    relative = (a.impedance - exact) / np.abs(exact)
    # 2000 points: the sample standard deviation is within ~5 % of the true 0.005.
    assert np.std(relative.real) == pytest.approx(0.005, rel=0.08)
    assert np.std(relative.imag) == pytest.approx(0.005, rel=0.08)


def test_simulate_refuses_unseeded_noise_and_adds_drift():
    with pytest.raises(InputError, match="seeded generator"):
        simulate_spectrum("R0", {"R0": 1}, [1.0, 2.0], noise=0.01)
    s = simulate_spectrum("R0", {"R0": 1}, [3.0, 2.0, 1.0], drift_ohm=0.5)
    np.testing.assert_allclose(s.impedance.real, [1.0, 1.25, 1.5])
