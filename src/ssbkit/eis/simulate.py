"""Synthetic impedance spectra with known parameters, for tests and method checks.

``simulate_spectrum`` evaluates a circuit and adds seeded noise proportional to |Z|
(independent, normal, on the real and imaginary parts), the error structure of a
frequency-response analyser. Drift can be added to make spectra that must fail a
Kramers–Kronig check (a resistance that changes linearly with measurement time while
the sweep runs from high to low frequency).

>>> import numpy as np
>>> s = simulate_spectrum("R0-p(R1,C1)", {"R0": 10, "R1": 100, "C1": 1e-6},
...                       np.logspace(6, -1, 36), noise=0.0)
>>> len(s), round(float(s.impedance[-1].real), 2), round(float(s.impedance[0].real), 2)
(36, 110.0, 10.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite_array, non_negative
from ssbkit.eis.circuits import Circuit, parse_circuit
from ssbkit.eis.data import Spectrum

__all__ = ["simulate_spectrum"]


def simulate_spectrum(
    circuit: str | Circuit,
    parameters: Mapping[str, float] | Sequence[float],
    frequency: Any,
    *,
    noise: float = 0.0,
    drift_ohm: float = 0.0,
    rng: np.random.Generator | None = None,
) -> Spectrum:
    """Z(f) of ``circuit`` with relative noise ``noise`` (0.005 = 0.5 % of |Z|).

    ``drift_ohm`` adds a series resistance growing linearly from 0 at the first point to
    ``drift_ohm`` at the last, as if the sample changed during the sweep. ``rng`` must be
    given whenever ``noise`` > 0, so that every synthetic spectrum is reproducible.
    """
    model = circuit if isinstance(circuit, Circuit) else parse_circuit(circuit)
    f = finite_array("frequency", frequency)
    z = model.impedance(f, parameters)
    level = non_negative("noise", noise)
    if drift_ohm:
        z = z + np.linspace(0.0, float(drift_ohm), f.size)
    if level > 0:
        if rng is None:
            raise InputError("noise needs a seeded generator: pass rng=np.random.default_rng(N)",
                             source="rng")
        z = z + level * np.abs(z) * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    return Spectrum(f, z, metadata={"circuit": model.to_string(), "noise": level,
                                    "drift_ohm": float(drift_ohm)}, source="simulated")


def simulate_polarisation(
    voltages: Sequence[float],
    *,
    electronic_resistance: float,
    ionic_resistance: float,
    time_constant_s: float = 60.0,
    step_duration_s: float = 600.0,
    points_per_step: int = 601,
    noise_A: float = 0.0,
    offset_A: float = 0.0,
    rng: np.random.Generator | None = None,
):
    """A DC polarisation record with known electronic resistance, for tests and method checks.

    Each voltage V is held for ``step_duration_s``; the current starts at V/R_ion + V/R_e (ions
    and electrons both carry it) and the ionic part decays as exp(−t/τ) as the ions pile up at
    the blocking electrodes, leaving V/R_e [A]:

        I(t) = V/R_e + (V/R_ion)·exp(−t/τ) + I_offset + noise

    ``noise_A`` is the standard deviation of normal current noise [A]; it needs a seeded
    ``rng``. Resistances in Ohm, times in s; the record's time runs on across the steps.

    >>> rec = simulate_polarisation([0.1, 0.2], electronic_resistance=1e6, ionic_resistance=1e3,
    ...                             step_duration_s=100, points_per_step=101, time_constant_s=1)
    >>> len(rec), f"{rec.current[100]:.3e}", f"{rec.current[-1]:.3e}"
    (202, '1.000e-07', '2.000e-07')
    """
    from ssbkit.core.validate import positive, positive_int
    from ssbkit.eis.data import Chronoamperometry

    levels = finite_array("voltages", voltages)
    if levels.size == 0:
        raise InputError("give at least one voltage", source="voltages")
    r_e = positive("electronic_resistance", electronic_resistance)
    r_ion = positive("ionic_resistance", ionic_resistance)
    tau = positive("time_constant_s", time_constant_s)
    duration = positive("step_duration_s", step_duration_s)
    n = positive_int("points_per_step", points_per_step)
    sigma = non_negative("noise_A", noise_A)
    if sigma > 0 and rng is None:
        raise InputError("noise needs a seeded generator: pass rng=np.random.default_rng(N)",
                         source="rng")
    since_step = np.linspace(0.0, duration, n)
    dt = duration / max(n - 1, 1)
    time = np.concatenate([k * (duration + dt) + since_step for k in range(levels.size)])
    voltage = np.repeat(levels, n)
    elapsed = np.tile(since_step, levels.size)
    current = voltage / r_e + voltage / r_ion * np.exp(-elapsed / tau) + float(offset_A)
    if sigma > 0:
        current = current + sigma * rng.standard_normal(current.size)
    return Chronoamperometry(time, current, voltage, metadata={
        "electronic_resistance_ohm": r_e, "ionic_resistance_ohm": r_ion, "time_constant_s": tau,
        "noise_A": sigma, "offset_A": float(offset_A)}, source="simulated")


__all__ += ["simulate_polarisation"]
