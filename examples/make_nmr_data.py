"""Write the synthetic NMR examples in examples/data/nmr/ (seeded, reproducible; simulated, not measured).

- ``li6_mixture/1/``: a Bruker experiment folder (``acqus`` and an int32 ``fid``, as TopSpin
  writes them) of a 6Li MAS one-pulse spectrum of a Li2S / Li6PS5Cl / LiI mixture, with the
  three lines at the study's shifts (2.31, 1.29 and −4.56 ppm) holding 30 / 50 / 20 % of the
  lithium, on a 500 MHz magnet (6Li at 73.6 MHz), 298 K, 20 kHz spinning.
- ``exsy_buildup.csv``: normalised cross-peak build-up, cross/(cross + diagonal), of the
  Li2S–LPSC pair at five temperatures (293–373 K) and ten mixing times (10 ms–10 s), made by
  the sphere model (radius 1 µm) with D(298 K) = 1e-9 cm²/s and the study's Ea of 0.107 eV,
  1 % noise.
- ``exsy_volumes.csv``: the long-form peak-volume table of a three-site exchange (Li2S, LPSC,
  LiI; populations 0.3 / 0.5 / 0.2; k(Li2S→LiI) = 2, k(LiI→LPSC) = 5, k(Li2S→LPSC) = 0.2 s⁻¹;
  T1 = 20 / 5 / 10 s) at seven mixing times, 0.5 % noise.

    python examples/make_nmr_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssbkit.nmr.simulate import simulate_buildup, simulate_exchange

OUT = Path(__file__).parent / "data" / "nmr"
SHIFTS_PPM = {"Li2S": 2.31, "LPSC": 1.29, "LiI": -4.56}
FRACTIONS = {"Li2S": 0.30, "LPSC": 0.50, "LiI": 0.20}
FWHM_HZ = {"Li2S": 45.0, "LPSC": 60.0, "LiI": 50.0}
OBSERVE_MHZ, SW_HZ, TD_COMPLEX = 73.5999, 5000.0, 4096


def _jcamp(params: dict[str, object]) -> str:
    lines = ["##TITLE= Parameter file, TOPSPIN (written by ssbkit examples/make_nmr_data.py)",
             "##JCAMPDX= 5.0", "##DATATYPE= Parameter Values", "##ORIGIN= ssbkit (simulated)",
             "##OWNER= ssbkit"]
    for key, value in params.items():
        if isinstance(value, list):
            lines.append(f"##${key}= (0..{len(value) - 1})")
            lines.append(" ".join(f"{v:g}" for v in value))
        elif isinstance(value, str):
            lines.append(f"##${key}= <{value}>")
        else:
            lines.append(f"##${key}= {value}")
    lines.append("##END=")
    return "\n".join(lines) + "\n"


def write_li6_fid(folder: Path, rng: np.random.Generator) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(TD_COMPLEX) / SW_HZ
    fid = np.zeros(TD_COMPLEX, complex)
    for site, shift in SHIFTS_PPM.items():
        offset_hz = shift * OBSERVE_MHZ  # carrier at 0 ppm
        fid += FRACTIONS[site] * np.exp(2j * np.pi * offset_hz * t - np.pi * FWHM_HZ[site] * t)
    fid += 0.002 * (rng.standard_normal(TD_COMPLEX) + 1j * rng.standard_normal(TD_COMPLEX))
    scale = 2.0e6 / np.abs(fid).max()
    stored = np.empty(2 * TD_COMPLEX, "<i4")
    stored[0::2] = np.round(fid.real * scale)
    stored[1::2] = np.round(fid.imag * scale)
    (folder / "fid").write_bytes(stored.tobytes())
    delays = [0.0] * 64
    delays[1] = 30.0
    params = {"TD": 2 * TD_COMPLEX, "SW_h": SW_HZ, "SW": SW_HZ / OBSERVE_MHZ, "SFO1": OBSERVE_MHZ,
              "BF1": OBSERVE_MHZ, "O1": 0.0, "NUC1": "6Li", "GRPDLY": 0, "DECIM": 1, "DSPFVS": 20,
              "DTYPA": 0, "BYTORDA": 0, "AQ_mod": 3, "PULPROG": "onepulse", "TE": 298.0, "NS": 64,
              "MASR": 20000, "D": delays, "DATE": 1700000000}
    (folder / "acqus").write_text(_jcamp(params))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_li6_fid(OUT / "li6_mixture" / "1", np.random.default_rng(6))
    simulate_buildup("sphere", mixing_times_s=np.geomspace(0.01, 10.0, 10), D_cm2_s=1e-9, length_um=1.0,
                     plateau=0.5, temperatures_K=[293.0, 313.0, 333.0, 353.0, 373.0], Ea_eV=0.107,
                     noise=0.01, rng=107, path=OUT / "exsy_buildup.csv")
    simulate_exchange(["Li2S", "LPSC", "LiI"], [0.3, 0.5, 0.2],
                      {("Li2S", "LiI"): 2.0, ("LiI", "LPSC"): 5.0, ("Li2S", "LPSC"): 0.2},
                      mixing_times_s=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0],
                      T1_s={"Li2S": 20.0, "LPSC": 5.0, "LiI": 10.0}, noise=0.005, rng=3,
                      path=OUT / "exsy_volumes.csv")


if __name__ == "__main__":
    main()
