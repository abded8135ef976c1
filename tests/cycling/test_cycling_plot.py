"""Cycling figures: the lines each draws, labels as ``name [unit]``, saving, bad input."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from ssbkit.core.errors import InputError  # noqa: E402
from ssbkit.cycling import rate_capability, summarize_cycles  # noqa: E402
from ssbkit.cycling.dqdv import dqdv  # noqa: E402
from ssbkit.cycling.plot import (  # noqa: E402
    plot_capacity,
    plot_dqdv,
    plot_peak_tracks,
    plot_rate,
    plot_voltage_profiles,
)
from ssbkit.cycling.simulate import simulate_cycling, simulate_rate_test  # noqa: E402


@pytest.fixture(scope="module")
def record():
    return simulate_cycling(n_cycles=4, capacity_mah=4.8, active_mass_mg=10,
                            c_rates=[0.1, 0.2, 0.3, 0.4], points_per_step=300)


def gids(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def test_capacity_plot_has_both_capacities_and_ce_on_a_twin_axis(record, tmp_path):
    fig = plot_capacity(summarize_cycles(record, active_mass_mg=10))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    main, twin = fig.axes
    assert main.get_xlabel() == "cycle"
    assert main.get_ylabel() == "specific capacity [mAh/g]"
    assert twin.get_ylabel() == "coulombic efficiency [%]"
    (discharge,), (charge,), (ce,) = gids(main, "discharge"), gids(main, "charge"), gids(twin, "ce")
    truth = record.metadata["truth"]["cycles"]
    np.testing.assert_allclose(discharge.get_ydata(), truth["discharge_mah_g"], rtol=1e-9)
    np.testing.assert_allclose(charge.get_ydata(), truth["charge_mah_g"], rtol=1e-9)
    assert ce.get_xdata().tolist() == [1, 2, 3, 4]
    fig.savefig(tmp_path / "capacity.png")
    assert (tmp_path / "capacity.png").stat().st_size > 1000


def test_capacity_plot_absolute_without_mass(record):
    summary = summarize_cycles(record)  # the simulated file stores its mass: "file"
    fig = plot_capacity(summary, specific=False)
    assert fig.axes[0].get_ylabel() == "capacity [mAh]"
    no_mass = summarize_cycles(simulate_cycling(n_cycles=2, capacity_mah=1.0))
    with pytest.raises(InputError, match="no active mass"):
        plot_capacity(no_mass, specific=True)


def test_voltage_profiles_one_line_per_half_cycle(record, tmp_path):
    fig = plot_voltage_profiles(record, cycles=[1, 3], active_mass_mg=10)
    ax = fig.axes[0]
    assert len(gids(ax, "charge")) == 2 and len(gids(ax, "discharge")) == 2
    assert ax.get_xlabel() == "specific capacity [mAh/g]"
    assert ax.get_ylabel() == "voltage [V]"
    # each half-cycle runs from zero to its capacity
    truth = record.metadata["truth"]["cycles"]
    ends = sorted(line.get_xdata()[-1] for line in gids(ax, "discharge"))
    np.testing.assert_allclose(ends, sorted([truth["discharge_mah_g"][0],
                                             truth["discharge_mah_g"][2]]), rtol=1e-9)
    assert all(line.get_xdata()[0] < 1.0 for line in ax.get_lines())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cycle 1", "cycle 3"]
    fig.savefig(tmp_path / "profiles.svg")
    assert (tmp_path / "profiles.svg").exists()


def test_voltage_profiles_default_cycles_and_offset():
    long = simulate_cycling(n_cycles=12, capacity_mah=1.0, points_per_step=50)
    fig = plot_voltage_profiles(long, active_mass_mg=None)
    assert len(gids(fig.axes[0], "charge")) == 6
    shifted = plot_voltage_profiles(long, cycles=1, reference_offset_v=0.62).axes[0]
    plain = plot_voltage_profiles(long, cycles=1).axes[0]
    np.testing.assert_allclose(gids(shifted, "charge")[0].get_ydata(),
                               gids(plain, "charge")[0].get_ydata() + 0.62)
    with pytest.raises(InputError, match="its cycles are 1–12"):
        plot_voltage_profiles(long, cycles=[13])


def test_dqdv_plot_draws_discharge_below_zero_and_marks_peaks(record, tmp_path):
    result = dqdv(record, bin_width_v=0.002, smooth_width_v=0.005)
    fig = plot_dqdv(result)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "voltage [V]"
    assert ax.get_ylabel() == "dQ/dV [mAh/g/V]"
    assert len(gids(ax, "charge")) == 4 and len(gids(ax, "discharge")) == 4
    assert all(line.get_ydata().max() <= 0 for line in gids(ax, "discharge"))
    marks = gids(ax, "peaks")
    assert sum(len(m.get_xdata()) for m in marks) == len(result.peaks) == 24
    unsigned = plot_dqdv(result, signed=False, peaks=False).axes[0]
    assert all(line.get_ydata().min() >= 0 for line in gids(unsigned, "discharge"))
    assert gids(unsigned, "peaks") == []
    fig.savefig(tmp_path / "dqdv.pdf")
    assert (tmp_path / "dqdv.pdf").stat().st_size > 1000


def test_peak_track_plot_one_line_per_track(record):
    result = dqdv(record, bin_width_v=0.002, smooth_width_v=0.005)
    ax = plot_peak_tracks(result).axes[0]
    assert len(ax.get_lines()) == len(result.tracks) == 6
    assert ax.get_ylabel() == "peak potential [V]" and ax.get_xlabel() == "cycle"


def test_rate_plot_one_group_per_block_labelled_by_rate(tmp_path):
    rec = simulate_rate_test(rates=(0.1, 0.5, 1.0, 0.1), cycles_per_rate=3, active_mass_mg=10,
                             points_per_step=30)
    result = rate_capability(rec, specific_capacity_mah_g=480.0, active_mass_mg=10)
    fig = plot_rate(result)
    ax = fig.axes[0]
    blocks = [line for line in ax.get_lines() if str(line.get_gid()).startswith("block")]
    assert len(blocks) == result.n_blocks
    texts = [t.get_text() for t in ax.texts]
    assert texts == result.labels() == ["0.1C", "0.5C", "1C", "0.1C"]
    assert ax.get_ylabel() == "specific capacity [mAh/g]"
    truth = rec.metadata["truth"]["cycles"]["discharge_mah_g"]
    drawn = np.concatenate([line.get_ydata() for line in blocks])
    np.testing.assert_allclose(drawn, truth, rtol=1e-9)
    fig.savefig(tmp_path / "rate.png")


@pytest.mark.parametrize("call", [
    lambda: plot_capacity("summary"), lambda: plot_dqdv(None), lambda: plot_peak_tracks(3),
    lambda: plot_rate([]), lambda: plot_voltage_profiles(np.zeros(3)),
])
def test_wrong_inputs_are_input_errors(call):
    with pytest.raises(InputError):
        call()


def test_draws_into_a_given_axes(record):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_dqdv(dqdv(record), ax=ax) is fig
    with pytest.raises(InputError, match="Axes"):
        plot_dqdv(dqdv(record), ax="left")
