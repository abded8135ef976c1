"""XRD figures: what each plot draws is the data it was given (points, lines, ticks, fitted line)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.eis.plot import save_figure
from ssbkit.xrd.data import ANODES, Instrument, Pattern
from ssbkit.xrd.identify import identify
from ssbkit.xrd.plot import plot_identification, plot_pattern, plot_refinement, plot_williamson_hall
from ssbkit.xrd.refine import refine
from ssbkit.xrd.simulate import simulate_pattern
from ssbkit.xrd.sizestrain import sizestrain
from ssbkit.xrd.structures import li2s, libr, licl

pytest.importorskip("matplotlib")


def _line(fig, gid):
    found = [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]
    assert found, f"no line {gid!r}"
    return found[0]


def _collection(fig, gid):
    found = [c for ax in fig.axes for c in ax.collections if c.get_gid() == gid]
    assert found, f"no collection {gid!r}"
    return found[0]


def _lorentzian_pattern(size_nm=50.0, strain=0.001):
    """Noise-free Lorentzian peaks of FWHM Kλ/(L cosθ) + 4ε tanθ (rad), one wavelength."""
    lam = ANODES["CuKa1"][0][0]
    x = np.arange(20.0, 100.0, 0.01)
    y = np.full(x.size, 50.0)
    for center in (28.0, 41.0, 57.0, 75.0, 92.0):
        theta = math.radians(center / 2)
        fwhm = math.degrees(0.9 * lam / (size_nm * 10 * math.cos(theta)) + 4 * strain * math.tan(theta))
        y += 500 * (fwhm / (2 * math.pi)) / ((x - center) ** 2 + (fwhm / 2) ** 2)
    return Pattern(x, y, wavelengths=ANODES["CuKa1"])


def test_plot_pattern_draws_the_counts():
    p = _lorentzian_pattern()
    fig = plot_pattern(p)
    line = _line(fig, "observed")
    assert np.array_equal(line.get_xdata(), p.two_theta) and np.array_equal(line.get_ydata(), p.intensity)
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("2θ [deg]", "intensity [counts]")
    stacked = plot_pattern([p, p], offset=1000.0, label=["a", "b"], log=True)
    lines = stacked.axes[0].get_lines()
    assert np.allclose(lines[1].get_ydata() - lines[0].get_ydata(), 1000.0)
    assert stacked.axes[0].get_yscale() == "log"
    with pytest.raises(InputError, match="Pattern"):
        plot_pattern(p.two_theta)


def test_plot_refinement_draws_observed_calculated_ticks_and_difference(tmp_path):
    instrument = Instrument()
    pattern = simulate_pattern([licl()], weight_fractions=[1.0], background=[200.0], rng=2,
                               two_theta_range=(25, 65), instrument=instrument)
    result = refine(pattern, [licl()], instrument=instrument, strategy=[["scale", "background"], ["cell"]])
    fig = plot_refinement(result)
    assert np.array_equal(_line(fig, "observed").get_ydata(), result.observed)
    assert np.array_equal(_line(fig, "calculated").get_ydata(), result.calculated)
    assert np.allclose(_line(fig, "difference").get_ydata(), result.observed - result.calculated)
    phase = result.phases[0]
    ticks = _collection(fig, "ticks:LiCl")
    drawn = sorted(seg[0][0] for seg in ticks.get_segments())
    assert drawn == pytest.approx(sorted(phase.reflections["two_theta [deg]"]))
    assert f"Rwp = {result.Rwp:.2f} %" in fig.axes[0].get_title()
    assert save_figure(fig, tmp_path / "refinement.png").stat().st_size > 10_000
    with pytest.raises(InputError, match="refinement result"):
        plot_refinement(pattern)


def test_plot_identification_draws_each_detected_phase():
    pattern = simulate_pattern([licl(), li2s()], weight_fractions=[0.7, 0.3], background=[100.0], rng=4)
    result = identify(pattern, library={"LiCl": licl(), "Li2S": li2s(), "LiBr": libr()})
    fig = plot_identification(result)
    for match in result.phases:
        component = _line(fig, f"component:{match.name}")
        assert np.allclose(component.get_ydata(), result.background + result.components[match.name])
        ticks = _collection(fig, f"ticks:{match.name}")
        assert len(ticks.get_segments()) == len(result.ticks[match.name])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    expected = [f"{m.name} {m.weight_fraction.value:.1f} ± {m.weight_fraction.stderr:.1f} wt %"
                for m in result.phases]
    assert labels[-2:] == expected
    assert "LiBr <" in " ".join(t.get_text() for t in fig.axes[0].texts)
    assert not [line for line in fig.axes[0].get_lines() if line.get_gid() == "unexplained"]
    # a library without Li2S: its peaks are marked as unexplained
    partial = identify(pattern, library={"LiCl": licl()})
    assert partial.unexplained_peaks.size > 0
    marks = _line(plot_identification(partial), "unexplained")
    assert np.array_equal(marks.get_xdata(), partial.unexplained_peaks)
    with pytest.raises(InputError, match="Identification"):
        plot_identification(pattern)


def test_plot_williamson_hall_draws_the_points_and_the_line():
    result = sizestrain(_lorentzian_pattern())
    wh = result.williamson_hall
    fig = plot_williamson_hall(result)
    ax = fig.axes[0]
    points = ax.get_lines()[0]
    assert np.allclose(points.get_xdata(), wh.x) and np.allclose(points.get_ydata(), 1e3 * wh.y)
    fit = _line(fig, "fit")
    assert fit.get_ydata()[0] == pytest.approx(1e3 * wh.intercept.value)  # the line starts at x = 0
    assert "L = 50.0" in fit.get_label() and "ε = 0.100" in fit.get_label()
    assert ax.get_xlabel() == "4 sin θ"
    with pytest.raises(InputError, match="WilliamsonHallResult"):
        plot_williamson_hall(result.fits)


def test_plot_williamson_hall_of_strain_only_states_a_lower_size_limit():
    result = sizestrain(_lorentzian_pattern(size_nm=1e9, strain=0.002))
    label = _line(plot_williamson_hall(result.williamson_hall), "fit").get_label()
    assert "L > " in label or float(label.split("L = ")[1].split()[0]) > 1000
