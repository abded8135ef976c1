"""A forward model of stack pressure during cycling, with known truth, for tests and examples.

``simulate_pressure(record, …)`` samples a pressure log every ``interval_s`` over a cycling
record. The pressure is a baseline that grows by ``growth_per_cycle × p0`` every cycle,
continuously in time (linear within each cycle, from p0·(1 + g·(k − 1)) at the start of
cycle k to p0·(1 + g·k) at its end), plus the reversible breathing, which follows the state
of charge (``breathing_mpa × SOC``; ``ssbkit.cycling.place_events`` gives the SOC), plus
Gaussian noise drawn from ``rng``:

    p(t) = p0 · (1 + g · x(t)) + breathing · SOC(t) + noise,   x = cycles completed so far

So at the start of every cycle (SOC = 0 in a charge-first record) the pressure is exactly
p0 · (1 + g · (k − 1)) before noise, the quantity ``analyze_pressure`` fits. The logger's
clock can be set ``clock_offset_s`` behind the cycler's (``analyze_pressure(offset_s=…)``
undoes it) and can run ``margin_s`` before and after the record (samples there are at the
edge values, and ``analyze_pressure`` must count them, not use them).

>>> import numpy as np
>>> from ssbkit.cycling.data import CyclingRecord
>>> t = np.array([0.0, 3600, 3600, 7200])
>>> rec = CyclingRecord.from_columns({"Test Time / s": t, "Voltage / V": [2.0, 2.5, 2.5, 1.5],
...     "Current / A": [1e-3, 1e-3, -1e-3, -1e-3], "Unix Time / s": 1.7e9 + t})
>>> log = simulate_pressure(rec, p0_mpa=10, growth_per_cycle=0.02, breathing_mpa=0.5,
...                         noise_mpa=0, interval_s=1800)
>>> log.pressure.round(3).tolist()  # baseline 10 → 10.2 over the cycle, plus 0.5 MPa × SOC
[10.0, 10.3, 10.6, 10.4, 10.2]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite, in_range, non_negative, one_of, positive
from ssbkit.cycling.data import CyclingRecord
from ssbkit.pressure.data import PressureLog

__all__ = ["simulate_pressure"]


def simulate_pressure(record: CyclingRecord, *, p0_mpa: float, growth_per_cycle: float,
                      breathing_mpa: float, noise_mpa: float, interval_s: float = 60.0,
                      rng: np.random.Generator | None = None, clock_offset_s: float = 0.0,
                      margin_s: float = 0.0, convention: str = "charge-first") -> PressureLog:
    """A pressure log over ``record`` with known growth, breathing and noise (see the module).

    ``growth_per_cycle`` is a fraction (0.021 for 2.1 % of p0 per cycle); ``noise_mpa`` is
    the standard deviation of the noise and needs a seeded ``rng`` when it is not zero.
    The truth is kept in ``metadata["truth"]``.
    """
    from ssbkit.cycling import summarize_cycles
    from ssbkit.cycling.events import absolute_time, place_events

    if not isinstance(record, CyclingRecord):
        raise InputError(f"must be a CyclingRecord, got {type(record).__name__}", source="record")
    p0 = positive("p0_mpa", p0_mpa)
    growth = in_range("growth_per_cycle", growth_per_cycle, -1.0, 1.0, low_inclusive=False,
                      high_inclusive=False, why="a fraction of p0 per cycle: 0.021 for 2.1 %")
    breathing = finite("breathing_mpa", breathing_mpa)
    noise = non_negative("noise_mpa", noise_mpa)
    interval = positive("interval_s", interval_s)
    offset = finite("clock_offset_s", clock_offset_s)
    margin = non_negative("margin_s", margin_s)
    convention = one_of("convention", convention, ("native", "charge-first", "discharge-first"))
    if noise > 0 and not isinstance(rng, np.random.Generator):
        raise InputError("noise needs a seeded generator: pass rng=np.random.default_rng(N)",
                         source="rng")
    absolute = absolute_time(record)
    count = int(np.floor((absolute[-1] - absolute[0] + 2 * margin) / interval + 1e-9)) + 1
    if count > 10_000_000:
        raise InputError(f"{count} samples: choose a longer interval_s", source="interval_s")
    # counted from the first sample, not accumulated in steps, so the last lands on the end
    times = (absolute[0] - margin) + interval * np.arange(count)
    clamped = np.clip(times, absolute[0], absolute[-1])
    events = place_events(record, clamped, time_base="unix", convention=convention)
    soc = np.nan_to_num(events.soc, nan=0.0)
    table = summarize_cycles(record, convention=convention).table
    starts = table["start time [s]"].to_numpy(float)
    knots_t = np.r_[starts, float(table["end time [s]"].iloc[-1])]
    knots_x = np.arange(knots_t.size, dtype=float)
    completed = np.interp(events.test_time, knots_t, knots_x)
    pressure = p0 * (1.0 + growth * completed) + breathing * soc
    if noise > 0:
        pressure = pressure + noise * rng.standard_normal(pressure.size)  # type: ignore[union-attr]
    truth: dict[str, Any] = {"p0_mpa": p0, "growth_per_cycle": growth, "breathing_mpa": breathing,
                             "noise_mpa": noise, "interval_s": interval, "clock_offset_s": offset,
                             "margin_s": margin, "convention": convention}
    return PressureLog(times - offset, pressure, {"format": "simulated", "truth": truth},
                       source="simulated pressure log")
