"""Impedance figures (ssbkit.eis.plot).

Truth: what each figure draws is compared with closed forms computed here (Z of an RC
element, its −45° phase at ω = 1/RC, the Arrhenius slope −Ea/(k_B ln 10) per 1000/T,
1000/T ↔ °C), with the Ohm prefix that the data's size calls for, and with real files
(the impedance.py Li-ion spectrum in mΩ with its inductive tail; the EISFitpython pellet
series in MΩ). save_figure is checked by the bytes it writes and by what it leaves behind
when it fails; the optional dependency by hiding matplotlib.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from ssbkit.core.errors import DependencyError, InputError  # noqa: E402
from ssbkit.eis import Spectrum, simulate_spectrum  # noqa: E402
from ssbkit.eis.arrhenius import arrhenius  # noqa: E402
from ssbkit.eis.fit import fit_circuit  # noqa: E402
from ssbkit.eis.kk import linkk  # noqa: E402
from ssbkit.eis.plot import (  # noqa: E402
    plot_arrhenius,
    plot_bode,
    plot_fit,
    plot_nyquist,
    plot_residuals,
    save_figure,
)
from ssbkit.testing import shared_data  # noqa: E402

K_B_EV = 1.380649e-23 / 1.602176634e-19  # eV/K, exact SI 2019 constants
FREQ = np.logspace(6, -1, 36)


def rc_impedance(f, r0, r1, c1):
    """R0 in series with R1 ∥ C1, written out."""
    w = 2 * np.pi * np.asarray(f)
    return r0 + r1 / (1 + 1j * w * r1 * c1)


def rc_spectrum(scale=1.0, **extra):
    params = {"R0": 10.0 * scale, "R1": 100.0 * scale, "C1": 1e-6 / scale}
    return simulate_spectrum("R0-p(R1,C1)", params, FREQ, **extra), params


def distance_to_polyline(points, vertices):
    """Shortest distance of each complex point to the polyline through complex vertices."""
    a, b = vertices[:-1][None, :], vertices[1:][None, :]
    p = points[:, None]
    t = np.clip(((p - a) * np.conj(b - a)).real / np.abs(b - a) ** 2, 0.0, 1.0)
    return np.min(np.abs(p - (a + t * (b - a))), axis=1)


def by_gid(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


@pytest.fixture(scope="module")
def fitted():
    truth = {"R0": 20.0, "R1": 150.0, "CPE1_0": 2e-9, "CPE1_1": 0.9, "CPE2_0": 3e-6, "CPE2_1": 0.85}
    s = simulate_spectrum("R0-p(R1,CPE1)-CPE2", truth, np.logspace(7, -1, 57), noise=0.003,
                          rng=np.random.default_rng(7))
    return fit_circuit(s, "R0-p(R1,CPE1)-CPE2")


# -- Nyquist -----------------------------------------------------------------------------------

def test_nyquist_data_line_holds_z_real_and_minus_z_imag_in_ohm():
    s, p = rc_spectrum()
    fig = plot_nyquist(s)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    (line,) = by_gid(ax, "data")
    z = rc_impedance(FREQ, p["R0"], p["R1"], p["C1"])
    np.testing.assert_allclose(line.get_xdata(), z.real, rtol=1e-12)
    np.testing.assert_allclose(line.get_ydata(), -z.imag, rtol=1e-12, atol=1e-12)
    assert ax.get_xlabel() == "Z' [Ω]" and ax.get_ylabel() == "−Z'' [Ω]"
    # the arc's top, R1/2 at ω = 1/(R1 C1), is positive: capacitive arcs are drawn upwards
    assert max(line.get_ydata()) == pytest.approx(50.0, rel=0.02)


@pytest.mark.parametrize(("scale", "unit"), [(1e-3, "mΩ"), (1e-2, "Ω"), (5.0, "Ω"), (10.0, "kΩ"),
                                             (1e3, "kΩ"), (1e4, "MΩ"), (1e7, "GΩ")])
def test_nyquist_unit_prefix_follows_the_largest_impedance(scale, unit):
    s, p = rc_spectrum(scale)  # largest |Z| is R0 + R1 = 110·scale Ohm
    factor = {"mΩ": 1e-3, "Ω": 1.0, "kΩ": 1e3, "MΩ": 1e6, "GΩ": 1e9}[unit]
    ax = plot_nyquist(s).axes[0]
    assert ax.get_xlabel() == f"Z' [{unit}]" and ax.get_ylabel() == f"−Z'' [{unit}]"
    (line,) = by_gid(ax, "data")
    assert max(line.get_xdata()) == pytest.approx(110.0 * scale / factor, rel=1e-3)
    assert 1.0 <= max(line.get_xdata()) < 1000.0


def test_nyquist_has_equal_scales_and_holds_every_point():
    s, _ = rc_spectrum(1e3)
    ax = plot_nyquist(s).axes[0]
    assert ax.get_aspect() == 1.0
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x1 - x0 == pytest.approx(y1 - y0)
    (line,) = by_gid(ax, "data")
    assert x0 < 0 < min(line.get_xdata()) and max(line.get_xdata()) < x1
    assert y0 < min(line.get_ydata()) and max(line.get_ydata()) < y1


def test_nyquist_draws_masked_points_hollow_and_keeps_them_out_of_the_data_line():
    s, p = rc_spectrum()
    mask = np.ones(FREQ.size, bool)
    mask[[0, 1, 20]] = False
    masked = Spectrum(s.frequency, s.impedance, mask)
    ax = plot_nyquist(masked).axes[0]
    (used,), (hollow,) = by_gid(ax, "data"), by_gid(ax, "masked")
    z = rc_impedance(FREQ, p["R0"], p["R1"], p["C1"])
    np.testing.assert_allclose(hollow.get_xdata(), z.real[~mask], rtol=1e-12)
    np.testing.assert_allclose(used.get_xdata(), z.real[mask], rtol=1e-12)
    assert hollow.get_markerfacecolor() == "none" and used.get_markerfacecolor() != "none"


def test_nyquist_of_a_fit_draws_the_fitted_curve_densely_across_the_measured_range(fitted):
    ax = plot_nyquist(fitted).axes[0]
    (data,), (curve,) = by_gid(ax, "data"), by_gid(ax, "fit")
    assert len(data.get_xdata()) == 57 and len(curve.get_xdata()) > 57
    assert ax.get_xlabel() == "Z' [kΩ]"  # the blocking tail reaches 116 kΩ at 0.1 Hz
    z_ends = fitted.predict([fitted.frequency.max(), fitted.frequency.min()]) / 1e3
    x = np.asarray(curve.get_xdata())
    np.testing.assert_allclose([x[0], x[-1]], z_ends.real, rtol=1e-9)
    assert len(x) >= 8 * 40  # 8 decades, densely
    # the fit follows the data (0.3 % noise per part): the curve passes within 2 % of |Z| of each point
    z = fitted.impedance / 1e3
    points = np.asarray(data.get_xdata()) - 1j * np.asarray(data.get_ydata())
    distance = distance_to_polyline(points, x - 1j * np.asarray(curve.get_ydata()))
    assert np.all(distance < 0.02 * np.abs(z))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "fit"]


def test_nyquist_with_a_separate_fit_overlays_it_on_the_spectrum(fitted):
    s = simulate_spectrum("R0-p(R1,CPE1)-CPE2", fitted.values(), np.logspace(7, -1, 57))
    ax = plot_nyquist(s, fit=fitted, label="pellet").axes[0]
    assert len(by_gid(ax, "fit")) == 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pellet", "fit"]
    # negative control: against a spectrum with a 10 % larger R1 the same curve misses points
    other = simulate_spectrum("R0-p(R1,CPE1)-CPE2", {**fitted.values(), "R1": 1.1 * fitted.values()["R1"]},
                              np.logspace(7, -1, 57))
    ax = plot_nyquist(other, fit=fitted).axes[0]
    (data,), (curve,) = by_gid(ax, "data"), by_gid(ax, "fit")
    points = np.asarray(data.get_xdata()) - 1j * np.asarray(data.get_ydata())
    curve_z = np.asarray(curve.get_xdata()) - 1j * np.asarray(curve.get_ydata())
    distance = distance_to_polyline(points, curve_z)
    assert np.any(distance > 0.02 * np.abs(other.impedance) / 1e3)


def test_nyquist_overlays_a_temperature_series_in_distinct_colours():
    series = [dataclasses.replace(rc_spectrum(k)[0], metadata={"temperature_K": t})
              for k, t in [(4.0, 298.15), (2.0, 323.15), (1.0, 348.15)]]
    ax = plot_nyquist(series).axes[0]
    lines = by_gid(ax, "data")
    assert len(lines) == 3
    assert len({tuple(line.get_color()) for line in lines}) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["25 °C", "50 °C", "75 °C"]
    assert max(lines[0].get_xdata()) == pytest.approx(440.0, rel=1e-3)


def test_nyquist_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_nyquist(rc_spectrum()[0], ax=ax) is fig
    assert fig.axes == [ax] and len(by_gid(ax, "data")) == 1


@pytest.mark.parametrize(("kwargs", "where"), [
    ({"data": np.ones(3)}, "data"), ({"data": []}, "data"), ({"data": [1.0]}, "data"),
    ({"ax": "axes"}, "ax"), ({"fit": "R0"}, "fit"), ({"label": ["a", "b"]}, "label"),
])
def test_nyquist_refuses_what_it_cannot_draw_naming_the_argument(kwargs, where):
    args = {"data": rc_spectrum()[0], **kwargs}
    with pytest.raises(InputError, match=f"^{where}: "):
        plot_nyquist(args.pop("data"), **args)


def test_nyquist_of_a_series_wants_one_fit_per_spectrum(fitted):
    with pytest.raises(InputError, match="fit: one fit for 2 spectra"):
        plot_nyquist([rc_spectrum()[0], rc_spectrum(2)[0]], fit=fitted)


def test_nyquist_of_a_real_li_ion_spectrum_in_milliohm_with_its_inductive_tail():
    rows = np.loadtxt(shared_data("eis", "impedance.py", "exampleData.csv"), delimiter=",")
    s = Spectrum(rows[:, 0], rows[:, 1] + 1j * rows[:, 2], source="exampleData.csv")
    ax = plot_nyquist(s).axes[0]
    assert ax.get_xlabel() == "Z' [mΩ]"
    (line,) = by_gid(ax, "data")
    # read off the file: Z' = 49.4999 mΩ at 3.16 mHz; −Z'' = −10.157 mΩ at 10 kHz (inductive)
    assert line.get_xdata()[0] == pytest.approx(49.49989776, rel=1e-9)
    assert line.get_ydata()[-1] == pytest.approx(-10.15747456, rel=1e-9)
    assert ax.get_ylim()[0] < -10.157


def test_nyquist_of_the_real_pellet_series_is_in_megaohm():
    spectra = []
    for celsius in range(140, 201, 10):
        path = shared_data("eis", "EISFitpython", "Example-3-4", f"s04147-{celsius}deg.txt")
        rows = np.loadtxt(path, skiprows=3)
        spectra.append(Spectrum(rows[:, 0], rows[:, 1] + 1j * rows[:, 2],
                                metadata={"temperature_K": celsius + 273.15}))
    ax = plot_nyquist(spectra).axes[0]
    assert ax.get_xlabel() == "Z' [MΩ]"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{c} °C" for c in range(140, 201, 10)]
    # the 140 °C sweep ends at Z' = 3.27266 MΩ (last line of the file)
    assert by_gid(ax, "data")[0].get_xdata()[-1] == pytest.approx(3.27266, rel=1e-6)


# -- Bode --------------------------------------------------------------------------------------

def test_bode_draws_modulus_and_minus_phase_on_log_axes():
    r, c = 1000.0, 1e-6
    f_peak = 1 / (2 * np.pi * r * c)
    f = np.sort(np.r_[np.logspace(5, 0, 21), f_peak])[::-1]
    s = simulate_spectrum("p(R1,C1)", {"R1": r, "C1": c}, f)
    fig = plot_bode(s)
    mag_ax, phase_ax = fig.axes
    (mag,), (phase,) = by_gid(mag_ax, "data"), by_gid(phase_ax, "data")
    k = int(np.argmin(np.abs(f - f_peak)))
    assert mag.get_ydata()[k] == pytest.approx(r / math.sqrt(2), rel=1e-12)
    assert phase.get_ydata()[k] == pytest.approx(45.0, rel=1e-12)
    np.testing.assert_allclose(phase.get_ydata(), np.degrees(np.arctan(2 * np.pi * f * r * c)), rtol=1e-10)
    assert mag_ax.get_xscale() == "log" and mag_ax.get_yscale() == "log"
    assert phase_ax.get_xscale() == "log" and phase_ax.get_yscale() == "linear"
    assert mag_ax.get_ylabel() == "|Z| [Ω]" and phase_ax.get_ylabel() == "−phase [°]"
    assert phase_ax.get_xlabel() == "frequency [Hz]"


def test_bode_of_a_fit_draws_the_curve_on_both_panels(fitted):
    mag_ax, phase_ax = plot_bode(fitted).axes
    assert len(by_gid(mag_ax, "fit")) == 1 and len(by_gid(phase_ax, "fit")) == 1
    (curve,) = by_gid(mag_ax, "fit")
    assert min(curve.get_xdata()) == pytest.approx(fitted.frequency.min())
    assert max(curve.get_xdata()) == pytest.approx(fitted.frequency.max())


def test_bode_into_one_axes_puts_the_phase_on_a_twin_and_into_two_uses_both():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_bode(rc_spectrum()[0], ax=ax) is fig
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "−phase [°]"
    fig2 = Figure()
    pair = fig2.subplots(1, 2)
    plot_bode(rc_spectrum()[0], ax=tuple(pair))
    assert len(fig2.axes) == 2 and pair[1].get_ylabel() == "−phase [°]"
    with pytest.raises(InputError, match="^ax: "):
        plot_bode(rc_spectrum()[0], ax=[ax])


# -- residuals ---------------------------------------------------------------------------------

def test_residuals_of_a_fit_are_drawn_in_percent_on_a_symmetric_axis(fitted):
    ax = plot_residuals(fitted).axes[0]
    (real,), (imag,) = by_gid(ax, "residual Z'"), by_gid(ax, "residual Z''")
    z, z_fit = fitted.impedance, fitted.impedance_fit
    np.testing.assert_allclose(real.get_ydata(), 100 * (z.real - z_fit.real) / np.abs(z), rtol=1e-12)
    np.testing.assert_allclose(imag.get_ydata(), 100 * (z.imag - z_fit.imag) / np.abs(z), rtol=1e-12)
    low, high = ax.get_ylim()
    assert low == pytest.approx(-high)
    # 0.3 % noise per part: the residuals sit within a few per cent, not at the fraction scale
    assert 0.3 < high < 3.0
    assert ax.get_xscale() == "log" and "[% of |Z|]" in ax.get_ylabel()
    assert ax.get_xlabel() == "frequency [Hz]"


def test_kk_residuals_show_the_noise_band_and_the_verdict():
    params = {"R0": 10, "R1": 100, "C1": 1e-6, "R2": 200, "C2": 1e-3}
    s = simulate_spectrum("R0-p(R1,C1)-p(R2,C2)", params, np.logspace(5, -1, 61),
                          noise=0.005, rng=np.random.default_rng(1))
    kk = linkk(s, c=0.5, fit_type="complex")
    ax = plot_residuals(kk).axes[0]
    (band,) = [p for p in ax.patches if p.get_gid() == "noise band"]
    box = band.get_window_extent()
    lo, hi = ax.transData.inverted().transform([[0.0, box.y0], [0.0, box.y1]])[:, 1]
    assert lo == pytest.approx(-kk.noise.value, rel=1e-6)
    assert hi == pytest.approx(kk.noise.value, rel=1e-6)
    assert 0.3 < kk.noise.value < 0.7  # the 0.5 % put in
    title = ax.get_legend().get_title().get_text()
    assert f"M = {kk.m}" in title and "valid" in title and "not valid" not in title
    np.testing.assert_allclose(by_gid(ax, "residual Z'")[0].get_ydata(), 100 * kk.residual_real)


def test_residuals_refuse_other_results():
    with pytest.raises(InputError, match="^result: must be a FitResult or a KramersKronigResult"):
        plot_residuals(rc_spectrum()[0])


# -- Arrhenius ---------------------------------------------------------------------------------

T = np.array([253.15, 273.15, 298.15, 323.15, 353.15])


def test_arrhenius_line_slope_is_minus_ea_over_kb_ln10_per_1000_over_t():
    sigma = 2.5e5 / T * np.exp(-0.28 / (K_B_EV * T))
    ax = plot_arrhenius(arrhenius(T, sigma)).axes[0]
    (data,), (line,) = by_gid(ax, "data"), by_gid(ax, "fit")
    np.testing.assert_allclose(data.get_xdata(), 1000 / T, rtol=1e-12)
    np.testing.assert_allclose(data.get_ydata(), np.log10(sigma * T), rtol=1e-12)
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    slope = np.polyfit(x, y, 1)[0]
    assert slope == pytest.approx(-0.28 / (K_B_EV * math.log(10)) / 1000, rel=1e-9)
    assert slope == pytest.approx(-1.4111, abs=1e-4)
    assert min(x) == pytest.approx(1000 / T.max()) and max(x) == pytest.approx(1000 / T.min())
    assert ax.get_xlabel() == "1000/T [1/K]" and ax.get_ylabel() == "log₁₀(σT [S·K/cm])"
    assert "Ea = 0.280 ± 0.000 eV" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_arrhenius_of_two_temperatures_gives_ea_without_a_stderr():
    t = np.array([300.0, 400.0])
    ax = plot_arrhenius(arrhenius(t, 1e4 / t * np.exp(-0.3 / (K_B_EV * t)))).axes[0]
    assert "Ea = 0.300 eV" in [text.get_text() for text in ax.get_legend().get_texts()]


def test_arrhenius_sigma_form_is_labelled_and_drawn_as_log_sigma():
    sigma = 3.0 * np.exp(-0.35 / (K_B_EV * T))
    ax = plot_arrhenius(arrhenius(T, sigma, form="sigma")).axes[0]
    assert ax.get_ylabel() == "log₁₀(σ [S/cm])"
    np.testing.assert_allclose(by_gid(ax, "data")[0].get_ydata(), np.log10(sigma), rtol=1e-12)
    slope = np.polyfit(by_gid(ax, "fit")[0].get_xdata(), by_gid(ax, "fit")[0].get_ydata(), 1)[0]
    assert slope == pytest.approx(-0.35 / (K_B_EV * math.log(10)) / 1000, rel=1e-9)


def test_arrhenius_with_errors_draws_error_bars_and_ea_with_its_stderr():
    rng = np.random.default_rng(3)
    sigma = 2.5e5 / T * np.exp(-0.28 / (K_B_EV * T)) * (1 + 0.03 * rng.standard_normal(T.size))
    err = 0.03 * sigma
    r = arrhenius(T, sigma, stderr=err)
    ax = plot_arrhenius(r).axes[0]
    (container,) = ax.containers
    segments = container.lines[2][0].get_segments()
    half = np.array([abs(seg[1][1] - seg[0][1]) / 2 for seg in segments])
    np.testing.assert_allclose(half, 0.03 / math.log(10), rtol=1e-9)
    ea = r.activation_energy
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"Ea = {ea.value:.3f} ± {ea.stderr:.3f} eV" in texts


def test_arrhenius_top_axis_reads_celsius():
    ax = plot_arrhenius(arrhenius(T, 1e4 / T * np.exp(-0.3 / (K_B_EV * T)))).axes[0]
    (top,) = ax.child_axes
    assert top.get_xlabel() == "temperature [°C]"
    ax.figure.canvas.draw()
    to_celsius = 1000 / np.asarray(ax.get_xlim()) - 273.15
    np.testing.assert_allclose(sorted(top.get_xlim()), sorted(to_celsius), rtol=1e-9)
    # the same place on the page: 1000/T = 3.0 K⁻¹ below, 1000/3.0 − 273.15 = 60.18 °C above
    below = ax.transData.transform([[3.0, 0.0]])[0, 0]
    above = top.transData.transform([[1000 / 3.0 - 273.15, 0.0]])[0, 0]
    assert above == pytest.approx(below, abs=1e-6)


def test_arrhenius_refuses_other_results(fitted):
    with pytest.raises(InputError, match="^result: must be an ArrheniusResult"):
        plot_arrhenius(fitted)


# -- fit summary -------------------------------------------------------------------------------

def test_plot_fit_has_nyquist_with_fit_above_its_residuals(fitted):
    fig = plot_fit(fitted)
    top, bottom = fig.axes
    assert len(by_gid(top, "fit")) == 1 and top.get_aspect() == 1.0
    assert len(by_gid(bottom, "residual Z'")) == 1
    assert top.get_position().y0 > bottom.get_position().y1
    with pytest.raises(InputError, match="^fit: "):
        plot_fit(rc_spectrum()[0])


# -- saving ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-"),
                                               (".PDF", b"%PDF-"), (".svg", b"<?xml")])
def test_save_figure_writes_the_format_of_the_suffix_and_nothing_else(tmp_path, suffix, magic):
    out = save_figure(plot_nyquist(rc_spectrum()[0]), tmp_path / f"nyquist{suffix}")
    assert out == tmp_path / f"nyquist{suffix}"
    assert out.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.mark.parametrize("suffix", [".pdf", ".svg"])
def test_save_figure_vector_output_is_reproducible(tmp_path, suffix):
    fig = plot_fit(fit_circuit(rc_spectrum()[0], "R0-p(R1,C1)"))
    a = save_figure(fig, tmp_path / f"a{suffix}").read_bytes()
    b = save_figure(fig, tmp_path / f"b{suffix}").read_bytes()
    assert a == b


def test_save_figure_refuses_an_unknown_suffix_naming_the_path(tmp_path):
    target = tmp_path / "figure.jpeg"
    with pytest.raises(InputError, match=r"figure\.jpeg: unknown figure format '.jpeg'"):
        save_figure(plot_nyquist(rc_spectrum()[0]), target)
    with pytest.raises(InputError, match="no suffix"):
        save_figure(plot_nyquist(rc_spectrum()[0]), tmp_path / "figure")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_refuses_a_missing_folder_and_a_non_figure(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        save_figure(plot_nyquist(rc_spectrum()[0]), tmp_path / "nowhere" / "f.png")
    with pytest.raises(InputError, match="^fig: "):
        save_figure("figure", tmp_path / "f.png")


def test_save_figure_leaves_nothing_behind_and_the_old_file_intact_on_error(tmp_path, monkeypatch):
    target = tmp_path / "figure.png"
    target.write_bytes(b"the previous figure")
    fig = plot_nyquist(rc_spectrum()[0])

    def half_written(handle, **_):
        handle.write(b"\x89PNG partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", half_written)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, target)
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
    assert target.read_bytes() == b"the previous figure"


# -- the optional dependency -------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda s: plot_nyquist(s), lambda s: plot_bode(s), lambda s: save_figure(None, "x.png"),
])
def test_missing_matplotlib_raises_dependency_error_naming_the_extra(monkeypatch, call):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(DependencyError, match=r'pip install "ssbkit\[plot\]"'):
        call(rc_spectrum()[0])


def test_importing_the_plot_module_does_not_import_matplotlib():
    code = "import sys, ssbkit.eis.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

