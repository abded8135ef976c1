"""The peer side of the XRD benchmark: rietx 1.10.0 refines the synthetic three-phase pattern.

Run with the rietx venv's python (``benchmarks/.venv-rietx``, every package pinned in
``rietx-constraints.txt``); ``xrd.py`` starts it as a subprocess, one fresh process per run:

    benchmarks/.venv-rietx/bin/python benchmarks/xrd_peer.py ../shared/data/xrd/synthetic_argyrodite

What it does is rietx's own lab recipe, as its README and API present it (read for facts,
nothing copied): ``rx.read_pattern`` of ``synth3.xy`` (2θ, counts, esd), one
``rx.Structure.from_cif`` per CIF, their phases in one ``rx.Structure``,
``rx.Instrument.bragg_brentano(radiation="CuKa")`` (Cu Kα1/Kα2 with ratio 0.5, unpolarised,
flat plate) and ``rx.refine(data, structure, instrument, plan="lab_bragg_brentano")``, the
staged plan for a laboratory Bragg–Brentano pattern, everything else at its defaults.

It prints one line, ``@@rietx@@`` and a JSON document: seconds for the import, the set-up
(reading the pattern and the CIFs) and the refinement; Rwp [%] (rietx's ``statistics.rwp``,
conventional, weighted by the file's esds); per phase, in CIF order, a [Å] with its esd and
the weight fraction [%] with its esd (rietx's "zmv" quantitative phase analysis, Hill–Howard);
rietx's status and version.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

CIFS = ("argyrodite.cif", "LiCl.cif", "Li2S.cif")
PATTERN = "synth3.xy"
PLAN = "lab_bragg_brentano"


def main(folder: str) -> dict:
    t0 = time.perf_counter()
    import rietx as rx

    t1 = time.perf_counter()
    root = Path(folder)
    data = rx.read_pattern(str(root / PATTERN))
    phases = []
    for name in CIFS:
        phases += rx.Structure.from_cif(str(root / name)).phases
    structure = rx.Structure(phases=phases)
    instrument = rx.Instrument.bragg_brentano(radiation="CuKa")
    t2 = time.perf_counter()
    result = rx.refine(data, structure, instrument, plan=PLAN)
    t3 = time.perf_counter()
    rows = {p.path: p for p in result.parameters}
    out_phases = []
    for i, name in enumerate(CIFS):
        a = rows.get(f"phases.{i}.cell.a")
        q = result.qpa.phases[i] if result.qpa is not None else None
        wt, wt_esd = (None, None) if q is None else (q.weight_fraction, q.weight_fraction_stderr)
        out_phases.append({
            "cif": name,
            "a": None if a is None else a.value,
            "a_esd": None if a is None else a.stderr,
            "wt": None if wt is None else 100 * wt,
            "wt_esd": None if wt_esd is None else 100 * wt_esd,
        })
    return {"engine": f"rietx {rx.__version__}", "plan": PLAN, "status": result.status,
            "import_s": t1 - t0, "setup_s": t2 - t1, "refine_s": t3 - t2,
            "Rwp": 100 * result.statistics.rwp, "GOF": result.statistics.gof, "phases": out_phases}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: xrd_peer.py FOLDER (holding synth3.xy and its three CIFs)")
    print("@@rietx@@" + json.dumps(main(sys.argv[1])))
