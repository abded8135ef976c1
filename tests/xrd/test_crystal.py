"""Phases, symmetry, reflections and structure factors against closed forms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.testing import shared_data
from ssbkit.xrd.crystal import Phase, Site, SymmetryOperations, reflections, structure_factors
from ssbkit.xrd.formfactors import form_factor
from ssbkit.xrd.structures import li2s, licl, tis2

CU_KA1 = 1.540593
FM3M = ["z,x,y", "y,-x,-z", "-x,-y,-z"]


def rock_salt(a: float = 5.64, biso: float = 0.0) -> Phase:
    return Phase(name="NaCl", a=a, space_group="Fm-3m", space_group_number=225,
                 sites=[Site("Na", {"Na": 1.0}, (0, 0, 0), biso),
                        Site("Cl", {"Cl": 1.0}, (0.5, 0.5, 0.5), biso)],
                 operations=SymmetryOperations.from_generators(FM3M, centring="F"))


def test_bragg_positions_of_a_cubic_cell_follow_d_equals_a_over_root_h2k2l2():
    phase = rock_salt(5.64)
    r = reflections(phase, two_theta_min=10, two_theta_max=120, wavelength=CU_KA1)
    n2 = (r.hkl**2).sum(axis=1)
    assert np.allclose(r.d, 5.64 / np.sqrt(n2), rtol=1e-12)
    assert np.allclose(r.two_theta, np.degrees(2 * np.arcsin(CU_KA1 * np.sqrt(n2) / (2 * 5.64))), atol=1e-10)
    # F centring: h, k, l all even or all odd; nothing else
    parity = r.hkl % 2
    assert ((parity == parity[:, :1]).all(axis=1)).all()
    assert r.hkl[:6].tolist() == [[1, 1, 1], [2, 0, 0], [2, 2, 0], [3, 1, 1], [2, 2, 2], [4, 0, 0]]


def test_multiplicities_of_m3m_forms():
    phase = rock_salt(12.0)
    r = reflections(phase, two_theta_min=5, two_theta_max=80, wavelength=CU_KA1)
    mult = {tuple(h): m for h, m in zip(r.hkl.tolist(), r.multiplicity.tolist(), strict=True)}
    assert mult[(2, 0, 0)] == 6 and mult[(2, 2, 0)] == 12 and mult[(1, 1, 1)] == 8
    assert mult[(4, 2, 0)] == 24 and mult[(4, 2, 2)] == 24 and mult[(6, 4, 2)] == 48


def test_rock_salt_structure_factor_by_hand():
    b = 0.7
    phase = rock_salt(5.64, biso=b)
    r = reflections(phase, two_theta_min=10, two_theta_max=100, wavelength=CU_KA1)
    s = 1 / (2 * r.d)
    f_na = form_factor("Na", s) * np.exp(-b * s**2)
    f_cl = form_factor("Cl", s) * np.exp(-b * s**2)
    even = (r.hkl % 2 == 0).all(axis=1)
    expected = np.where(even, 16 * (f_na + f_cl) ** 2, 16 * (f_na - f_cl) ** 2)
    assert np.allclose(structure_factors(phase, r), expected, rtol=1e-12)


def test_antifluorite_structure_factor_by_hand():
    phase = li2s(a=5.708, biso=0.0)
    r = reflections(phase, two_theta_min=10, two_theta_max=120, wavelength=CU_KA1)
    s = 1 / (2 * r.d)
    f_s, f_li = form_factor("S", s), form_factor("Li", s)
    total = r.hkl.sum(axis=1)
    expected = np.where(total % 2 == 1, 16 * f_s**2,
                        np.where(total % 4 == 0, 16 * (f_s + 2 * f_li) ** 2, 16 * (f_s - 2 * f_li) ** 2))
    assert np.allclose(structure_factors(phase, r), expected, rtol=1e-12)


def test_screw_axis_extinction_in_p63_mmc():
    phase = Phase(name="hcp", a=3.0, c=4.9, gamma=120, space_group="P6_3/mmc",
                  sites=[Site("Mg", {"Mg": 1.0}, (1 / 3, 2 / 3, 0.25))])
    assert phase.space_group_number == 194 and len(phase.operations) == 24
    r = reflections(phase, two_theta_min=5, two_theta_max=120, wavelength=CU_KA1)
    hkls = {tuple(h) for h in r.hkl.tolist()}
    assert (0, 0, 2) in hkls and (0, 0, 4) in hkls
    assert (0, 0, 1) not in hkls and (0, 0, 3) not in hkls  # 6_3: 00l only with l even
    # h h -2h l with l odd is a c-glide extinction: (1 1 -2 1) = (1 1 1) in three indices
    assert not any(h == k and ell % 2 for h, k, ell in hkls)


def test_friedel_pairs_are_merged_in_a_noncentrosymmetric_group():
    from ssbkit.xrd.structures import argyrodite

    r = reflections(argyrodite(), two_theta_min=10, two_theta_max=40, wavelength=CU_KA1)
    mult = dict(zip(map(tuple, r.hkl.tolist()), r.multiplicity.tolist(), strict=True))
    assert mult[(1, 1, 1)] == 8  # (111) and (-1-1-1) belong to different -43m forms, one Laue form


def test_volume_mass_and_density_of_rock_salt():
    phase = rock_salt(5.64)
    assert phase.volume == pytest.approx(5.64**3, rel=1e-12)
    assert phase.cell_mass == pytest.approx(4 * (22.990 + 35.45), rel=1e-12)
    assert phase.density == pytest.approx(4 * 58.44 / (6.02214076e23 * (5.64e-8) ** 3), rel=1e-4)
    assert phase.composition == {"Na": 4.0, "Cl": 4.0}


def test_triclinic_volume_closed_form():
    phase = Phase(name="p1", a=5, b=6, c=7, alpha=80, beta=95, gamma=100, space_group="P1",
                  sites=[Site("C", {"C": 1}, (0.1, 0.2, 0.3))])
    ca, cb, cg = (math.cos(math.radians(x)) for x in (80, 95, 100))
    expected = 5 * 6 * 7 * math.sqrt(1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg)
    assert phase.volume == pytest.approx(expected, rel=1e-12)
    assert list(phase.free_cell_parameters()) == ["a", "b", "c", "alpha", "beta", "gamma"]


@pytest.mark.parametrize(("group", "cell", "free"), [
    ("Fm-3m", {"a": 5.0}, ["a"]),
    ("P4/mmm", {"a": 4.0, "c": 6.0}, ["a", "c"]),
    ("Pnma", {"a": 4.0, "b": 5.0, "c": 6.0}, ["a", "b", "c"]),
    ("P2_1/c", {"a": 4.0, "b": 5.0, "c": 6.0, "beta": 100.0}, ["a", "b", "c", "beta"]),
])
def test_free_cell_parameters_and_constraints(group, cell, free):
    phase = Phase(name=group, **cell, space_group=group, sites=[Site("O", {"O": 1}, (0.1, 0.2, 0.3))])
    assert list(phase.free_cell_parameters()) == free
    bigger = phase.with_cell([v * 1.01 for v in phase.free_cell_parameters().values()])
    for name, value in phase.free_cell_parameters().items():
        assert getattr(bigger, name) == pytest.approx(value * 1.01)
    if group == "Fm-3m":
        assert bigger.b == bigger.c == bigger.a
    if group == "P4/mmm":
        assert bigger.b == bigger.a and bigger.c == pytest.approx(6.06)
    with pytest.raises(InputError, match="not free"):
        phase.with_cell({"gamma": 95.0})


def test_hexagonal_cell_keeps_a_equal_b():
    phase = tis2().with_cell({"a": 3.5, "c": 5.8})
    assert (phase.a, phase.b, phase.c, phase.gamma) == (3.5, 3.5, 5.8, 120.0)
    assert phase.crystal_system == "trigonal"


def test_rhombohedral_setting_frees_a_and_alpha():
    phase = Phase(name="rh", a=5.0, alpha=60.0, beta=60.0, gamma=60.0, space_group="R-3m:R",
                  space_group_number=166, sites=[Site("Bi", {"Bi": 1}, (0, 0, 0))],
                  operations=SymmetryOperations.from_generators(["z,x,y", "-y,-x,-z", "-x,-y,-z"]))
    assert len(phase.operations) == 12  # -3m on rhombohedral axes
    assert phase.crystal_system == "rhombohedral"
    assert phase.free_cell_parameters() == {"a": 5.0, "alpha": 60.0}
    moved = phase.with_cell({"alpha": 58.0})
    assert moved.beta == moved.gamma == 58.0


def test_a_reflection_table_reused_across_cell_changes_matches_a_fresh_one():
    base = rock_salt(5.64)
    reflections(base, two_theta_min=10, two_theta_max=90, wavelength=CU_KA1)  # fills the cache
    for a in (5.64 * 1.02, 5.64 * 0.97, 5.64 * 0.8, 5.64 * 1.3):
        cached = reflections(base.replace(a=a, b=a, c=a), two_theta_min=10, two_theta_max=90,
                             wavelength=CU_KA1)
        fresh = reflections(rock_salt(a), two_theta_min=10, two_theta_max=90, wavelength=CU_KA1)
        assert cached.hkl.tolist() == fresh.hkl.tolist()
        assert np.array_equal(cached.multiplicity, fresh.multiplicity)


def test_a_small_move_of_a_coordinate_changes_structure_factors():
    """Regression: orbits were cached under coordinates rounded to 1e-4, so |F|² was a step
    function of xyz and a refinement of positions saw zero derivatives."""
    phase = li2s()
    hkl = np.array([[1, 1, 1], [3, 1, 1], [3, 3, 1]])
    before = structure_factors(phase, hkl)
    moved = phase.with_sites({"Li": {"xyz": (0.25 + 2e-6, 0.25 + 2e-6, 0.25 + 2e-6)}})
    after = structure_factors(moved, hkl)
    assert moved.sites[1].multiplicity == 8
    assert not np.allclose(before, after, rtol=1e-12, atol=0)


def test_symmetry_operations_from_xyz_strings():
    ops = SymmetryOperations.from_xyz(["x,y,z", "-x+1/2, y, -z+0.5", "y-x,-x,z+1/3"])
    assert ops.rotations[1].tolist() == [[-1, 0, 0], [0, 1, 0], [0, 0, -1]]
    assert ops.translations[1].tolist() == [0.5, 0.0, 0.5]
    assert ops.rotations[2].tolist() == [[-1, 1, 0], [-1, 0, 0], [0, 0, 1]]
    assert ops.translations[2][2] == pytest.approx(1 / 3)
    with pytest.raises(InputError, match="cannot read"):
        SymmetryOperations.from_xyz(["x,y,w"])
    with pytest.raises(InputError, match="three"):
        SymmetryOperations.from_xyz(["x,y"])


def test_site_multiplicity_given_wrong_is_refused():
    with pytest.raises(InputError, match="multiplicity 8"):
        Phase(name="bad", a=5.0, space_group="Fm-3m", operations=licl().operations,
              sites=[Site("Li", {"Li": 1.0}, (0, 0, 0), multiplicity=8)])


def test_site_validation():
    with pytest.raises(InputError, match="add up"):
        Site("X", {"Cl": 0.7, "Br": 0.5}, (0, 0, 0))
    with pytest.raises(InputError, match="no X-ray form factor for 'Qq'"):
        Site("X", {"Qq": 1.0}, (0, 0, 0))
    with pytest.raises(InputError, match="not an element"):
        Site("X", {"1S": 1.0}, (0, 0, 0))
    with pytest.raises(InputError, match="three finite"):
        Site("X", {"Cl": 1.0}, (0, 0))


def test_phase_validation_names_the_problem():
    with pytest.raises(InputError, match="cell parameter a"):
        Phase(name="x", a=-1.0, space_group="P1")
    with pytest.raises(InputError, match="unknown space group"):
        Phase(name="x", a=5.0, space_group="Q9")
    with pytest.raises(InputError, match="use with_sites"):
        licl().replace(sites=())


def test_no_reflection_in_range_names_the_phase_and_missing_wavelength():
    with pytest.raises(InputError, match="no reflection of LiCl"):
        reflections(licl(), two_theta_min=5, two_theta_max=20, wavelength=CU_KA1)
    with pytest.raises(InputError, match="wavelength missing"):
        reflections(licl(), two_theta_min=5, two_theta_max=90, wavelength=None)
    with pytest.raises(InputError, match="no sites"):
        structure_factors(Phase(name="empty", a=5.0, space_group="Fm-3m", operations=licl().operations),
                          np.array([[1, 1, 1]]))


def test_cif_keeps_setting_mixed_sites_and_occupancies():
    phase = Phase.from_cif(shared_data("xrd", "synthetic_argyrodite", "argyrodite.cif"))
    assert phase.space_group_number == 216 and len(phase.operations) == 96
    by_label = {s.label: s for s in phase.sites}
    assert len(phase.sites) == 5  # eight atom_site rows, two mixed sites
    assert dict(by_label["S3"].species) == pytest.approx({"S": 0.5, "Cl": 0.8 / 3, "Br": 0.7 / 3})
    assert by_label["S3"].xyz == (0.25, 0.25, 0.75)  # the CIF's setting, not moved to (3/4, 3/4, 3/4)
    assert by_label["Li0"].species["Li"] == pytest.approx(5.5 / 12)  # occupancy wrapped onto the next line
    assert [s.multiplicity for s in phase.sites] == [48, 4, 16, 4, 4]
    assert phase.composition == pytest.approx({"Li": 22, "P": 4, "S": 18, "Cl": 3.2, "Br": 2.8})


def test_cif_uiso_becomes_biso_and_esd_brackets_are_read(tmp_path):
    cif = tmp_path / "nacl.cif"
    cif.write_text("data_nacl\n_cell_length_a 5.6402(3)\n_cell_length_b 5.6402(3)\n_cell_length_c 5.6402(3)\n"
                   "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
                   "_symmetry_space_group_name_H-M 'F m -3 m'\n"
                   "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
                   "_atom_site_fract_z\n_atom_site_U_iso_or_equiv\n"
                   "Na1 Na+ 0 0 0 0.0127\nCl1 Cl- 0.5 0.5 0.5 0.0127\n")
    phase = Phase.from_cif(cif)
    assert phase.a == 5.6402 and phase.space_group_number == 225 and len(phase.operations) == 192
    assert phase.sites[0].biso == pytest.approx(8 * math.pi**2 * 0.0127)
    assert list(phase.sites[1].species) == ["Cl-"]


def test_cif_that_does_not_parse_names_the_file(tmp_path):
    bad = tmp_path / "broken.cif"
    bad.write_text("this is not a CIF\n")
    with pytest.raises(InputError, match="broken.cif"):
        Phase.from_cif(bad)
    no_cell = tmp_path / "nocell.cif"
    no_cell.write_text("data_x\n_symmetry_space_group_name_H-M 'P 1'\n")
    with pytest.raises(InputError, match="nocell.cif.*_cell_length_a"):
        Phase.from_cif(no_cell)
    with pytest.raises(InputError, match="no such file"):
        Phase.from_cif(tmp_path / "missing.cif")


ELEMENTS = ("H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se "
            "Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy "
            "Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu").split()


def test_form_factors_at_zero_angle_count_the_electrons():
    """f0(0) = Σa + c is Z to the table's accuracy: catches a mistyped a or c."""
    from ssbkit.xrd.formfactors import electrons

    for z, element in enumerate(ELEMENTS, start=1):
        assert electrons(element) == pytest.approx(z, abs=0.02 if z <= 30 else 0.07), element
    ions = (("Li+", 2), ("Na1+", 10), ("O2-", 10), ("F-", 10), ("Cl-", 18), ("Br1-", 36), ("I-", 54))
    for ion, count in ions:
        assert electrons(ion) == pytest.approx(count, abs=0.02), ion
    assert electrons("Ti4+") == electrons("Ti")  # an ion not in the table falls back to its atom


def test_form_factors_agree_with_pymatgens_independent_parametrisation():
    """Within 4 % at s = 0.1 and 0.25 Å⁻¹ for Li…Pu: catches a mistyped b (H differs by more)."""
    from ssbkit.xrd.formfactors import form_factor

    for element in ELEMENTS[2:]:
        ours = form_factor(element, [0.1, 0.25])
        theirs = form_factor(element, [0.1, 0.25], table="pymatgen")
        assert ours == pytest.approx(theirs, rel=0.04), element
    with pytest.raises(InputError, match="unknown form-factor table"):
        form_factor("S", 0.1, table="xyz")


@pytest.mark.parametrize(("number", "system"), [(1, "triclinic"), (14, "monoclinic"), (62, "orthorhombic"),
                                                (123, "tetragonal"), (166, "trigonal"), (194, "hexagonal"),
                                                (216, "cubic")])
def test_crystal_system_from_the_operations_alone(number, system):
    pytest.importorskip("pymatgen")
    from pymatgen.symmetry.groups import SpaceGroup

    ops = SpaceGroup.from_int_number(number).symmetry_ops
    mine = SymmetryOperations([o.rotation_matrix for o in ops], [o.translation_vector for o in ops])
    assert mine.crystal_system() == system


def test_cif_with_operations_but_no_number_gets_it_from_the_symbol():
    phase = Phase.from_cif(shared_data("xrd", "gsas2_pbso4", "PbSO4-Wyckoff.cif"))
    assert phase.space_group_number == 62 and len(phase.operations) == 8
    assert phase.free_cell_parameters() == {"a": 8.48, "b": 5.398, "c": 6.958}
    assert [s.multiplicity for s in phase.sites] == [4, 4, 4, 4, 8]
    assert phase.composition == pytest.approx({"Pb": 4, "S": 4, "O": 16})


# ---------------------------------------------------------------- regressions: CIF symmetry

def write_cif(tmp_path, symmetry: str, sites: str, *, cell=(5.4309, 5.4309, 5.4309, 90, 90, 90),
              name: str = "x.cif"):
    tags = ("a", "b", "c", "alpha", "beta", "gamma")
    lines = ["data_x"]
    lines += [f"_cell_length_{t} {v}" if t in "abc" else f"_cell_angle_{t} {v}"
              for t, v in zip(tags, cell, strict=True)]
    lines += [symmetry, "loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x",
              "_atom_site_fract_y", "_atom_site_fract_z", sites]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cif_with_only_the_space_group_number_is_not_read_as_p1(tmp_path):
    pytest.importorskip("pymatgen")
    cif = write_cif(tmp_path, "_space_group_IT_number 225", "Li1 Li 0 0 0\nCl1 Cl 0.5 0.5 0.5",
                    cell=(5.13, 5.13, 5.13, 90, 90, 90))
    phase = Phase.from_cif(cif)
    assert len(phase.operations) == 192 and phase.space_group_number == 225
    assert phase.composition == pytest.approx({"Li": 4, "Cl": 4})
    assert phase.cell_mass == pytest.approx(4 * (6.94 + 35.45), rel=1e-3)
    r = reflections(phase, two_theta_min=10, two_theta_max=60, wavelength=CU_KA1)
    assert r.hkl[:3].tolist() == [[1, 1, 1], [2, 0, 0], [2, 2, 0]]  # F centring: no 100, 110


@pytest.mark.parametrize("symmetry", ["_space_group_IT_number 227\n_space_group_IT_coordinate_system_code 2",
                                      "_symmetry_space_group_name_H-M 'F d -3 m Z'",
                                      "_symmetry_space_group_name_H-M 'Fd-3m:2'",
                                      "_symmetry_space_group_name_Hall '-F 4vw 2vw 3'"])
def test_cif_origin_choice_2_by_code_suffix_or_hall_puts_8_si_in_diamond(tmp_path, symmetry):
    pytest.importorskip("pymatgen")
    phase = Phase.from_cif(write_cif(tmp_path, symmetry, "Si1 Si 0.125 0.125 0.125"))
    assert phase.space_group_number == 227 and phase.composition == pytest.approx({"Si": 8})
    hkl = {tuple(h) for h in reflections(phase, two_theta_min=10, two_theta_max=80, wavelength=CU_KA1).hkl}
    assert (1, 1, 1) in hkl and (2, 2, 0) in hkl and (2, 0, 0) not in hkl  # d glide: 200 absent


def test_cif_setting_suffix_s_is_origin_choice_1(tmp_path):
    pytest.importorskip("pymatgen")
    phase = Phase.from_cif(write_cif(tmp_path, "_symmetry_space_group_name_H-M 'F d -3 m S'", "Si1 Si 0 0 0"))
    assert phase.composition == pytest.approx({"Si": 8})  # 8a of origin choice 1 is at 0, 0, 0


def test_cif_formula_that_the_sites_do_not_expand_to_is_refused(tmp_path):
    pytest.importorskip("pymatgen")
    formula = "_chemical_formula_sum 'Si'\n_cell_formula_units_Z 8\n"
    wrong = write_cif(tmp_path, formula + "_symmetry_space_group_name_H-M 'F d -3 m'",
                      "Si1 Si 0.125 0.125 0.125")
    with pytest.raises(InputError, match=r"x.cif.*Si16 per cell.*origin"):
        Phase.from_cif(wrong)
    right = write_cif(tmp_path, formula + "_symmetry_space_group_name_H-M 'F d -3 m :2'",
                      "Si1 Si 0.125 0.125 0.125", name="y.cif")
    assert Phase.from_cif(right).composition == pytest.approx({"Si": 8})


def test_cif_symbol_and_number_that_disagree_are_refused(tmp_path):
    pytest.importorskip("pymatgen")
    cif = write_cif(tmp_path, "_symmetry_space_group_name_H-M 'F m -3 m'\n_space_group_IT_number 227",
                    "Si1 Si 0 0 0")
    with pytest.raises(InputError, match=r"x.cif.*225.*227"):
        Phase.from_cif(cif)


def test_cif_r_group_with_a_rhombohedral_cell_takes_the_r_setting(tmp_path):
    pytest.importorskip("pymatgen")
    sites = "Li1 Li 0.5 0.5 0.5\nCo1 Co 0 0 0\nO1 O 0.2396 0.2396 0.2396"
    rh = Phase.from_cif(write_cif(tmp_path, "_symmetry_space_group_name_H-M 'R -3 m'", sites,
                                  cell=(4.99, 4.99, 4.99, 32.9, 32.9, 32.9)))
    assert len(rh.operations) == 12 and rh.composition == pytest.approx({"Li": 1, "Co": 1, "O": 2})
    hexagonal = write_cif(tmp_path, "_symmetry_space_group_name_H-M 'R -3 m :R'", sites,
                          cell=(2.816, 2.816, 14.05, 90, 90, 120), name="h.cif")
    with pytest.raises(InputError, match="h.cif.*rhombohedral"):
        Phase.from_cif(hexagonal)


def test_cif_pymatgen_warnings_do_not_leak_but_name_the_lines(tmp_path):
    bad = tmp_path / "broken.cif"
    bad.write_text("data_broken\nthis is not a cif ;;;\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match=r"broken.cif.*not CIF: 'this'"):
            Phase.from_cif(bad)


def test_cif_truncated_loop_is_an_input_error_without_zero_division(tmp_path):
    bad = tmp_path / "cut.cif"
    bad.write_text("data_x\n_cell_length_a 5\nloop_\n_atom_site_label\n")
    with pytest.raises(InputError, match="cut.cif.*loop_") as info:
        Phase.from_cif(bad)
    assert "ZeroDivision" not in str(info.value)
