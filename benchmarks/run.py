"""Formula parsing and molar masses: ssbkit against pymatgen's Composition, side by side.

pymatgen is the peer a materials scientist would reach for; it is a heavy optional extra,
so ssbkit parses formulas itself (``ssbkit.core.formula``). This measures both on the
formulas of the two studies in one run and prints the ratio and the largest difference in
molar mass (the two use different atomic-weight tables: CIAAW 2021 abridged vs pymatgen's).

    make bench
"""

from __future__ import annotations

import importlib.metadata
import time
import timeit

FORMULAS = [
    "Li5.5PS4.5Cl0.8Br0.7", "Li6PS5Cl", "Li2S", "P2S5", "LiCl", "LiBr", "LiI", "Li2TiS3",
    "TiS2", "(Li2S)0.75(LiI)0.25", "Li7La3Zr2O12", "Li3PS4", "Li10GeP2S12", "LiNi0.8Co0.1Mn0.1O2",
]


def _best(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main() -> None:
    from ssbkit.core.formula import parse_formula

    t0 = time.perf_counter()
    from pymatgen.core import Composition

    import_s = time.perf_counter() - t0

    def ours() -> list[float]:
        return [parse_formula(f).molar_mass for f in FORMULAS]

    def peer() -> list[float]:
        return [Composition(f).weight for f in FORMULAS]

    n = 200
    t_ours, t_peer = _best(ours, n), _best(peer, n)
    worst = max(abs(a - float(b)) / float(b) for a, b in zip(ours(), peer(), strict=True))
    print(f"pymatgen {importlib.metadata.version('pymatgen')} (import {import_s:.2f} s)")
    print(f"{len(FORMULAS)} formulas, parse + molar mass, best of 5 x {n}:")
    print(f"  ssbkit   {1e6 * t_ours:9.1f} µs")
    print(f"  pymatgen {1e6 * t_peer:9.1f} µs")
    print(f"  ratio    {t_peer / t_ours:9.1f} x faster")
    print(f"  largest molar-mass difference {100 * worst:.3f} %")


if __name__ == "__main__":
    main()
    print()
    import eis_fit

    eis_fit.main()
    print()
    import drt

    drt.main()
    print()
    import cycling

    cycling.main([])
    print()
    import xrd

    xrd.main([])
