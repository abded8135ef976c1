"""Starting values for a circuit fit, read from the data.

The spectrum is first described without any circuit: a non-negative least-squares fit of
a series resistance, an inductance, a capacitance and a fine grid of Voigt (R‖C) elements
(six per decade, from a decade above the highest measured frequency to a decade below the
lowest). That is a coarse distribution of relaxation times: its clusters of non-zero
resistances are the data's processes, each with a resistance (the cluster's sum) and a
time constant (its resistance-weighted centre). Its residual is what the data allow a
good model to reach; the fit uses it to decide whether a start was poor.

The circuit is then read term by term along its top-level series chain:

- a lone resistor gets the high-frequency intercept; an inductor the inductive tail;
- a lone capacitor or CPE is the blocking-electrode spike: n from the slope of
  log|Z''| against log ω at the lowest frequencies; the Voigt description then gets a
  column (jω)^−n for it (its weight gives Q) and no element slower than the lowest
  frequency, so that a strongly depressed spike (n ≈ 0.5) is not mistaken for an arc;
- every arc (a parallel group, ZARC, Havriliak–Negami, Gerischer, finite Warburg) gets one
  process. When there are more processes than arcs the smaller ones merge into their
  nearest neighbour in τ; when fewer, the largest is split. Which process goes to which
  arc is not taken from the order the circuit is written in: every assignment (up to five
  arcs) is a candidate start, ranked by how close its spectrum is to the data. The fit
  runs the best few together and keeps the lowest minimum.

Points at the origin (|Z| = 0) are left out of the description: it weights each point by
1/|Z|. A spectrum that is zero everywhere is an ``InputError`` naming its source.

Inside an arc, a parallel group's resistor gets R, its capacitor τ/R and its CPE
(τ^n/R, n) with n from the spread of the process; other elements nested there get values
from the scales of the spectrum. Multi-start is left to the fit, as a fallback.

>>> import numpy as np
>>> from ssbkit.eis.simulate import simulate_spectrum
>>> s = simulate_spectrum("R0-p(R1,C1)-p(R2,C2)", {"R0": 10, "R1": 100, "C1": 1e-9,
...                        "R2": 1000, "C2": 1e-6}, np.logspace(7, -2, 55))
>>> [(round(p.resistance, -1), f"{p.tau:.0e}") for p in find_processes(s)]
[(100.0, '1e-07'), (1000.0, '1e-03')]
>>> g = guess_parameters(s, "R0-p(R1,C1)-p(R2,C2)")
>>> round(g["R0"]), round(g["R1"], -1), f"{g['C1']:.0e}", round(g["R2"], -1), f"{g['C2']:.0e}"
(10, 100.0, '1e-09', 1000.0, '1e-06')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.eis.circuits import Circuit, _Leaf, _Node, parse_circuit
from ssbkit.eis.data import Spectrum

__all__ = ["Process", "find_processes", "guess_candidates", "guess_parameters"]

_PER_DECADE = 6
_ARC_SYMBOLS = {"ZARC", "HN", "G", "Wo", "Ws"}
_CAPACITIVE = {"C", "CPE"}


@dataclass(frozen=True)
class Process:
    """A relaxation found in the data: resistance [Ohm], time constant [s], spread (std of
    ln τ over the cluster)."""

    resistance: float
    tau: float
    spread: float = 0.0


@dataclass(frozen=True)
class _Voigt:
    r_inf: float
    inductance: float
    inverse_capacitance: float
    processes: tuple[Process, ...]
    relative_rms: float
    inverse_q: float = 0.0  # of the spike column, when one was given


def _voigt(spectrum: Spectrum, spike_n: float | None = None, *, modulus: np.ndarray | None = None) -> _Voigt:
    """The NNLS description. With ``spike_n`` a blocking-electrode column 1/(jω)^n (its
    weight is 1/Q) stands for the spike, and no Voigt element is slower than the lowest
    frequency, so that a strongly depressed spike is not read as an arc."""
    from scipy.optimize import nnls

    f, z = spectrum.frequency, spectrum.impedance
    omega = 2 * np.pi * f
    lo, hi = math.log10(1 / omega.max()) - 1, math.log10(1 / omega.min()) + (0 if spike_n else 1)
    tau = np.logspace(lo, hi, max(int(round((hi - lo) * _PER_DECADE)) + 1, 3))
    wt = omega[:, None] * tau[None, :]
    spike = (1j * omega) ** -(spike_n or 0.0) if spike_n else np.zeros(f.size, complex)
    a_re = np.hstack([np.ones((f.size, 1)), np.zeros((f.size, 2)), spike.real[:, None], 1 / (1 + wt**2)])
    a_im = np.hstack([np.zeros((f.size, 1)), omega[:, None], -1 / omega[:, None], spike.imag[:, None],
                      -wt / (1 + wt**2)])
    scale = 1 / (np.abs(z) if modulus is None else modulus)  # weights: of the measured |Z|
    a = np.vstack([a_re * scale[:, None], a_im * scale[:, None]])
    b = np.concatenate([z.real * scale, z.imag * scale])
    norms = np.linalg.norm(a, axis=0)
    norms[norms == 0] = 1
    x, _ = nnls(a / norms, b, maxiter=50 * a.shape[1])
    x = x / norms
    rms = float(np.sqrt(np.mean((a @ x - b) ** 2) * 2))
    return _Voigt(float(x[0]), float(x[1]), float(x[2]), _clusters(x[4:], tau), rms, float(x[3]))


def _clusters(r: np.ndarray, tau: np.ndarray) -> tuple[Process, ...]:
    """Processes from the NNLS resistances: runs of non-zero values, each further split at
    a valley deeper than half its lower neighbouring peak (two overlapping arcs)."""
    total = r.sum()
    if total <= 0:
        return ()
    on = r > 1e-4 * total
    groups: list[list[int]] = []
    current: list[int] = []
    for i in range(r.size):
        if on[i]:
            current.append(i)
        elif current and (i + 1 >= r.size or not on[i + 1]):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    split: list[list[int]] = []
    for g in groups:
        start = 0
        for k in range(1, len(g) - 1):
            if k <= start:
                continue
            left, right = max(r[g[start:k]]), max(r[g[k + 1:]])
            if r[g[k]] < r[g[k - 1]] and r[g[k]] <= r[g[k + 1]] and r[g[k]] < 0.5 * min(left, right):
                split.append(g[start:k + 1])
                start = k + 1
        split.append(g[start:])
    out = []
    for g in split:
        rg = r[g]
        ln = np.log(tau[g])
        centre = float(np.sum(rg * ln) / rg.sum())
        spread = float(np.sqrt(np.sum(rg * (ln - centre) ** 2) / rg.sum()))
        out.append(Process(float(rg.sum()), math.exp(centre), spread))
    return tuple(out)


def _described(spectrum: Spectrum) -> Spectrum:
    """The masked points with |Z| > 0: the description weights each point by 1/|Z|, which a
    point at the origin does not have (it says nothing about shape either)."""
    data = spectrum.masked()
    keep = np.abs(data.impedance) > 0
    if not keep.any():
        raise InputError("the impedance is zero everywhere: nothing to read starting values from",
                         source=spectrum.source or "spectrum")
    if keep.all():
        return data
    return Spectrum(data.frequency[keep], data.impedance[keep], None, data.metadata, data.source)


def find_processes(spectrum: Spectrum) -> tuple[Process, ...]:
    """The relaxations of a spectrum, fastest first (see module docstring)."""
    return _voigt(_described(spectrum)).processes


def _spike(spectrum: Spectrum) -> tuple[float, float]:
    """(Q, n) of a low-frequency capacitive spike, from the lowest-frequency points."""
    order = np.argsort(spectrum.frequency)
    k = max(3, spectrum.frequency.size // 8)
    f, z = spectrum.frequency[order][:k], spectrum.impedance[order][:k]
    omega = 2 * np.pi * f
    minus_im = np.maximum(-z.imag, 1e-30)
    slope = np.polyfit(np.log(omega), np.log(minus_im), 1)[0]
    n = float(np.clip(-slope, 0.5, 0.98))
    q = math.sin(n * math.pi / 2) / (minus_im[0] * omega[0] ** n)
    return q, n


def _top_terms(tree: Any) -> list[Any]:
    return list(tree.children) if isinstance(tree, _Node) and tree.kind == "series" else [tree]


def _is_arc(term: Any) -> bool:
    return (isinstance(term, _Node) and term.kind == "parallel") or (
        isinstance(term, _Leaf) and term.element.symbol in _ARC_SYMBOLS)


def _merge(a: Process, b: Process) -> Process:
    r = a.resistance + b.resistance
    ln_tau = (a.resistance * math.log(a.tau) + b.resistance * math.log(b.tau)) / r
    return Process(r, math.exp(ln_tau), max(a.spread, b.spread, abs(math.log(a.tau / b.tau)) / 2))


def _fit_processes(processes: list[Process], count: int, rule: str = "largest") -> list[Process]:
    """Reduce (or split) the processes to ``count``, fastest first.

    ``"largest"`` merges the smallest process into its nearest neighbour in τ until
    ``count`` remain; ``"nearest"`` merges the two closest neighbours in τ (a depressed arc
    that the grid split in two comes back whole); ``"drop"`` keeps the ``count`` largest
    and ignores the rest (small features that no arc of the circuit stands for).
    """
    items = sorted(processes, key=lambda p: p.tau)
    if rule == "drop" and len(items) > count:
        keep = sorted(sorted(items, key=lambda p: -p.resistance)[:count], key=lambda p: p.tau)
        items = keep
    while len(items) > count:
        if rule == "nearest":
            i = min(range(len(items) - 1), key=lambda k: items[k + 1].tau / items[k].tau)
            items[i:i + 2] = [_merge(items[i], items[i + 1])]
            continue
        i = min(range(len(items)), key=lambda k: items[k].resistance)
        small = items.pop(i)
        j = min(range(len(items)), key=lambda k: abs(math.log(items[k].tau / small.tau)))
        items[j] = _merge(items[j], small)
    while len(items) < count:
        if not items:
            items = [Process(1.0, 1.0)]
            continue
        i = max(range(len(items)), key=lambda k: items[k].resistance)
        big = items.pop(i)
        items[i:i] = [Process(big.resistance / 2, big.tau / 3, big.spread),
                      Process(big.resistance / 2, big.tau * 3, big.spread)]
    return items


class _Scales:
    """Fallback magnitudes for elements the structure does not pin down."""

    def __init__(self, spectrum: Spectrum) -> None:
        omega = 2 * np.pi * spectrum.frequency
        self.r = float(np.ptp(spectrum.impedance.real)) or float(np.abs(spectrum.impedance).mean())
        self.omega_min, self.omega_max = float(omega.min()), float(omega.max())
        self.tau = 1 / math.sqrt(self.omega_min * self.omega_max)
        low = int(np.argmin(omega))
        self.warburg = float(abs(spectrum.impedance[low].imag) * math.sqrt(self.omega_min)) or 1.0
        self.inductance = 1e-3 * float(np.abs(spectrum.impedance).min()) / self.omega_max


def _cpe_exponent(process: Process) -> float:
    # A single RC cluster spreads over about one grid step; wider clusters mean a depressed arc.
    return float(np.clip(1.0 - 0.12 * max(process.spread - 0.3, 0.0), 0.6, 0.95))


def _fill_leaf(leaf: _Leaf, out: dict[str, float], scales: _Scales, process: Process | None) -> None:
    names = leaf.element.parameter_names(leaf.name)
    r = process.resistance if process else 0.1 * scales.r
    tau = process.tau if process else scales.tau
    n = _cpe_exponent(process) if process else 0.9
    values = {
        "R": (r,), "C": (tau / r,), "L": (scales.inductance,), "CPE": (tau**n / r, n),
        "W": (scales.warburg,), "Wo": (r, tau), "Ws": (r, tau), "G": (r, tau),
        "ZARC": (r, tau, n), "HN": (r, tau, n, 0.9),
    }[leaf.element.symbol]
    out.update(zip(names, values, strict=True))


def _fill_arc(term: Any, out: dict[str, float], scales: _Scales, process: Process,
              tail: Process | None) -> None:
    if isinstance(term, _Leaf):
        _fill_leaf(term, out, scales, process)
        return
    for branch in term.children:
        if isinstance(branch, _Leaf):
            _fill_leaf(branch, out, scales, process)
            continue
        # A resistive path with more in it (R2-Wo1): the resistor takes the arc, a nested
        # diffusion element the slowest leftover process, everything else a default.
        leaves = _all_leaves(branch)
        for leaf in leaves:
            if leaf.element.symbol == "R" and leaf is next(x for x in leaves if x.element.symbol == "R"):
                _fill_leaf(leaf, out, scales, process)
            elif leaf.element.symbol in {"Wo", "Ws", "W", "G"} and tail is not None:
                _fill_leaf(leaf, out, scales, tail)
            else:
                _fill_leaf(leaf, out, scales, None)


def _all_leaves(tree: Any) -> list[_Leaf]:
    if isinstance(tree, _Leaf):
        return [tree]
    return [leaf for child in tree.children for leaf in _all_leaves(child)]


def _has_nested_diffusion(term: Any) -> bool:
    return isinstance(term, _Node) and any(
        leaf.element.symbol in {"Wo", "Ws", "W", "G"} for leaf in _all_leaves(term))


def _candidates(spectrum: Spectrum, model: Circuit) -> tuple[list[dict[str, float]], float]:
    data = _described(spectrum)
    scales = _Scales(data)
    terms = _top_terms(model.tree)
    arcs = [t for t in terms if _is_arc(t)]
    blocking = [t for t in terms if isinstance(t, _Leaf) and t.element.symbol in _CAPACITIVE]
    spike_q, spike_n = _spike(data) if blocking else (math.nan, None)
    voigt = _voigt(data, spike_n)
    if blocking and voigt.inverse_q > 0:
        spike_q = 1 / voigt.inverse_q
    if blocking:
        # Also the arcs of what is left once the slope-based spike is taken away: beside a
        # strongly depressed spike the NNLS may spread it over a slow continuum instead.
        q0, n0 = _spike(data)
        rest = Spectrum(data.frequency, data.impedance - 1 / (q0 * (2j * np.pi * data.frequency) ** n0))
        other = _voigt(rest, None, modulus=np.abs(data.impedance))
    process_sets = [list(voigt.processes)]
    if blocking:
        window = [p for p in other.processes if p.tau < 1 / scales.omega_min]
        if window:
            process_sets.append(window)
    # A diffusion element nested in an arc (R2-Wo1) takes the slowest processes: try the
    # slowest one alone and the slowest two merged, and let the misfit choose.
    splits: list[tuple[list[Process], Process | None]] = []
    for processes in process_sets:
        splits.append((processes, None))
        if any(_has_nested_diffusion(a) for a in arcs) and len(processes) > len(arcs):
            ordered = sorted(processes, key=lambda p: p.tau)
            splits[-1:] = [(ordered[:-k], _fit_processes(ordered[-k:], 1)[0])
                           for k in (1, 2) if len(ordered) - k >= max(len(arcs), 1)] or splits[-1:]
    rules = ("largest", "nearest", "drop") if arcs else ("largest",)
    reduced = [(_fit_processes(rest, len(arcs), rule) if arcs else rest, tail)
               for rest, tail in splits for rule in rules]
    # And every choice of as many of the (up to six) largest processes as there are arcs, the
    # rest ignored: beside a spike the NNLS can put more resistance in slow leftovers than in
    # the arc the circuit means, and only the misfit can tell which is which.
    for rest, tail in splits:
        if arcs and len(rest) > len(arcs):
            top = sorted(rest, key=lambda p: -p.resistance)[:6]
            reduced += [(sorted(combo, key=lambda p: p.tau), tail)
                        for combo in itertools.combinations(top, len(arcs))]
    splits = reduced

    base: dict[str, float] = {}
    resistors = [t for t in terms if isinstance(t, _Leaf) and t.element.symbol == "R"]
    for t in resistors:
        base[t.name] = max(voigt.r_inf, 1e-6 * scales.r) / len(resistors)
    for t in terms:
        if isinstance(t, _Leaf) and t.element.symbol == "L":
            base[t.name] = max(voigt.inductance, scales.inductance)
        elif isinstance(t, _Leaf) and t.element.symbol == "W":
            _fill_leaf(t, base, scales, None)
    for t in blocking:
        if t.element.symbol == "CPE":
            base.update(zip(t.element.parameter_names(t.name), (spike_q, spike_n), strict=True))
        else:
            base[t.name] = 1 / voigt.inverse_capacitance if voigt.inverse_capacitance > 0 else spike_q
    orders = list(itertools.permutations(range(len(arcs))) if len(arcs) <= 5
                  else [tuple(range(len(arcs))), tuple(reversed(range(len(arcs))))])
    out = []
    for (processes, tail), order in itertools.product(splits, orders):
        guess = dict(base)
        for arc, k in zip(arcs, order, strict=True):
            _fill_arc(arc, guess, scales, processes[k], tail)
        for leaf in _all_leaves(model.tree):
            if leaf.element.parameter_names(leaf.name)[0] not in guess:
                _fill_leaf(leaf, guess, scales, None)
        out.append(guess)
    return out, voigt.relative_rms


def _ranked(spectrum: Spectrum, model: Circuit, candidates: list[dict[str, float]],
            fixed: Mapping[str, float]) -> list[dict[str, float]]:
    """Candidates ordered by how close their spectrum is to the data (modulus-weighted)."""
    data = _described(spectrum)
    errors = []
    with np.errstate(all="ignore"):
        for guess in candidates:
            z = model.impedance(data.frequency, {**guess, **fixed})
            err = float(np.mean(np.abs(z - data.impedance) ** 2 / np.abs(data.impedance) ** 2))
            errors.append(err if math.isfinite(err) else math.inf)
    order = sorted(range(len(candidates)), key=errors.__getitem__)
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for i in order:  # equal starts (two reductions that agree) are fitted once
        key = tuple(sorted((k, float(f"{v:.6g}")) for k, v in candidates[i].items()))
        if key not in seen:
            seen.add(key)
            unique.append(candidates[i])
    return unique


def guess_candidates(spectrum: Spectrum, circuit: str | Circuit, *,
                     fixed: Mapping[str, float] | None = None) -> tuple[list[dict[str, float]], float]:
    """Every data-derived start (one per way of assigning processes to arcs), best first,
    and the relative RMS residual of the Voigt description (what a good fit can reach)."""
    model = circuit if isinstance(circuit, Circuit) else parse_circuit(circuit)
    candidates, floor = _candidates(spectrum, model)
    return _ranked(spectrum, model, candidates, dict(fixed or {})), floor


def guess_parameters(spectrum: Spectrum, circuit: str | Circuit, *,
                     fixed: Mapping[str, float] | None = None) -> dict[str, float]:
    """Starting values for every parameter of ``circuit``, by name, from ``spectrum``."""
    return guess_candidates(spectrum, circuit, fixed=fixed)[0][0]
