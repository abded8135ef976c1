"""Hand-made cycling records with a known state of charge at every moment, for the pressure tests."""

import numpy as np

from ssbkit.cycling import CyclingRecord
from ssbkit.cycling.data import CURRENT, TIME, UNIX_TIME, VOLTAGE

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
HALF = 3600.0  # each half-cycle: 1 h at 1 mA
PERIOD = 2 * HALF


def cc_record(n_cycles=6, *, dt=60.0, charge_s=None, unix=True, metadata=None):
    """``n_cycles`` cycles of a 1 mA charge and a 1 mA discharge, one row every ``dt``; the
    first row of each half repeats the last time of the one before, so the switch takes no
    time. ``charge_s``: the length of each cycle's charge and discharge (default 1 h each)."""
    lengths = [HALF] * n_cycles if charge_s is None else list(charge_s)
    times, currents = [], []
    t0 = 0.0
    for length in lengths:
        for current in (1e-3, -1e-3):
            t = t0 + np.arange(0.0, length + dt / 2, dt)
            times.append(t)
            currents.append(np.full(t.size, current))
            t0 = t[-1]
    t = np.concatenate(times)
    columns = {TIME: t, VOLTAGE: 2.0 + 1e-5 * t, CURRENT: np.concatenate(currents)}
    if unix:
        columns[UNIX_TIME] = START + t
    return CyclingRecord.from_columns(columns, metadata=metadata, source="hand-made cycling")


def triangle_soc(t, n_cycles=6, half=HALF):
    """The SOC of ``cc_record`` at test time ``t``: 0 → 1 over each charge, 1 → 0 over each
    discharge (equal charge and discharge)."""
    phase = np.mod(np.asarray(t, float), 2 * half) / half
    soc = np.where(phase <= 1, phase, 2 - phase)
    return np.where(np.asarray(t) >= n_cycles * 2 * half, 0.0, soc)
