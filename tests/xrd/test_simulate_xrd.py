"""The forward model: geometry, intensities, weight fractions, noise, and the synthetic truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.testing import shared_data
from ssbkit.xrd.crystal import Phase, reflections, structure_factors
from ssbkit.xrd.data import ANODES, Instrument
from ssbkit.xrd.profile import chebyshev, lorentz_polarization
from ssbkit.xrd.simulate import (
    PhaseBroadening,
    calculate_pattern,
    scales_from_weight_fractions,
    simulate_pattern,
    weight_fractions,
)
from ssbkit.xrd.structures import li2s, licl

NARROW = Instrument(U=0.0, V=0.0, W=1e-4, wavelengths=ANODES["CuKa"])


def _local_maxima(x, y, lo, hi):
    inside = np.flatnonzero((x > lo) & (x < hi))
    peaks = [i for i in inside if y[i] > y[i - 1] and y[i] >= y[i + 1] and y[i] > 0.05 * y[inside].max()]
    return x[peaks], y[peaks]


def test_ka1_and_ka2_at_their_bragg_angles_with_half_the_weight():
    x = np.arange(70.0, 78.0, 0.0005)
    y = calculate_pattern(x, [licl()], scales=[1.0], instrument=NARROW)
    d = 5.13 / 4  # (400)
    (l1, l2), (h1, h2) = _local_maxima(x, y, 73.0, 75.0)
    for line, (lam, _) in zip((l1, l2), ANODES["CuKa"], strict=True):
        assert line == pytest.approx(math.degrees(2 * math.asin(lam / (2 * d))), abs=1e-3)
    lp1, lp2 = lorentz_polarization([l1, l2], NARROW)
    assert h2 / h1 == pytest.approx(0.5 * lp2 / lp1, rel=0.02)


def test_peak_area_is_scale_multiplicity_f2_lp():
    phase = licl()
    x = np.arange(20.0, 60.0, 0.001)
    ins = Instrument(W=0.002, wavelengths=ANODES["CuKa1"])
    y = calculate_pattern(x, [phase], scales=[0.01], instrument=ins)
    r = reflections(phase, two_theta_min=20, two_theta_max=60, wavelength=ANODES["CuKa1"])
    f2 = structure_factors(phase, r)
    expected = 0.01 * r.multiplicity * f2 * lorentz_polarization(r.two_theta, ins)
    for tt, area in zip(r.two_theta, expected, strict=True):
        near = np.abs(x - tt) < 1.0
        assert np.trapezoid(y[near], x[near]) == pytest.approx(area, rel=1e-3)


def test_zero_shift_moves_the_pattern_rigidly():
    x = np.arange(20.0, 80.0, 0.01)
    base = calculate_pattern(x, [li2s()], scales=[1.0], instrument=Instrument())
    shifted = calculate_pattern(x + 0.05, [li2s()], scales=[1.0], instrument=Instrument(zero=0.05))
    assert shifted == pytest.approx(base, rel=1e-9, abs=1e-9 * base.max())


def test_sample_displacement_moves_peaks_by_2s_cos_theta_over_r():
    x = np.arange(25.0, 40.0, 0.0005)
    ins = Instrument(W=0.001, wavelengths=ANODES["CuKa1"])
    base = calculate_pattern(x, [licl()], scales=[1.0], instrument=ins)
    moved = calculate_pattern(x, [licl()], scales=[1.0], instrument=ins, displacement=0.1,
                              goniometer_radius=200.0)
    for tt in (30.15, 34.95):
        near = np.abs(x - tt) < 0.5
        c0 = np.sum(x[near] * base[near]) / base[near].sum()
        c1 = np.sum(x[near] * moved[near]) / moved[near].sum()
        expected = -math.degrees(2 * 0.1 * math.cos(math.radians(c0 / 2)) / 200.0)
        assert c1 - c0 == pytest.approx(expected, rel=1e-3)


def test_phase_broadening_adds_to_the_instrument():
    x = np.arange(28.0, 32.0, 0.001)
    ins = Instrument(W=0.002, X=0.01, Y=0.02, wavelengths=ANODES["CuKa1"])
    same = Instrument(W=0.002, X=0.04, Y=0.07, U=0.001, wavelengths=ANODES["CuKa1"])
    a = calculate_pattern(x, [licl()], scales=[1.0], instrument=ins,
                          phase_broadening=[PhaseBroadening(X=0.03, Y=0.05, U=0.001)])
    b = calculate_pattern(x, [licl()], scales=[1.0], instrument=same)
    assert a == pytest.approx(b, rel=1e-12, abs=1e-12)


def test_hill_howard_weight_fractions():
    phases = [licl(), li2s()]
    s = scales_from_weight_fractions(phases, [0.75, 0.25])
    assert weight_fractions(phases, s) == pytest.approx([0.75, 0.25], rel=1e-12)
    zmv = np.array([p.cell_mass * p.volume for p in phases])
    assert weight_fractions(phases, [1.0, 1.0]) == pytest.approx(zmv / zmv.sum(), rel=1e-12)
    with pytest.raises(InputError, match="2 phases"):
        weight_fractions(phases, [1.0])


def test_simulate_pattern_is_seeded_and_poisson():
    kwargs = {"weight_fractions": [0.7, 0.3], "background": [500.0, -50.0], "peak_counts": 3000.0}
    a = simulate_pattern([licl(), li2s()], rng=7, **kwargs)
    b = simulate_pattern([licl(), li2s()], rng=np.random.default_rng(7), **kwargs)
    c = simulate_pattern([licl(), li2s()], rng=8, **kwargs)
    assert np.array_equal(a.intensity, b.intensity) and not np.array_equal(a.intensity, c.intensity)
    model = a.metadata["truth"]["model"]
    exact = simulate_pattern([licl(), li2s()], noise=False, **kwargs)
    assert np.array_equal(exact.intensity, model)
    assert (model - chebyshev(a.two_theta, [500.0, -50.0], lo=10, hi=89.98)).max() == pytest.approx(3000.0)
    z = (a.intensity - model) / np.sqrt(model)
    assert abs(z.mean()) < 0.05 and z.std() == pytest.approx(1.0, abs=0.05)
    assert a.metadata["truth"]["weight_fractions"] == pytest.approx([0.7, 0.3])
    assert a.wavelengths == ANODES["CuKa"]
    with pytest.raises(InputError, match="seed"):
        simulate_pattern([licl()], weight_fractions=[1.0])
    with pytest.raises(InputError, match="either scales or weight_fractions"):
        simulate_pattern([licl()], rng=1)


def test_bad_input_is_named():
    x = np.arange(10.0, 60.0, 0.02)
    with pytest.raises(InputError, match="no reflection of LiCl"):
        calculate_pattern(np.arange(5.0, 20.0, 0.02), [licl()], scales=[1.0], instrument=Instrument())
    with pytest.raises(InputError, match="2 scales for 1 phases"):
        calculate_pattern(x, [licl()], scales=[1.0, 2.0], instrument=Instrument())
    with pytest.raises(InputError, match="background"):
        calculate_pattern(x, [licl()], scales=[1.0], instrument=Instrument(), background=np.ones(100))
    with pytest.raises(InputError, match="Instrument"):
        calculate_pattern(x, [licl()], scales=[1.0], instrument="CuKa")
    with pytest.raises(InputError, match="increase"):
        calculate_pattern(x[::-1], [licl()], scales=[1.0], instrument=Instrument())
    with pytest.raises(InputError, match="one value per phase"):
        calculate_pattern(x, [licl(), li2s()], scales=[1.0, 1.0], instrument=Instrument(),
                          phase_broadening=[{"X": 0.1}])
    with pytest.raises(InputError, match="zero or negative width"):
        calculate_pattern(x, [licl()], scales=[1.0], instrument=Instrument(W=0.0))


# -- the synthetic three-phase pattern of shared/data/xrd, with the truth of its README --------------

TRUTH_BROADENING = [{"X": 0.05, "Y": 0.12}, {"X": 0.02, "Y": 0.05}, {"X": 0.02, "Y": 0.05}]
TRUTH_BACKGROUND = [300, -60, 30, -10, 5, 0]


@pytest.fixture(scope="module")
def synth3():
    folder = ("xrd", "synthetic_argyrodite")
    x, y, sigma = np.loadtxt(shared_data(*folder, "synth3.xy")).T
    phases = [Phase.from_cif(shared_data(*folder, "argyrodite.cif")).with_cell({"a": 9.8532}),
              Phase.from_cif(shared_data(*folder, "LiCl.cif")).with_cell({"a": 5.1300}),
              Phase.from_cif(shared_data(*folder, "Li2S.cif")).with_cell({"a": 5.7080})]
    instrument = Instrument(U=0.004, V=-0.002, W=0.002, zero=0.02, wavelengths=ANODES["CuKa"])
    return x, y, sigma, phases, instrument


def _net(x, phases, instrument, scales):
    return calculate_pattern(x, phases, scales=scales, instrument=instrument,
                             phase_broadening=TRUTH_BROADENING)


def _rwp(y, sigma, calc):
    w = 1 / sigma**2
    return math.sqrt(np.sum(w * (y - calc) ** 2) / np.sum(w * y**2))


def _rwp_with_truth(synth3, phases):
    """Rwp with every truth value of the README; the one number it does not give, the overall
    scale, is the closed-form weighted least-squares factor of the net pattern."""
    x, y, sigma, _, instrument = synth3
    background = chebyshev(x, TRUTH_BACKGROUND, lo=x[0], hi=x[-1])
    net = _net(x, phases, instrument, scales_from_weight_fractions(phases, [0.90, 0.06, 0.04]))
    w = 1 / sigma**2
    k = np.sum(w * (y - background) * net) / np.sum(w * net**2)
    return _rwp(y, sigma, background + k * net)


def test_synthetic_pattern_is_matched_to_its_noise_with_the_truth(synth3):
    x, y, sigma, phases, _ = synth3
    rwp = _rwp_with_truth(synth3, phases)
    rexp = math.sqrt((len(y) - 1) / np.sum(y**2 / sigma**2))
    assert rexp == pytest.approx(0.0516, abs=5e-4)
    assert rwp < 1.05 * rexp  # χ²_ν < 1.1: the model is the one that made the data, up to noise
    assert rwp == pytest.approx(0.053, abs=0.002)


def test_synthetic_pattern_gives_back_the_truth_weight_fractions(synth3):
    """Three free scales (background and everything else at the truth), by linear least squares."""
    x, y, sigma, phases, instrument = synth3
    background = chebyshev(x, TRUTH_BACKGROUND, lo=x[0], hi=x[-1])
    columns = np.column_stack([calculate_pattern(x, [p], scales=[1.0], instrument=instrument,
                                                 phase_broadening=[b])
                               for p, b in zip(phases, TRUTH_BROADENING, strict=True)])
    w = np.sqrt(1 / sigma**2)
    scales, *_ = np.linalg.lstsq(columns * w[:, None], (y - background) * w, rcond=None)
    assert weight_fractions(phases, scales) == pytest.approx([0.90, 0.06, 0.04], abs=0.003)


@pytest.mark.parametrize("wrong", ["cell", "halide"])
def test_synthetic_pattern_negative_controls(synth3, wrong):
    _, y, sigma, phases, _ = synth3
    if wrong == "cell":
        changed = [phases[0].with_cell({"a": 9.8532 + 0.01}), *phases[1:]]
    else:  # all the halide on 4a as Cl, none as Br
        label = next(s.label for s in phases[0].sites if s.xyz == (0.0, 0.0, 0.0))
        changed = [phases[0].with_sites({label: {"species": {"Cl": 1.0}}}), *phases[1:]]
    assert _rwp_with_truth(synth3, changed) > 2 * _rwp_with_truth(synth3, phases)


def test_positive_displacement_is_a_recessed_sample_by_ray_tracing():
    """Regression (the docstring called positive s 'above the focusing circle'): trace the central
    ray onto a surface recessed by s below the goniometer axis, reflect it and intersect it with
    the detector circle; the apparent 2θ is the one the model gives for displacement = +s."""
    s, radius, x = 0.2, 200.0, np.arange(25.0, 40.0, 0.0005)
    ins = Instrument(W=0.001, wavelengths=ANODES["CuKa1"])
    base = calculate_pattern(x, [licl()], scales=[1.0], instrument=ins)
    moved = calculate_pattern(x, [licl()], scales=[1.0], instrument=ins, displacement=s,
                              goniometer_radius=radius)
    near = np.abs(x - 30.15) < 0.5
    two_theta = np.sum(x[near] * base[near]) / base[near].sum()
    theta = math.radians(two_theta / 2)
    hit = np.array([s / math.tan(theta), -s])  # the ray aimed at the axis meets the surface y = −s here
    out = np.array([math.cos(theta), math.sin(theta)])  # specular reflection
    along = -hit @ out + math.sqrt((hit @ out) ** 2 - hit @ hit + radius**2)
    end = hit + along * out
    traced = two_theta / 2 + math.degrees(math.atan2(end[1], end[0]))  # source at θ, detector at ψ
    modelled = np.sum(x[near] * moved[near]) / moved[near].sum()
    assert traced < two_theta  # recessed: to lower 2θ
    assert modelled == pytest.approx(traced, abs=2e-4)
