"""Pellet conductivity, effective capacitance, arc assignment and mixed conductors
(ssbkit.eis.conductivity).

Truth comes from closed forms written out here (σ = L/(R·A) with d and L in cm; the apex of an
R‖CPE arc found numerically from the circuit's impedance), from circuits with known
capacitances, and from the EISFitpython series (Adediwura et al. 2024): the authors' fitted R,
Q, n at 413–473 K, their conductivity table and their effective capacitances.
"""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.core.results import Estimate
from ssbkit.eis import parse_circuit
from ssbkit.eis.conductivity import (
    PelletGeometry,
    assign_arcs,
    conductivity_from_fit,
    effective_capacitance,
    ionic_conductivity,
    layer_ionic_conductivity,
    peak_frequency,
)
from ssbkit.testing import assert_single_json_document, shared_data

D_CM, L_CM = 0.8, 0.21  # the EISFitpython pellet
PELLET = PelletGeometry.from_diameter(8.0, 2.1)
CIRCUIT = "p(R1,CPE1)-p(R2,CPE2)-CPE3"  # their (R1|Q1)+(R2|Q2)+Q3
NAMES = ("R1", "CPE1_0", "CPE1_1", "R2", "CPE2_0", "CPE2_1", "CPE3_0", "CPE3_1")


def sigma_by_hand(r_ohm: float, d_cm: float = D_CM, l_cm: float = L_CM) -> float:
    return l_cm / (r_ohm * math.pi * d_cm**2 / 4)


# -- geometry and σ = L/(R·A) --------------------------------------------------------------

def test_bulk_conductivity_of_the_eisfitpython_pellet_at_413_k():
    r = ionic_conductivity(1.462e5, PELLET, process="bulk", temperature_K=413)
    assert r.conductivity.unit == "S/cm"
    assert r.conductivity.value == pytest.approx(sigma_by_hand(1.462e5), rel=1e-12)
    assert f"{r.conductivity.value:.4g}" == "2.858e-06"
    assert r.process == "bulk" and r.temperature_K == 413


def test_uncertainty_adds_thickness_resistance_and_twice_the_diameter_in_quadrature():
    d, dd, length, dl, res, dr = 10.0, 0.05, 1.2, 0.03, 250.0, 4.0
    g = PelletGeometry.from_diameter(d, length, diameter_stderr_mm=dd, thickness_stderr_mm=dl)
    r = ionic_conductivity(Estimate(res, dr, "Ohm"), g)
    expected = math.sqrt((dl / length) ** 2 + (dr / res) ** 2 + (2 * dd / d) ** 2)
    assert r.conductivity.relative_stderr == pytest.approx(expected, rel=1e-6)
    assert g.area_cm2.relative_stderr == pytest.approx(2 * dd / d, rel=1e-6)


def test_exact_geometry_and_a_resistance_without_stderr_give_an_unknown_stderr():
    r = ionic_conductivity(100.0, PELLET)
    assert math.isnan(r.conductivity.stderr)
    r = ionic_conductivity(Estimate(100.0, 1.0, "Ohm"), PELLET)
    assert r.conductivity.relative_stderr == pytest.approx(0.01, rel=1e-9)


def test_resistance_in_kilo_ohm_is_converted():
    a = ionic_conductivity(Estimate(146.2, 1.0, "kOhm"), PELLET)
    b = ionic_conductivity(Estimate(1.462e5, 1e3, "Ohm"), PELLET)
    assert a.conductivity.value == pytest.approx(b.conductivity.value, rel=1e-12)
    assert a.resistance.unit == "Ohm"


def test_area_override():
    g = PelletGeometry.from_area(0.5, 2.0, area_stderr_cm2=0.005)
    r = ionic_conductivity(40.0, g)
    assert r.conductivity.value == pytest.approx(0.2 / (40.0 * 0.5), rel=1e-12)
    assert g.area_cm2.relative_stderr == pytest.approx(0.01)


def test_thickness_from_mass_and_density_counts_the_correlation_with_the_area():
    # L = m/(ρA), so σ = L/(RA) = m/(ρ A² R): an area error enters twice, not √2 times.
    m_mg, rho, d = 150.0, 1.8, 10.0
    g = PelletGeometry.from_mass(m_mg, rho, diameter_mm=d, diameter_stderr_mm=0.1)
    area = math.pi * 1.0**2 / 4
    assert g.thickness_cm.value == pytest.approx(0.150 / (rho * area), rel=1e-12)
    r = ionic_conductivity(Estimate(100.0, 0.0, "Ohm"), g)
    assert r.conductivity.relative_stderr == pytest.approx(2 * (2 * 0.1 / d), rel=1e-6)
    g = PelletGeometry.from_mass(m_mg, rho, area_cm2=0.7, mass_stderr_mg=1.5,
                                 density_stderr_g_cm3=0.018)
    assert g.thickness_cm.relative_stderr == pytest.approx(math.hypot(0.01, 0.01), rel=1e-6)


def test_report_shows_millisiemens_and_json_is_strict():
    r = ionic_conductivity(Estimate(20.0, 0.2, "Ohm"), PelletGeometry.from_diameter(10.0, 1.0),
                           process="intercept")
    text = r.report()
    assert "mS/cm" in text and "intercept conductivity" in text
    data = assert_single_json_document(r.to_json())
    assert data["conductivity"]["unit"] == "S/cm" and data["process"] == "intercept"
    assert data["geometry"]["thickness_cm"]["value"] == pytest.approx(0.1)
    assert "conductivity [S/cm]" in r.to_frame().columns


@pytest.mark.parametrize("bad", [float("nan"), -5.0, 0.0, "x", float("inf")])
def test_bad_resistance_is_refused_by_name(bad):
    with pytest.raises(InputError, match="resistance"):
        ionic_conductivity(bad, PELLET)


@pytest.mark.parametrize("kwargs, name", [
    (dict(diameter_mm=-8, thickness_mm=2.1), "diameter_mm"),
    (dict(diameter_mm=8, thickness_mm=0), "thickness_mm"),
    (dict(diameter_mm=8, thickness_mm=float("nan")), "thickness_mm"),
    (dict(diameter_mm=8, thickness_mm=2, diameter_stderr_mm=-1), "diameter_stderr_mm"),
])
def test_bad_geometry_is_refused_by_name(kwargs, name):
    with pytest.raises(InputError, match=name):
        PelletGeometry.from_diameter(**kwargs)


def test_other_bad_arguments():
    with pytest.raises(InputError, match="geometry"):
        ionic_conductivity(10.0, {"diameter_mm": 8})
    with pytest.raises(InputError, match="process"):
        ionic_conductivity(10.0, PELLET, process="ionic")
    with pytest.raises(InputError, match="diameter_mm and area_cm2"):
        PelletGeometry.from_mass(100, 1.8)
    with pytest.raises(InputError, match="temperature_K"):
        ionic_conductivity(10.0, PELLET, temperature_K=-3)


# -- effective capacitance and peak frequency ----------------------------------------------

def test_effective_capacitance_closed_form_and_limits():
    r, q, n = 2.0e5, 7e-11, 0.82
    assert effective_capacitance(r, q, n).value == pytest.approx((q * r ** (1 - n)) ** (1 / n), rel=1e-12)
    assert effective_capacitance(r, q, 1.0).value == pytest.approx(q, rel=1e-12)
    with pytest.raises(InputError, match="n"):
        effective_capacitance(r, q, 1.2)
    with pytest.raises(InputError, match="q"):
        effective_capacitance(r, -q, 0.9)


def test_peak_frequency_is_the_apex_of_the_simulated_arc():
    r, q, n = 1.0e5, 2e-10, 0.8
    f = np.logspace(0, 7, 20001)
    z = parse_circuit("p(R1,CPE1)").impedance(f, {"R1": r, "CPE1_0": q, "CPE1_1": n})
    apex = f[np.argmax(-z.imag)]
    assert peak_frequency(r, q, n).value == pytest.approx(apex, rel=2e-3)
    # and the effective capacitance is the C of an ideal arc with that apex
    assert effective_capacitance(r, q, n).value == pytest.approx(1 / (2 * math.pi * apex * r), rel=2e-3)


def test_effective_capacitance_stderr_matches_a_numerical_derivative():
    r, q, n = Estimate(1.5e5, 1.2e4, "Ohm"), Estimate(6.5e-11, 1.1e-11), Estimate(0.84, 0.014)

    def c(rv, qv, nv):
        return (qv * rv ** (1 - nv)) ** (1 / nv)

    base = c(r.value, q.value, n.value)
    terms = []
    for i, e in enumerate((r, q, n)):
        x = [r.value, q.value, n.value]
        h = 1e-7 * x[i]
        x[i] += h
        up = c(*x)
        x[i] -= 2 * h
        terms.append((up - c(*x)) / (2 * h) * e.stderr)
    got = effective_capacitance(r, q, n)
    assert got.value == pytest.approx(base, rel=1e-12)
    assert got.stderr == pytest.approx(math.sqrt(sum(t * t for t in terms)), rel=1e-5)
    assert math.isnan(effective_capacitance(r, q, 0.84).stderr)  # n without stderr: unknown


# -- arc assignment ------------------------------------------------------------------------

def labels(arcs):
    return {a.elements: a.process for a in arcs}


def test_sulfide_at_room_temperature_intercept_and_spike():
    arcs = assign_arcs("R0-CPE1", {"R0": 25.0, "CPE1_0": 3e-6, "CPE1_1": 0.88})
    assert labels(arcs) == {("R0",): "intercept", ("CPE1",): "electrode"}
    r = conductivity_from_fit({"R0": Estimate(25.0, 0.5, "Ohm"), "CPE1_0": 3e-6, "CPE1_1": 0.88},
                              PelletGeometry.from_diameter(10.0, 1.0), circuit="R0-CPE1")
    assert r.process == "intercept" and "auto chose intercept" in r.message
    assert r.conductivity.value == pytest.approx(sigma_by_hand(25.0, 1.0, 0.1), rel=1e-12)
    with pytest.raises(InputError, match="no bulk resistance.*intercept"):
        conductivity_from_fit({"R0": 25.0, "CPE1_0": 3e-6, "CPE1_1": 0.88}, PELLET,
                              circuit="R0-CPE1", process="bulk")


def test_capacitance_classes_and_the_order_rule():
    params = {"R0": 3.0, "R1": 1e4, "C1": 8e-12, "R2": 5e4, "C2": 3e-12, "R3": 2e3, "C3": 4e-8,
              "R4": 1e3, "C4": 2e-6, "CPE5_0": 1e-5, "CPE5_1": 0.8}
    # the arcs written out of order: the rule must not depend on where they stand
    arcs = assign_arcs("R0-p(R1,C1)-p(R3,C3)-p(R4,C4)-p(R2,C2)-CPE5", params)
    assert labels(arcs) == {("R0",): "intercept", ("R2", "C2"): "bulk", ("R1", "C1"): "grain_boundary",
                            ("R3", "C3"): "surface_layer", ("R4", "C4"): "electrode",
                            ("CPE5",): "electrode"}
    caps = [a.capacitance.value for a in arcs if len(a.elements) == 2]
    assert caps == sorted(caps)


def test_negative_control_a_lone_arc_of_grain_boundary_capacitance_is_not_bulk():
    arcs = assign_arcs("R0-p(R1,C1)-CPE2", {"R0": 10, "R1": 1e3, "C1": 5e-9, "CPE2_0": 1e-6,
                                            "CPE2_1": 0.9})
    assert labels(arcs)[("R1", "C1")] == "grain_boundary"
    with pytest.raises(InputError, match="no bulk"):
        conductivity_from_fit({"R0": 10, "R1": 1e3, "C1": 5e-9, "CPE2_0": 1e-6, "CPE2_1": 0.9},
                              PELLET, circuit="R0-p(R1,C1)-CPE2", process="bulk")


def test_zarc_effective_capacitance_is_tau_over_r():
    arcs = assign_arcs("ZARC1-CPE2", {"ZARC1_0": 1e5, "ZARC1_1": 1e-6, "ZARC1_2": 0.85,
                                      "CPE2_0": 1e-6, "CPE2_1": 0.9})
    zarc = arcs[0]
    assert zarc.capacitance.value == pytest.approx(1e-11, rel=1e-12) and zarc.process == "bulk"
    # the same arc written as R‖CPE with Q = τ^φ/R has the same effective capacitance
    q = 1e-6**0.85 / 1e5
    assert effective_capacitance(1e5, q, 0.85).value == pytest.approx(1e-11, rel=1e-9)


def test_assign_overrides_the_rule_and_is_checked():
    params = {"R1": 1e4, "C1": 3e-11, "CPE2_0": 1e-6, "CPE2_1": 0.9}
    assert labels(assign_arcs("p(R1,C1)-CPE2", params))[("R1", "C1")] == "bulk"
    arcs = assign_arcs("p(R1,C1)-CPE2", params, assign={"R1": "grain_boundary"})
    assert labels(arcs)[("R1", "C1")] == "grain_boundary"
    with pytest.raises(InputError, match="R7"):
        assign_arcs("p(R1,C1)-CPE2", params, assign={"R7": "bulk"})
    with pytest.raises(InputError, match="assign"):
        assign_arcs("p(R1,C1)-CPE2", params, assign={"R1": "blocking"})


def test_total_sums_intercept_bulk_and_grain_boundary_not_the_surface_layer():
    params = {"R0": Estimate(5.0, 0.3, "Ohm"), "R1": Estimate(100.0, 4.0, "Ohm"), "C1": 5e-12,
              "R2": Estimate(300.0, 12.0, "Ohm"), "C2": 2e-9, "R3": 50.0, "C3": 3e-8,
              "CPE4_0": 3e-6, "CPE4_1": 0.9}
    fit = SimpleNamespace(parameters=params, circuit="R0-p(R1,C1)-p(R2,C2)-p(R3,C3)-CPE4",
                          success=True, metadata={"temperature_K": 298.15})
    r = conductivity_from_fit(fit, PELLET, process="total")
    assert r.resistance.value == pytest.approx(405.0)
    assert r.resistance.stderr == pytest.approx(math.sqrt(0.3**2 + 4**2 + 12**2))
    assert r.temperature_K == 298.15 and "R3" in r.message and "not counted" in r.message
    b = conductivity_from_fit(fit, PELLET, process="auto")
    assert b.process == "bulk" and b.resistance.value == 100.0
    gb = conductivity_from_fit(fit, PELLET, process="grain_boundary", temperature_K=300)
    assert gb.resistance.value == 300.0 and gb.temperature_K == 300
    assert list(r.arc_table()["process"]) == ["intercept", "bulk", "grain_boundary", "surface_layer",
                                              "electrode"]
    data = assert_single_json_document(r.to_json())
    assert [a["process"] for a in data["arcs"]][1] == "bulk"
    assert data["arcs"][1]["capacitance"] == {"value": 5e-12, "stderr": None, "unit": "F"}


def test_a_failed_fit_gives_a_failed_result():
    fit = SimpleNamespace(parameters={"R0": 20.0, "CPE1_0": 1e-6, "CPE1_1": 0.9}, circuit="R0-CPE1",
                          success=False, metadata={})
    r = conductivity_from_fit(fit, PELLET)
    assert not r.success and "did not succeed" in r.message


def test_fit_inputs_are_checked():
    with pytest.raises(InputError, match="circuit="):
        conductivity_from_fit({"R0": 1.0}, PELLET)
    with pytest.raises(InputError, match="CPE1_1"):
        conductivity_from_fit({"R0": 1.0, "CPE1_0": 1e-6}, PELLET, circuit="R0-CPE1")
    with pytest.raises(InputError, match="fit"):
        conductivity_from_fit(object(), PELLET)
    with pytest.raises(InputError, match="R1"):
        assign_arcs("p(R1,C1)", {"R1": -5.0, "C1": 1e-12})
    with pytest.raises(InputError, match="R1"):
        assign_arcs("p(R1,C1)", {"R1": float("nan"), "C1": 1e-12})


# -- the EISFitpython series ---------------------------------------------------------------

def read_batch_report():
    """{temperature [K]: {parameter name: Estimate}} from the authors' batch fit report."""
    text = shared_data("eis", "EISFitpython", "Example3_reference_outputs",
                       "Batch_EISfit_Report.txt").read_text(encoding="utf-8")
    out = {}
    pieces = re.split(r"Data_(\d+)K", text)[1:]
    for temperature, body in zip(pieces[::2], pieces[1::2], strict=True):
        rows = re.findall(r"^\s*[RQn]\d =\s+(\S+)\s+(\S+)", body, flags=re.M)[:8]
        out[float(temperature)] = {n: Estimate(float(v), float(s)) for n, (v, s) in
                                   zip(NAMES, rows, strict=True)}
    return out


def read_table(name, section):
    """Rows of (T, value) from a section of one of the authors' reports."""
    text = shared_data("eis", "EISFitpython", "Example3_reference_outputs", name).read_text(encoding="utf-8")
    block = text.split(section, 1)[1].split("Analysis:", 1)[0]
    rows = re.findall(r"^\s+(\d+\.\d)\s+(\S+)\s+\S+\s+\S+\s*$", block, re.M)
    return [(float(t), float(v)) for t, v in rows]


@pytest.mark.shared_data
def test_conductivities_from_the_authors_fits_match_their_table():
    fits = read_batch_report()
    assert len(fits) == 7
    for process, section in (("bulk", "Bulk Analysis"), ("grain_boundary", "Gb Analysis"),
                             ("total", "Total Analysis")):
        table = read_table("Arrhenius_Analysis_Report.txt", section)
        assert len(table) == 7
        for temperature, sigma in table:
            fit = SimpleNamespace(parameters=fits[temperature], circuit=CIRCUIT, success=True,
                                  metadata={"temperature_K": temperature})
            r = conductivity_from_fit(fit, PELLET, process=process)
            # their R are printed to 4 significant figures, their σ too: 1e-3 covers both roundings
            assert r.conductivity.value == pytest.approx(sigma, rel=1e-3), (process, temperature)
            assert [a.process for a in r.arcs] == ["bulk", "grain_boundary", "electrode"]


@pytest.mark.shared_data
def test_effective_capacitances_match_the_authors():
    fits = read_batch_report()
    for arc, section in ((1, "Bulk Analysis"), (2, "Grain Boundary Analysis")):
        table = read_table("Effective_Capacitance_Values.txt", section)
        assert len(table) == 7
        for temperature, capacitance in table:
            p = fits[temperature]
            got = effective_capacitance(p[f"R{arc}"], p[f"CPE{arc}_0"], p[f"CPE{arc}_1"])
            # n printed to 4 digits moves C by up to |ln(QR)|/n² · 5e-5 ≈ 1e-3 relative
            assert got.value == pytest.approx(capacitance, rel=2e-3), (arc, temperature)


# -- mixed conductors ----------------------------------------------------------------------

def test_layer_conductivity_recovers_a_known_composite():
    # reference electrolyte pellet: σ 1 mS/cm, 1.0 mm thick, 10 mm across
    sigma_el, sigma_layer = 1e-3, 2e-4
    ref = PelletGeometry.from_diameter(10.0, 1.0)
    r_ref = 0.1 / (sigma_el * math.pi * 0.25)
    # cell of 8 mm across: 0.6 mm electrolyte in all, 0.3 mm composite
    area = math.pi * 0.8**2 / 4
    r_cell = 0.06 / (sigma_el * area) + 0.03 / (sigma_layer * area)
    layer = PelletGeometry.from_diameter(8.0, 0.3)
    r = layer_ionic_conductivity(r_cell, r_ref, layer=layer, reference=ref, electrolyte_thickness_mm=0.6)
    assert r.conductivity.value == pytest.approx(sigma_layer, rel=1e-12)
    assert r.electrolyte_resistance.value == pytest.approx(0.06 / (sigma_el * area), rel=1e-12)
    assert r.reference_conductivity.value == pytest.approx(sigma_el, rel=1e-12)
    assert r.process == "layer"
    json.loads(r.to_json())


def test_negative_control_without_thickness_scaling_the_layer_is_wrong():
    ref = PelletGeometry.from_diameter(10.0, 1.0)
    layer = PelletGeometry.from_diameter(10.0, 0.3)
    r_ref = 0.1 / (1e-3 * math.pi * 0.25)
    r_cell = 0.06 / (1e-3 * math.pi * 0.25) + 0.03 / (2e-4 * math.pi * 0.25)
    unscaled = layer_ionic_conductivity(r_cell, r_ref, layer=layer, reference=ref)  # assumes 1.0 mm
    assert unscaled.conductivity.value == pytest.approx(0.03 / ((r_cell - r_ref) * math.pi * 0.25))
    assert abs(unscaled.conductivity.value / 2e-4 - 1) > 0.3


def test_layer_uncertainty_from_the_cell_and_the_reference():
    ref = PelletGeometry.from_diameter(10.0, 1.0)
    layer = PelletGeometry.from_diameter(10.0, 0.3)
    r = layer_ionic_conductivity(Estimate(200.0, 4.0, "Ohm"), Estimate(100.0, 0.0, "Ohm"), layer=layer,
                                 reference=ref, electrolyte_thickness_mm=0.5)
    assert r.resistance.value == pytest.approx(150.0)
    assert r.conductivity.relative_stderr == pytest.approx(4.0 / 150.0, rel=1e-6)
    r = layer_ionic_conductivity(Estimate(200.0, 0.0, "Ohm"), Estimate(100.0, 6.0, "Ohm"), layer=layer,
                                 reference=ref, electrolyte_thickness_mm=0.5)
    assert r.resistance.stderr == pytest.approx(3.0, rel=1e-6)  # δR_ref × 0.5 mm / 1.0 mm


def test_layer_refuses_a_negative_difference():
    ref = PelletGeometry.from_diameter(10.0, 1.0)
    layer = PelletGeometry.from_diameter(10.0, 0.3)
    with pytest.raises(InputError, match="cell_resistance.*not larger"):
        layer_ionic_conductivity(40.0, 100.0, layer=layer, reference=ref, electrolyte_thickness_mm=0.6)
    with pytest.raises(InputError, match="reference_resistance"):
        layer_ionic_conductivity(40.0, float("nan"), layer=layer, reference=ref)
    with pytest.raises(InputError, match="electrolyte_thickness_mm"):
        layer_ionic_conductivity(40.0, 10.0, layer=layer, reference=ref, electrolyte_thickness_mm=-1)
