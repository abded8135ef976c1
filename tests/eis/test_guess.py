"""Starting values read from the data: the processes a Voigt description finds, the starts it
gives each circuit, and how arcs of one form are numbered after a fit."""

import math

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.eis import ELEMENTS, Spectrum, parse_circuit, simulate_spectrum
from ssbkit.eis.fit import fit_circuit
from ssbkit.eis.guess import Process, find_processes, guess_candidates, guess_parameters

F = np.logspace(6, -1, 71)
WIDE = np.logspace(7, -2, 91)
TWO_RC = "R0-p(R1,C1)-p(R2,C2)"


def two_rc(r1, tau1, r2, tau2, frequency=WIDE, **options):
    return simulate_spectrum(TWO_RC, {"R0": 10.0, "R1": r1, "C1": tau1 / r1, "R2": r2, "C2": tau2 / r2},
                             frequency, **options)


# -- find_processes ----------------------------------------------------------------------------

@pytest.mark.parametrize(("r1", "tau1", "r2", "tau2"), [
    (100.0, 1e-6, 1000.0, 1e-3),
    (1000.0, 1e-6, 100.0, 1e-3),  # the small arc is the slow one
    (500.0, 3e-7, 500.0, 1e-3),
    (100.0, 1e-6, 1000.0, 3e-5),  # 1.5 decades apart
    (200.0, 1e-5, 50.0, 1e-2),
])
def test_find_processes_finds_both_arcs_of_a_two_arc_spectrum(r1, tau1, r2, tau2):
    processes = find_processes(two_rc(r1, tau1, r2, tau2))
    assert len(processes) == 2
    assert all(isinstance(p, Process) for p in processes)
    fast, slow = processes  # fastest first
    assert fast.resistance == pytest.approx(r1, rel=0.05) and fast.tau == pytest.approx(tau1, rel=0.2)
    assert slow.resistance == pytest.approx(r2, rel=0.05) and slow.tau == pytest.approx(tau2, rel=0.2)


def test_find_processes_sees_one_arc_as_one_process():
    s = simulate_spectrum("R0-p(R1,C1)", {"R0": 10.0, "R1": 300.0, "C1": 1e-7}, WIDE)
    (p,) = find_processes(s)
    assert p.resistance == pytest.approx(300.0, rel=0.05) and p.tau == pytest.approx(3e-5, rel=0.2)


def test_find_processes_uses_only_unmasked_points():
    s = two_rc(100.0, 1e-6, 1000.0, 1e-3)
    spoiled = s.impedance.copy()
    spoiled[[10, 40, 70]] = [5e4 + 0j, -3e3 - 1e4j, 1e5 + 1e5j]  # garbage, masked
    mask = np.ones(len(s), bool)
    mask[[10, 40, 70]] = False
    with_mask = find_processes(Spectrum(s.frequency, spoiled, mask))
    removed = find_processes(Spectrum(s.frequency[mask], s.impedance[mask]))
    assert with_mask == removed
    # and the garbage, if used, would change the answer (the mask matters)
    assert find_processes(Spectrum(s.frequency, spoiled)) != removed


def test_find_processes_separates_two_depressed_arcs():
    s = simulate_spectrum("R0-ZARC1-ZARC2", {"R0": 10.0, "ZARC1_0": 100.0, "ZARC1_1": 1e-6, "ZARC1_2": 0.9,
                                             "ZARC2_0": 1000.0, "ZARC2_1": 1e-3, "ZARC2_2": 0.8}, WIDE)
    large = [p for p in find_processes(s) if p.resistance > 10.0]
    assert len(large) == 2
    assert large[0].resistance == pytest.approx(100.0, rel=0.1)
    assert large[1].resistance == pytest.approx(1000.0, rel=0.1)


# -- guess_parameters ----------------------------------------------------------------------------

def test_guess_of_a_two_arc_circuit_is_close_to_the_truth():
    truth = {"R0": 10.0, "R1": 100.0, "C1": 1e-9, "R2": 1000.0, "C2": 1e-6}
    g = guess_parameters(simulate_spectrum(TWO_RC, truth, np.logspace(7, -2, 55)), TWO_RC)
    assert set(g) == set(truth)
    for name in ("R0", "R1", "R2"):
        assert g[name] == pytest.approx(truth[name], rel=0.05), name
    for name in ("C1", "C2"):
        assert g[name] == pytest.approx(truth[name], rel=0.2), name


def test_guess_reads_the_blocking_spike_and_the_inductive_tail():
    truth = {"L0": 1e-6, "R0": 10.0, "R1": 100.0, "CPE1_0": 1e-9, "CPE1_1": 0.9, "CPE2_0": 1e-6,
             "CPE2_1": 0.55}
    circuit = "L0-R0-p(R1,CPE1)-CPE2"
    g = guess_parameters(simulate_spectrum(circuit, truth, WIDE), circuit)
    # The spike: n from the slope of log|Z''| at the lowest frequencies, Q from its level.
    assert g["CPE2_1"] == pytest.approx(0.55, abs=0.02)
    assert g["CPE2_0"] == pytest.approx(1e-6, rel=0.1)
    assert g["L0"] == pytest.approx(1e-6, rel=0.1)
    assert g["R1"] == pytest.approx(100.0, rel=0.1)
    # an ideal capacitor as the spike
    spike_c = {"R0": 10.0, "R1": 100.0, "C1": 1e-9, "C2": 1e-6}
    g = guess_parameters(simulate_spectrum("R0-p(R1,C1)-C2", spike_c, WIDE), "R0-p(R1,C1)-C2")
    assert g["C2"] == pytest.approx(1e-6, rel=0.1) and g["R1"] == pytest.approx(100.0, rel=0.1)


def test_guess_finds_an_ideal_bulk_arc_beside_a_depressed_spike():
    truth = {"R0": 10.0, "R1": 100.0, "C1": 1e-9, "CPE2_0": 1e-6, "CPE2_1": 0.7}
    g = guess_parameters(simulate_spectrum("R0-p(R1,C1)-CPE2", truth, WIDE), "R0-p(R1,C1)-CPE2")
    assert g["R1"] == pytest.approx(100.0, rel=0.2)
    assert g["C1"] == pytest.approx(1e-9, rel=0.5)


@pytest.mark.parametrize("circuit", [
    "L0-R0-p(R1,ZARC1)-HN1-G1-Ws1", "R0-W1", "p(R1,C1)", "R0-p(R1,CPE1)-Wo1", "R0-L1",
    "R0-p(R1,C1)-p(R2,C2)-p(R3,C3)-p(R4,C4)-p(R5,C5)-p(R6,C6)", "R(RQ)(RQ)Q",
])
def test_every_circuit_gets_a_start_inside_its_bounds(circuit):
    model = parse_circuit(circuit)
    g = guess_parameters(two_rc(100.0, 1e-6, 1000.0, 1e-3, frequency=F), model)
    assert set(g) == set(model.parameter_names)
    specs = {}
    for leaf in model.elements:
        element = ELEMENTS[leaf.rstrip("0123456789")]
        specs.update(zip(element.parameter_names(leaf), element.parameters, strict=True))
    for name, value in g.items():
        assert math.isfinite(value), name
        assert specs[name].lower <= value <= specs[name].upper, name
        if specs[name].unit != "1":
            assert value > 0, name


def test_candidates_are_ranked_by_their_misfit():
    s = two_rc(100.0, 1e-6, 1000.0, 1e-3, noise=0.005, rng=np.random.default_rng(0))
    candidates, floor = guess_candidates(s, TWO_RC)
    assert len(candidates) >= 2  # at least both assignments of the two processes to the arcs
    model = parse_circuit(TWO_RC)
    misfit = [float(np.mean(np.abs(model.impedance(s.frequency, c) - s.impedance) ** 2
                            / np.abs(s.impedance) ** 2)) for c in candidates]
    assert misfit == sorted(misfit)
    assert candidates[0] == guess_parameters(s, TWO_RC)
    # The Voigt description's residual is of the order of the noise (0.5 % of |Z| a part).
    assert 0.001 < floor < 0.02


# -- how the fit uses the guess ----------------------------------------------------------------

@pytest.mark.parametrize(("circuit", "truth"), [
    # The diffusion arc (slow) written before the fast R‖C arc.
    ("R0-p(R2-Wo1,C2)-p(R1,C1)",
     {"R0": 10.0, "R2": 300.0, "Wo1_0": 200.0, "Wo1_1": 10.0, "C2": 1e-4, "R1": 100.0, "C1": 1e-7}),
    # A slow R‖CPE arc first, the series resistor in the middle.
    ("p(R2,CPE2)-R0-p(R1,C1)",
     {"R2": 1000.0, "CPE2_0": 1e-5, "CPE2_1": 0.8, "R0": 10.0, "R1": 100.0, "C1": 1e-8}),
])
def test_a_circuit_written_slow_arc_first_is_still_fitted_to_the_truth(circuit, truth):
    fit = fit_circuit(simulate_spectrum(circuit, truth, F), circuit)
    assert fit.success
    for name, value in truth.items():
        assert fit.parameters[name].value == pytest.approx(value, rel=1e-6), name


def test_arcs_of_one_form_are_numbered_fast_to_slow():
    # The truth labels the slow arc 1; the fit's 1 is the fast arc whatever the labels.
    truth = {"R0": 10.0, "R1": 1000.0, "C1": 1e-6, "R2": 100.0, "C2": 1e-8}
    s = simulate_spectrum(TWO_RC, truth, F)
    # From the guess, and from a start at the truth's own labels (which the fit reaches as
    # they are, so only the renumbering can put the fast arc first).
    for fit in (fit_circuit(s, TWO_RC), fit_circuit(s, TWO_RC, initial=truth)):
        p = fit.values()
        assert p["R1"] == pytest.approx(100.0, rel=1e-6) and p["C1"] == pytest.approx(1e-8, rel=1e-6)
        assert p["R2"] == pytest.approx(1000.0, rel=1e-6) and p["C2"] == pytest.approx(1e-6, rel=1e-6)
        # The relabelled parameters describe the same spectrum.
        np.testing.assert_allclose(fit.predict(s.frequency), s.impedance, rtol=1e-9)


def test_three_arcs_come_out_sorted_by_time_constant():
    truth = {"R0": 10.0, "R1": 300.0, "C1": 1e-3 / 300.0, "R2": 100.0, "C2": 1e-7 / 100.0,
             "R3": 1000.0, "C3": 1e-5 / 1000.0}
    circuit = "R0-p(R1,C1)-p(R2,C2)-p(R3,C3)"
    fit = fit_circuit(simulate_spectrum(circuit, truth, WIDE), circuit)
    p = fit.values()
    taus = [p[f"R{i}"] * p[f"C{i}"] for i in (1, 2, 3)]
    np.testing.assert_allclose(taus, [1e-7, 1e-5, 1e-3], rtol=1e-6)
    np.testing.assert_allclose([p["R1"], p["R2"], p["R3"]], [100.0, 1000.0, 300.0], rtol=1e-6)


def test_relabelling_carries_errors_and_correlations_with_the_values():
    s = simulate_spectrum(TWO_RC, {"R0": 10.0, "R1": 100.0, "C1": 1e-8, "R2": 1000.0, "C2": 1e-6}, F,
                          noise=0.005, rng=np.random.default_rng(4))
    fast_first = fit_circuit(s, TWO_RC, initial={"R0": 10.0, "R1": 100.0, "C1": 1e-8, "R2": 1000.0,
                                                 "C2": 1e-6})
    slow_first = fit_circuit(s, TWO_RC, initial={"R0": 10.0, "R1": 1000.0, "C1": 1e-6, "R2": 100.0,
                                                 "C2": 1e-8})
    for name, e in fast_first.parameters.items():
        other = slow_first.parameters[name]
        assert other.value == pytest.approx(e.value, rel=1e-6), name
        assert other.stderr == pytest.approx(e.stderr, rel=1e-3), name
    for a, row in fast_first.correlation.items():
        for b, value in row.items():
            assert slow_first.correlation[a][b] == pytest.approx(value, abs=1e-6), (a, b)
    assert fast_first.correlation["R1"]["C1"] == pytest.approx(fast_first.correlation["C1"]["R1"])


def test_arcs_are_not_relabelled_when_one_of_them_is_held():
    # C2 is held at the fast arc's capacitance, so arc 2 must stay the fast one.
    truth = {"R0": 10.0, "R1": 1000.0, "C1": 1e-6, "R2": 100.0, "C2": 1e-8}
    fit = fit_circuit(simulate_spectrum(TWO_RC, truth, F), TWO_RC, fixed={"C2": 1e-8})
    for name, value in truth.items():
        assert fit.parameters[name].value == pytest.approx(value, rel=1e-6), name


# -- regressions -------------------------------------------------------------------------------

def test_a_spectrum_zero_everywhere_is_an_input_error_naming_its_source():
    """Regression: 1/|Z| of an all-zero sweep raised ValueError (and RuntimeWarnings)."""
    dead = Spectrum(F, np.zeros(F.size, complex), source="raw/eis/shorted.csv")
    for call in (lambda: find_processes(dead), lambda: guess_parameters(dead, "R0-CPE1"),
                 lambda: fit_circuit(dead, "R0-CPE1")):
        with pytest.raises(InputError, match=r"^raw/eis/shorted\.csv: the impedance is zero everywhere"):
            call()


def test_a_point_at_the_origin_is_left_out_of_the_description():
    s = two_rc(100.0, 1e-6, 1000.0, 1e-3)
    z = s.impedance.copy()
    z[40] = 0.0  # one dropped reading
    fast, slow = find_processes(Spectrum(s.frequency, z))
    assert fast.resistance == pytest.approx(100.0, rel=0.05)
    assert slow.resistance == pytest.approx(1000.0, rel=0.05)
