"""DRT figures (ssbkit.eis.plot: plot_drt, plot_drt_map, plot_drt_stack).

Truth: what each figure draws is compared with the numbers of the results it was given (γ on
the fine grid, the peaks, the series matrix), rescaled by the Ohm prefix that the data's size
calls for (a spectrum ×1000 is drawn in kΩ with the same numbers); the map's cells sit half
way between neighbouring labels and τ points; a non-monotonic label (charge then discharge)
falls back to columns in measurement order; region bounds are drawn where they were asked
for. Real file: the sweeps of pyimpspec's multi-sweep .mpt as a map written to PNG.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from ssbkit.core.errors import InputError  # noqa: E402
from ssbkit.eis import Spectrum, drt, simulate_spectrum  # noqa: E402
from ssbkit.eis.drt_series import DRTSeries, drt_series  # noqa: E402
from ssbkit.eis.plot import plot_drt, plot_drt_map, plot_drt_stack, save_figure  # noqa: E402
from ssbkit.io import read_spectra  # noqa: E402
from ssbkit.testing import shared_data  # noqa: E402

F = np.logspace(6, -2, 61)
SOC = [0.0, 25.0, 50.0, 75.0, 100.0]


def spectrum(r2=30.0, scale=1.0):
    params = {"R0": 5.0 * scale, "ZARC1_0": 10.0 * scale, "ZARC1_1": 1e-4, "ZARC1_2": 0.9,
              "ZARC2_0": r2 * scale, "ZARC2_1": 0.1, "ZARC2_2": 0.9}
    return simulate_spectrum("R0-ZARC1-ZARC2", params, F)


@pytest.fixture(scope="module")
def series():
    return drt_series([spectrum(10.0 + 0.4 * x) for x in SOC], labels={"soc [%]": SOC}, lam=1e-3)


def by_gid(ax, gid):
    return [a for a in [*ax.get_lines(), *ax.collections, *ax.texts] if a.get_gid() == gid]


# --- plot_drt -------------------------------------------------------------------------------------

def test_drt_curve_is_gamma_on_the_fine_grid_with_peaks_marked():
    result = drt(spectrum(), lam=1e-3)
    fig = plot_drt(result)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    (line,) = by_gid(ax, "drt")
    assert np.array_equal(line.get_xdata(), result.tau_fine)
    assert np.array_equal(line.get_ydata(), result.gamma_fine)
    (marks,) = by_gid(ax, "peaks")
    assert np.allclose(marks.get_xdata(), [p.tau for p in result.peaks])
    assert np.allclose(marks.get_ydata(), [p.gamma for p in result.peaks])
    assert ax.get_xscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("τ [s]", "γ [Ω]")
    assert ax.get_ylim()[0] == 0.0
    # the two arcs are drawn where they are: peaks within 0.1 decade of 0.1 ms and 0.1 s
    assert sorted(round(float(np.log10(p.tau)), 1) for p in result.peaks if p.resistance > 1) == [-4.0, -1.0]


def test_drt_without_peaks_draws_no_marks():
    ax = plot_drt(drt(spectrum(), lam=1e-3), peaks=False).axes[0]
    assert by_gid(ax, "peaks") == [] and len(by_gid(ax, "drt")) == 1


def test_drt_unit_prefix_follows_the_size_of_gamma():
    small = drt(spectrum(), lam=1e-3)
    large = drt(spectrum(scale=1000.0), lam=1e-3)
    ax_small, ax_large = plot_drt(small).axes[0], plot_drt(large).axes[0]
    assert ax_large.get_ylabel() == "γ [kΩ]"
    (a,), (b,) = by_gid(ax_small, "drt"), by_gid(ax_large, "drt")
    assert np.allclose(b.get_ydata(), a.get_ydata(), rtol=1e-6, atol=1e-9 * a.get_ydata().max())


def test_drt_of_several_results_takes_one_label_each(series):
    results = list(series.results[:2])
    ax = plot_drt(results, label=["first", "second"]).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first", "second"]
    lines = by_gid(ax, "drt")
    assert len(lines) == 2 and lines[0].get_color() != lines[1].get_color()


def test_drt_of_a_series_names_curves_by_their_label(series):
    ax = plot_drt(series).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"soc [%] = {x:g}" for x in SOC]


def test_drt_of_a_long_series_names_only_the_ends():
    long = DRTSeries(results=(drt(spectrum(), lam=1e-3),) * 8, labels={"cycle": list(range(1, 9))})
    ax = plot_drt(long).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cycle = 1", "cycle = 8"]
    assert len(by_gid(ax, "drt")) == 8


@pytest.mark.parametrize(("data", "kwargs", "source"), [
    ([], {}, "data"),
    (["x"], {}, "data"),
    (Spectrum(F, np.ones(F.size)), {}, "data"),
    (None, {"label": ["a", "b"]}, "label"),
    (None, {"ax": "axes"}, "ax"),
])
def test_drt_refuses_what_it_cannot_draw(data, kwargs, source):
    with pytest.raises(InputError) as info:
        plot_drt(drt(spectrum(), lam=1e-3) if data is None else data, **kwargs)
    assert info.value.source == source


def test_drt_draws_into_a_given_axes():
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure()
    ax = fig.add_subplot()
    assert plot_drt(drt(spectrum(), lam=1e-3), ax=ax) is fig
    assert len(by_gid(ax, "drt")) == 1


# --- plot_drt_map ---------------------------------------------------------------------------------

def test_map_cells_hold_the_series_matrix_between_neighbouring_labels(series):
    fig = plot_drt_map(series)
    ax = fig.axes[0]
    (mesh,) = by_gid(ax, "map")
    values = np.asarray(mesh.get_array()).reshape(series.tau.size, len(SOC))
    assert np.allclose(values, series.matrix.T)
    x0, x1 = ax.get_xlim()
    assert (x0, x1) == pytest.approx((-12.5, 112.5))  # half a step beyond 0 and 100
    y0, y1 = ax.get_ylim()
    step = np.log(series.tau[1] / series.tau[0])
    assert np.log(y0) == pytest.approx(np.log(series.tau[0]) - step / 2)
    assert np.log(y1) == pytest.approx(np.log(series.tau[-1]) + step / 2)
    assert ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("soc [%]", "τ [s]")
    colour_bar = fig.axes[1]
    assert colour_bar.get_ylabel() == "γ [Ω]"


def test_map_of_falling_labels_is_drawn_in_label_order(series):
    falling = DRTSeries(results=series.results, labels={"soc [%]": SOC[::-1]})
    ax = plot_drt_map(falling).axes[0]
    (mesh,) = by_gid(ax, "map")
    values = np.asarray(mesh.get_array()).reshape(series.tau.size, len(SOC))
    assert np.allclose(values, series.matrix[::-1].T)  # the first column is soc = 0, the last result


def test_map_of_a_charge_then_a_discharge_keeps_measurement_order(series):
    cycle = DRTSeries(results=series.results, labels={"soc [%]": [0, 50, 100, 50, 0]})
    ax = plot_drt_map(cycle).axes[0]
    assert ax.get_xlabel() == "soc [%] (in measurement order)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "50", "100", "50", "0"]
    (mesh,) = by_gid(ax, "map")
    values = np.asarray(mesh.get_array()).reshape(series.tau.size, len(SOC))
    assert np.allclose(values, series.matrix.T)


def test_map_of_text_labels_uses_them_as_ticks(series):
    named = DRTSeries(results=series.results, labels={"file": list("abcde")})
    ax = plot_drt_map(named).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcde")


def test_map_draws_region_bounds_and_names(series):
    regions = {"interface": (1e-6, 1e-2), "charge transfer": (1e-2, 10.0), "beyond": (1e5, 1e6)}
    ax = plot_drt_map(series, regions=regions).axes[0]
    bounds = sorted(line.get_ydata()[0] for line in by_gid(ax, "region bound"))
    assert bounds == pytest.approx([1e-6, 1e-2, 10.0])  # shared bounds drawn once; 1e5 is off the map
    names = {t.get_text(): t.get_position()[1] for t in by_gid(ax, "region label")}
    assert set(names) == {"interface", "charge transfer"}
    assert names["charge transfer"] == pytest.approx(np.sqrt(1e-2 * 10.0))


def test_map_by_index_when_asked(series):
    ax = plot_drt_map(series, label="index").axes[0]
    assert ax.get_xlabel() == "index" and ax.get_xlim() == pytest.approx((-0.5, 4.5))


@pytest.mark.parametrize(("kwargs", "source", "needle"), [
    ({"label": "voltage"}, "label", re.escape("has no label 'voltage'; it has index, soc [%]")),
    ({"label": 3}, "label", "name of a label"),
    ({"regions": {"ct": (1.0, 0.1)}}, "regions", "tau_min < tau_max"),
    ({"ax": 1}, "ax", "Axes"),
])
def test_map_refuses_bad_arguments(series, kwargs, source, needle):
    with pytest.raises(InputError, match=needle) as info:
        plot_drt_map(series, **kwargs)
    assert info.value.source == source


def test_map_wants_a_series(series):
    with pytest.raises(InputError, match="DRTSeries") as info:
        plot_drt_map(list(series.results))
    assert info.value.source == "series"


# --- plot_drt_stack -------------------------------------------------------------------------------

def test_stack_raises_each_curve_by_the_offset(series):
    ax = plot_drt_stack(series, offset=5.0).axes[0]
    lines = by_gid(ax, "drt")
    assert len(lines) == len(SOC)
    for k, (line, row) in enumerate(zip(lines, series.matrix, strict=True)):
        assert np.allclose(line.get_xdata(), series.tau)
        assert np.allclose(line.get_ydata(), row + 5.0 * k)
    assert [line.get_ydata()[0] for line in by_gid(ax, "baseline")] == [5.0 * k for k in range(len(SOC))]
    assert [t.get_text() for t in by_gid(ax, "stack label")] == [f"soc [%] = {x:g}" for x in SOC]
    assert ax.get_ylabel() == "γ + offset [Ω]" and ax.get_xscale() == "log"


def test_stack_default_offset_is_six_tenths_of_the_largest_gamma(series):
    ax = plot_drt_stack(series).axes[0]
    baselines = [line.get_ydata()[0] for line in by_gid(ax, "baseline")]
    assert np.diff(baselines) == pytest.approx(0.6 * series.matrix.max())


def test_stack_of_results_on_different_grids(series):
    other = drt(simulate_spectrum("R0-ZARC1", {"R0": 5.0, "ZARC1_0": 20.0, "ZARC1_1": 1e-3, "ZARC1_2": 0.9},
                                  np.logspace(5, -1, 41)), lam=1e-3)
    ax = plot_drt_stack([series.results[0], other], offset=0.0).axes[0]
    lines = by_gid(ax, "drt")
    assert np.allclose(lines[1].get_ydata(), other.gamma_at(lines[1].get_xdata()))
    assert [t.get_text() for t in by_gid(ax, "stack label")] == ["index = 0", "index = 1"]


@pytest.mark.parametrize(("kwargs", "source"), [({"offset": -1.0}, "offset"), ({"label": "cycle"}, "label")])
def test_stack_refuses_bad_arguments(series, kwargs, source):
    with pytest.raises(InputError) as info:
        plot_drt_stack(series, **kwargs)
    assert info.value.source == source


# --- a real file ------------------------------------------------------------------------------------

def test_map_of_the_sweeps_of_a_real_mpt_is_written(tmp_path):
    spectra = read_spectra(shared_data("eis", "pyimpspec", "case-multiple-spectra.mpt"))
    sweeps = drt_series(spectra, labels={"sweep": [s.metadata["sweep"] for s in spectra]}, lam=1e-3)
    fig = plot_drt_map(sweeps, regions={"arc": (1e-4, 1e-1)})
    # |Z| reaches 650 Ohm: γ stays below 1 kΩ, drawn in Ω
    assert fig.axes[1].get_ylabel() == "γ [Ω]"
    path = save_figure(fig, tmp_path / "map.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert list(tmp_path.iterdir()) == [path]
