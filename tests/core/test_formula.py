"""Formula parsing, composition and molar mass (ssbkit.core.formula).

Expected molar masses are summed here by hand from the CIAAW 2021 abridged standard
atomic weights typed in below, never taken from the code under test.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssbkit import InputError
from ssbkit.core.formula import ATOMIC_WEIGHTS, Formula, molar_mass, parse_formula

# CIAAW 2021 abridged standard atomic weights [g/mol] (conventional values for Li, S, Cl, Br,
# H, O, which have interval weights).
LI, P, S, CL, BR, TI = 6.94, 30.974, 32.06, 35.45, 79.904, 47.867
IODINE, H, OXYGEN, CU = 126.90, 1.0080, 15.999, 63.546

# Reproducible property tests: the same examples every run, and no example database on disk.
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None)


# --- analytic: compositions and molar masses checked by hand ------------------------------


def test_argyrodite_composition_and_molar_mass():
    f = parse_formula("Li5.5PS4.5Cl0.8Br0.7")
    assert f.composition == {"Li": 5.5, "P": 1.0, "S": 4.5, "Cl": 0.8, "Br": 0.7}
    by_hand = 5.5 * LI + P + 4.5 * S + 0.8 * CL + 0.7 * BR  # 297.7068
    assert f.molar_mass == pytest.approx(by_hand, rel=1e-12)
    assert f.molar_mass == pytest.approx(297.7068, abs=1e-4)


@pytest.mark.parametrize(
    ("text", "by_hand"),
    [
        ("Li2S", 2 * LI + S),  # 45.94
        ("P2S5", 2 * P + 5 * S),  # 222.248
        ("LiCl", LI + CL),
        ("LiBr", LI + BR),
        ("LiI", LI + IODINE),
        ("TiS2", TI + 2 * S),
        ("Li2TiS3", 2 * LI + TI + 3 * S),
        ("Li6PS5Cl", 6 * LI + P + 5 * S + CL),  # 268.364
    ],
)
def test_molar_mass_of_precursors_and_products(text, by_hand):
    assert molar_mass(text) == pytest.approx(by_hand, rel=1e-12)
    assert parse_formula(text).molar_mass == pytest.approx(by_hand, rel=1e-12)


def test_standard_atomic_weights_match_ciaaw_2021():
    # The table is data; spot-check the elements the two studies use.
    expected = {"Li": LI, "P": P, "S": S, "Cl": CL, "Br": BR, "I": IODINE, "Ti": TI, "H": H,
                "O": OXYGEN, "Cu": CU}
    for element, weight in expected.items():
        assert ATOMIC_WEIGHTS[element] == weight, element


def test_parenthesised_mixture_li2s_lii_3_to_1():
    # The NMR study's mixture Li2S–LiI 3:1, written per formula unit of mixture.
    f = parse_formula("(Li2S)0.75(LiI)0.25")
    assert f.composition == pytest.approx({"Li": 0.75 * 2 + 0.25, "S": 0.75, "I": 0.25})
    by_hand = 0.75 * (2 * LI + S) + 0.25 * (LI + IODINE)
    assert f.molar_mass == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "composition"),
    [
        ("CuSO4·5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}),
        ("Li2SO4*H2O", {"Li": 2, "S": 1, "O": 5, "H": 2}),
        ("LiCl•H2O", {"Li": 1, "Cl": 1, "H": 2, "O": 1}),
        ("[Li2S]3", {"Li": 6, "S": 3}),
        ("Ca3(PO4)2", {"Ca": 3, "P": 2, "O": 8}),
        ("Li7La3Zr2O12", {"Li": 7, "La": 3, "Zr": 2, "O": 12}),
        ("Li(Li(S)2)3", {"Li": 4, "S": 6}),  # nested groups multiply through
        ("LiSLi", {"Li": 2, "S": 1}),  # a repeated element adds up
        ("Li.5S", {"Li": 0.5, "S": 1}),  # a subscript may start with the decimal point
        (" Li2S ", {"Li": 2, "S": 1}),  # surrounding space is not part of the formula
    ],
)
def test_groups_adducts_and_subscripts(text, composition):
    assert parse_formula(text).composition == pytest.approx(composition)


def test_hydrate_molar_mass_by_hand():
    assert molar_mass("CuSO4·5H2O") == pytest.approx(CU + S + 9 * OXYGEN + 10 * H, rel=1e-12)


def test_formula_keeps_the_text_and_element_order():
    f = parse_formula("  Li6PS5Cl ")
    assert f.text == "Li6PS5Cl"
    assert str(f) == "Li6PS5Cl"
    assert f.elements == ("Li", "P", "S", "Cl")


def test_parse_formula_passes_a_formula_through():
    f = parse_formula("Li2S")
    assert parse_formula(f) is f
    assert molar_mass(f) == pytest.approx(2 * LI + S)


def test_formula_is_frozen():
    f = parse_formula("Li2S")
    assert isinstance(f, Formula)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.text = "LiCl"


# --- bad inputs: InputError naming the formula, the problem and where it is ---------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Li2Xx", r"unknown element 'Xx' at position 4 in formula 'Li2Xx'"),
        ("Q", r"unknown element 'Q'"),
        ("LiTc", r"element 'Tc' has no standard atomic weight at position 3"),
        ("PmCl3", r"element 'Pm' has no standard atomic weight"),
        ("(Li2S", r"'\(' is not closed at position 1"),
        ("[Li2S)", r"'\[' is not closed at position 1"),
        ("Li2S)", r"unexpected '\)' at position 5"),
        ("Li0S", r"count must be > 0, got 0 at position 3"),
        ("Li2S0.0", r"count must be > 0, got 0.0"),
        ("(Li2S)0", r"count must be > 0"),
        ("Li2S·0H2O", r"count must be > 0"),
        ("li2s", r"unexpected character 'l' at position 1"),
        ("Li₂S", r"unexpected character '₂'"),
        ("2Li2S", r"expected an element or '\(', got '2' at position 1"),
        ("()", r"expected an element or '\('"),
        ("Li2S·", r"expected an element or '\('"),
    ],
)
def test_malformed_formula_is_refused_with_its_position(text, expected):
    with pytest.raises(InputError, match=expected) as info:
        parse_formula(text)
    assert repr(text) in str(info.value)  # the message names the formula


@pytest.mark.parametrize("text", ["", "   ", None, 5, ["Li2S"]])
def test_empty_or_non_string_formula_is_refused(text):
    with pytest.raises(InputError, match="non-empty string"):
        parse_formula(text)


def test_molar_mass_refuses_an_unknown_element():
    with pytest.raises(InputError, match="unknown element 'Zz'"):
        molar_mass("LiZz")


# --- property: formulas written from random counts round-trip -----------------------------

# Every element with a standard weight; a count always follows each symbol, so symbols
# such as "C" + "O" and "Co" cannot run together.
ELEMENTS = sorted(ATOMIC_WEIGHTS)

# A count is hundredths written out exactly ("12.34"), so float(text) is the same double
# as hundredths / 100 and the comparison can be exact.
hundredths = st.integers(min_value=1, max_value=99_999)


def _written(count: int) -> str:
    return f"{count // 100}.{count % 100:02d}" if count % 100 else str(count // 100)


compositions = st.lists(
    st.tuples(st.sampled_from(ELEMENTS), hundredths),
    min_size=1,
    max_size=8,
    unique_by=lambda pair: pair[0],
)


@PROPERTY
@given(compositions)
def test_composition_round_trips(pairs):
    text = "".join(f"{element}{_written(n)}" for element, n in pairs)
    f = parse_formula(text)
    assert f.composition == {element: n / 100 for element, n in pairs}
    assert f.elements == tuple(element for element, _ in pairs)
    weights = sum(ATOMIC_WEIGHTS[element] * n / 100 for element, n in pairs)
    assert f.molar_mass == pytest.approx(weights, rel=1e-12)


@PROPERTY
@given(compositions, hundredths)
def test_group_count_multiplies_every_element(pairs, times):
    inner = "".join(f"{element}{_written(n)}" for element, n in pairs)
    grouped = parse_formula(f"({inner}){_written(times)}")
    alone = parse_formula(inner)
    assert grouped.composition == pytest.approx(
        {e: n * times / 100 for e, n in alone.composition.items()}, rel=1e-12
    )
    assert grouped.molar_mass == pytest.approx(alone.molar_mass * times / 100, rel=1e-12)


@PROPERTY
@given(compositions, compositions)
def test_adduct_adds_compositions(first, second):
    a = "".join(f"{element}{_written(n)}" for element, n in first)
    b = "".join(f"{element}{_written(n)}" for element, n in second)
    joined = parse_formula(f"{a}·{b}")
    expected = dict(parse_formula(a).composition)
    for element, n in parse_formula(b).composition.items():
        expected[element] = expected.get(element, 0.0) + n
    assert joined.composition == pytest.approx(expected, rel=1e-12)
    assert joined.molar_mass == pytest.approx(molar_mass(a) + molar_mass(b), rel=1e-12)


# --- whitespace, overflow and the end of the formula ------------------------------------


@pytest.mark.parametrize(("text", "kept"), [
    ("Li 2S", "Li2S"),
    ("Li2 S", "Li2S"),
    ("  Li6 P S5 Cl ", "Li6PS5Cl"),
    ("CuSO4 · 5H2O", "CuSO4·5H2O"),
    ("(Li2S) 0.75 (LiI) 0.25", "(Li2S)0.75(LiI)0.25"),
])
def test_spaces_are_dropped_from_the_text(text, kept):
    f = parse_formula(text)
    assert f.text == kept
    assert f.composition == parse_formula(kept).composition


def test_formulas_that_differ_only_in_spaces_are_equal():
    # The text is the identity a recipe uses to spot a precursor listed twice.
    assert parse_formula("Li 2S") == parse_formula("Li2S")


def test_count_too_large_for_a_float_is_refused():
    text = "Li" + "9" * 400 + "S"
    with pytest.raises(InputError, match=r"count 9{400} is too large at position 3") as info:
        parse_formula(text)
    assert repr(text) in str(info.value)


def test_counts_whose_product_overflows_are_refused():
    # Each count is finite (1e300), their product is not.
    text = "(Li1" + "0" * 300 + ")1" + "0" * 300
    with pytest.raises(InputError, match=r"^counts overflow in formula"):
        parse_formula(text)


@pytest.mark.parametrize("text", ["Li2S·", "Li2S*", "Li2S· ", "Li2S·5"])
def test_trailing_adduct_dot_says_at_the_end(text):
    with pytest.raises(InputError, match=r"expected an element or '\(' at the end in formula"):
        parse_formula(text)
