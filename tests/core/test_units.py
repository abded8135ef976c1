"""Unit conversions, spellings and ``name [unit]`` labels (ssbkit.core.units).

Expected numbers are written out from the definitions of the units (1 mAh = 3.6 C,
1 S/m = 0.01 S/cm, …) or computed here from the exact SI constants, never taken from
the conversion table under test.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssbkit.core.errors import InputError, SSBKitError, UnitError
from ssbkit.core.units import (
    CANONICAL,
    convert,
    dimension_of,
    known_units,
    label,
    normalize_unit,
    parse_label,
    to_canonical,
)

# SI 2019 defining constants, exact by definition.
E_CHARGE = Fraction("1.602176634e-19")  # C
N_A = Fraction("6.02214076e23")  # 1/mol
# 1 eV per particle, in kJ/mol: e·N_A J/mol / 1000.
EV_IN_KJ_PER_MOL = float(E_CHARGE * N_A / 1000)


# --- conductivity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (13.3, "mS/cm", "S/cm", 0.0133),  # the argyrodite pellet of the EES study
        (0.0133, "S/cm", "mS/cm", 13.3),
        (13.3, "mS/cm", "S/m", 1.33),  # 1 S/m = 0.01 S/cm
        (1.0, "S/m", "mS/cm", 10.0),
        (1.0, "S/cm", "S/m", 100.0),
        (250.0, "µS/cm", "mS/cm", 0.25),
        (1.0, "mS/m", "µS/cm", 10.0),
    ],
)
def test_conductivity_conversions(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


# --- temperature: affine, not a scale factor ---------------------------------------------


@pytest.mark.parametrize(
    ("celsius", "kelvin"), [(0.0, 273.15), (25.0, 298.15), (-273.15, 0.0), (100.0, 373.15)]
)
def test_celsius_kelvin_is_affine(celsius, kelvin):
    assert convert(celsius, "°C", "K") == pytest.approx(kelvin, abs=1e-12)
    assert convert(kelvin, "K", "°C") == pytest.approx(celsius, abs=1e-12)


def test_celsius_conversion_is_not_proportional():
    # A pure scale factor would map 0 °C to 0 K; the offset must be applied.
    assert convert(0.0, "°C", "K") != 0.0
    assert convert(20.0, "°C", "K") != 2 * convert(10.0, "°C", "K")


# --- charge / capacity -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1.0, "mAh", "C", 3.6),  # 1e-3 A × 3600 s
        (3.6, "C", "mAh", 1.0),
        (1.0, "Ah", "C", 3600.0),
        (3600.0, "C", "Ah", 1.0),
        (2.5, "Ah", "mAh", 2500.0),
        (1.0, "mAh", "Ah", 1e-3),
        (1.0, "µAh", "mC", 3.6),
        (1.0, "C/g", "mAh/g", 1 / 3.6),
    ],
)
def test_charge_conversions(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


# --- areal mass loading -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1.0, "mg/cm²", "g/m²", 10.0),  # 1e-3 g per 1e-4 m²
        (10.0, "g/m²", "mg/cm²", 1.0),
        (12.5, "mg/cm²", "kg/m²", 0.125),
        (1.0, "g/cm²", "mg/cm²", 1000.0),
    ],
)
def test_areal_mass_conversions(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


# --- activation energy: eV per particle <-> kJ/mol ------------------------------------------


def test_one_ev_in_kj_per_mol_from_exact_si_constants():
    assert EV_IN_KJ_PER_MOL == pytest.approx(96.485332, abs=1e-6)  # sanity of the constant
    assert convert(1.0, "eV", "kJ/mol") == pytest.approx(EV_IN_KJ_PER_MOL, rel=1e-12)
    assert convert(EV_IN_KJ_PER_MOL, "kJ/mol", "eV") == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("ea_ev", [0.28, 0.107, 0.142, 0.117])  # the two studies' Ea values
def test_activation_energies_in_kj_per_mol(ea_ev):
    assert convert(ea_ev, "eV", "kJ/mol") == pytest.approx(ea_ev * EV_IN_KJ_PER_MOL, rel=1e-12)
    assert convert(ea_ev, "eV", "J/mol") == pytest.approx(ea_ev * EV_IN_KJ_PER_MOL * 1e3,
                                                          rel=1e-12)
    assert convert(ea_ev * 1e3, "meV", "eV") == pytest.approx(ea_ev, rel=1e-12)


def test_ev_in_kcal_per_mol_uses_the_thermochemical_calorie():
    # 1 kcal = 4.184 kJ exactly (thermochemical calorie).
    assert convert(1.0, "eV", "kcal/mol") == pytest.approx(EV_IN_KJ_PER_MOL / 4.184, rel=1e-12)


# --- arrays -----------------------------------------------------------------------------


def test_arrays_convert_elementwise_and_keep_shape():
    sigma = np.array([[1.0, 13.3], [0.25, 0.0]])
    out = convert(sigma, "mS/cm", "S/m")
    assert isinstance(out, np.ndarray)
    assert out.shape == sigma.shape
    np.testing.assert_allclose(out, sigma / 10.0, rtol=1e-12)


def test_array_temperatures_get_the_offset_on_every_element():
    celsius = np.array([-20.0, 0.0, 25.0, 80.0])
    np.testing.assert_allclose(convert(celsius, "°C", "K"), celsius + 273.15, rtol=0, atol=1e-12)


def test_array_is_not_modified_in_place():
    values = np.array([1.0, 2.0, 3.0])
    convert(values, "mAh", "C")
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])


# --- spellings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("ohm", "Ohm"),
        ("Ω", "Ohm"),
        ("ohms", "Ohm"),
        ("kΩ", "kOhm"),
        ("uS/cm", "µS/cm"),
        ("\u03bcS/cm", "µS/cm"),  # Greek small letter mu
        ("\u00b5S/cm", "µS/cm"),  # micro sign
        ("cm^2", "cm²"),
        ("cm2", "cm²"),
        ("cm**2", "cm²"),
        ("mg/cm2", "mg/cm²"),
        ("mg/cm^2", "mg/cm²"),
        ("g/cm3", "g/cm³"),
        ("degC", "°C"),
        ("℃", "°C"),
        (" mAh ", "mAh"),
    ],
)
def test_alias_spellings_normalise(spelling, canonical):
    assert normalize_unit(spelling) == canonical


def test_greek_mu_and_micro_sign_convert_identically():
    greek, micro = "\u03bcS/cm", "\u00b5S/cm"
    assert greek != micro  # two different code points that look the same
    assert convert(5.0, greek, "S/cm") == convert(5.0, micro, "S/cm") == pytest.approx(5e-6)


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1.0, "kΩ", "ohm", 1000.0),
        (2.0, "uS/cm", "mS/cm", 0.002),
        (1.0, "mg/cm2", "g/m^2", 10.0),
        (25.0, "degC", "K", 298.15),
        (1.0, "cm^2", "mm2", 100.0),
    ],
)
def test_aliases_work_in_convert(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


# --- errors -----------------------------------------------------------------------------


def test_unknown_unit_raises_unit_error_naming_it():
    with pytest.raises(UnitError, match="furlong"):
        convert(1.0, "furlong", "mm")
    with pytest.raises(UnitError, match="fortnight"):
        convert(1.0, "s", "fortnight")


def test_unit_error_is_an_input_error():
    # Callers (and the CLI) catch InputError for every bad argument, units included.
    assert issubclass(UnitError, InputError)
    assert issubclass(UnitError, SSBKitError)
    with pytest.raises(InputError):
        normalize_unit("parsec")


def test_non_string_unit_is_refused():
    with pytest.raises(UnitError, match="string"):
        normalize_unit(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("src", "dst"), [("mS/cm", "K"), ("mAh", "g"), ("eV", "J"), ("°C", "mS/cm")]
)
def test_cross_dimension_conversion_names_both_units(src, dst):
    with pytest.raises(UnitError) as info:
        convert(1.0, src, dst)
    assert src in str(info.value) and dst in str(info.value)


# --- canonical units --------------------------------------------------------------------


def test_every_canonical_unit_is_known():
    known = set(known_units())
    missing = {q: u for q, u in CANONICAL.items() if u not in known}
    assert not missing


def test_to_canonical_uses_the_quantitys_unit():
    assert to_canonical(13.3, "mS/cm", "conductivity") == pytest.approx(0.0133, rel=1e-12)
    assert to_canonical(25.0, "°C", "temperature") == pytest.approx(298.15, abs=1e-12)
    with pytest.raises(UnitError, match="wobble"):
        to_canonical(1.0, "g", "wobble")


def test_dimension_of_accepts_aliases():
    assert dimension_of("uS/cm") == dimension_of("S/m") == "conductivity"
    assert dimension_of("degC") == "temperature"


# --- round trips (property-based) -------------------------------------------------------

_SAME_DIMENSION = [
    ("S/cm", "mS/cm"), ("mS/cm", "S/m"), ("°C", "K"), ("mAh", "C"), ("Ah", "µAh"),
    ("mg/cm²", "g/m²"), ("eV", "kJ/mol"), ("kcal/mol", "meV"), ("MPa", "bar"), ("rpm", "Hz"),
]


@given(
    pair=st.sampled_from(_SAME_DIMENSION),
    value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_conversion_round_trips(pair, value):
    src, dst = pair
    back = convert(convert(value, src, dst), dst, src)
    assert back == pytest.approx(value, rel=1e-12, abs=1e-9)


# --- labels -----------------------------------------------------------------------------


def test_label_and_parse_label_examples():
    assert label("capacity", "mAh") == "capacity [mAh]"
    assert label("conductivity", "S/cm") == "conductivity [S/cm]"
    assert parse_label("specific capacity [mAh/g]") == ("specific capacity", "mAh/g")
    assert parse_label("  voltage   [V] ") == ("voltage", "V")


def test_dimensionless_labels_have_no_brackets():
    assert label("coulombic efficiency", "1") == "coulombic efficiency"
    assert label("cycle", "") == "cycle"
    assert parse_label("cycle") == ("cycle", "1")


_NAME = st.text(alphabet=st.sampled_from("abcxyz ABC_-0129().,/"), min_size=1, max_size=20)
_UNIT = st.sampled_from([u for u in known_units() if u != "1"])


@given(name=_NAME.filter(lambda s: s == s.strip() and s), unit=_UNIT)
def test_label_round_trip(name, unit):
    assert parse_label(label(name, unit)) == (name, unit)
