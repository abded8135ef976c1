"""Write the synthetic example files in examples/data/ (seeded, so they are reproducible).

They stand for the argyrodite study's pellet measurements, made by ssbkit's own forward
models with known truth, so the README and the CLI help can run on files that ship with the
repository:

- ``argyrodite_{T}C.csv``: a Li5.5PS4.5Cl0.8Br0.7 pellet (d = 10 mm, L = 0.85 mm) between
  blocking electrodes, -20 to 80 °C. σ(25 °C) = 13.3 mS/cm, Ea = 0.28 eV (σT form); the bulk
  arc (C ≈ 10 pF) lies above the analyser's 7 MHz, so only the spike is seen.
- ``dcpol.csv``: DC polarisation of the same pellet at 0.1-0.5 V, R_e = 2.4e8 Ohm.
- ``drt_series/charge.csv``: in-situ impedance of a Li-In | LPSCB | LTS cell at 0, 10, …,
  100 % state of charge during one charge (eleven sweeps, 7 MHz to 10 mHz, one after the
  other in one table), and ``drt_series/labels.csv`` with each sweep's state of charge, cell
  voltage and time. Four processes as ZARCs, each in its own τ region: grain boundary
  (6 Ohm, τ = 1 µs), Li-In interface (10 Ohm, 0.3 ms), cathode charge transfer
  (20 + 60·soc² Ohm with soc from 0 to 1, 0.1 s) and diffusion (30 + 20·soc Ohm, 10 s), in
  series with 12 Ohm of electrolyte.

    python examples/make_data.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ssbkit.eis import simulate_polarisation, simulate_spectrum
from ssbkit.study.example import INSITU_CIRCUIT, insitu_cell_parameters

HERE = Path(__file__).resolve().parent / "data"
K_B = 8.617333262e-5
AREA_CM2 = math.pi * 0.5**2
THICKNESS_CM = 0.085
SIGMA_25 = 13.3e-3
EA = 0.28


def conductivity(kelvin: float) -> float:
    t0 = 298.15
    return SIGMA_25 * t0 / kelvin * math.exp(-EA / K_B * (1 / kelvin - 1 / t0))


def main() -> None:
    HERE.mkdir(exist_ok=True)
    rng = np.random.default_rng(2026)
    frequency = np.logspace(math.log10(7e6), 0, 61)
    for celsius in (-20, 0, 25, 50, 80):
        r_bulk = THICKNESS_CM / (conductivity(celsius + 273.15) * AREA_CM2)
        truth = {"R0": r_bulk, "C0": 10e-12, "CPE1_0": 5e-6, "CPE1_1": 0.85}
        s = simulate_spectrum("p(R0,C0)-CPE1", truth, frequency, noise=0.003, rng=rng)
        table = np.column_stack([s.frequency, s.impedance.real, s.impedance.imag])
        np.savetxt(HERE / f"argyrodite_{celsius}C.csv", table, delimiter=",", fmt="%.6e",
                   header="frequency [Hz],Z' [Ohm],Z'' [Ohm]", comments="")
    record = simulate_polarisation([0.1, 0.2, 0.3, 0.4, 0.5], electronic_resistance=2.4e8,
                                   ionic_resistance=8.0, time_constant_s=20.0, step_duration_s=1200,
                                   points_per_step=121,
                                   noise_A=2e-12, rng=rng)
    table = np.column_stack([record.time, record.voltage, record.current])
    np.savetxt(HERE / "dcpol.csv", table, delimiter=",", fmt="%.8e",
               header="time [s],voltage [V],current [A]", comments="")
    drt_series()


def drt_series() -> None:
    folder = HERE / "drt_series"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(4)  # its own stream: the files above stay as they were
    frequency = np.logspace(math.log10(7e6), -2, 89)
    soc = np.linspace(0.0, 1.0, 11)
    sweeps = []
    for x in soc:
        s = simulate_spectrum(INSITU_CIRCUIT, insitu_cell_parameters(x), frequency, noise=0.002, rng=rng)
        sweeps.append(np.column_stack([s.frequency, s.impedance.real, s.impedance.imag]))
    np.savetxt(folder / "charge.csv", np.vstack(sweeps), delimiter=",", fmt="%.6e",
               header="frequency [Hz],Z' [Ohm],Z'' [Ohm]", comments="")
    voltage = 1.55 + 0.8 * soc + 0.15 * soc**3  # LTS against Li-In, a smooth charge curve
    hours = 10.0 * soc  # C/10
    np.savetxt(folder / "labels.csv", np.column_stack([100 * soc, voltage, hours]), delimiter=",",
               fmt=["%.0f", "%.4f", "%.2f"], header="soc [%],voltage [V],time [h]", comments="")


if __name__ == "__main__":
    main()
