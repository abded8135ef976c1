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
