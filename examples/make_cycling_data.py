"""Write the synthetic cycling example files in examples/data/cycling/ (seeded).

They stand for the argyrodite study's Li2TiS3 | Li5.5PS4.5Cl0.8Br0.7 | Li–In cells, made by
``ssbkit.cycling.simulate`` with known truth and written as Battery Data Format CSV, so the
README and the CLI help run on files that ship with the repository:

- ``lts_cell.bdf.csv``: 30 cycles at 0.1 C, CC-CV charges written as two steps, 4.2 mg of
  Li2TiS3, 470.6 mAh/g at the peak cycle (cycle 20 here), first-cycle charge 12 % above
  its discharge, voltages vs Li–In with three plateaus (1.60, 2.05, 2.40 V).
- ``lts_rate.bdf.csv``: a rate test, 3 cycles each at 0.1, 0.5 and 1 C and back at 0.1 C
  (483 / 413 / 264 mAh/g).

    python examples/make_cycling_data.py
"""

from __future__ import annotations

from pathlib import Path

from ssbkit.cycling import simulate_cycling, simulate_rate_test

HERE = Path(__file__).resolve().parent / "data" / "cycling"


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    cell = simulate_cycling(n_cycles=30, active_mass_mg=4.2, specific_capacity_mah_g=470.6,
                            peak_cycle=20, fade_per_cycle=0.0003, protocol="cccv", c_rates=0.1,
                            points_per_step=25, noise_v=0.0005, rng=1)
    rate = simulate_rate_test(rates=(0.1, 0.5, 1.0, 0.1), cycles_per_rate=3, active_mass_mg=4.2,
                              specific_capacity_mah_g=483.0, points_per_step=25, rng=2)
    for name, record in (("lts_cell.bdf.csv", cell), ("lts_rate.bdf.csv", rate)):
        frame = record.to_frame()
        frame.to_csv(HERE / name, index=False, float_format="%.10g")
        print(f"wrote {HERE / name} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
