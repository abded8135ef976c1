"""Write the synthetic powder-XRD examples in examples/data/xrd/ (seeded; simulated, not measured).

- ``argyrodite_licl_li2s.xy``: Cu Kα1/Kα2 scan, 10–90° 2θ in 0.02° steps, of ball-milled
  Li5.5PS4.5Cl0.8Br0.7 (a = 9.8532 Å, published positions) with residual LiCl (6 wt %) and
  Li2S (4 wt %), made by ssbkit's forward model with Poisson noise: Caglioti U, V, W =
  0.004, −0.002, 0.002 deg², size and strain broadening per phase (argyrodite X = 0.05,
  Y = 0.12°; LiCl and Li2S X = 0.02, Y = 0.05°), zero shift +0.02°, a Chebyshev background.
  Columns: 2θ [deg], counts, σ [counts].
- ``cuka.instprm``: the instrument (GSAS-II instrument-parameter format) of that scan.

    python examples/make_xrd_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssbkit.xrd.data import ANODES, Instrument
from ssbkit.xrd.simulate import PhaseBroadening, simulate_pattern
from ssbkit.xrd.structures import argyrodite, li2s, licl

OUT = Path(__file__).parent / "data" / "xrd"
INSTRUMENT = Instrument(wavelengths=ANODES["CuKa"], U=0.004, V=-0.002, W=0.002, zero=0.02)
# GSAS-II writes the Gaussian σ² [centideg²] = FWHM² / (8 ln 2) × 10⁴, and Polariz. P = 1 − K.
_K = 1e4 / (8 * np.log(2))
INSTPRM = f"""#GSAS-II instrument parameter file; do not add/delete items!
Type:PXC
Bank:1.0
Lam1:1.540593
Lam2:1.544414
Zero:{INSTRUMENT.zero}
Polariz.:0.5
Azimuth:0.0
I(L2)/I(L1):0.5
U:{INSTRUMENT.U * _K:.4f}
V:{INSTRUMENT.V * _K:.4f}
W:{INSTRUMENT.W * _K:.4f}
X:0.0
Y:0.0
Z:0.0
SH/L:0.0
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    phases = [argyrodite("Li5.5PS4.5Cl0.8Br0.7", a=9.8532), licl(a=5.1300), li2s(a=5.7080)]
    pattern = simulate_pattern(
        phases, weight_fractions=[0.90, 0.06, 0.04], instrument=INSTRUMENT, peak_counts=5000.0,
        background=[300.0, -60.0, 30.0, -10.0, 5.0],
        phase_broadening=[PhaseBroadening(X=0.05, Y=0.12), PhaseBroadening(X=0.02, Y=0.05),
                          PhaseBroadening(X=0.02, Y=0.05)], rng=2026)
    header = ("# simulated by ssbkit (examples/make_xrd_data.py): Li5.5PS4.5Cl0.8Br0.7 + LiCl + Li2S, "
              "90/6/4 wt%, Cu Ka1/Ka2\n# 2theta [deg]  counts  sigma [counts]\n")
    rows = "\n".join(f"{x:.4f} {y:.0f} {s:.4f}" for x, y, s in
                     zip(pattern.two_theta, pattern.intensity, pattern.sigma, strict=True))
    (OUT / "argyrodite_licl_li2s.xy").write_text(header + rows + "\n")
    (OUT / "cuka.instprm").write_text(INSTPRM)


if __name__ == "__main__":
    main()
