"""Built-in structures: their symmetry, their chemistry, and their patterns against pymatgen."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.formula import molar_mass
from ssbkit.testing import shared_data
from ssbkit.xrd.crystal import Phase, SymmetryOperations, reflections, structure_factors
from ssbkit.xrd.structures import BUILTIN_PHASES, argyrodite, builtin_phase, li6ps5cl

CU_KA1 = 1.540593
FORMULA_UNITS = {"Li5.5PS4.5Cl0.8Br0.7": 4, "Li6PS5Cl": 4, "Li2S": 4, "LiCl": 4, "LiBr": 4, "LiI": 4,
                 "TiS2": 1, "Li2TiS3": 4 / 3}


@pytest.mark.parametrize("symbol", ["F-43m", "Fm-3m", "P-3m1"])
def test_generated_operations_equal_pymatgens_tables(symbol):
    pytest.importorskip("pymatgen")
    ops = _pymatgen_group({"F-43m": 216, "Fm-3m": 225, "P-3m1": 164}[symbol]).symmetry_ops
    theirs = SymmetryOperations([o.rotation_matrix for o in ops], [o.translation_vector for o in ops])
    phase = next(builder() for builder in BUILTIN_PHASES.values() if builder().space_group == symbol)
    assert phase.operations.same_as(theirs)


@pytest.mark.parametrize("name", list(BUILTIN_PHASES))
def test_cell_content_is_whole_formula_units(name):
    phase = BUILTIN_PHASES[name]()
    assert phase.cell_mass == pytest.approx(FORMULA_UNITS[name] * molar_mass(name), rel=1e-12)


@functools.cache
def _pymatgen_group(number: int):
    from pymatgen.symmetry.groups import SpaceGroup

    return SpaceGroup.from_int_number(number)


@pytest.mark.parametrize("name", list(BUILTIN_PHASES))
def test_pattern_matches_pymatgen(name):
    """Positions exactly; relative intensities of reflections >= 5 % of the strongest within
    2 %. pymatgen's XRDCalculator uses its own form factors (Mott–Bethe from electron
    Gaussians), LP (1 + cos²2θ)/(sin²θ cosθ) and exp(−B s²) on f: compared with the same form
    factors (table='pymatgen'); with the International Tables ones, within 3 %."""
    pytest.importorskip("pymatgen")
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    from pymatgen.core import Composition, Lattice, Structure

    phase = BUILTIN_PHASES[name]()
    # pymatgen expands the sites itself, with its own operations of the space-group number
    group = _pymatgen_group(phase.space_group_number)
    species, coords = [], []
    for site in phase.sites:
        orbit = group.get_orbit(site.xyz)
        species += [Composition(dict(site.species))] * len(orbit)
        coords += orbit
    structure = Structure(Lattice.from_parameters(*phase.cell), species, coords)
    elements = {e for s in phase.sites for e in s.species}
    calc = XRDCalculator(wavelength=CU_KA1, debye_waller_factors=dict.fromkeys(elements, 1.0))
    theirs = calc.get_pattern(structure, scaled=False, two_theta_range=(10, 90))
    their_x, their_y = np.array(theirs.x), np.array(theirs.y)

    r = reflections(phase, two_theta_min=10, two_theta_max=90, wavelength=CU_KA1)
    theta = np.radians(r.two_theta / 2)
    lp = (1 + np.cos(2 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    for table, tolerance in (("pymatgen", 1e-9), ("it1992", 0.03)):
        intensity = r.multiplicity * structure_factors(phase, r, table=table) * lp
        # pymatgen merges reflections at one 2θ ((333) and (511)); so do we, for the comparison
        positions, group = np.unique(np.round(r.two_theta, 6), return_inverse=True)
        merged = np.bincount(group, intensity)
        shown = merged / merged.max() > 1e-5  # pymatgen drops what is below 1e-3 % of the maximum
        assert np.allclose(positions[shown], their_x, atol=1e-4, rtol=0)
        ours, ref = merged[shown] / merged.max(), their_y / their_y.max()
        strong = ref >= 0.05
        assert np.abs(ours[strong] / ref[strong] - 1).max() < tolerance, table


def test_argyrodite_builder_is_the_truth_model_of_the_synthetic_pattern():
    path = shared_data("xrd", "synthetic_argyrodite", "argyrodite.cif")
    cif = Phase.from_cif(path).with_cell({"a": 9.8532})
    built = argyrodite("Li5.5PS4.5Cl0.8Br0.7", a=9.8532)
    r = reflections(built, two_theta_min=10, two_theta_max=90, wavelength=CU_KA1)
    r_cif = reflections(cif, two_theta_min=10, two_theta_max=90, wavelength=CU_KA1)
    assert r.hkl.tolist() == r_cif.hkl.tolist()
    assert np.allclose(structure_factors(built, r), structure_factors(cif, r_cif), rtol=1e-12)
    assert built.composition == pytest.approx(cif.composition)


def test_argyrodite_site_chemistry():
    li6 = li6ps5cl()
    sites = {s.label: dict(s.species) for s in li6.sites}
    assert sites["X4a"] == {"Cl": 1.0} and sites["X4d"] == {"S": 1.0} and sites["Li"] == {"Li": 0.5}
    mixed = argyrodite("Li5.5PS4.5Cl0.8Br0.7")
    sites = {s.label: dict(s.species) for s in mixed.sites}
    assert sites["X4a"] == pytest.approx({"Cl": 0.8 / 1.5, "Br": 0.7 / 1.5})
    assert sites["X4d"] == pytest.approx({"S": 0.5, "Cl": 0.4 / 1.5, "Br": 0.35 / 1.5})
    assert sites["Li"]["Li"] == pytest.approx(5.5 / 12)
    assert mixed.composition == pytest.approx({"Li": 22, "P": 4, "S": 18, "Cl": 3.2, "Br": 2.8})


def test_argyrodite_halide_disorder_conserves_composition():
    ordered = argyrodite("Li6PS5Cl")
    disordered = argyrodite("Li6PS5Cl", halide_4a=0.8)
    sites = {s.label: dict(s.species) for s in disordered.sites}
    assert sites["X4a"] == pytest.approx({"S": 0.2, "Cl": 0.8})
    assert sites["X4d"] == pytest.approx({"S": 0.8, "Cl": 0.2})
    assert disordered.composition == pytest.approx(ordered.composition)
    hkl = np.array([[1, 1, 1], [2, 0, 0]])
    assert not np.allclose(structure_factors(ordered, hkl), structure_factors(disordered, hkl))


def test_argyrodite_from_y_and_halides_equals_from_composition():
    a = argyrodite(y=1.5, halides={"Cl": 0.8, "Br": 0.7})
    b = argyrodite("Li5.5PS4.5Cl0.8Br0.7")
    assert a.name == "Li5.5PS4.5Cl0.8Br0.7"
    for mine, theirs in zip(a.sites, b.sites, strict=True):
        assert dict(mine.species) == pytest.approx(dict(theirs.species))


@pytest.mark.parametrize("composition", ["Li6PS5", "Li6PS4Cl", "Li2S", "Li6PS5ClO"])
def test_argyrodite_refuses_what_is_not_one(composition):
    with pytest.raises(InputError, match="composition"):
        argyrodite(composition)


def test_builtin_phase_by_name():
    assert builtin_phase("argyrodite").name == "Li5.5PS4.5Cl0.8Br0.7"
    assert builtin_phase("li2s").a == 5.708
    with pytest.raises(InputError, match="no built-in phase 'P2S5'.*Li2TiS3"):
        builtin_phase("P2S5")
