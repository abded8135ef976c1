"""Cycling: ``ssbkit cycling summary`` against fastnda's bare read and navani's load, side by side.

The file is the 700k-row Neware BTS 8.5 ``newarenda_issue60_BTS85.ndax`` (22 cycles of about
1 mAh at seven rates). What is timed is whole processes, each a fresh ``python``, because
that is what a user waits for: interpreter start-up, imports, reading, summarising and
printing all count.

* ``ssbkit cycling summary FILE --json``: the console script of the venv that runs this
  benchmark (or, where the ``cycling`` group is not registered yet, the same command called
  through ``python -c``);
* fastnda 1.3.1's bare read, ``fastnda.read(FILE)``: the floor for anything built on it;
* navani 0.1.22's ``echem_file_loader(FILE)``, and for information its ``cycle_summary`` on
  top. navani needs numpy < 2 and pandas 2.3 and installs ``datalab-org-galvani``, which
  replaces the ``galvani`` package of ssbkit's environments, so it runs from its own venv,
  ``benchmarks/.venv-navani`` (every package pinned in ``navani-constraints.txt``).

Each command runs once untimed (page cache, bytecode written), then ``RUNS`` times in
interleaved rounds whose order rotates, so that a burst of load elsewhere on the box hits
every command alike; wall-clock medians are compared, CPU time (user + sys of the child)
is printed beside them. ``PYTHONDONTWRITEBYTECODE`` is dropped from the children's
environment: an installed package has its bytecode, and an editable checkout without it
would pay for compiling every module on each start.

Targets (issue 5): ssbkit within 1.5x of fastnda's bare read; at least 3x faster than
navani's load.

Then, to see where the time goes, the pieces in a fresh process (imports, ``read_cycling``
against fastnda's own read of the same file, ``summarize_cycles``, JSON), and the import
time per top-level package from ``python -X importtime``; ``--profile`` adds cProfile of
reading and summarising.

Correctness side by side, on the same file:

* per-cycle charge and discharge capacity, CE and mean voltages from the JSON that the
  timed ssbkit process printed, against navani's ``cycle_summary`` (whose CE column is
  charge / discharge, the reciprocal of ssbkit's charge-first CE, although its docstring
  says discharge / charge; and whose half-cycle holds any rest that follows it);
* per-step net capacity from ssbkit's step table against fastnda's signed per-step counter
  (its value at the step's last row), and per-cycle sums of those counters grouped by
  fastnda's own charge-first cycle number.

    make bench            (or: benchmarks/.venv/bin/python benchmarks/cycling.py [--runs N] [--profile])
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata as md
import io
import json
import logging
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RUNS = 7
FILE = ("cycling", "neware", "newarenda_issue60_BTS85.ndax")
HERE = Path(__file__).resolve().parent
NAVANI_PYTHON = HERE / ".venv-navani" / "bin" / "python"
TARGET_FASTNDA = 1.5  # ssbkit summary / fastnda bare read, at most
TARGET_NAVANI = 3.0  # navani load / ssbkit summary, at least
AGREE = 1e-3  # relative difference that counts as a disagreement (the 0.1 %)

_SSBKIT_CALL = ("import sys; from ssbkit.cli.cycling import cycling; "
                "cycling(['summary', sys.argv[1], '--json'])")
_FASTNDA = "import sys, fastnda; fastnda.read(sys.argv[1])"
_NAVANI_LOAD = "import sys, navani.echem as ec; ec.echem_file_loader(sys.argv[1])"
_NAVANI_SUMMARY = ("import sys, navani.echem as ec; "
                   "ec.cycle_summary(ec.echem_file_loader(sys.argv[1]))")
# run in the navani venv for the comparison; the marker keeps what the loader prints apart.
# Also navani's own mean-voltage formula over the rows of each half-cycle's own state only,
# without the rest rows that its "half cycle" label carries along.
_NAVANI_TABLE = r"""
import sys, numpy as np, navani.echem as ec
df = ec.echem_file_loader(sys.argv[1])
s = ec.cycle_summary(df)
for state, column in ((0, "charge rows"), (1, "discharge rows")):
    part = df[df["state"] == state]
    for half, rows in part.groupby("half cycle"):
        q = rows["Capacity"]
        s.loc[np.ceil(half / 2), column] = np.trapz(rows["Voltage"], q) / q.max()
print("@@navani@@" + s.reset_index().to_json(orient="records"))
"""
# the pieces of ssbkit's summary, each timed in one fresh process; the first read_cycling
# pays for the imports the reader makes on first use, the second is the read alone
_PIECES = r"""
import contextlib, io, json, logging, sys, time
logging.getLogger("fastnda").setLevel(logging.ERROR)
t, mods = [time.perf_counter()], []
import ssbkit.cli.main, ssbkit.cli.cycling
from ssbkit.io import read_cycling
from ssbkit.cycling import summarize_cycles
t.append(time.perf_counter()); mods.append(sorted(sys.modules))
record = read_cycling(sys.argv[1])
t.append(time.perf_counter()); mods.append(sorted(sys.modules))
record = read_cycling(sys.argv[1])
t.append(time.perf_counter())
import fastnda
with contextlib.redirect_stdout(io.StringIO()):
    fastnda.read(sys.argv[1])
t.append(time.perf_counter())
summary = summarize_cycles(record)
t.append(time.perf_counter()); mods.append(sorted(sys.modules))
text = json.dumps(summary.to_dict(), indent=2)
t.append(time.perf_counter())
print(json.dumps({"t": t, "modules": mods}))
"""
_HEAVY = ("pandas", "polars", "scipy", "click", "fastnda", "NewareNDA", "matplotlib", "numpy")


def _data_file() -> Path:
    from ssbkit.testing import shared_data_root

    root = shared_data_root()
    path = None if root is None else root.joinpath(*FILE)
    if path is None or not path.is_file():
        sys.exit(f"cycling benchmark: {'/'.join(FILE)} not found under shared/data "
                 "(set SSBKIT_SHARED_DATA)")
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys of the child) and stdout of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{' '.join(command[:3])} … exited {done.returncode}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def _ssbkit_command(path: Path) -> tuple[list[str], str]:
    script = Path(sys.executable).parent / "ssbkit"
    if script.exists():
        probe = subprocess.run([str(script), "cycling", "--help"], capture_output=True, env=_env(),
                               check=False)
        if probe.returncode == 0:
            return [str(script), "cycling", "summary", str(path), "--json"], "console script"
    return [sys.executable, "-c", _SSBKIT_CALL, str(path)], "python -c (no `ssbkit cycling` yet)"


def _time_all(commands: dict[str, list[str]], runs: int) -> tuple[dict[str, list[tuple[float, float]]],
                                                                  dict[str, str]]:
    """Interleaved rounds; the untimed first round's stdout is returned for the checks."""
    first = {name: _run(cmd)[2] for name, cmd in commands.items()}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    names = list(commands)
    for k in range(runs):
        for name in names[k % len(names):] + names[:k % len(names)]:
            wall, cpu, _ = _run(commands[name])
            times[name].append((wall, cpu))
    return times, first


def _median(pairs: list[tuple[float, float]], which: int = 0) -> float:
    return statistics.median(p[which] for p in pairs)


# ----------------------------------------------------------------------------- where time goes

def _pieces(path: Path, runs: int) -> None:
    samples = []
    for _ in range(runs):
        _, _, out = _run([sys.executable, "-c", _PIECES, str(path)])
        samples.append(json.loads(out.strip().splitlines()[-1]))
    t = np.median(np.diff(np.array([s["t"] for s in samples]), axis=1), axis=0)
    start = statistics.median(_run([sys.executable, "-c", "pass"])[0] for _ in range(runs))

    def heavy(names: list[str], before: list[str] | None = None) -> str:
        tops = {n.split(".")[0] for n in names} - {n.split(".")[0] for n in before or []}
        found = [h for h in _HEAVY if h in tops]
        return f"  (brings in {', '.join(found)})" if found else ""

    mods = samples[-1]["modules"]
    read_once = t[1] - t[2]  # first read minus second: the imports made on first use
    rows = [
        ("python start-up (`python -c pass`, own median)", start, ""),
        ("import ssbkit.cli.main, ssbkit.cli.cycling, read_cycling, summarize_cycles",
         t[0], heavy(mods[0])),
        ("imports made by the first read_cycling (reader module, its libraries)", read_once,
         heavy(mods[1], mods[0])),
        ("read_cycling, second call (reader sniff, fastnda.read, conversion, sha256)", t[2], ""),
        ("  of which fastnda.read of the same file (same process)", t[3], ""),
        ("summarize_cycles (steps, cycles, summary)", t[4], heavy(mods[2], mods[1])),
        ("to_dict + json.dumps", t[5], ""),
    ]
    print(f"  where ssbkit's time goes, in one fresh process (median of {runs}):")
    for label, seconds, note in rows:
        print(f"    {label:74s} {seconds:6.3f} s{note}")
    total = start + t[0] + t[1] + t[4] + t[5]
    print(f"    {'sum: start-up, imports, first read, summary, JSON':74s} {total:6.3f} s")


def _import_seconds(code: str, path: Path) -> tuple[dict[str, float], dict[str, str]]:
    """Import time per top-level package (sum of its modules' own times) of one process,
    and for each package the module that imported it first (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code, str(path)],
                          capture_output=True, text=True, env=_env(), check=False)
    per: dict[str, float] = {}
    by: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # lines come children first: (depth, name) seen so far
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \| ( *)(\S+)", line)
        if not m:
            continue
        depth, name = len(m.group(2)) // 2, m.group(3)
        top = name.split(".")[0]
        per[top] = per.get(top, 0.0) + int(m.group(1)) * 1e-6
        # children of this line were printed before it, one level deeper
        for d, child in stack:
            if d == depth + 1 and child.split(".")[0] != top:
                by[child.split(".")[0]] = name
        stack = [(d, c) for d, c in stack if d <= depth] + [(depth, name)]
    return per, by


def _importtime(path: Path, top: int = 8) -> None:
    ours, by = _import_seconds(_SSBKIT_CALL, path)
    peer, _ = _import_seconds(_FASTNDA, path)
    print("  import time per package, one process each (python -X importtime; sum of own times):")
    for label, per in (("ssbkit summary", ours), ("fastnda read", peer)):
        ranked = sorted(per.items(), key=lambda kv: -kv[1])[:top]
        print(f"    {label:15s} {sum(per.values()):6.3f} s: "
              + ", ".join(f"{name} {seconds:.3f}" for name, seconds in ranked))
    extra = [name for name in _HEAVY if name in ours and name not in peer]
    if extra:
        print("    imported by ssbkit but not by fastnda's read: "
              + ", ".join(f"{name} {ours[name]:.3f} s (first by {by.get(name, '?')})" for name in extra))


def _profile(path: Path) -> None:
    import cProfile
    import pstats

    from ssbkit.cycling import summarize_cycles
    from ssbkit.io import read_cycling

    read_cycling(path)  # imports out of the way
    profiler = cProfile.Profile()
    profiler.enable()
    summarize_cycles(read_cycling(path))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print("  cProfile of read_cycling + summarize_cycles (warm imports), top 25 by cumulative time:")
    print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


# ----------------------------------------------------------------------------- correctness

def _ssbkit_cycles(text: str) -> dict[int, dict[str, float]]:
    doc = json.loads(text)
    out = {}
    for c in doc["cycles"]:
        out[int(c["cycle"])] = {k: (float(v["value"]) if v.get("value") is not None else math.nan)
                                for k, v in c.items() if isinstance(v, dict)}
    return out


def _navani_cycles(path: Path) -> dict[int, dict[str, float]] | None:
    _, _, out = _run([str(NAVANI_PYTHON), "-c", _NAVANI_TABLE, str(path)])
    line = next(x for x in out.splitlines() if x.startswith("@@navani@@"))
    rows = json.loads(line[len("@@navani@@"):])

    def num(x: object) -> float:
        return math.nan if x is None else float(x)

    return {int(r["full cycle"]): {k: num(v) for k, v in r.items() if k != "full cycle"}
            for r in rows}


def _relative(a: float, b: float) -> float:
    if math.isnan(a) and math.isnan(b):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def _compare_navani(ours: dict[int, dict[str, float]], theirs: dict[int, dict[str, float]]) -> None:
    only_rest = [c for c, r in theirs.items()
                 if math.isnan(r.get("Charge Capacity", math.nan))
                 and math.isnan(r.get("Discharge Capacity", math.nan))]
    theirs = {c: r for c, r in theirs.items() if c not in only_rest}
    common = sorted(set(ours) & set(theirs))
    print(f"  per cycle, ssbkit (charge-first) vs navani cycle_summary: {len(ours)} vs {len(theirs)} "
          f"cycles, {len(common)} matched by number"
          + (f"; navani's cycle {only_rest} holds only the leading rest (ssbkit counts it in cycle 1)"
             if only_rest else ""))
    # ssbkit's CE is discharge / charge in %; navani's CE column is charge / discharge
    pairs = (("charge capacity [mAh]", "charge_capacity", "Charge Capacity", lambda x: x),
             ("discharge capacity [mAh]", "discharge_capacity", "Discharge Capacity", lambda x: x),
             ("CE [%] (navani: 100 / its CE)", "coulombic_efficiency", "CE", lambda x: 100.0 / x),
             ("mean charge voltage [V]", "mean_charge_voltage", "Average Charge Voltage", lambda x: x),
             ("mean discharge voltage [V]", "mean_discharge_voltage", "Average Discharge Voltage",
              lambda x: x),
             ("  navani, discharge rows only", "mean_discharge_voltage", "discharge rows",
              lambda x: x),
             ("  navani, charge rows only", "mean_charge_voltage", "charge rows", lambda x: x))
    for label, key, peer_key, convert in pairs:
        diffs = []
        for c in common:
            a = ours[c].get(key, math.nan)
            b = convert(theirs[c].get(peer_key, math.nan))
            if key == "discharge_capacity" and a == 0.0 and math.isnan(b):
                b = 0.0  # a charge-only last cycle: ssbkit says 0 mAh, navani leaves it empty
            diffs.append((_relative(a, b), c, a, b))
        worst = max(diffs)
        off = [d for d in diffs if d[0] > AGREE]
        line = f"    {label:32s} largest relative difference {worst[0]:.1e} (cycle {worst[1]})"
        if off:
            shown = "; ".join(f"cycle {c}: ssbkit {a:.6g}, navani {b:.6g}" for _, c, a, b in off[:4])
            line += f"; above {AGREE:.0e} in {len(off)}: {shown}"
        print(line)


def _counters_vs_current(ours: dict[int, dict[str, float]]) -> None:
    worst = (0.0, 0, "")
    for c, row in ours.items():
        for half in ("charge", "discharge"):
            counted, integral = row.get(f"{half}_capacity", 0.0), row.get(f"{half}_from_current", 0.0)
            if counted > 0:
                worst = max(worst, (abs(counted - integral) / counted, c, half))
    print(f"  ssbkit's per-cycle capacities (cycler counters) vs its integral of the logged current: "
          f"largest relative difference {worst[0]:.1e} (cycle {worst[1]}, {worst[2]})")


def _compare_fastnda(path: Path) -> None:
    import fastnda

    from ssbkit.cycling import summarize_cycles
    from ssbkit.io import read_cycling

    logger = logging.getLogger("fastnda")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its note on unix-time jumps; ssbkit keeps it in metadata
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            frame = fastnda.read(path, cycle_mode="chg")
    finally:
        logger.setLevel(level)
    step_count = frame.get_column("step_count").to_numpy()
    capacity = frame.get_column("capacity_mAh").to_numpy().astype(float)
    cycle = frame.get_column("cycle_count").to_numpy()
    last = np.r_[np.flatnonzero(step_count[1:] != step_count[:-1]), step_count.size - 1]
    peer_net, peer_cycle = capacity[last], cycle[last]

    steps = summarize_cycles(read_cycling(path)).steps
    ours = (steps.charge_ah - steps.discharge_ah) * 1e3
    print(f"  per step, ssbkit's net capacity (charge - discharge) vs fastnda's signed step counter "
          f"({frame.height:,} rows): {ours.size} vs {peer_net.size} steps")
    if ours.size != peer_net.size:
        print("    different step counts: not compared")
        return
    scale = max(float(np.abs(peer_net).max()), 1e-12)
    diff = np.abs(ours - peer_net)
    k = int(np.argmax(diff))
    print(f"    largest difference {diff[k]:.2e} mAh (step {k + 1}: ssbkit {ours[k]:.6f}, fastnda "
          f"{peer_net[k]:.6f}); {diff.max() / scale:.1e} of the largest step")
    numbers = np.unique(peer_cycle)
    charge = np.array([peer_net[(peer_cycle == c) & (peer_net > 0)].sum() for c in numbers])
    discharge = np.array([-peer_net[(peer_cycle == c) & (peer_net < 0)].sum() for c in numbers])
    summary = summarize_cycles(read_cycling(path))
    ch, dis = summary.cycles["charge"], summary.cycles["discharge"]
    if ch.size != numbers.size:
        print(f"    per cycle: {ch.size} ssbkit cycles vs {numbers.size} fastnda 'chg' cycles")
        return
    worst = max(float(np.max(np.abs(ch - charge))), float(np.max(np.abs(dis - discharge))))
    print(f"    per cycle (fastnda's step counters summed by its 'chg' cycle number, {numbers.size} cycles): "
          f"largest difference {worst:.2e} mAh")


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs per command (default {RUNS})")
    parser.add_argument("--profile", action="store_true", help="also cProfile reading and summarising")
    args = parser.parse_args(argv)
    path = _data_file()
    ssbkit_cmd, how = _ssbkit_command(path)
    commands = {"ssbkit": ssbkit_cmd, "fastnda": [sys.executable, "-c", _FASTNDA, str(path)]}
    navani = NAVANI_PYTHON.exists()
    if navani:
        commands["navani load"] = [str(NAVANI_PYTHON), "-c", _NAVANI_LOAD, str(path)]
        commands["navani summary"] = [str(NAVANI_PYTHON), "-c", _NAVANI_SUMMARY, str(path)]
    times, first = _time_all(commands, args.runs)

    size = path.stat().st_size / 1e6
    print(f"Cycling: {path.name} ({size:.1f} MB), whole processes, wall clock median "
          f"(min) of {args.runs}, interleaved; CPU = user + sys of the process")
    labels = {
        "ssbkit": f"ssbkit {md.version('ssbkit')} `ssbkit cycling summary FILE --json` ({how})",
        "fastnda": f"fastnda {md.version('fastnda')} `fastnda.read(FILE)`",
        "navani load": "navani 0.1.22 `echem_file_loader(FILE)` (own venv)",
        "navani summary": "navani 0.1.22 load + `cycle_summary` (for information)",
    }
    for name, pairs in times.items():
        print(f"  {labels[name]:78s} {_median(pairs):6.3f} s ({min(p[0] for p in pairs):.3f})  "
              f"CPU {_median(pairs, 1):6.3f} s")
    if not navani:
        print(f"  navani: not timed ({NAVANI_PYTHON} missing; `make bench` creates it)")
    def ratio(a: str, b: str) -> tuple[float, float]:
        return (_median(times[a]) / _median(times[b]),
                min(p[0] for p in times[a]) / min(p[0] for p in times[b]))

    # the target is on medians; on a busy box the fastest runs are the truer figure, so the
    # ratio of minima is printed beside it
    slower, slower_min = ratio("ssbkit", "fastnda")
    print(f"  ssbkit summary / fastnda bare read   {slower:5.2f}x (of minima {slower_min:5.2f}x)  target <= "
          f"{TARGET_FASTNDA}x: {'met' if slower <= TARGET_FASTNDA else 'MISSED'}")
    if navani:
        speed, speed_min = ratio("navani load", "ssbkit")
        print(f"  navani load / ssbkit summary         {speed:5.2f}x (of minima {speed_min:5.2f}x)  "
              f"target >= {TARGET_NAVANI}x: {'met' if speed >= TARGET_NAVANI else 'MISSED'}")
        both, both_min = ratio("navani summary", "ssbkit")
        print(f"  navani load + cycle_summary / ssbkit {both:5.2f}x (of minima {both_min:5.2f}x)")
    _pieces(path, args.runs)
    _importtime(path)
    if args.profile:
        _profile(path)

    ssbkit_cycles = _ssbkit_cycles(first["ssbkit"])
    _counters_vs_current(ssbkit_cycles)
    if navani:
        _compare_navani(ssbkit_cycles, _navani_cycles(path))
    _compare_fastnda(path)


if __name__ == "__main__":
    main()
