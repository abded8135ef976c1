"""simulate_pressure: the forward model against its closed form on a hand-made record."""

import numpy as np
import pytest
from pressure_records import PERIOD, START, cc_record, triangle_soc

from ssbkit.core.errors import InputError
from ssbkit.pressure import simulate_pressure

N = 4


def test_noise_free_pressure_is_the_closed_form():
    record = cc_record(N)
    log = simulate_pressure(record, p0_mpa=8.0, growth_per_cycle=0.036, breathing_mpa=0.6,
                            noise_mpa=0.0, interval_s=60.0)
    t = log.unix_time - START
    np.testing.assert_allclose(t, np.arange(0.0, N * PERIOD + 1, 60.0))
    expected = 8.0 * (1 + 0.036 * t / PERIOD) + 0.6 * triangle_soc(t, N)
    np.testing.assert_allclose(log.pressure, expected, rtol=1e-12)
    # at the start of cycle k (SOC 0): p0·(1 + g·(k − 1))
    starts = np.searchsorted(t, PERIOD * np.arange(N))
    np.testing.assert_allclose(log.pressure[starts], 8.0 * (1 + 0.036 * np.arange(N)), rtol=1e-12)
    truth = log.metadata["truth"]
    assert truth["growth_per_cycle"] == 0.036 and truth["p0_mpa"] == 8.0


def test_noise_is_seeded_and_of_the_stated_size():
    record = cc_record(N)
    options = dict(p0_mpa=8.0, growth_per_cycle=0.02, breathing_mpa=0.5, interval_s=30.0)
    clean = simulate_pressure(record, noise_mpa=0.0, **options)
    a = simulate_pressure(record, noise_mpa=0.05, rng=np.random.default_rng(7), **options)
    b = simulate_pressure(record, noise_mpa=0.05, rng=np.random.default_rng(7), **options)
    c = simulate_pressure(record, noise_mpa=0.05, rng=np.random.default_rng(8), **options)
    np.testing.assert_array_equal(a.pressure, b.pressure)
    assert not np.array_equal(a.pressure, c.pressure)
    residual = a.pressure - clean.pressure
    assert residual.size == 961
    assert residual.std(ddof=1) == pytest.approx(0.05, rel=0.1)
    assert abs(residual.mean()) < 4 * 0.05 / np.sqrt(residual.size)


def test_clock_offset_and_margins():
    record = cc_record(N)
    log = simulate_pressure(record, p0_mpa=8.0, growth_per_cycle=0.02, breathing_mpa=0.5,
                            noise_mpa=0.0, interval_s=60.0, clock_offset_s=30.0, margin_s=600.0)
    # the logger's clock is 30 s behind: its first sample, 10 min before the record, reads 30 s earlier
    assert log.unix_time[0] == START - 600.0 - 30.0
    assert log.unix_time[-1] == START + N * PERIOD + 600.0 - 30.0
    # outside the record the pressure stays at the edge values
    assert log.pressure[0] == pytest.approx(8.0)
    assert log.pressure[-1] == pytest.approx(8.0 * (1 + 0.02 * N))


@pytest.mark.parametrize(("options", "source"), [
    ({"p0_mpa": 0.0}, "p0_mpa"),
    ({"growth_per_cycle": 1.5}, "growth_per_cycle"),
    ({"noise_mpa": -0.1}, "noise_mpa"),
    ({"noise_mpa": 0.1, "rng": None}, "rng"),
    ({"interval_s": 0}, "interval_s"),
    ({"breathing_mpa": float("nan")}, "breathing_mpa"),
])
def test_bad_arguments(options, source):
    arguments = dict(p0_mpa=8.0, growth_per_cycle=0.02, breathing_mpa=0.5, noise_mpa=0.0)
    arguments.update(options)
    with pytest.raises(InputError) as info:
        simulate_pressure(cc_record(2), **arguments)
    assert info.value.source == source


def test_a_record_is_needed():
    with pytest.raises(InputError, match="CyclingRecord"):
        simulate_pressure(None, p0_mpa=8.0, growth_per_cycle=0.02, breathing_mpa=0.5, noise_mpa=0.0)
