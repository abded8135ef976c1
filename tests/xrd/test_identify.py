"""Phase identification: the synthetic three-phase argyrodite pattern (truth in its README), a
simulated Li2TiS3 + TiS2 cathode pattern, and negative controls (background only; a phase that
is not in the library)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.io import read_pattern
from ssbkit.testing import shared_data
from ssbkit.xrd.crystal import Phase, Site, SymmetryOperations
from ssbkit.xrd.data import ANODES, Instrument, Pattern
from ssbkit.xrd.identify import identify
from ssbkit.xrd.simulate import simulate_pattern
from ssbkit.xrd.structures import BUILTIN_PHASES, li2tis3, licl, tis2

ARGYRODITE = "Li5.5PS4.5Cl0.8Br0.7"


def _synth3():
    """synth3.xy: 2θ, counts, esd; Cu Kα1/Kα2 (its README; the file itself does not say)."""
    pattern = read_pattern(shared_data("xrd", "synthetic_argyrodite", "synth3.xy"))
    return dataclasses.replace(pattern, wavelengths=ANODES["CuKa"])


@pytest.fixture(scope="module")
def synth3_result():
    return identify(_synth3())


def test_synth3_identifies_argyrodite_licl_li2s(synth3_result):
    r = synth3_result
    assert [m.name for m in r.phases] == [ARGYRODITE, "LiCl", "Li2S"]
    # README truth: 90.0 / 6.0 / 4.0 wt %
    for match, truth in zip(r.phases, (90.0, 6.0, 4.0), strict=True):
        assert match.weight_fraction.value == pytest.approx(truth, abs=1.0)
        assert match.weight_fraction.unit == "%"
    # README truth: a = 9.8532, 5.1300, 5.7080 Å; zero +0.02°
    for match, a in zip(r.phases, (9.8532, 5.1300, 5.7080), strict=True):
        assert match.cell[0] == pytest.approx(a, abs=2e-3)
    assert r.zero == pytest.approx(0.02, abs=0.01)
    assert {m.name for m in r.impurities} == {"LiCl", "Li2S"}
    assert r.unexplained_peaks.size == 0 and r.explained == 1.0


def test_synth3_rejects_the_phases_that_are_not_there(synth3_result):
    absent = {m.name: m for m in synth3_result.candidates if not m.detected}
    assert {"LiBr", "LiI", "TiS2", "Li2TiS3"} <= set(absent)
    for name in ("LiBr", "LiI", "TiS2"):
        assert absent[name].detection_limit < 1.0  # "not detected (< x %)", x well below the 4 % of Li2S
        assert "not detected (<" in absent[name].describe()
    # the Li6PS5Cl model is an alternative to the truth model, not a fourth phase
    assert "Li6PS5Cl" in absent


def test_synth3_with_its_cifs():
    folder = ("xrd", "synthetic_argyrodite")
    cifs = [shared_data(*folder, name) for name in ("argyrodite.cif", "LiCl.cif", "Li2S.cif")]
    r = identify(_synth3(), library={"argyrodite": cifs[0], "LiCl": cifs[1], "Li2S": cifs[2]})
    fractions = {m.name: m.weight_fraction.value for m in r.phases}
    assert fractions == pytest.approx({"argyrodite": 90.0, "LiCl": 6.0, "Li2S": 4.0}, abs=1.0)


def test_simulated_cathode_identifies_li2tis3_and_tis2():
    instrument = Instrument(U=0.004, V=-0.002, W=0.002, X=0.02, Y=0.05)
    pattern = simulate_pattern([li2tis3(a=5.07), tis2()], weight_fractions=[0.75, 0.25],
                               instrument=instrument, background=[300.0, -50.0, 20.0], peak_counts=3000,
                               rng=3)
    r = identify(pattern)
    assert [m.name for m in r.phases] == ["Li2TiS3", "TiS2"]
    assert [m.weight_fraction.value for m in r.phases] == pytest.approx([75.0, 25.0], abs=2.0)
    assert r.phases[0].cell[0] == pytest.approx(5.07, abs=2e-3)
    assert r.impurities == ()


def test_background_only_identifies_nothing():
    rng = np.random.default_rng(1)
    x = np.arange(10.0, 90.0, 0.02)
    hump = 300 - 1.5 * (x - 10) + 40 * np.exp(-(((x - 20) / 8) ** 2))  # an amorphous-looking hump
    r = identify(Pattern(x, rng.poisson(hump).astype(float), wavelengths=ANODES["CuKa"]))
    assert r.success and r.phases == () and r.peaks.size == 0
    assert "nothing identified" in r.message
    assert len(r.candidates) == len(BUILTIN_PHASES)


def test_a_phase_outside_the_library_is_not_forced_into_it():
    """Negative control: primitive-cubic CsCl has lines (100, 110, 111, …) that no library phase
    makes; nothing is detected and its peaks are reported as unexplained."""
    cubic = SymmetryOperations.from_generators(["z,x,y", "y,-x,-z", "-x,-y,-z"], centring="P")
    cscl = Phase(name="CsCl", a=4.123, space_group="Pm-3m", space_group_number=221, operations=cubic,
                 sites=[Site("Cs", {"Cs": 1}, (0, 0, 0)), Site("Cl", {"Cl": 1}, (0.5, 0.5, 0.5))])
    pattern = simulate_pattern([cscl], weight_fractions=[1.0], background=[200.0], rng=5)
    r = identify(pattern)
    assert r.phases == ()
    assert r.unexplained_peaks.size >= 8
    # and with CsCl in the library it is found
    assert [m.name for m in identify(pattern, library=[cscl, licl()]).phases] == ["CsCl"]


def test_result_is_strict_json(synth3_result):
    doc = json.loads(synth3_result.to_json())
    assert doc["phases"][0]["weight_fraction"]["unit"] == "%"
    frame = synth3_result.to_frame()
    assert list(frame["phase"][:3]) == [ARGYRODITE, "LiCl", "Li2S"]
    assert "weight fraction [%]" in frame.columns


def test_real_patterns_of_other_materials():
    """Negative controls on real data: fluorapatite (FAP.XRA) holds none of the library, and a
    library phase fitted to coincident PbSO4 peaks is flagged as uncertain."""
    fap = identify(read_pattern(shared_data("xrd", "rietx_examples", "FAP.XRA")), wavelength="CuKa")
    assert fap.phases == () and fap.message == "no library phase identified"
    assert any("not in the pattern" in m.note or "strong lines match" in m.note for m in fap.candidates)
    pbso4 = identify(read_pattern(shared_data("xrd", "gsas2_pbso4", "PBSO4.XRA")),
                     wavelength=((1.5405, 1.0), (1.5443, 0.5)))
    assert pbso4.explained < 0.5
    assert pbso4.phases == ()


def test_pbso4_lii_with_most_strong_lines_unmatched_is_not_detected():
    """Regression: LiI matched 7 of 20 strong lines on PbSO4 (FoM 0.6 from coincident strong
    lines) and was reported 'detected: LiI 100 %' with success."""
    pbso4 = identify(read_pattern(shared_data("xrd", "gsas2_pbso4", "PBSO4.XRA")),
                     wavelength=((1.5405, 1.0), (1.5443, 0.5)))
    lii = next(m for m in pbso4.candidates if m.name == "LiI")
    assert not lii.detected and lii.matched_lines < 0.6 * lii.strong_lines
    assert "strong lines match" in lii.note and "LiI" not in pbso4.message


def test_phase_fitted_where_most_peak_height_is_unexplained_is_uncertain_not_detected():
    """LiCl is in the pattern, but 80 % of it is TiS2, which the library lacks: LiCl is reported
    as uncertain, and phases stays empty."""
    pattern = simulate_pattern([licl(), tis2()], weight_fractions=[0.2, 0.8], background=[100.0], rng=7)
    r = identify(pattern, library={"LiCl": licl()})
    assert r.explained < 0.5
    assert r.phases == () and [m.name for m in r.uncertain] == ["LiCl"]
    assert r.uncertain[0].uncertain and "uncertain" in r.uncertain[0].describe()
    assert "probably not in the library" in r.message and r.success
    assert json.loads(r.to_json())["uncertain"][0]["name"] == "LiCl"
    control = identify(simulate_pattern([licl()], weight_fractions=[1.0], background=[100.0], rng=7),
                       library={"LiCl": licl()})
    assert [m.name for m in control.phases] == ["LiCl"] and control.uncertain == ()


def test_bad_input_is_named():
    x = np.arange(20.0, 40.0, 0.02)
    bare = Pattern(x, np.full(x.size, 100.0))
    with pytest.raises(InputError, match="wavelength"):
        identify(bare)
    with pytest.raises(InputError, match=r"library\[0\]"):
        identify(bare, wavelength="CuKa", library=[42])
    with pytest.raises(InputError, match="no intensities"):
        identify(Pattern(x, np.zeros(x.size)), wavelength="CuKa")
    with pytest.raises(InputError, match="max_phases"):
        identify(bare, wavelength="CuKa", max_phases=0)
