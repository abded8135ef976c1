"""Pressure figures: what is drawn, on which axes, and that nothing is shown."""

import numpy as np
import pytest
from pressure_records import PERIOD, START, cc_record, triangle_soc

from ssbkit.core.errors import InputError
from ssbkit.pressure import PressureLog, analyze_pressure
from ssbkit.pressure.plot import plot_cycle_pressure, plot_pressure, plot_pressure_analysis

pytest.importorskip("matplotlib")

N = 4


def data():
    record = cc_record(N)
    t = np.arange(-600.0, N * PERIOD + 1, 60.0)
    log = PressureLog(START + t, 10 * (1 + 0.02 * np.clip(t, 0, None) / PERIOD) + 0.3 * triangle_soc(t, N))
    return log, record, analyze_pressure(log, record)


def test_pressure_and_voltage_share_a_time_axis_in_hours():
    log, record, _ = data()
    fig = plot_pressure(log, record)
    pressure_axes, voltage_axes = fig.axes
    assert pressure_axes.get_xlabel() == "time [h]"
    assert (pressure_axes.get_ylabel(), voltage_axes.get_ylabel()) == ("pressure [MPa]", "voltage [V]")
    x, y = pressure_axes.lines[0].get_data()
    assert x[0] == pytest.approx(-600 / 3600) and x[-1] == pytest.approx(N * PERIOD / 3600)
    np.testing.assert_allclose(y, log.pressure)
    vx, vy = voltage_axes.lines[0].get_data()
    np.testing.assert_allclose(vy, record.voltage)
    assert type(fig.canvas).__name__ == "FigureCanvasAgg"


def test_an_offset_moves_the_pressure_trace():
    log, record, _ = data()
    fig = plot_pressure(log, record, offset_s=3600.0)
    assert fig.axes[0].lines[0].get_data()[0][0] == pytest.approx(1 - 600 / 3600)


def test_per_cycle_max_min_and_the_fitted_line():
    _, _, result = data()
    ax = plot_cycle_pressure(result).axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert labels[:2] == ["max", "min"]
    np.testing.assert_allclose(ax.lines[0].get_data()[1], result.cycles["max pressure [MPa]"])
    fit = ax.lines[-1]
    assert "2.00 %/cycle" in fit.get_label()
    np.testing.assert_allclose(fit.get_data()[1], [10.0, 10 * (1 + 0.02 * (N - 1))])


def test_both_panels_and_bad_arguments():
    log, record, result = data()
    assert len(plot_pressure_analysis(log, record, result).axes) == 3  # the time panel has a twin
    with pytest.raises(InputError):
        plot_pressure(log, record, ax="axes")
    with pytest.raises(InputError):
        plot_cycle_pressure(log)
    with pytest.raises(InputError):
        plot_pressure(record, log)
