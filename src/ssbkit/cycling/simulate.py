"""Synthetic galvanostatic cycling with known truth, for tests and method checks.

``simulate_cycling`` writes the record a cycler would write for a Li2TiS3 | argyrodite |
Li–In cell: BDF columns, a native cycle number counted charge-first, steps typed like
Neware's (``CC_Chg``, ``CV_Chg`` written as its own step, ``CC_DChg``, ``Rest``), capacity
and energy counters that restart at each step. The per-cycle capacities are *prescribed*,
not emergent, so the analyses can be tested against them exactly; they are returned with
the record in ``record.metadata["truth"]``.

Capacities. The discharge capacity of protocol cycle n at C-rate c is
``capacity_mah · life(n) · rate_fraction(c)``: ``life`` rises linearly from
``initial_capacity_fraction`` at cycle 1 to 1 at ``peak_cycle`` and then falls linearly by
``fade_per_cycle`` (so the retention against the peak is ``1 − fade·(n − peak)``
exactly); ``rate_fraction`` is 1 at 0.1 C. The charge is the discharge divided by ``ce``,
except in cycle 1, where it is the discharge times ``1 + first_charge_extra``.

Voltage. ``V = OCV(x) + η`` on charge and ``OCV(x) − η`` on discharge, with
``η = |I|·R + h/2`` (ohmic drop plus half the hysteresis). Each half-cycle runs over the
state-of-charge window where ``OCV + η`` reaches ``v_max`` and ``OCV − η`` reaches ``v_min``,
so a CC charge ends exactly at ``v_max``, a discharge exactly at ``v_min``, and the capacity-
weighted mean charge voltage minus mean discharge voltage of a CC cycle is 2η (in the limit
of fine sampling). The default OCV (``"li2tis3"``) is three logistic plateaus on a sloping
background, written as the state of charge against potential,

    x(V) ∝ Σᵢ wᵢ / (1 + exp(−(V − Eᵢ)/sᵢ)) + w_bg·(V − v_min)/(v_max − v_min),

with Eᵢ = 1.60, 2.05, 2.40 V vs Li–In, shares wᵢ = 0.30, 0.35, 0.20 (background 0.15) and
widths sᵢ = 30, 35, 30 mV, normalised to 0 at ``v_min`` and 1 at ``v_max``. dx/dV is then a
sum of bell curves on a constant, so dQ/dV of the OCV peaks at the Eᵢ (to ~1e-6 V): on a
charge at Eᵢ + η, on a discharge at Eᵢ − η. In the CV step of a CC-CV charge the voltage is
held at the end voltage of the CC step while the current decays exponentially; in a rest
the ohmic part relaxes (time constant min(60 s, rest/5)) and the hysteresis stays.

Counters. Each step's counters are the trapezoid integral of its sampled current over its
rows, so the integral of ``Current / A`` over ``Test Time / s`` agrees with them to
rounding; a step's first row sits at the time of the previous step's last row (step time 0,
counter 0), so the interval between steps carries no charge. Energy counters are the
trapezoid ∫V dQ on the noise-free voltage; ``noise_v`` is measurement noise added to the
written voltage afterwards and changes no counter.

Written here rather than taken from PyBaMM: its physics models give emergent capacities
and no cycler bookkeeping (step types, counters resetting per step, native cycle numbers),
while the tests of the readers and analyses need exact, prescribed ones.

>>> rec = simulate_cycling(n_cycles=3, capacity_mah=4.8)
>>> cycles = rec.metadata["truth"]["cycles"]
>>> [round(q, 6) for q in cycles["discharge_mah"]]
[4.8, 4.8, 4.8]
>>> round(cycles["charge_mah"][0] / cycles["discharge_mah"][0], 6)
1.12
>>> sorted(set(rec.columns["Step Type"].tolist()))
['CC_Chg', 'CC_DChg', 'Rest']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite, in_range, non_negative, one_of, positive, positive_int
from ssbkit.cycling.data import (
    CHARGE_CAPACITY,
    CHARGE_ENERGY,
    CURRENT,
    CYCLE,
    DISCHARGE_CAPACITY,
    DISCHARGE_ENERGY,
    STEP_COUNT,
    STEP_INDEX,
    STEP_TIME,
    STEP_TYPE,
    TIME,
    UNIX_TIME,
    VOLTAGE,
    CyclingRecord,
)

__all__ = ["LI2TIS3_PLATEAUS", "default_rate_fraction", "simulate_cycling", "simulate_rate_test"]

#: The default OCV's plateaus: (potential [V vs Li–In], share of the capacity, width [V]).
LI2TIS3_PLATEAUS = ((1.60, 0.30, 0.030), (2.05, 0.35, 0.035), (2.40, 0.20, 0.030))

_REST, _CC_CHG, _CV_CHG, _CC_DCHG = range(4)
_STEP_NAMES = np.array(["Rest", "CC_Chg", "CV_Chg", "CC_DChg"])
_MAX_ROWS, _MAX_CYCLES = 20_000_000, 100_000
# u(c) = 1/(1 + (c/c½)^n) fitted to the argyrodite study's 483 / 413 / 264 mAh/g at 0.1 / 0.5 / 1 C
_RATE_HALF, _RATE_EXPONENT = 1.0813, 2.2606


def default_rate_fraction(c_rate: Any) -> np.ndarray:
    """Share of the 0.1 C capacity delivered at ``c_rate``: u(c)/u(0.1), u(c) = 1/(1 + (c/1.0813)^2.2606).

    The constants reproduce the argyrodite study's rate table (483 / 413 / 264 mAh/g at
    0.1 / 0.5 / 1 C) to 0.1 mAh/g; 2 C gives 97 mAh/g.

    >>> [round(float(f) * 483) for f in default_rate_fraction([0.1, 0.5, 1.0])]
    [483, 413, 264]
    """
    return _utilisation(np.asarray(c_rate, float)) / _utilisation(0.1)


def _utilisation(c_rate: Any) -> Any:
    return 1.0 / (1.0 + (c_rate / _RATE_HALF) ** _RATE_EXPONENT)


class _Ocv:
    """A monotonic OCV table: voltage(x) and soc(V) by interpolation."""

    def __init__(self, ocv: Any, v_min: float, v_max: float) -> None:
        self.peaks: list[float] = []
        if isinstance(ocv, str):
            name = one_of("ocv", ocv, ("li2tis3", "linear"))
            plateaus = LI2TIS3_PLATEAUS if name == "li2tis3" else ()
            self._from_plateaus(plateaus, 1.0 if not plateaus else 0.15, v_min, v_max)
        elif callable(ocv):
            x = np.linspace(0.0, 1.0, 4001)
            try:
                v = np.asarray(ocv(x), float)
            except Exception as exc:  # a user's function: say which argument failed
                raise InputError(f"calling it on an array of SOC in [0, 1] failed: {exc}",
                                 source="ocv") from None
            if v.shape != x.shape or not np.isfinite(v).all() or (np.diff(v) <= 0).any():
                raise InputError("must return finite voltages rising strictly with SOC in [0, 1]",
                                 source="ocv")
            self.x, self.v = x, v
        else:
            try:
                table = [(float(e), float(w), float(s)) for e, w, s in ocv]
            except (TypeError, ValueError):
                raise InputError("must be 'li2tis3', 'linear', a function of SOC, or "
                                 "(potential_v, share, width_v) triples", source="ocv") from None
            if not table or any(w <= 0 or s <= 0 or not math.isfinite(e) for e, w, s in table):
                raise InputError("plateau shares and widths must be > 0", source="ocv")
            total = sum(w for _, w, _ in table)
            self._from_plateaus(tuple(table), max(0.05 * total, 1e-3), v_min, v_max)

    def _from_plateaus(self, plateaus: tuple, background: float, v_min: float, v_max: float) -> None:
        v = np.linspace(v_min, v_max, 40001)
        s = background * (v - v_min) / (v_max - v_min)
        for e, w, width in plateaus:
            s = s + w / (1.0 + np.exp(-(v - e) / width))
        self.x, self.v = (s - s[0]) / (s[-1] - s[0]), v
        self.peaks = [float(e) for e, _, _ in plateaus if v_min < e < v_max]

    def voltage(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self.x, self.v)

    def soc(self, v: Any) -> np.ndarray:
        return np.interp(v, self.v, self.x)


def _rate_schedule(c_rates: Any, n_cycles: Any) -> np.ndarray:
    n = None if n_cycles is None else positive_int("n_cycles", n_cycles)
    if n is not None and n > _MAX_CYCLES:
        raise InputError(f"must be ≤ {_MAX_CYCLES:,}, got {n_cycles!r}", source="n_cycles")
    if isinstance(c_rates, (int, float, np.number)) and not isinstance(c_rates, bool):
        if n is None:
            raise InputError("give the number of cycles (c_rates is one number)", source="n_cycles")
        return np.full(n, positive("c_rates", c_rates))
    if isinstance(c_rates, (str, bytes)) or not isinstance(c_rates, Sequence | np.ndarray):
        raise InputError("must be a C-rate, a list of C-rates or of (C-rate, cycles) pairs, "
                         f"got {c_rates!r}", source="c_rates")
    items = list(c_rates)
    if not items:
        raise InputError("is empty", source="c_rates")
    if all(isinstance(i, Sequence | np.ndarray) and not isinstance(i, str) and len(i) == 2
           for i in items):
        counts = [positive_int("c_rates", k) for _, k in items]
        if sum(counts) > _MAX_CYCLES:
            raise InputError(f"asks for {sum(counts):,} cycles (limit {_MAX_CYCLES:,})",
                             source="c_rates")
        rates = np.repeat([positive("c_rates", r) for r, _ in items], counts)
    else:
        rates = np.array([positive("c_rates", r) for r in items])
        if rates.size == 1 and n is not None:
            rates = np.full(n, rates[0])
    if n is not None and rates.size != n:
        raise InputError(f"gives {rates.size} cycles but n_cycles is {n}", source="c_rates")
    return rates


def _rate_fractions(rate_capacity: Any, rates: np.ndarray) -> np.ndarray:
    if rate_capacity is None:
        return default_rate_fraction(rates)
    if isinstance(rate_capacity, Mapping):
        keys = np.array([positive("rate_capacity", k) for k in rate_capacity])
        values = np.array([positive("rate_capacity", v) for v in rate_capacity.values()])
        fractions = np.full(rates.size, np.nan)
        for key, value in zip(keys, values, strict=True):
            fractions[np.isclose(rates, key, rtol=1e-9, atol=0.0)] = value
        if np.isnan(fractions).any():
            missing = sorted(set(rates[np.isnan(fractions)].tolist()))
            raise InputError(f"has no share for C-rate(s) {missing}", source="rate_capacity")
        return fractions
    if callable(rate_capacity):
        try:
            fractions = np.broadcast_to(np.asarray(rate_capacity(rates.copy()), float), rates.shape)
        except Exception as exc:  # a user's function: say which argument failed
            raise InputError(f"calling it on an array of C-rates failed: {exc}",
                             source="rate_capacity") from None
    else:
        fractions = np.full(rates.size, positive("rate_capacity", rate_capacity))
    if not (np.isfinite(fractions) & (fractions > 0)).all():
        raise InputError("must give a share > 0 at every C-rate", source="rate_capacity")
    return np.array(fractions, float)


def _segment_cumsum(increments: np.ndarray, first_of_row: np.ndarray) -> np.ndarray:
    """Running sums that restart at each step (the increment at a step's first row is 0)."""
    total = np.cumsum(increments)
    return total - total[first_of_row]


def simulate_cycling(
    *,
    n_cycles: int | None = None,
    capacity_mah: float | None = None,
    active_mass_mg: float | None = None,
    specific_capacity_mah_g: float = 480.0,
    nominal_capacity_mah: float | None = None,
    c_rates: float | Sequence[float] | Sequence[tuple[float, int]] = 0.1,
    rate_capacity: float | Mapping[float, float] | Callable[[np.ndarray], Any] | None = None,
    first_charge_extra: float = 0.12,
    ce: float = 0.9999,
    peak_cycle: int | None = None,
    initial_capacity_fraction: float = 0.95,
    fade_per_cycle: float = 0.0,
    protocol: str = "cc",
    cv_fraction: float = 0.05,
    cv_end_current_fraction: float = 0.2,
    start_with: str = "charge",
    rest_s: float = 600.0,
    v_min: float = 1.0,
    v_max: float = 3.0,
    ocv: str | Sequence[tuple[float, float, float]] | Callable[[np.ndarray], Any] = "li2tis3",
    resistance_ohm: float | None = None,
    hysteresis_v: float = 0.06,
    activation_v: float | None = None,
    activation_overpotential_v: float = 0.1,
    points_per_step: int = 100,
    sample_interval_s: float | None = None,
    noise_v: float = 0.0,
    start_unix_s: float = 1_735_689_600.0,
    rng: np.random.Generator | int | None = None,
) -> CyclingRecord:
    """A cycler record with known per-cycle capacities (``record.metadata["truth"]``).

    Cell and capacity: ``capacity_mah`` is the discharge capacity at the peak and at 0.1 C;
    without it, ``specific_capacity_mah_g`` × ``active_mass_mg`` (default 480 mAh/g × 10 mg).
    ``nominal_capacity_mah`` (default ``capacity_mah``) defines 1 C: I = c_rate ×
    nominal_capacity_mah [mA]. ``c_rates``: one rate for every cycle, a rate per cycle, or
    blocks ``[(0.1, 5), (0.5, 5), …]`` (then ``n_cycles`` may be left out).
    ``rate_capacity``: share of the 0.1 C capacity delivered at each rate — None for
    ``default_rate_fraction``, a number for every rate, a mapping rate → share, or a function
    of an array of rates.

    Life: ``first_charge_extra`` (cycle 1 charges (1 + extra) × its discharge), ``ce``
    (discharge/charge from cycle 2 on, in (0, 2]), ``peak_cycle`` and
    ``initial_capacity_fraction`` (linear growth to the peak), ``fade_per_cycle`` (linear
    loss after it, as a fraction of the peak capacity per cycle).

    Protocol: ``protocol`` "cc" or "cccv" (the CV step takes ``cv_fraction`` of the charge
    and ends at ``cv_end_current_fraction`` × the CC current); ``start_with`` "charge" or
    "discharge"; ``rest_s`` after every step and before the first (0: no rests); cut-offs
    ``v_min``/``v_max`` [V vs Li–In]. Voltage: ``ocv`` ("li2tis3", "linear",
    (potential_v, share, width_v) triples, or a rising function of SOC in [0, 1]),
    ``resistance_ohm`` (default: 0.15 V drop at 1 C), ``hysteresis_v``, and an optional
    first-charge activation plateau at ``activation_v`` + ``activation_overpotential_v``
    holding the cycle-1 extra charge. Sampling: ``points_per_step`` rows per step, or one row
    every ``sample_interval_s``; ``noise_v`` (normal, needs ``rng``); ``start_unix_s``.

    ``metadata["truth"]`` (JSON-safe lists, one entry per row of each table):

    - ``cycles``: ``cycle`` (protocol cycle: its first half then its second half),
      ``c_rate``, ``current_a`` (CC current magnitude), ``overpotential_v`` (η),
      ``charge_mah`` (CC + CV), ``cc_charge_mah``, ``cv_charge_mah``, ``discharge_mah``,
      ``charge_wh``, ``discharge_wh``, ``mean_charge_v``, ``mean_discharge_v`` (energy /
      capacity), and ``charge_mah_g``/``discharge_mah_g`` when the active mass is known. With
      ``start_with="charge"`` these are the charge-first and the native cycles.
    - ``half_cycles`` in time order: ``half_cycle``, ``cycle``, ``native_cycle`` (the
      record's ``Cycle Count``), ``direction`` ("charge"/"discharge"), ``c_rate``,
      ``capacity_mah``, ``energy_wh``, ``start_s``/``end_s`` (test time), ``first_row``/
      ``last_row`` (a CC-CV charge is one half-cycle spanning both steps).
    - ``ocv_peaks_v`` (the plateau potentials), ``resistance_ohm``, ``hysteresis_v``,
      ``capacity_mah``, ``nominal_capacity_mah``, ``active_mass_mg``, and ``activation``
      (None, or its ``potential_v``, ``overpotential_v``, ``plateau_v``, ``capacity_mah``,
      ``start_s``, ``end_s``).

    The paper's long-term cell (peak 470.6 mAh/g at cycle 62, 96.22 % of it at cycle 200):

    >>> rec = simulate_cycling(n_cycles=200, active_mass_mg=10, specific_capacity_mah_g=470.6,
    ...                        peak_cycle=62, fade_per_cycle=(1 - 0.9622) / (200 - 62),
    ...                        points_per_step=20)
    >>> q = np.array(rec.metadata["truth"]["cycles"]["discharge_mah_g"])
    >>> int(q.argmax()) + 1, round(float(q.max()), 1), round(float(q[-1] / q.max()), 4)
    (62, 470.6, 0.9622)
    """
    # --- arguments, checked once ---------------------------------------------------------
    rates = _rate_schedule(c_rates, n_cycles)
    n = rates.size
    mass = None if active_mass_mg is None else positive("active_mass_mg", active_mass_mg)
    if capacity_mah is None:
        mass = 10.0 if mass is None else mass
        capacity = positive("specific_capacity_mah_g", specific_capacity_mah_g) * mass / 1000.0
    else:
        capacity = positive("capacity_mah", capacity_mah)
    nominal = capacity if nominal_capacity_mah is None else positive("nominal_capacity_mah",
                                                                     nominal_capacity_mah)
    extra = in_range("first_charge_extra", first_charge_extra, -0.9, 2.0)
    efficiency = in_range("ce", ce, 0.0, 2.0, low_inclusive=False)
    fade = non_negative("fade_per_cycle", fade_per_cycle)
    start_fraction = in_range("initial_capacity_fraction", initial_capacity_fraction, 0.0, 1.0,
                              low_inclusive=False)
    peak = None if peak_cycle is None else positive_int("peak_cycle", peak_cycle)
    cccv = one_of("protocol", protocol, ("cc", "cccv")) == "cccv"
    cv_share = in_range("cv_fraction", cv_fraction, 0.0, 0.9, low_inclusive=False) if cccv else 0.0
    cv_end = in_range("cv_end_current_fraction", cv_end_current_fraction, 0.0, 1.0,
                      low_inclusive=False, high_inclusive=False)
    charge_first = one_of("start_with", start_with, ("charge", "discharge")) == "charge"
    rest = non_negative("rest_s", rest_s)
    low, high = finite("v_min", v_min), finite("v_max", v_max)
    if high <= low:
        raise InputError(f"must be above v_min ({low:g} V), got {v_max!r}", source="v_max")
    curve = _Ocv(ocv, low, high)
    r_ohm = (0.15 / (nominal * 1e-3) if resistance_ohm is None
             else non_negative("resistance_ohm", resistance_ohm))
    hyst = non_negative("hysteresis_v", hysteresis_v)
    per_step = positive_int("points_per_step", points_per_step)
    if per_step < 2:
        raise InputError("must be ≥ 2 (a step's first and last row)", source="points_per_step")
    interval = None if sample_interval_s is None else positive("sample_interval_s", sample_interval_s)
    sigma = non_negative("noise_v", noise_v)
    t0 = finite("start_unix_s", start_unix_s)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        rng = np.random.default_rng(int(rng))
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise InputError(f"must be a numpy Generator or an int seed, got {type(rng).__name__}",
                         source="rng")
    if sigma > 0 and rng is None:
        raise InputError("noise needs a seeded generator: pass rng=np.random.default_rng(N)",
                         source="rng")

    # --- per cycle: capacities [Ah], currents [A], overpotentials, SOC windows -------------
    k = np.arange(1, n + 1)
    if peak is None:
        life = 1.0 - fade * (k - 1)
    else:
        growth = start_fraction + (1.0 - start_fraction) * (k - 1) / max(peak - 1, 1)
        life = np.where(k <= peak, np.minimum(growth, 1.0), 1.0 - fade * (k - peak))
    if life.min() <= 0:
        raise InputError(f"leaves no capacity by cycle {int(k[life <= 0][0])}",
                         source="fade_per_cycle")
    discharge = capacity * life * _rate_fractions(rate_capacity, rates) / 1000.0
    charge = discharge / efficiency
    charge[0] = discharge[0] * (1.0 + extra)
    cv_cap = charge * cv_share
    cc_cap = charge - cv_cap
    amps = rates * nominal / 1000.0
    eta = amps * r_ohm + hyst / 2.0
    if (2 * eta >= 0.95 * (high - low)).any():
        bad = int(np.flatnonzero(2 * eta >= 0.95 * (high - low))[0])
        raise InputError(f"at {rates[bad]:g} C the overpotential ({eta[bad]:.3g} V each way) "
                         f"leaves no window between v_min and v_max", source="resistance_ohm")
    x_lo, x_hi = curve.soc(low + eta), curve.soc(high - eta)
    if (x_hi - x_lo < 1e-3).any():
        raise InputError("the cut-offs leave no part of the OCV curve to cycle over", source="ocv")

    plateau_v = plateau_q = plateau_cap = None
    if activation_v is not None:
        potential = finite("activation_v", activation_v)
        over = non_negative("activation_overpotential_v", activation_overpotential_v)
        plateau_v = potential + over
        if extra <= 0:
            raise InputError("the activation plateau holds the first-charge extra: give "
                             "first_charge_extra > 0", source="activation_v")
        plateau_cap = discharge[0] * extra
        if plateau_cap >= cc_cap[0]:
            raise InputError("the plateau does not fit in the CC part of the first charge",
                             source="activation_v")
        start_v, end_v = curve.voltage(x_lo[0]) + eta[0], curve.voltage(x_hi[0]) + eta[0]
        if not start_v < plateau_v < end_v:
            raise InputError(f"plateau at {plateau_v:.3g} V is outside the first charge's "
                             f"{start_v:.3g}–{end_v:.3g} V", source="activation_v")
        along = (curve.soc(plateau_v - eta[0]) - x_lo[0]) / (x_hi[0] - x_lo[0])
        plateau_q = float(along) * (cc_cap[0] - plateau_cap)

    # --- steps ------------------------------------------------------------------------------
    halves = ([_CC_CHG, _CV_CHG] if cccv else [_CC_CHG]), [_CC_DCHG]
    template: list[int] = []
    for half in (halves if charge_first else halves[::-1]):
        template += half + ([_REST] if rest > 0 else [])
    width = len(template)
    kind = np.tile(template, n)
    cycle = np.repeat(np.arange(n), width)
    block = np.concatenate([[0], np.cumsum(rates[1:] != rates[:-1])])
    line = block[cycle] * width + np.tile(np.arange(width), n) + 1
    if rest > 0:
        kind, cycle = np.concatenate([[_REST], kind]), np.concatenate([[0], cycle])
        line = np.concatenate([[1], line + 1])
    n_steps = kind.size

    cap = np.zeros(n_steps)  # Ah of each step
    cap = np.where(kind == _CC_CHG, cc_cap[cycle], cap)
    cap = np.where(kind == _CV_CHG, cv_cap[cycle], cap)
    cap = np.where(kind == _CC_DCHG, discharge[cycle], cap)
    amp = amps[cycle]
    tau_cv = cap * 3600.0 / (amp * (1.0 - cv_end))
    duration = np.where(kind == _REST, rest, cap * 3600.0 / amp)
    duration = np.where(kind == _CV_CHG, tau_cv * math.log(1.0 / cv_end), duration)

    if interval is None:
        points = np.full(n_steps, per_step)
    else:
        points = np.maximum(np.ceil(duration / interval - 1e-9).astype(np.int64) + 1, 2)
    total = int(points.sum())
    if total > _MAX_ROWS:
        raise InputError(f"would write {total:,} rows (limit {_MAX_ROWS:,}); sample less often",
                         source="sample_interval_s" if interval else "points_per_step")

    # --- rows -------------------------------------------------------------------------------
    step = np.repeat(np.arange(n_steps), points)
    first = np.concatenate([[0], np.cumsum(points)[:-1]])
    last = first + points - 1
    first_of_row = first[step]
    local = np.arange(total) - first_of_row
    if interval is None:
        step_time = duration[step] * local / (points[step] - 1)
    else:
        step_time = np.minimum(local * interval, duration[step])
    step_time[last] = duration  # exactly, whatever the rounding of the products
    start = np.concatenate([[0.0], np.cumsum(duration)[:-1]])
    time = np.maximum.accumulate(start[step] + step_time)

    row_kind, row_cycle = kind[step], cycle[step]
    current = np.zeros(total)
    current = np.where(row_kind == _CC_CHG, amps[row_cycle], current)
    current = np.where(row_kind == _CC_DCHG, -amps[row_cycle], current)
    is_cv = row_kind == _CV_CHG
    if cccv:
        current[is_cv] = amps[row_cycle[is_cv]] * np.exp(-step_time[is_cv] / tau_cv[step[is_cv]])
    dt = np.diff(step_time, prepend=0.0)
    dt[first] = 0.0

    def trapezoid(values: np.ndarray) -> np.ndarray:
        inc = 0.5 * (values + np.roll(values, 1)) * dt
        inc[first] = 0.0
        return inc

    if cccv:  # scale each CV step so that its trapezoid integral is its capacity exactly
        sums = np.add.reduceat(trapezoid(current), first) / 3600.0
        scale = np.where(kind == _CV_CHG, cap / np.where(sums > 0, sums, 1.0), 1.0)
        current = np.where(is_cv, current * scale[step], current)
    moved = _segment_cumsum(trapezoid(np.abs(current)) / 3600.0, first_of_row)  # Ah in the step
    constant = (row_kind == _CC_CHG) | (row_kind == _CC_DCHG)
    moved[constant] = np.abs(current[constant]) * step_time[constant] / 3600.0  # the same, to 1 ulp

    voltage = np.zeros(total)
    lo, hi, e = x_lo[row_cycle], x_hi[row_cycle], eta[row_cycle]
    chg, dch = row_kind == _CC_CHG, row_kind == _CC_DCHG
    share = np.zeros(total)  # how far along its SOC window a CC row is, 0 → 1
    share[dch] = moved[dch] / cap[step[dch]]
    share[chg] = moved[chg] / cap[step[chg]]
    on_plateau = np.zeros(total, bool)
    if plateau_v is not None:  # the first charge's curve pauses at the plateau for the extra charge
        rows = np.flatnonzero(chg & (row_cycle == 0))
        beyond = np.clip(moved[rows] - plateau_q, 0.0, plateau_cap)
        share[rows] = (moved[rows] - beyond) / (cc_cap[0] - plateau_cap)
        on_plateau[rows] = (beyond > 0) & (beyond < plateau_cap)
    voltage[chg] = curve.voltage(lo[chg] + (hi[chg] - lo[chg]) * share[chg]) + e[chg]
    voltage[dch] = curve.voltage(hi[dch] - (hi[dch] - lo[dch]) * share[dch]) - e[dch]
    voltage[on_plateau] = plateau_v
    if cccv:  # CV holds the voltage the CC step ended at
        held = np.zeros(n_steps)
        cv_steps = np.flatnonzero(kind == _CV_CHG)
        held[cv_steps] = voltage[last[cv_steps - 1]]
        voltage[is_cv] = held[step[is_cv]]
    if rest > 0:  # the ohmic drop relaxes, the hysteresis stays
        resting = np.flatnonzero(row_kind == _REST)
        before = np.maximum(step[resting] - 1, 0)
        relax = 1.0 - np.exp(-step_time[resting] / min(60.0, rest / 5.0))
        v_rest = voltage[last[before]] - current[last[before]] * r_ohm * relax
        opening = curve.voltage(x_lo[0] if charge_first else x_hi[0])
        voltage[resting] = np.where(step[resting] == 0, opening, v_rest)

    charging = chg | is_cv
    energy = _segment_cumsum(_energy_increments(voltage, moved, first), first_of_row)
    charge_counter, charge_energy = np.where(charging, moved, 0.0), np.where(charging, energy, 0.0)
    discharge_counter, discharge_energy = np.where(dch, moved, 0.0), np.where(dch, energy, 0.0)

    written = voltage + sigma * rng.standard_normal(total) if sigma > 0 else voltage

    # --- cycle numbers: native = charge-first (a charge after a discharge opens a cycle) ---
    opens = (kind == _CC_CHG) & (np.cumsum(kind == _CC_DCHG) > 0)
    native = 1 + np.cumsum(opens)

    columns = {
        TIME: time, UNIX_TIME: t0 + time, STEP_TIME: step_time, VOLTAGE: written,
        CURRENT: current, CYCLE: native[step], STEP_INDEX: line[step],
        STEP_COUNT: step + 1, STEP_TYPE: _STEP_NAMES[row_kind],
        CHARGE_CAPACITY: charge_counter, DISCHARGE_CAPACITY: discharge_counter,
        CHARGE_ENERGY: charge_energy, DISCHARGE_ENERGY: discharge_energy,
    }
    truth = _truth(kind=kind, cycle=cycle, native=native, first=first, last=last, time=time,
                   energy=energy, rates=rates, amps=amps, eta=eta, charge=charge,
                   cc_cap=cc_cap, cv_cap=cv_cap, discharge=discharge, mass=mass)
    truth.update(ocv_peaks_v=curve.peaks, resistance_ohm=float(r_ohm), hysteresis_v=hyst,
                 capacity_mah=capacity, nominal_capacity_mah=nominal, active_mass_mg=mass,
                 activation=None)
    if plateau_v is not None:
        begins = float(start[np.flatnonzero(kind == _CC_CHG)[0]] + plateau_q * 3600.0 / amps[0])
        truth["activation"] = {"potential_v": potential, "overpotential_v": over,
                               "plateau_v": plateau_v, "capacity_mah": float(plateau_cap * 1000.0),
                               "start_s": begins,
                               "end_s": float(begins + plateau_cap * 3600.0 / amps[0])}
    settings = {"protocol": "cccv" if cccv else "cc", "start_with": "charge" if charge_first
                else "discharge", "rest_s": rest, "v_min": low, "v_max": high, "ce": efficiency,
                "first_charge_extra": extra, "peak_cycle": peak, "fade_per_cycle": fade,
                "noise_v": sigma, "ocv": ocv if isinstance(ocv, str) else "custom"}
    metadata = {"format": "simulated", "instrument": "ssbkit.cycling.simulate",
                "start_time": _iso(t0), "active_mass_mg": mass, "simulation": settings,
                "truth": truth}
    if mass is None:
        del metadata["active_mass_mg"]
    return CyclingRecord(columns, metadata, "simulated")


def _energy_increments(voltage: np.ndarray, moved: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Energy increments [Wh] within steps: mean voltage × charge moved, 0 at each step's first row."""
    inc = 0.5 * (voltage + np.roll(voltage, 1)) * np.diff(moved, prepend=0.0)
    inc[first] = 0.0
    return inc


def _truth(*, kind, cycle, native, first, last, time, energy, rates, amps, eta, charge,
           cc_cap, cv_cap, discharge, mass) -> dict[str, Any]:
    n = rates.size
    active = kind != _REST
    end_e = energy[last]
    is_charge = (kind == _CC_CHG) | (kind == _CV_CHG)
    charge_wh = np.bincount(cycle[is_charge], end_e[is_charge], minlength=n)
    discharge_wh = np.bincount(cycle[kind == _CC_DCHG], end_e[kind == _CC_DCHG], minlength=n)
    cycles: dict[str, Any] = {
        "cycle": list(range(1, n + 1)), "c_rate": rates.tolist(), "current_a": amps.tolist(),
        "overpotential_v": eta.tolist(), "charge_mah": (charge * 1000).tolist(),
        "cc_charge_mah": (cc_cap * 1000).tolist(), "cv_charge_mah": (cv_cap * 1000).tolist(),
        "discharge_mah": (discharge * 1000).tolist(), "charge_wh": charge_wh.tolist(),
        "discharge_wh": discharge_wh.tolist(),
        "mean_charge_v": (charge_wh / charge).tolist(),
        "mean_discharge_v": (discharge_wh / discharge).tolist(),
    }
    if mass is not None:
        cycles["charge_mah_g"] = (charge * 1e6 / mass).tolist()
        cycles["discharge_mah_g"] = (discharge * 1e6 / mass).tolist()
    # half-cycles: a CV step joins the CC step before it
    opens = active & (kind != _CV_CHG)
    starts = np.flatnonzero(opens)
    following = np.append(kind[1:], _REST)
    last_active = starts + ((kind[starts] == _CC_CHG) & (following[starts] == _CV_CHG))
    capacity = np.where(kind[starts] == _CC_CHG, charge[cycle[starts]], discharge[cycle[starts]])
    energy_half = np.add.reduceat(np.where(active, end_e, 0.0), starts)
    half_cycles = {
        "half_cycle": list(range(1, starts.size + 1)),
        "cycle": (cycle[starts] + 1).tolist(), "native_cycle": native[starts].tolist(),
        "direction": np.where(kind[starts] == _CC_CHG, "charge", "discharge").tolist(),
        "c_rate": rates[cycle[starts]].tolist(), "capacity_mah": (capacity * 1000).tolist(),
        "energy_wh": energy_half.tolist(), "start_s": time[first[starts]].tolist(),
        "end_s": time[last[last_active]].tolist(), "first_row": first[starts].tolist(),
        "last_row": last[last_active].tolist(),
    }
    return {"cycles": cycles, "half_cycles": half_cycles}


def _iso(unix_s: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix_s, UTC).isoformat()


def simulate_rate_test(
    *,
    rates: Sequence[float] = (0.1, 0.2, 0.5, 1.0, 2.0, 0.1),
    cycles_per_rate: int = 5,
    **options: Any,
) -> CyclingRecord:
    """A rate-capability record: ``cycles_per_rate`` cycles at each of ``rates`` in turn.

    Every other option goes to ``simulate_cycling`` (``n_cycles`` and ``c_rates`` follow from
    the blocks). Each block has its own schedule lines (``Step Index``), as a cycler program
    with one loop per rate would.

    >>> rec = simulate_rate_test(rates=(0.1, 1.0), cycles_per_rate=2, points_per_step=10)
    >>> rec.metadata["truth"]["cycles"]["c_rate"]
    [0.1, 0.1, 1.0, 1.0]
    """
    for taken in ("n_cycles", "c_rates"):
        if taken in options:
            raise InputError("follows from rates and cycles_per_rate; leave it out", source=taken)
    count = positive_int("cycles_per_rate", cycles_per_rate)
    if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence | np.ndarray) or not len(rates):
        raise InputError(f"must be a non-empty list of C-rates, got {rates!r}", source="rates")
    return simulate_cycling(c_rates=[(positive("rates", r), count) for r in rates], **options)
