"""Write the synthetic stack-pressure examples in examples/data/pressure/ (seeded, reproducible).

Two Li2TiS3 | argyrodite | Li–In cells cycled at 0.5 C (ssbkit's cycling simulator), each
with an in-situ stack-pressure log made by ssbkit's pressure simulator, with the growth per
cycle the argyrodite study reports: 2.1 % at normal loading and 3.6 % at high loading. The
initial stack pressure (10 MPa), the breathing (0.4 and 0.8 MPa from discharged to charged)
and the noise (0.02 MPa) are chosen for the example, not taken from the study.

- ``cell_normal.bdf.csv``, ``cell_high.bdf.csv``: the cycler records (Battery Data Format
  CSV, with ``Unix Time / s``); 5 mg and 10 mg of active material, 8 cycles each, fading
  after the first cycle at the study's rates (0.027 and 0.082 % of the peak per cycle).
- ``stack_pressure_normal.csv``: ISO time stamps and pressure [MPa], one sample every
  2 minutes, from 20 minutes before the cycling to 20 minutes after.
- ``stack_pressure_high.csv``: separate ``Date`` and ``Time`` columns, pressure in bar.
- ``stack_force_normal.tsv``: the normal cell's log as a load cell writes it: elapsed
  seconds from a start time in the header, force [kN] on a 10 mm pellet (0.785 cm²), the
  logger's clock 30 s behind the cycler's (``--offset-s 30`` aligns it).

    python examples/make_pressure_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ssbkit.cycling.simulate import simulate_cycling
from ssbkit.pressure.simulate import simulate_pressure

OUT = Path(__file__).parent / "data" / "pressure"
P0_MPA, NOISE_MPA, INTERVAL_S, MARGIN_S = 10.0, 0.02, 120.0, 1200.0
AREA_CM2 = 0.785  # a 10 mm pellet
# fade per cycle after the peak: the study's 96.22 % of the peak 138 cycles after it (normal)
# and 67.2 % after 400 cycles (high loading)
CELLS = {"normal": {"active_mass_mg": 5.0, "growth": 0.021, "breathing": 0.4, "seed": 21,
                    "fade": (1 - 0.9622) / 138},
         "high": {"active_mass_mg": 10.0, "growth": 0.036, "breathing": 0.8, "seed": 36,
                  "fade": (1 - 0.672) / 400}}


def _stamps(unix_s: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.round(unix_s, 3), unit="s")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, cell in CELLS.items():
        record = simulate_cycling(n_cycles=8, active_mass_mg=cell["active_mass_mg"], c_rates=0.5,
                                  peak_cycle=1, initial_capacity_fraction=1.0,
                                  fade_per_cycle=cell["fade"], points_per_step=20,
                                  rest_s=600.0)
        _write_record(record, OUT / f"cell_{name}.bdf.csv")
        log = simulate_pressure(record, p0_mpa=P0_MPA, growth_per_cycle=cell["growth"],
                                breathing_mpa=cell["breathing"], noise_mpa=NOISE_MPA,
                                interval_s=INTERVAL_S, margin_s=MARGIN_S,
                                rng=np.random.default_rng(cell["seed"]))
        stamps = _stamps(log.unix_time)
        if name == "normal":
            pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S"),
                          "pressure [MPa]": log.pressure.round(4)}).to_csv(
                OUT / "stack_pressure_normal.csv", index=False)
            _force_log(record)
        else:
            pd.DataFrame({"Date": stamps.strftime("%Y-%m-%d"), "Time": stamps.strftime("%H:%M:%S"),
                          "Pressure [bar]": (log.pressure * 10).round(3)}).to_csv(
                OUT / "stack_pressure_high.csv", index=False)


def _write_record(record: object, path: Path) -> None:
    """The record as BDF CSV, rounded to what a cycler logs (ms, µV, nA, nAh) to keep it small."""
    frame = record.to_frame()  # type: ignore[attr-defined]
    decimals = {"Test Time / s": 3, "Unix Time / s": 3, "Step Time / s": 3, "Voltage / V": 6,
                "Current / A": 9}
    frame = frame.round({c: decimals.get(c, 9 if "/ A" in c else 12) for c in frame.columns
                         if frame[c].dtype.kind == "f"})
    frame.to_csv(path, index=False)


def _force_log(record: object) -> None:
    cell = CELLS["normal"]
    log = simulate_pressure(record, p0_mpa=P0_MPA, growth_per_cycle=cell["growth"],  # type: ignore[arg-type]
                            breathing_mpa=cell["breathing"], noise_mpa=NOISE_MPA,
                            interval_s=INTERVAL_S, margin_s=MARGIN_S, clock_offset_s=30.0,
                            rng=np.random.default_rng(cell["seed"] + 1))
    start = _stamps(log.unix_time[:1])[0]
    elapsed = log.unix_time - log.unix_time[0]
    force_kn = log.pressure * AREA_CM2 / 10.0  # P [MPa] = 10 F [kN] / A [cm²]
    lines = ["Logger: load cell LC-5kN (synthetic)", f"Start time: {start:%Y-%m-%dT%H:%M:%S}",
             f"Area: {AREA_CM2} cm2", "elapsed time [s]\tforce [kN]"]
    lines += [f"{t:.0f}\t{f:.5f}" for t, f in zip(elapsed, force_kn, strict=True)]
    (OUT / "stack_force_normal.tsv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
