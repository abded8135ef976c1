"""Instrument files: GSAS-II .instprm and GSAS .prm, converted to ssbkit's FullProf convention."""

from __future__ import annotations

import math

import pytest

from ssbkit.core.errors import InputError
from ssbkit.io.xrd_instrument import read_instrument
from ssbkit.testing import shared_data

K = 8 * math.log(2) / 1e4  # σ² [centideg²] → Gaussian FWHM² [deg²]

PRM = """            123456789012345678901234567890123456789012345678901234567890
INS   BANK      1
INS   HTYPE   {htype}
INS  1 ICONS  1.540593  1.544414      {zero:4.1f}         0       {pola:3.1f}    {ipola}       0.5
INS  1PRCF1     {kind}   {count}      0.01
INS  1PRCF11   {c[0]:12.6E}   {c[1]:12.6E}   {c[2]:12.6E}   {c[3]:12.6E}
INS  1PRCF12   {c[4]:12.6E}   {c[5]:12.6E}   {c[6]:12.6E}   {c[7]:12.6E}
INS  1PRCF13   {c[8]:12.6E}   {c[9]:12.6E}   {c[10]:12.6E}   {c[11]:12.6E}
"""


def _prm(tmp_path, *, kind=3, count=12, coefficients=(2.0, -2.0, 5.0, 0.0, 1.5, 3.0, 0.01, 0.02),
         htype="PXCR", zero=0.0, pola=0.5, ipola=0):
    c = list(coefficients) + [0.0] * (12 - len(coefficients))
    path = tmp_path / "inst.prm"
    path.write_text(PRM.format(htype=htype, zero=zero, pola=pola, ipola=ipola, kind=kind,
                               count=count, c=c))
    return path


@pytest.mark.shared_data
def test_cuka_instprm_gives_the_readme_profile():
    ins = read_instrument(shared_data("xrd", "synthetic_argyrodite", "cuka.instprm"))
    # the README: U, V, W = 7.21, -3.61, 3.61 centideg² (σ²) are 0.004, -0.002, 0.002 deg² (FWHM²)
    assert ins.U == pytest.approx(0.004, abs=5e-6)
    assert ins.V == pytest.approx(-0.002, abs=5e-6)
    assert ins.W == pytest.approx(0.002, abs=5e-6)
    assert ins.wavelengths == ((1.540593, 1.0), (1.544414, 0.5))
    assert ins.polarization == 0.5 and ins.zero == 0.0 and ins.asymmetry == 0.0005


@pytest.mark.shared_data
def test_pbso4_xray_prm_type_3_by_hand():
    ins = read_instrument(shared_data("xrd", "gsas2_pbso4", "INST_XRY.PRM"))
    # PRCF11: GU 2, GV -2, GW 5, GP 0.1; PRCF12: LX 0, LY 0, S/L 0.015, H/L 0.015
    assert ins.U == pytest.approx((2.0 + 0.1) * K, rel=1e-12)
    assert ins.V == pytest.approx(-2.0 * K, rel=1e-12)
    assert ins.W == pytest.approx((5.0 + 0.1) * K, rel=1e-12)
    assert ins.X == 0 and ins.Y == 0 and ins.asymmetry == pytest.approx(0.03)
    # ICONS: λ1 1.5405, λ2 1.5443, ratio 0.5, POLA 0.7 (GSAS-II's P) → K = 1 - P
    assert ins.wavelengths == ((1.5405, 1.0), (1.5443, 0.5))
    assert ins.polarization == pytest.approx(0.3)


@pytest.mark.shared_data
def test_d1a_neutron_prm_reads_its_wavelength_and_no_polarization():
    path = shared_data("xrd", "gsas2_pbso4", "inst_d1a.prm")
    ins = read_instrument(path)  # PRCF1, type 1 (Gaussian): GU 354.031, GV -760.404, GW 651.592
    assert ins.wavelengths == ((1.909, 1.0),)
    assert ins.zero == pytest.approx(-0.001)  # -0.1 centidegree
    assert ins.polarization == 0.0
    assert ins.U == pytest.approx(354.031 * K) and ins.V == pytest.approx(-760.404 * K)
    second = read_instrument(path, profile=2)  # type 2 with six coefficients, the rest 0
    assert second.W == pytest.approx(651.592 * K) and second.X == second.Y == 0


def test_the_p_over_cos2_term_is_folded_exactly_into_u_and_w(tmp_path):
    import numpy as np

    gu, gv, gw, gp = 2.0, -2.0, 5.0, 0.7
    ins = read_instrument(_prm(tmp_path, coefficients=(gu, gv, gw, gp, 0.0, 0.0, 0.0, 0.0)))
    theta = np.radians(np.linspace(5, 80, 16))
    sigma2 = gu * np.tan(theta) ** 2 + gv * np.tan(theta) + gw + gp / np.cos(theta) ** 2
    np.testing.assert_allclose(ins.gaussian_fwhm(2 * np.degrees(theta)) ** 2, K * sigma2, rtol=1e-12)


def test_lorentzian_terms_swap_names_and_scale(tmp_path):
    import numpy as np

    ins = read_instrument(_prm(tmp_path, coefficients=(0, 0, 1, 0, 1.5, 3.0, 0.01, 0.02),
                               zero=-2.5))
    two_theta = np.array([20.0, 60.0, 120.0])
    theta = np.radians(two_theta / 2)
    gamma_centideg = 1.5 / np.cos(theta) + 3.0 * np.tan(theta)  # GSAS: LX/cosθ + LY tanθ
    np.testing.assert_allclose(ins.lorentzian_fwhm(two_theta), gamma_centideg / 100, rtol=1e-12)
    assert ins.zero == pytest.approx(-0.025) and ins.asymmetry == pytest.approx(0.03)


def test_azimuth_and_polarization_follow_gsas_ii(tmp_path):
    path = tmp_path / "sync.instprm"
    path.write_text("#GSAS-II instrument parameter file\nType:PXC;Lam:0.41391;Zero:0.0\n"
                    "Polariz.:0.99;Azimuth:90.0\nU:1.0;V:0.0;W:0.1;X:0.0;Y:0.0;Z:0.0;SH/L:0.002\n")
    ins = read_instrument(path)
    # GSAS-II at azimuth 90°: P cos²2θ + (1 - P), so K = P = 0.99
    assert ins.polarization == pytest.approx(0.99) and ins.wavelengths == ((0.41391, 1.0),)


def test_multibank_instprm_picks_the_bank(tmp_path):
    path = tmp_path / "two.instprm"
    body = "Type:PXC\nLam:{lam}\nU:1\nV:0\nW:1\nX:0\nY:0\nZ:0\nSH/L:0\n"
    path.write_text("#Bank 1: GSAS-II instrument parameter file\n" + body.format(lam=1.5) +
                    "#Bank 2: GSAS-II instrument parameter file\n" + body.format(lam=0.7))
    assert read_instrument(path).wavelengths == ((1.5, 1.0),)
    assert read_instrument(path, bank=2).wavelengths == ((0.7, 1.0),)
    with pytest.raises(InputError, match=r"bank 3 is not in the file; it holds \[1, 2\]"):
        read_instrument(path, bank=3)


@pytest.mark.parametrize(("change", "message"), [
    ({"htype": "PNTR"}, "not constant-wavelength powder data"),
    ({"kind": 4}, "profile type 4 is not read"),
    ({"kind": 2, "coefficients": (1, 0, 1, 0, 0, 0, 0.5)}, "asym = 0.5"),
    ({"ipola": 1}, "IPOLA = 1"),
    ({"count": 14}, "announces 14 coefficients but the file gives 12"),
])
def test_prm_refusals_name_the_file(tmp_path, change, message):
    with pytest.raises(InputError, match=message) as info:
        read_instrument(_prm(tmp_path, **change))
    assert "inst.prm" in str(info.value)


def test_instprm_refusals(tmp_path):
    path = tmp_path / "tof.instprm"
    path.write_text("#GSAS-II instrument parameter file\nType:PNT\ndifC:22600\n")
    with pytest.raises(InputError, match="Type 'PNT' is not constant-wavelength"):
        read_instrument(path)
    path.write_text("#GSAS-II\nType:PXC\nLam:1.54\nU:1\nV:0\nW:1\nX:0\nY:0\nZ:2.5\n")
    with pytest.raises(InputError, match="Z = 2.5 centideg"):
        read_instrument(path)
    path.write_text("#GSAS-II\nType:PXC\nLam:1.54\nU:abc\nV:0\nW:1\n")
    with pytest.raises(InputError, match=r"line 4: U 'abc' is not a number"):
        read_instrument(path)
    path.write_text("#GSAS-II\nType:PXC\nU:1\nV:0\nW:1\n")
    with pytest.raises(InputError, match="'Lam' is missing"):
        read_instrument(path)
    path.write_text("just some words\n")
    with pytest.raises(InputError, match="neither a GSAS-II .instprm"):
        read_instrument(path)


def test_polarization_at_an_oblique_azimuth_survives_passing_p_to_from_gsas(tmp_path):
    """Regression for the simplification (P handed to Instrument.from_gsas, which sets K = 1 − P,
    instead of overwriting K afterwards): at azimuth 30° the factor must still be GSAS-II's
    [(1 − P)cos²a + P sin²a]·cos²2θ + P cos²a + (1 − P) sin²a."""
    path = tmp_path / "oblique.instprm"
    path.write_text("#GSAS-II instrument parameter file\nType:PXC;Lam:1.5406;Zero:0.0\n"
                    "Polariz.:0.7;Azimuth:30.0\nU:1.0;V:0.0;W:0.1;X:0.0;Y:0.0;Z:0.0;SH/L:0.002\n")
    ins = read_instrument(path)
    p, c2, s2 = 0.7, 0.75, 0.25  # cos²30°, sin²30°
    for two_theta in (20.0, 60.0, 110.0):
        cos2 = math.cos(math.radians(two_theta)) ** 2
        gsas = ((1 - p) * c2 + p * s2) * cos2 + p * c2 + (1 - p) * s2
        assert 1 - ins.polarization + ins.polarization * cos2 == pytest.approx(gsas, rel=1e-12)
    assert ins.polarization == pytest.approx(0.4)
