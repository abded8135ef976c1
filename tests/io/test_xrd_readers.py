"""XRD readers: text columns, GSAS, PANalytical, Rigaku, Bruker; real files and round trips."""

from __future__ import annotations

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.io import read_pattern
from ssbkit.io.gsas import GsasPowderReader
from ssbkit.io.xrd_text import XyReader
from ssbkit.testing import shared_data

XY, GSAS = XyReader(), GsasPowderReader()


def _truth(n=301, start=10.0, step=0.02, seed=3):
    """A known pattern: one Gaussian peak on a flat background, Poisson counts (seeded)."""
    rng = np.random.default_rng(seed)
    x = start + step * np.arange(n)
    mean = 200 + 5000 * np.exp(-0.5 * ((x - x[n // 2]) / 0.05) ** 2)
    return x, rng.poisson(mean).astype(float)


# --------------------------------------------------------------------------- .xy/.xye/.csv
@pytest.mark.shared_data
def test_synthetic_argyrodite_xy_by_hand():
    path = shared_data("xrd", "synthetic_argyrodite", "synth3.xy")
    p = read_pattern(path)
    assert p.metadata["format"] == "xrd-xy" and len(p) == 4000
    # first line "10.0000 412.0000 20.2978", last "89.9800 233.0000 15.2643"
    assert (p.two_theta[0], p.intensity[0], p.sigma[0]) == (10.0, 412.0, 20.2978)
    assert (p.two_theta[-1], p.intensity[-1], p.sigma[-1]) == (89.98, 233.0, 15.2643)
    assert p.metadata["step_deg"] == 0.02 and p.metadata["sigma"] == "file"
    assert p.wavelengths == ()  # the file does not say


@pytest.mark.parametrize(("name", "layout"), [
    ("a.xy", "{x:.2f} {y:.0f}"),
    ("b.xye", "{x:.2f}\t{y:.0f}\t{s:.4f}"),
    ("c.csv", "{x:.2f},{y:.0f},{s:.4f}"),
    ("d.txt", "{x:.2f};{y:.0f}"),
])
def test_text_columns_round_trip(tmp_path, name, layout):
    x, y = _truth()
    s = np.sqrt(y) + 1
    header = "# sample LPSCB milled 2 h\n# 2theta  counts  esd\n"
    body = "\n".join(layout.format(x=a, y=b, s=c) for a, b, c in zip(x, y, s, strict=True))
    path = tmp_path / name
    path.write_text(header + body + "\n")
    p = read_pattern(path)
    assert p.metadata["format"] == "xrd-xy"
    np.testing.assert_allclose(p.two_theta, x, atol=5e-3)
    np.testing.assert_array_equal(p.intensity, y)
    if "{s" in layout:
        np.testing.assert_allclose(p.sigma, s, atol=1e-4)
    else:
        assert p.metadata["sigma"] == "poisson"


def test_xy_wavelength_from_a_header_line(tmp_path):
    path = tmp_path / "w.xy"
    path.write_text("Wavelength: 0.70932 A\n2Theta Intensity\n5.00 10\n5.01 12\n5.02 11\n")
    (p,) = XY.read(path)
    assert p.wavelengths == ((0.70932, 1.0),)


@pytest.mark.parametrize(("text", "message"), [
    ("10.0\n10.02\n10.04\n", r"line 1: the file holds one column \(2θ only\?\)"),
    ("10.00 5\n10.02 abc\n10.04 6\n", r"line 2: column 'intensity': 'abc' is not a number"),
    ("10.00 5\n10.04 7\n10.02 6\n", r"line 3: 2θ must increase: 10.02° follows 10.04°"),
    ("10.00 5\n10.02 -3\n10.04 6\n", r"line 2: negative intensity -3 without a standard error"),
    ("10 5 1 2\n11 6 1 2\n", "4 columns where 2θ, intensity and an optional σ"),
    ("# only words\n", "no row of numbers"),
    ("1000 5\n2000 6\n3000 7\n", r"2θ must lie in \(0, 180\)°"),
])
def test_xy_refusals_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.xy"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        XY.read(path)
    assert "bad.xy" in str(info.value)


def test_negative_intensities_are_kept_with_sigma_and_zero_sigma_is_dropped(tmp_path):
    path = tmp_path / "sub.xye"
    path.write_text("10.00 -3 2\n10.02 4 0\n10.04 6 2.5\n10.06 8 3\n")
    (p,) = XY.read(path)
    assert p.intensity.tolist() == [-3, 6, 8] and p.sigma.tolist() == [2, 2.5, 3]
    assert p.metadata["dropped"] == [{"line": 2, "reason": "standard error 0 is not > 0 "
                                                           "(a point without weight)"}]
    with pytest.raises(InputError, match="sub.xye, line 2: standard error 0"):
        XY.read(path, strict=True)
    with pytest.raises(InputError, match="takes no option 'wavelength'"):
        XY.read(path, wavelength=1.54)


# --------------------------------------------------------------------------------- GSAS
@pytest.mark.shared_data
def test_pbso4_xra_by_hand():
    path = shared_data("xrd", "gsas2_pbso4", "PBSO4.XRA")
    p = read_pattern(path)
    assert p.metadata["format"] == "gsas-powder" and p.metadata["records"] == "STD"
    # BANK 1 6001 601 CONST 1000 2.5: 6001 points from 10° in 0.025° steps, to 160°
    assert len(p) == 6001 and p.metadata["step_deg"] == 0.025
    assert p.two_theta[0] == 10.0 and p.two_theta[-1] == pytest.approx(160.0)
    assert p.intensity[:3].tolist() == [179, 147, 165]  # line 3
    assert p.intensity[10:13].tolist() == [167, 159, 139]  # line 4
    assert p.intensity[-1] == 368  # line 603, first field; the nine zeros after it are padding
    assert p.metadata["sigma"] == "poisson" and p.wavelengths == ()
    assert "Cu Ka X-ray data" in p.metadata["title"]


@pytest.mark.shared_data
def test_pbso4_neutron_counters_weigh_the_points():
    (p,) = GSAS.read(shared_data("xrd", "gsas2_pbso4", "PBSO4.CWN"))
    # line 103 opens "10   32410   347": NCTR 10, I 324 at point (103 - 3)·10 = 1000
    assert p.two_theta[1000] == pytest.approx(10 + 1000 * 0.05)
    assert p.intensity[1000] == 324 and p.sigma[1000] == pytest.approx(np.sqrt(324 / 10))
    assert p.intensity[0] == 220 and p.sigma[0] == pytest.approx(np.sqrt(220))


@pytest.mark.shared_data
def test_fap_xra_trailing_channels_without_data_are_dropped():
    path = shared_data("xrd", "rietx_examples", "FAP.XRA")
    (p,) = GSAS.read(path)
    assert len(p) == 5753 - 2 and p.two_theta[-1] == pytest.approx(130.0)
    assert p.intensity[:2].tolist() == [609, 612]
    assert [d["line"] for d in p.metadata["dropped"]] == [578, 578]
    with pytest.raises(InputError, match="FAP.XRA, line 578: no data"):
        GSAS.read(path, strict=True)


@pytest.mark.shared_data
def test_11bm_fxye_centidegrees_esd_and_wavelength():
    (p,) = GSAS.read(shared_data("xrd", "rietx_examples", "11BM_NAC.fxye"))
    # first row "50  239.933  16.08": 50 centidegrees; "# Calibrated wavelength = 0.413909"
    assert (p.two_theta[0], p.intensity[0], p.sigma[0]) == (0.5, 239.933, 16.08)
    assert p.two_theta[-1] == pytest.approx(59.9893)
    assert len(p) == 59498  # one row more than the 59497 its BANK line announces
    assert p.wavelengths == ((0.413909, 1.0),) and p.metadata["time_per_step_s"] == 0.1
    assert p.metadata["sample"] == "NAC"


def _gsas_text(x, y, kind):
    start, step = x[0] * 100, (x[1] - x[0]) * 100
    lines = ["synthetic pattern", "# Calibrated wavelength = 1.540593"]
    if kind == "STD":
        lines.append(f"BANK 1 {x.size} {-(-x.size // 10)} CONST {start:.1f} {step:.2f} 0 0 STD")
        fields = [f"{'':2}{v:6.0f}" for v in y] + [f"{'':2}{0:6.0f}"] * (-x.size % 10)
        lines += ["".join(fields[i:i + 10]) for i in range(0, len(fields), 10)]
    elif kind == "ESD":
        lines.append(f"BANK 1 {x.size} {-(-x.size // 5)} CONST {start:.1f} {step:.2f} 0 0 ESD")
        fields = [f"{v:8.0f}{np.sqrt(v):8.2f}" for v in y]
        lines += ["".join(fields[i:i + 5]) for i in range(0, len(fields), 5)]
    else:
        lines.append(f"BANK 1 {x.size} {x.size} CONS {start:.1f} {step:.2f} 0 0 FXYE")
        lines += [f"{a * 100:15.3f}{b:15.3f}{np.sqrt(b):12.4f}" for a, b in zip(x, y, strict=True)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("kind", ["STD", "ESD", "FXYE"])
def test_gsas_round_trip(tmp_path, kind):
    x, y = _truth(n=203)
    path = tmp_path / f"p_{kind}.gsa"
    path.write_text(_gsas_text(x, y, kind))
    p = read_pattern(path)
    assert p.metadata["records"] == kind and len(p) == x.size
    np.testing.assert_allclose(p.two_theta, x, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, y)
    if kind != "STD":
        np.testing.assert_allclose(p.sigma, np.sqrt(y), atol=5e-3)
    assert p.wavelength == 1.540593


def test_gsas_refusals(tmp_path):
    x, y = _truth(n=40)
    path = tmp_path / "cut.gsa"
    text = _gsas_text(x, y, "STD")
    path.write_text("\n".join(text.splitlines()[:-2]) + "\n")
    with pytest.raises(InputError, match="cut.gsa, line 3: the bank announces 40 points but holds 20"):
        GSAS.read(path)
    path.write_text("tof\nBANK 1 100 100 RALF 48008 64 64331 0.001 FXYE\n1500 23.5 0.4\n")
    with pytest.raises(InputError, match="line 2: bank 1 is time-of-flight data"):
        GSAS.read(path)
    path.write_text("bad\nBANK 1 2 2 CONS 1000 2 0 0 FXYE\n1000 5 1\n1002 x 1\n")
    with pytest.raises(InputError, match="line 4: 'x' is not a number"):
        GSAS.read(path)
