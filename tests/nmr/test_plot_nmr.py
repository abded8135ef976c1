"""NMR figures: what is drawn, on which axes and labels, ppm axes high to low, nothing shown."""

import math

import numpy as np
import pandas as pd
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.nmr.data import NMRSpectrum
from ssbkit.nmr.deconvolve import deconvolve, pseudo_voigt
from ssbkit.nmr.plot import plot_arrhenius_D, plot_buildup, plot_deconvolution, plot_spectrum
from ssbkit.nmr.volumes import exsy_volumes, normalize

pytest.importorskip("matplotlib")

PPM = np.linspace(10, -10, 801)
SITES = {"Li2S": 2.31, "LPSC": 1.29, "LiI": -4.56}
EA, D0, RADIUS_UM = 0.107, 1e-7, 1.0  # D(293 K) ≈ 1.4e-9 cm²/s
TIMES = np.geomspace(0.01, 10, 10)
TEMPERATURES = (293.0, 313.0, 333.0, 353.0)


def exsy(volumes, **metadata):
    f = np.linspace(6, -8, 281)
    g = np.stack([pseudo_voigt(f, p, 0.5, 0.0) for p in SITES.values()], axis=1)
    return NMRSpectrum(g @ volumes @ g.T, (f, f), metadata={"mixing_time_s": 0.1, **metadata})


def buildup_table():
    from ssbkit.nmr.models import MODELS

    rows = []
    for temperature in TEMPERATURES:
        d = D0 * math.exp(-EA / (BOLTZMANN_EV * temperature))
        y = MODELS["sphere"](TIMES, D=d, A=0.4, length_um=RADIUS_UM)
        rows += [{"mixing_time [s]": t, "intensity": v, "temperature [K]": temperature}
                 for t, v in zip(TIMES, y, strict=True)]
    return pd.DataFrame(rows)


# -- spectra -------------------------------------------------------------------------------------

def test_1d_spectrum_has_a_high_to_low_ppm_axis():
    fig = plot_spectrum(NMRSpectrum(pseudo_voigt(PPM, 1.29, 0.5), (PPM,)))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("chemical shift [ppm]", "intensity [a.u.]")
    assert ax.xaxis_inverted() and ax.get_xlim() == (10.0, -10.0)
    assert ax.lines[0].get_gid() == "data"
    assert type(fig.canvas).__name__ == "FigureCanvasAgg"


def test_2d_contours_both_signs_and_the_integration_boxes():
    volumes = np.array([[6.0, 0.8, 0.3], [0.7, 9.0, 0.5], [0.1, 0.45, 4.0]])
    volumes[2, 0] = -0.3  # a negative cross peak gets red contours
    s = exsy(volumes)
    table = exsy_volumes(s, sites=SITES, box_ppm=0.45)
    ax = plot_spectrum(s, boxes=table).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("F2 shift [ppm]", "F1 shift [ppm]")
    assert ax.xaxis_inverted() and ax.yaxis_inverted()
    gids = {c.get_gid() for c in ax.collections}
    assert gids >= {"positive", "negative"}
    boxes = {p.get_gid(): p for p in ax.patches}
    assert len(boxes) == 9
    cross = boxes["box Li2S->LiI"]  # from the F1 site (y) to the F2 site (x)
    assert cross.get_xy() == pytest.approx((-4.56 - 0.45, 2.31 - 0.45))
    assert cross.get_width() == pytest.approx(0.9) and cross.get_height() == pytest.approx(0.9)
    from_dict = plot_spectrum(s, boxes={"Li2S": 2.31, "LiI": (-4.56, 0.3)}, box_ppm=0.2).axes[0]
    box = {p.get_gid(): p for p in from_dict.patches}["box LiI->Li2S"]
    assert box.get_xy() == pytest.approx((2.31 - 0.2, -4.56 - 0.3))


def test_spectrum_plot_refuses_what_it_cannot_draw():
    with pytest.raises(InputError, match="2D"):
        plot_spectrum(NMRSpectrum(pseudo_voigt(PPM, 1.29, 0.5), (PPM,)), boxes={"LPSC": 1.29})
    with pytest.raises(InputError, match="boxes"):
        plot_spectrum(exsy(np.eye(3)), boxes={"LPSC": "here"})
    with pytest.raises(InputError, match="NMRSpectrum"):
        plot_spectrum(np.ones(5))
    with pytest.raises(InputError, match="lowest"):
        plot_spectrum(exsy(np.eye(3)), lowest=0)


# -- deconvolution -------------------------------------------------------------------------------

def test_deconvolution_shows_data_lines_sum_and_residual():
    y = (2 * pseudo_voigt(PPM, 2.31, 0.9, 0.4) + 5 * pseudo_voigt(PPM, 1.29, 1.1)
         + pseudo_voigt(PPM, -4.56, 1.4))
    result = deconvolve(NMRSpectrum(y + 0.01, (PPM,)), peaks=list(SITES.values()), names=list(SITES))
    fig = plot_deconvolution(result)
    top, bottom = fig.axes
    gids = [line.get_gid() for line in top.lines]
    assert gids[:4] == ["data", "line Li2S", "line LPSC", "line LiI"]
    assert {"baseline", "fit"} <= set(gids)
    fit = next(line for line in top.lines if line.get_gid() == "fit")
    np.testing.assert_allclose(fit.get_ydata(), result.fit)
    assert "R² = 1.0000" in fit.get_label()
    assert "Li2S (" in top.lines[1].get_label()
    assert bottom.lines[0].get_gid() == "residual"
    assert bottom.get_xlabel() == "chemical shift [ppm]" and bottom.xaxis_inverted()
    assert top.get_ylabel() == "intensity [a.u.]" and bottom.get_ylabel() == "residual [a.u.]"
    with pytest.raises(InputError, match="Deconvolution"):
        plot_deconvolution(NMRSpectrum(y, (PPM,)))


# -- build-up and Arrhenius ------------------------------------------------------------------------

def test_buildup_curves_per_temperature():
    from ssbkit.nmr.buildup import fit_buildup_series

    series = fit_buildup_series(buildup_table(), length_um=RADIUS_UM)
    ax = plot_buildup(series, log_time=True).axes[0]
    assert ax.get_xscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("mixing time [s]", "normalised intensity")
    gids = [line.get_gid() for line in ax.lines]
    assert gids == [g for t in TEMPERATURES for g in (f"data {t:g} K", f"fit {t:g} K")]
    first_points, first_curve = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(first_points.get_xdata(), TIMES)
    assert first_curve.get_label().startswith("293 K: D = 1.4")
    one = plot_buildup(series.fits[0]).axes[0]
    assert one.get_xscale() == "linear" and len(one.lines) == 2
    with pytest.raises(InputError, match="BuildupFit"):
        plot_buildup([series])


def test_arrhenius_plot_of_D_with_ea_in_the_legend():
    from ssbkit.nmr.buildup import fit_buildup_series

    series = fit_buildup_series(buildup_table(), length_um=RADIUS_UM, arrhenius=True)
    ax = plot_arrhenius_D(series).axes[0]
    assert ax.get_xlabel() == "1000/T [1/K]" and ax.get_ylabel() == "ln(D [cm²/s])"
    data = next(line for line in ax.lines if line.get_gid() == "data")
    np.testing.assert_allclose(data.get_xdata(), [1000 / t for t in TEMPERATURES])
    expected = [math.log(D0) - EA / (BOLTZMANN_EV * t) for t in TEMPERATURES]
    np.testing.assert_allclose(data.get_ydata(), expected, atol=1e-4)
    labels = {line.get_gid(): line.get_label() for line in ax.lines}
    assert labels["fit"].startswith("Ea = 0.107")
    assert labels["global fit"].startswith("global: Ea = 0.107")
    with pytest.raises(InputError, match="BuildupSeriesFit"):
        plot_arrhenius_D(series.fits[0])


def test_volumes_to_buildup_to_figure():
    """Spectra whose cross/(cross+diagonal) follows the sphere model, through volumes, the
    normalisation and the build-up fit, give back D."""
    from ssbkit.nmr.buildup import fit_buildup_series
    from ssbkit.nmr.models import MODELS

    d = 2e-10
    share = MODELS["sphere"](TIMES, D=d, A=0.4, length_um=RADIUS_UM)
    spectra = []
    for t, f in zip(TIMES, share, strict=True):
        volumes = np.diag([5.0, 8.0, 3.0])
        volumes[0, 2], volumes[0, 0] = 5.0 * f, 5.0 * (1 - f)  # Li2S -> LiI
        spectra.append(exsy(volumes, mixing_time_s=t))
    table = normalize(exsy_volumes(spectra, sites=SITES, method="fit"))
    pair = table[table["pair"] == "Li2S->LiI"]
    np.testing.assert_allclose(pair["intensity"], share, rtol=1e-6, atol=1e-9)
    fit = fit_buildup_series(pair.drop(columns="intensity stderr"), length_um=RADIUS_UM).fits[0]
    assert fit.D.value == pytest.approx(d, rel=1e-4)
    assert len(plot_buildup(fit).axes[0].lines) == 2
