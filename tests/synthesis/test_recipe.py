"""Precursor recipes (ssbkit.synthesis.recipe).

Three kinds of truth: worked examples computed here by hand from the atomic weights typed
in below, random targets built from known precursor amounts that the solver must recover,
and bad inputs that must raise ``InputError`` naming what is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssbkit import InputError
from ssbkit.synthesis import PrecursorAmount, Recipe, recipe
from ssbkit.testing import assert_element_balance

# CIAAW 2021 abridged standard atomic weights [g/mol], conventional values where the
# standard weight is an interval.
WEIGHT = {"Li": 6.94, "P": 30.974, "S": 32.06, "Cl": 35.45, "Br": 79.904, "I": 126.90,
          "Ti": 47.867, "La": 138.91, "Zr": 91.224, "O": 15.999, "C": 12.011, "H": 1.0080,
          "Al": 26.982, "Ta": 180.95}
LI, P, S, CL, BR, IODINE, TI = (WEIGHT[e] for e in ("Li", "P", "S", "Cl", "Br", "I", "Ti"))

M_LI2S = 2 * LI + S  # 45.94
M_P2S5 = 2 * P + 5 * S  # 222.248
M_LICL = LI + CL  # 42.39
M_LIBR = LI + BR  # 86.844
M_LII = LI + IODINE  # 133.84
M_TIS2 = TI + 2 * S  # 111.987

# Reproducible property tests: the same examples every run, and no example database on disk.
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def _by_formula(r: Recipe) -> dict[str, PrecursorAmount]:
    return {p.formula: p for p in r.precursors}


# --- analytic: worked examples ---------------------------------------------------------


def test_argyrodite_lpscb_2_g_published_masses():
    r = recipe("Li5.5PS4.5Cl0.8Br0.7", ["Li2S", "P2S5", "LiCl", "LiBr"], 2.0)
    masses = {p.formula: p.mass.value for p in r.precursors}
    # The weighed masses of the EES Batteries 2026 argyrodite batch, to ±0.5 mg.
    assert masses["Li2S"] == pytest.approx(0.6173, abs=5e-4)
    assert masses["P2S5"] == pytest.approx(0.7465, abs=5e-4)
    assert masses["LiCl"] == pytest.approx(0.2278, abs=5e-4)
    assert masses["LiBr"] == pytest.approx(0.4084, abs=5e-4)


def test_argyrodite_lpscb_by_hand():
    # Balance by hand: Cl 0.8 -> LiCl 0.8; Br 0.7 -> LiBr 0.7; P 1 -> P2S5 0.5;
    # Li 5.5 - 0.8 - 0.7 = 4 -> Li2S 2; then S: 2 + 5 * 0.5 = 4.5, as wanted.
    coefficients = {"Li2S": 2.0, "P2S5": 0.5, "LiCl": 0.8, "LiBr": 0.7}
    m_target = 5.5 * LI + P + 4.5 * S + 0.8 * CL + 0.7 * BR  # 297.7068 g/mol
    n_target = 2.0 / m_target
    molar = {"Li2S": M_LI2S, "P2S5": M_P2S5, "LiCl": M_LICL, "LiBr": M_LIBR}

    r = recipe("Li5.5PS4.5Cl0.8Br0.7", ["Li2S", "P2S5", "LiCl", "LiBr"], 2.0)

    assert r.target == "Li5.5PS4.5Cl0.8Br0.7"
    assert r.target_molar_mass == pytest.approx(m_target, rel=1e-12)
    assert [p.formula for p in r.precursors] == ["Li2S", "P2S5", "LiCl", "LiBr"]
    for p in r.precursors:
        assert p.coefficient == coefficients[p.formula]  # exact: round-off is cleaned
        assert p.molar_mass == pytest.approx(molar[p.formula], rel=1e-12)
        assert p.moles == pytest.approx(coefficients[p.formula] * n_target, rel=1e-12)
        assert p.mass.value == pytest.approx(
            coefficients[p.formula] * n_target * molar[p.formula], rel=1e-12)
        assert p.mass.unit == "g"
    assert r.total_mass.value == pytest.approx(2.0, rel=1e-12)
    assert r.batch_mass.value == 2.0 and r.batch_mass.unit == "g"
    assert r.success and r.message == ""


def test_li2tis3_from_li2s_and_tis2_one_to_one():
    r = recipe("Li2TiS3", ["Li2S", "TiS2"], 1.0)
    amounts = _by_formula(r)
    assert amounts["Li2S"].coefficient == 1.0
    assert amounts["TiS2"].coefficient == 1.0
    # Mass fractions by hand: 45.94 : 111.987 of 157.927.
    fraction_li2s = M_LI2S / (M_LI2S + M_TIS2)
    assert fraction_li2s == pytest.approx(0.2909, abs=1e-4)
    assert amounts["Li2S"].mass.value == pytest.approx(fraction_li2s, rel=1e-12)
    assert amounts["TiS2"].mass.value == pytest.approx(1 - fraction_li2s, rel=1e-12)
    assert amounts["TiS2"].mass.value == pytest.approx(0.7091, abs=1e-4)


def test_li2s_lii_3_to_1_mixture():
    r = recipe("(Li2S)0.75(LiI)0.25", ["Li2S", "LiI"], 1.5)
    amounts = _by_formula(r)
    assert amounts["Li2S"].coefficient == 0.75
    assert amounts["LiI"].coefficient == 0.25
    m_mix = 0.75 * M_LI2S + 0.25 * M_LII  # 67.915 g/mol
    assert r.target_molar_mass == pytest.approx(m_mix, rel=1e-12)
    assert amounts["Li2S"].mass.value == pytest.approx(1.5 * 0.75 * M_LI2S / m_mix, rel=1e-12)
    assert amounts["LiI"].mass.value == pytest.approx(1.5 * 0.25 * M_LII / m_mix, rel=1e-12)
    # 3:1 in moles of the two precursors, whatever the batch.
    assert amounts["Li2S"].moles / amounts["LiI"].moles == pytest.approx(3.0, rel=1e-12)


def test_li6ps5cl_from_li2s_p2s5_licl():
    r = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0)
    assert [p.coefficient for p in r.precursors] == [2.5, 0.5, 1.0]
    m_target = 6 * LI + P + 5 * S + CL  # 268.364 g/mol
    n_target = 1.0 / m_target
    expected = [2.5 * M_LI2S, 0.5 * M_P2S5, 1.0 * M_LICL]
    for p, m in zip(r.precursors, expected, strict=True):
        assert p.mass.value == pytest.approx(m * n_target, rel=1e-12)


def test_element_balance_table_is_exact():
    r = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0)
    wanted = {"Li": 6.0, "P": 1.0, "S": 5.0, "Cl": 1.0}
    assert {b.element: b.target for b in r.balance} == wanted
    for b in r.balance:
        assert b.supplied == pytest.approx(wanted[b.element], rel=1e-12)
        assert b.difference == pytest.approx(0.0, abs=1e-12)
    frame = r.balance_frame()
    assert list(frame["element"]) == ["Li", "P", "S", "Cl"]


def test_unneeded_precursor_gets_zero_and_is_named():
    r = recipe("Li2S", ["Li2S", "S"], 1.0)
    amounts = _by_formula(r)
    assert amounts["S"].coefficient == 0.0
    assert amounts["S"].mass.value == 0.0
    assert amounts["Li2S"].mass.value == pytest.approx(1.0, rel=1e-12)
    assert r.success and r.message == "not needed: S"


def test_precursor_with_a_foreign_element_is_refused_by_name():
    # LiCl brings Cl, which is neither in Li2S nor released: it used to be given a zero
    # amount; now the element and the precursor holding it are named.
    with pytest.raises(InputError, match=r"^precursors Li2S, LiCl cannot make Li2S: "
                                         r"Cl \(in LiCl\) must leave as a by-product; "
                                         r"name it with byproducts"):
        recipe("Li2S", ["Li2S", "LiCl"], 1.0)


def test_precursors_may_be_one_comma_separated_string():
    r = recipe("Li6PS5Cl", "Li2S, P2S5,LiCl", 1.0)
    assert [p.formula for p in r.precursors] == ["Li2S", "P2S5", "LiCl"]


def test_batch_mass_scales_every_mass():
    small = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0)
    large = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 3.0)
    for a, b in zip(small.precursors, large.precursors, strict=True):
        assert b.mass.value == pytest.approx(3 * a.mass.value, rel=1e-12)
        assert b.coefficient == a.coefficient


# --- excess of a volatile precursor ----------------------------------------------------


def test_excess_raises_only_that_precursor_by_the_percentage():
    plain = _by_formula(recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0))
    extra = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0, excess_pct={"Li2S": 5})
    amounts = _by_formula(extra)
    assert amounts["Li2S"].mass.value == pytest.approx(1.05 * plain["Li2S"].mass.value, rel=1e-12)
    assert amounts["Li2S"].excess_pct == 5.0
    # Moles and coefficients stay stoichiometric; the excess is on the weighed mass only.
    assert amounts["Li2S"].moles == pytest.approx(plain["Li2S"].moles, rel=1e-12)
    assert amounts["Li2S"].coefficient == plain["Li2S"].coefficient
    for other in ("P2S5", "LiCl"):
        assert amounts[other].mass.value == pytest.approx(plain[other].mass.value, rel=1e-12)
        assert amounts[other].excess_pct == 0.0
    # The weighed total now exceeds the batch by 5 % of the Li2S.
    assert extra.total_mass.value == pytest.approx(1.0 + 0.05 * plain["Li2S"].mass.value,
                                                   rel=1e-12)
    assert extra.batch_mass.value == 1.0


@pytest.mark.parametrize("pct", [0, 100])
def test_excess_limits_are_accepted(pct):
    r = recipe("Li2TiS3", ["Li2S", "TiS2"], 1.0, excess_pct={"Li2S": pct})
    fraction_li2s = M_LI2S / (M_LI2S + M_TIS2)
    assert _by_formula(r)["Li2S"].mass.value == pytest.approx(
        fraction_li2s * (1 + pct / 100), rel=1e-12)


@pytest.mark.parametrize("pct", [-1, 100.5, float("nan"), float("inf")])
def test_excess_outside_0_to_100_percent_is_refused(pct):
    with pytest.raises(InputError, match=r"excess_pct\[Li2S\]"):
        recipe("Li2TiS3", ["Li2S", "TiS2"], 1.0, excess_pct={"Li2S": pct})


def test_excess_for_a_non_precursor_is_refused():
    with pytest.raises(InputError, match=r"excess_pct: 'LiI' is not among the precursors"):
        recipe("Li2TiS3", ["Li2S", "TiS2"], 1.0, excess_pct={"LiI": 5})


# --- by-products: species that leave, e.g. CO2 from a carbonate ------------------------

# Garnet LLZO from a carbonate, by hand: La 3 -> 1.5 La2O3; Zr 2 -> 2 ZrO2; Li 7 -> 3.5
# Li2CO3; its 3.5 C leave as 3.5 CO2; O: 3 × 3.5 + 3 × 1.5 + 2 × 2 − 2 × 3.5 = 12, as wanted.
LLZO = "Li7La3Zr2O12"
M_LLZO = 7 * WEIGHT["Li"] + 3 * WEIGHT["La"] + 2 * WEIGHT["Zr"] + 12 * WEIGHT["O"]  # 839.746
M_LI2CO3 = 2 * WEIGHT["Li"] + WEIGHT["C"] + 3 * WEIGHT["O"]  # 73.888
M_LA2O3 = 2 * WEIGHT["La"] + 3 * WEIGHT["O"]  # 325.817
M_ZRO2 = WEIGHT["Zr"] + 2 * WEIGHT["O"]  # 123.222
M_CO2 = WEIGHT["C"] + 2 * WEIGHT["O"]  # 44.009
M_LIOH = WEIGHT["Li"] + WEIGHT["O"] + WEIGHT["H"]  # 23.947
M_H2O = 2 * WEIGHT["H"] + WEIGHT["O"]  # 18.015


def test_llzo_from_a_carbonate_releases_co2():
    r = recipe(LLZO, ["Li2CO3", "La2O3", "ZrO2"], 1.0, byproducts=["CO2"])
    amounts = _by_formula(r)
    assert {n: a.coefficient for n, a in amounts.items()} == {
        "Li2CO3": 3.5, "La2O3": 1.5, "ZrO2": 2.0}
    assert M_LLZO == pytest.approx(839.746, abs=1e-9)
    # Masses for 1 g of LLZO: coefficient × M / M_LLZO.
    expected = {"Li2CO3": 3.5 * M_LI2CO3 / M_LLZO,  # 0.30796 g
                "La2O3": 1.5 * M_LA2O3 / M_LLZO,  # 0.58199 g
                "ZrO2": 2.0 * M_ZRO2 / M_LLZO}  # 0.29347 g
    for name, grams in expected.items():
        assert amounts[name].mass.value == pytest.approx(grams, rel=1e-12), name
    assert amounts["Li2CO3"].mass.value == pytest.approx(0.3080, abs=5e-5)
    assert amounts["La2O3"].mass.value == pytest.approx(0.5820, abs=5e-5)
    assert amounts["ZrO2"].mass.value == pytest.approx(0.2935, abs=5e-5)

    (co2,) = r.byproducts
    assert co2.formula == "CO2"
    assert co2.coefficient == 3.5
    assert co2.molar_mass == pytest.approx(M_CO2, rel=1e-12)
    assert co2.moles == pytest.approx(3.5 / M_LLZO, rel=1e-12)
    assert co2.mass.value == pytest.approx(3.5 * M_CO2 / M_LLZO, rel=1e-12)  # 0.18343 g
    assert co2.mass.unit == "g"
    # The precursors weigh more than the batch by exactly the CO2 that leaves.
    assert r.total_mass.value == pytest.approx(1.0 + co2.mass.value, rel=1e-12)
    assert r.total_mass.value == pytest.approx(1.1834, abs=5e-5)
    balance = {b.element: (b.target, b.supplied) for b in r.balance}
    assert balance["C"] == (0.0, pytest.approx(0.0, abs=1e-12))
    assert balance["O"] == (12.0, pytest.approx(12.0, rel=1e-12))
    assert r.success and r.message == ""


def test_llzo_from_a_hydroxide_releases_water():
    # 7 LiOH + 1.5 La2O3 + 2 ZrO2 -> LLZO + 3.5 H2O.
    r = recipe(LLZO, ["LiOH", "La2O3", "ZrO2"], 2.0, byproducts="H2O")
    amounts = _by_formula(r)
    assert amounts["LiOH"].coefficient == 7.0
    assert amounts["LiOH"].mass.value == pytest.approx(2.0 * 7 * M_LIOH / M_LLZO, rel=1e-12)
    (water,) = r.byproducts
    assert water.formula == "H2O" and water.coefficient == 3.5
    assert water.mass.value == pytest.approx(2.0 * 3.5 * M_H2O / M_LLZO, rel=1e-12)
    assert r.total_mass.value - water.mass.value == pytest.approx(2.0, rel=1e-12)


def test_without_byproducts_the_carbon_is_named():
    with pytest.raises(InputError, match=r"cannot make Li7La3Zr2O12: C \(in Li2CO3\) must "
                                         r"leave as a by-product; name it with byproducts"):
        recipe(LLZO, ["Li2CO3", "La2O3", "ZrO2"], 1.0)


def test_every_foreign_element_and_its_holders_are_named():
    # Only the precursors that hold C or H are named, not La2O3 or ZrO2.
    with pytest.raises(InputError, match=r"Li7La3Zr2O12: C, H \(in Li2CO3, LiOH\) must leave"):
        recipe(LLZO, ["Li2CO3", "LiOH", "La2O3", "ZrO2"], 1.0)


def test_byproduct_report_and_json():
    r = recipe(LLZO, ["Li2CO3", "La2O3", "ZrO2"], 1.0, byproducts=["CO2"])
    assert "released: CO2 3.5 per formula unit, 0.1834 g" in r.report()
    data = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    (line,) = data["byproducts"]
    assert line["formula"] == "CO2" and line["coefficient"] == 3.5
    assert line["mass"] == {"value": pytest.approx(3.5 * M_CO2 / M_LLZO, rel=1e-12),
                            "stderr": None, "unit": "g"}
    # The table lists what is weighed, not what leaves.
    assert list(r.to_frame()["formula"]) == ["Li2CO3", "La2O3", "ZrO2"]


def test_no_byproducts_by_default():
    r = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0)
    assert r.byproducts == ()
    assert "released" not in r.report()


def test_byproduct_that_is_also_a_precursor_is_refused():
    with pytest.raises(InputError, match=r"^byproducts: listed as precursor and by-product: CO2"):
        recipe(LLZO, ["Li2CO3", "La2O3", "ZrO2", "CO2"], 1.0, byproducts=["CO2"])


def test_byproduct_taken_up_rather_than_released_is_refused():
    # Li2C2O5 = Li2CO3 + CO2: the CO2 would have to come in, a coefficient of −1.
    with pytest.raises(InputError, match=r"negative amount of CO2 \(-1\)"):
        recipe("Li2C2O5", ["Li2CO3"], 1.0, byproducts=["CO2"])


def test_bad_byproduct_formula_is_refused():
    with pytest.raises(InputError, match="unknown element 'Xx'"):
        recipe(LLZO, ["Li2CO3", "La2O3", "ZrO2"], 1.0, byproducts=["Xx2"])


# Oxides with one metal each, typed in by hand; Li2CO3 is always there and its C leaves.
OXIDES = {
    "La2O3": {"La": 2, "O": 3},
    "ZrO2": {"Zr": 1, "O": 2},
    "Al2O3": {"Al": 2, "O": 3},
    "Ta2O5": {"Ta": 2, "O": 5},
    "TiO2": {"Ti": 1, "O": 2},
}
LI2CO3 = {"Li": 2, "C": 1, "O": 3}


@st.composite
def carbonate_targets(draw):
    """Li2CO3 plus random oxides in random order, thousandths of each, and the oxide
    target they make once all the carbon has left as CO2."""
    oxides = draw(st.lists(st.sampled_from(sorted(OXIDES)), max_size=len(OXIDES), unique=True))
    names = draw(st.permutations(["Li2CO3", *oxides]))
    thousandths = draw(st.lists(st.integers(1, 5000), min_size=len(names),
                                max_size=len(names)))
    coefficients = {n: Decimal(k) / 1000 for n, k in zip(names, thousandths, strict=True)}
    atoms: dict[str, Decimal] = {}
    for name, c in coefficients.items():
        for element, n in {**OXIDES, "Li2CO3": LI2CO3}[name].items():
            atoms[element] = atoms.get(element, Decimal(0)) + n * c
    released = atoms.pop("C")  # one CO2 per Li2CO3
    atoms["O"] -= 2 * released
    order = draw(st.permutations(sorted(atoms)))
    text = "".join(f"{e}{format(atoms[e].normalize(), 'f')}" for e in order)
    return text, names, {n: float(c) for n, c in coefficients.items()}, atoms


@PROPERTY
@given(carbonate_targets(), st.floats(min_value=0.01, max_value=100))
def test_random_carbonate_target_recovers_the_known_recipe(case, batch):
    text, names, coefficients, atoms = case
    r = recipe(text, names, batch, byproducts=["CO2"])
    amounts = _by_formula(r)
    assert list(amounts) == names
    for name in names:
        assert amounts[name].coefficient == pytest.approx(coefficients[name], rel=1e-9)
    (co2,) = r.byproducts
    assert co2.coefficient == pytest.approx(coefficients["Li2CO3"], rel=1e-9)

    m_target = sum(WEIGHT[e] * float(n) for e, n in atoms.items())
    n_target = batch / m_target
    molar = {**{n: _molar(c) for n, c in OXIDES.items()}, "Li2CO3": M_LI2CO3}
    for name in names:
        assert amounts[name].mass.value == pytest.approx(
            coefficients[name] * n_target * molar[name], rel=1e-9)
    assert co2.mass.value == pytest.approx(coefficients["Li2CO3"] * n_target * M_CO2, rel=1e-9)
    # Mass is conserved: what is weighed in is the batch plus what leaves.
    assert r.total_mass.value == pytest.approx(batch + co2.mass.value, rel=1e-9)


# --- result contracts: frozen, JSON, table ---------------------------------------------


def test_recipe_and_its_lines_are_frozen():
    r = recipe("Li2TiS3", ["Li2S", "TiS2"], 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.target = "Li2S"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.precursors[0].coefficient = 3.0


def test_to_dict_is_strict_json_with_precursor_lines():
    r = recipe("Li5.5PS4.5Cl0.8Br0.7", ["Li2S", "P2S5", "LiCl", "LiBr"], 2.0)
    data = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert data["target"] == "Li5.5PS4.5Cl0.8Br0.7"
    assert data["batch_mass"]["value"] == 2.0 and data["batch_mass"]["unit"] == "g"
    lines = data["precursors"]
    assert [line["formula"] for line in lines] == ["Li2S", "P2S5", "LiCl", "LiBr"]
    for line, p in zip(lines, r.precursors, strict=True):
        assert {"formula", "coefficient", "moles", "mass"} <= set(line)
        assert line["coefficient"] == p.coefficient
        assert line["moles"] == p.moles
        assert line["mass"]["value"] == p.mass.value
        assert line["mass"]["unit"] == "g"
    assert {b["element"] for b in data["balance"]} == {"Li", "P", "S", "Cl", "Br"}
    assert "ciaaw2021" in {c["key"] for c in data["provenance"]["citations"]}
    assert json.loads(r.to_json()) == data


def test_to_frame_columns_carry_units():
    r = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0, excess_pct={"Li2S": 5})
    frame = r.to_frame()
    assert list(frame.columns) == ["formula", "coefficient", "molar mass [g/mol]",
                                   "amount [mol]", "excess [%]", "mass [g]"]
    assert list(frame["mass [g]"]) == [p.mass.value for p in r.precursors]
    assert list(frame["excess [%]"]) == [5.0, 0.0, 0.0]


def test_report_names_the_target_and_every_precursor():
    text = recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl"], 1.0).report()
    assert text.startswith("Recipe [ok]")
    for name in ("Li6PS5Cl", "Li2S", "P2S5", "LiCl"):
        assert name in text


# --- property: random targets from known precursor amounts ------------------------------

# Atoms per formula unit of each precursor, typed in by hand. Each of P2S5, LiCl, LiBr,
# LiI and TiS2 holds an element no other precursor holds, and Li2S is the only one with
# Li and S alone, so every subset of these columns has full column rank.
PRECURSORS = {
    "Li2S": {"Li": 2, "S": 1},
    "P2S5": {"P": 2, "S": 5},
    "LiCl": {"Li": 1, "Cl": 1},
    "LiBr": {"Li": 1, "Br": 1},
    "LiI": {"Li": 1, "I": 1},
    "TiS2": {"Ti": 1, "S": 2},
}
# The element only that precursor supplies among these (Li2S has none).
UNIQUE_ELEMENT = {"P2S5": "P", "LiCl": "Cl", "LiBr": "Br", "LiI": "I", "TiS2": "Ti"}


def _molar(composition: dict[str, float]) -> float:
    return sum(WEIGHT[e] * n for e, n in composition.items())


@st.composite
def random_targets(draw, min_size=1):
    """A precursor list in random order, a coefficient for each (in thousandths) and the
    target formula they make, written with exact decimal subscripts."""
    names = draw(st.lists(st.sampled_from(sorted(PRECURSORS)), min_size=min_size,
                          max_size=len(PRECURSORS), unique=True))
    thousandths = draw(st.lists(st.integers(1, 5000), min_size=len(names),
                                max_size=len(names)))
    coefficients = {n: Decimal(k) / 1000 for n, k in zip(names, thousandths, strict=True)}
    atoms: dict[str, Decimal] = {}
    for name, c in coefficients.items():
        for element, n in PRECURSORS[name].items():
            atoms[element] = atoms.get(element, Decimal(0)) + n * c
    order = draw(st.permutations(sorted(atoms)))
    text = "".join(f"{e}{format(atoms[e].normalize(), 'f')}" for e in order)
    return text, names, {n: float(c) for n, c in coefficients.items()}, atoms


@PROPERTY
@given(random_targets(), st.floats(min_value=0.01, max_value=100))
def test_random_target_recovers_the_known_recipe(case, batch):
    text, names, coefficients, atoms = case
    r = recipe(text, names, batch)
    amounts = _by_formula(r)
    assert list(amounts) == names

    # The coefficients the target was built from come back.
    for name in names:
        assert amounts[name].coefficient == pytest.approx(coefficients[name], rel=1e-9)

    # Every element balances: supplied (from the hand-typed precursor atoms) == target.
    supplied: dict[str, float] = {}
    for name in names:
        for element, n in PRECURSORS[name].items():
            supplied[element] = supplied.get(element, 0.0) + n * amounts[name].coefficient
    assert set(supplied) == set(atoms)
    for element, wanted in atoms.items():
        assert supplied[element] == pytest.approx(float(wanted), rel=1e-9)
    for b in r.balance:
        assert b.supplied == pytest.approx(float(atoms[b.element]), rel=1e-9)
    assert_element_balance(r)  # the public helper agrees

    # Masses: coefficient × n_target × M, and they add up to the batch.
    m_target = sum(WEIGHT[e] * float(n) for e, n in atoms.items())
    n_target = batch / m_target
    for name in names:
        expected = coefficients[name] * n_target * _molar(PRECURSORS[name])
        assert amounts[name].mass.value == pytest.approx(expected, rel=1e-9)
        assert amounts[name].moles == pytest.approx(coefficients[name] * n_target, rel=1e-9)
    assert r.total_mass.value == pytest.approx(batch, rel=1e-9)


@PROPERTY
@given(random_targets(min_size=2), st.data())
def test_negative_control_dropping_a_precursor_fails(case, data):
    text, names, _, atoms = case
    dropped = data.draw(st.sampled_from(names))
    kept = [n for n in names if n != dropped]
    with pytest.raises(InputError, match="cannot make") as info:
        recipe(text, kept, 1.0)
    message = str(info.value)
    carried = {e for n in kept for e in PRECURSORS[n]}
    uncovered = set(atoms) - carried
    if dropped in UNIQUE_ELEMENT:
        assert UNIQUE_ELEMENT[dropped] in uncovered
    if uncovered:
        # Elements no remaining precursor carries are named, and only those.
        found = re.search(r"no precursor contains (.*)$", message)
        assert found is not None, message
        assert set(found.group(1).split(", ")) == uncovered
    else:
        # Every element is carried, yet the best fit misses some: each named one is the
        # target's.
        named = re.findall(r"(\w+) \([^)]* supplied vs [^)]* wanted\)", message)
        assert named and set(named) <= set(atoms), message


@PROPERTY
@given(random_targets(), st.data())
def test_negative_control_dependent_precursors_are_refused(case, data):
    text, names, _, _ = case
    # A precursor that is the sum of some of the others, e.g. "(Li2S)(P2S5)", holds only
    # the target's elements and makes the set dependent.
    parts = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    combined = "".join(f"({n})" for n in parts)
    with pytest.raises(InputError, match="in more than one way"):
        recipe(text, [*names, combined], 1.0)


def test_li3ps4_with_li2s_and_p2s5_is_ambiguous():
    # Li3PS4 = 1.5 Li2S + 0.5 P2S5.
    with pytest.raises(InputError, match=r"Li2S, P2S5, Li3PS4 can make Li7P3S11 in more than "
                                         r"one way \(3 precursors and by-products but only 2 "):
        recipe("Li7P3S11", ["Li2S", "P2S5", "Li3PS4"], 1.0)


# --- bad inputs -------------------------------------------------------------------------


def test_dependent_precursor_set_is_refused():
    with pytest.raises(InputError, match=r"Li2S, Li, S can make Li2S in more than one way "
                                         r"\(3 precursors and by-products but only 2 "
                                         r"independent"):
        recipe("Li2S", ["Li2S", "Li", "S"], 1.0)


def test_missing_element_is_named():
    with pytest.raises(InputError, match=r"Li2S, P2S5 cannot make Li6PS5Cl: "
                                         r"no precursor contains Cl$"):
        recipe("Li6PS5Cl", ["Li2S", "P2S5"], 1.0)


def test_missing_elements_are_all_named():
    with pytest.raises(InputError, match=r"no precursor contains Cl, Br$"):
        recipe("Li5.5PS4.5Cl0.8Br0.7", ["Li2S", "P2S5"], 1.0)


def test_elements_that_cannot_balance_are_named():
    # Li2S alone gives Li:S = 2:1; LiS wants 1:1, so both elements miss at best.
    with pytest.raises(InputError, match=r"balance fails for Li \(.*\); S \(.*\) at best"):
        recipe("LiS", ["Li2S"], 1.0)


def test_negative_amount_is_refused():
    # Li2S3 = 2 Li2S2 - Li2S: balances only with -1 mol of Li2S.
    with pytest.raises(InputError, match=r"negative amount of Li2S \(-1\)"):
        recipe("Li2S3", ["Li2S", "Li2S2"], 1.0)


def test_duplicated_precursor_is_refused():
    with pytest.raises(InputError, match=r"precursors: listed more than once: Li2S"):
        recipe("Li6PS5Cl", ["Li2S", "P2S5", "LiCl", " Li2S"], 1.0)


@pytest.mark.parametrize("precursors", [[], ""])
def test_no_precursor_is_refused(precursors):
    with pytest.raises(InputError, match="at least one precursor"):
        recipe("Li2S", precursors, 1.0)


@pytest.mark.parametrize(("batch", "expected"), [
    (0, "must be > 0"),
    (-2.0, "must be > 0"),
    (float("nan"), "finite"),
    (float("inf"), "finite"),
    ("two", "must be a number"),
])
def test_bad_batch_mass_is_refused(batch, expected):
    with pytest.raises(InputError, match=rf"^batch_mass_g: .*{expected}"):
        recipe("Li2S", ["Li2S"], batch)


@pytest.mark.parametrize(("target", "precursors", "expected"), [
    ("Li2Xx", ["Li2S"], "unknown element 'Xx'"),
    ("Li2S", ["Li2S", "TcS2"], "'Tc' has no standard atomic weight"),
    ("(Li2S", ["Li2S"], r"'\(' is not closed"),
    ("Li2S", ["Li0S"], "count must be > 0"),
    ("", ["Li2S"], "non-empty string"),
    ("Li2S", ["Li2S", ""], "non-empty string"),
])
def test_bad_formulas_are_refused(target, precursors, expected):
    with pytest.raises(InputError, match=expected):
        recipe(target, precursors, 1.0)
