"""The bundled example study: every file simulated by ssbkit's own forward models, in real
instrument formats, with parameters taken from the two studies ssbkit reproduces.

``write_example_study(directory, seed=2026)`` writes ``study.toml`` (``simulated = true``) and
``raw/``: the 3 × 3 FRB × BMR milling grid of the argyrodite Li5.5PS4.5Cl0.8Br0.7 (EES Batteries
2026) with a pellet per powder measured by impedance at five temperatures and an XRD scan per
powder, a DC polarisation of the best pellet, two Li2TiS3 | argyrodite | Li–In cells (a
conventional-loading one, 200 cycles, with a rate test, in-situ impedance over one charge and
a stack-pressure log; a high-loading one, 400 cycles, with a pressure log), pellets of Li2S,
LiI and their mixture (Nat. Commun. 2021) at five temperatures, and 6Li EXSY build-ups of the
three interfaces of a Li2S / Li6PS5Cl / LiI mixture at five temperatures. The manifest's
``[[headline]]`` lists the studies' numbers that the analyses must give back from the raw files.

Pellet impedance is the circuit p(R0,C0)-CPE1 with R0 = L/(σ(T)·A), A = π d²/4, and σ(T) in
the σT form the Arrhenius analysis fits, σ(T) = σ(25 °C)·(298.15 K/T)·exp(−Ea/k_B·(1/T −
1/298.15 K)). Cycling, pressure, XRD and EXSY come from ``simulate_cycling``/``simulate_rate_test``,
``simulate_pressure``, ``simulate_pattern`` and ``simulate_buildup`` (sphere model) with the
values below; size and strain enter the XRD model as the phase's Lorentzian Y = Kλ/D (K = 0.9)
and X = 4ε (in degrees), the conventions ``ssbkit.xrd.refine`` reports them in. The
Nat. Commun. 2021 study is Liu et al. (citation key ``liu2021``, registered by
``ssbkit.nmr.buildup``).

Formats: impedance and DC polarisation as Admiral Squidstat CSV exports (one file per
temperature; the in-situ sweeps as repeats of one EIS step), cycling as Neware BTSDA CSV,
pressure as a logger CSV (ISO time, MPa), XRD as ``.xy`` text, EXSY as build-up tables
(``ssbkit.study._example_writers``). Everything is seeded: one stream per file, drawn from
``numpy.random.default_rng([seed, crc32(file name)])``, so the same seed gives byte-identical
files and a new file never changes the noise of the others.

Simulated parameters and where each value comes from ("study" is the paper's number, quoted in
ssbkit's DESIGN.md and issues 3, 4, 6 and 8; "chosen" is chosen for the example):

====================================  ==================================================  ======
quantity                              value                                               source
====================================  ==================================================  ======
σ(25 °C), Ea at FRB 10 %, BMR 80:1    13.3 mS/cm, 0.28 eV (σT form)                       study
σ over the grid                       σ_best·exp(−ln²(FRB/10 %)/(2·0.8²))·(BMR/80)^0.3    chosen
Ea over the grid                      Ea_best + 0.03 eV·ln(σ_best/σ)                      chosen
milling                               50 mL ZrO2 jar, 5 mm ZrO2 balls, 500 rpm, 10 h      chosen
sintering                             550 °C, 5 h, 5 °C/min                               chosen
milling dose D                        Burgio–Magini (``ssbkit.synthesis``), R_p 70 mm,    chosen
                                      r_v 22.5 mm, 1:−2, hindering ε = 1
lattice a, size, strain vs D [kJ/g]   9.8532 + 0.01·e^(−D/120) Å; 25 + 60·e^(−D/150) nm;  chosen
                                      0.03 + 3e-4·D %
LiCl, Li2S impurities vs D            0.8 + 8·e^(−D/120), 0.5 + 5·e^(−D/120) wt %         chosen
pellets (grid)                        d 10 mm, L 0.80–0.90 mm, 375 MPa, 85 % dense        chosen
impedance (grid)                      p(R0,C0)-CPE1, C0 10 pF (bulk arc above 7 MHz),     chosen
                                      CPE 5 µF, n 0.85; 7 MHz–1 Hz, 61 points, 0.3 %
                                      noise; −20, 0, 25, 50, 80 °C
DC polarisation (best pellet)         0.1–0.5 V, 20 min each, R_e 2.4e8 Ohm, τ 20 s       chosen
pellet Ea: Li2S, LiI, Li2S–LiI        0.235, 0.107, 0.212 eV                              study
pellet σ(25 °C): Li2S, LiI, Li2S–LiI  1e-8, 2e-7, 1e-6 S/cm; 25–105 °C; C0 5 pF,          chosen
                                      CPE 1 µF, n 0.85; d 10 mm, L 0.95–1.05 mm
rate test, conventional cell          483 / 413 / 264 mAh/g at 0.1 / 0.5 / 1 C            study
1 C                                   339 mAh/g × active mass (2 Li per Li2TiS3)          chosen
first-cycle CE (discharge/charge)     112 %, then 99.99 %                                 study
conventional cell                     peak 470.6 mAh/g at cycle 62, 96.22 % at 200        study
polarisation, conventional            0.09 V (cycle 1) → 0.10 V (cycle 200)               study
stack-pressure growth                 2.1 % (conventional), 3.6 % (high) per cycle        study
high-loading cell                     67.2 % of its peak after 400 cycles                 study
high-loading peak, polarisation       430 mAh/g at cycle 15; 0.14 → 0.20 V                chosen
first cycle vs the peak               93 % (conventional), 90 % (high loading)            chosen
cells                                 60:30:10, 7.0 / 17.5 mg composite, 0.785 cm²,       chosen
                                      Li–In, 100 mg electrolyte, 0.5 C, 10 MPa
cycling protocol                      CC, 1.0–3.0 V vs Li–In, 10 min rests,               chosen
                                      hysteresis 0.03 V, 30 rows a step (4 a rest),
                                      noise 0.3 mV; rate test 3 cycles a rate
pressure log                          first 20 cycles, every 120 s, p0 10 MPa,            chosen
                                      breathing 0.4 / 0.8 MPa, noise 0.02 MPa
in-situ impedance                     11 sweeps, SOC 0–100 %, 7 MHz–10 mHz, four          chosen
                                      ZARCs as examples/make_data.py
EXSY Ea: Li2S–LPSC, Li2S–LiI,         0.107, 0.142, 0.117 eV; 293–373 K (5),              study
LPSC–LiI                              10 ms – 10 s
EXSY model and noise                  sphere, radius 1 µm, plateau 0.5, D(298 K) 1e-9     chosen
                                      / 4e-10 / 2e-9 cm²/s, 16 mixing times, 0.5 %
XRD                                   Cu Kα1/Kα2, 10–80° in 0.02° steps, 5000 counts,     chosen
                                      U, V, W 0.004, −0.002, 0.002 deg², zero 0.02°;
                                      LiCl, Li2S X 0.02°, Y 0.05°
====================================  ==================================================  ======

Four choices need a word. The long-term cells' capacities are prescribed by
``simulate_cycling`` (``rate_capacity=1``), not taken from the rate curve: the study's
470.6 mAh/g peak at 0.5 C is above its rate-test 413 mAh/g at 0.5 C, so the two cannot come
from one utilisation curve. The simulator holds one resistance, so the polarisation's growth
(0.09 → 0.10 V) is added afterwards: each charge row is raised and each discharge row lowered
by half of a per-cycle increment growing linearly with the cycle number, with the energy
counters moved to match (``_grow_polarisation``). The stack pressure is logged over the first
20 cycles only: growth linear in the cycle number at 2.1 and 3.6 % of p0 per cycle would reach
52 and 154 MPa after 200 and 400 cycles, which no cell holder sees; the pressure analysis
leaves the cycles the log does not cover out of its fit and says so. And the EXSY noise is
0.5 % of the plateau on 16 mixing times rather than 1 % on 10: with the latter the fitted Ea
scatters by 4 % of its value from seed to seed (60 seeds × 3 interfaces) and half of the seeds
put one interface more than 5 % from the study's number; with the former the scatter is 1.7 %,
so 5 % is three standard deviations and the headline holds for other seeds than the default
too.

>>> import tempfile, tomllib
>>> with tempfile.TemporaryDirectory() as scratch:
...     folder = write_example_study(Path(scratch) / "example")
...     manifest = tomllib.loads((folder / "study.toml").read_text(encoding="utf-8"))
>>> manifest["study"]["simulated"], len(manifest["samples"]), len(manifest["headline"])
(True, 13, 20)
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.study import _example_writers as writers

__all__ = ["INSITU_CIRCUIT", "PAPER", "CellPlan", "ExampleParameters", "grid_conductivity", "grid_structure",
           "insitu_cell_parameters", "write_example_study"]

EES = "EES Batteries 2026"
NATCOMM = "Nat. Commun. 2021"
T25_K = 298.15


@dataclass(frozen=True)
class CellPlan:
    """One Li2TiS3 | argyrodite | Li–In cell and its long-term cycling (see the module table)."""

    id: str
    composite_mass_mg: float
    peak_mah_g: float
    peak_cycle: int
    n_cycles: int
    retention_pct: float
    polarisation_first_v: float
    polarisation_last_v: float
    pressure_growth_pct: float
    breathing_mpa: float
    initial_fraction: float
    start: str  # ISO date-time (UTC) of the cycling record's first row


def _table(values: Mapping[Any, float]) -> Any:
    return field(default_factory=lambda: MappingProxyType(dict(values)))


@dataclass(frozen=True)
class ExampleParameters:
    """Every number the example is simulated from (``PAPER``: the studies' values, the rest
    chosen; see the module table). The headline always quotes the studies' numbers, so a
    study written from other parameters shows where they differ."""

    sigma_best_mS_cm: float = 13.3
    ea_best_eV: float = 0.28
    frb_width: float = 0.8
    bmr_exponent: float = 0.3
    ea_per_ln_sigma_eV: float = 0.03
    pellet_ea_eV: Mapping[str, float] = _table({"Li2S": 0.235, "LiI": 0.107, "Li2S-LiI": 0.212})
    pellet_sigma_S_cm: Mapping[str, float] = _table({"Li2S": 1e-8, "LiI": 2e-7, "Li2S-LiI": 1e-6})
    rate_mah_g: Mapping[float, float] = _table({0.1: 483.0, 0.5: 413.0, 1.0: 264.0})
    first_ce_pct: float = 112.0
    theoretical_mah_g: float = 339.0
    cells: tuple[CellPlan, ...] = (
        CellPlan("C-conventional", 7.0, 470.6, 62, 200, 96.22, 0.09, 0.10, 2.1, 0.4, 0.93,
                 "2025-03-03T09:00:00"),
        CellPlan("C-high", 17.5, 430.0, 15, 400, 67.2, 0.14, 0.20, 3.6, 0.8, 0.90,
                 "2025-03-04T09:00:00"),
    )
    exsy_ea_eV: Mapping[str, float] = _table({"Li2S–LPSC": 0.107, "Li2S–LiI": 0.142, "LPSC–LiI": 0.117})
    exsy_d298_cm2_s: Mapping[str, float] = _table({"Li2S–LPSC": 1e-9, "Li2S–LiI": 4e-10,
                                                     "LPSC–LiI": 2e-9})
    exsy_noise: float = 0.005


PAPER = ExampleParameters()

FRB_PERCENT = (5, 10, 20)
BMR = (20, 40, 80)
GRID_TEMPERATURES_C = (-20, 0, 25, 50, 80)
PELLET_TEMPERATURES_C = (25, 45, 65, 85, 105)
EXSY_TEMPERATURES_K = (293.0, 313.0, 333.0, 353.0, 373.0)
EXSY_RADIUS_UM = 1.0  # the simulated particle radius; the manifest's [settings.exsy] length_um
_EXSY_LENGTH_NOTE = ("# length_um: the particle radius [µm] the EXSY build-ups were simulated with "
                     "(D scales with its square)")
EIS_FREQUENCY = np.logspace(math.log10(7e6), 0.0, 61)
AREA_CM2 = 0.785  # a 10 mm cell, as the cells table writes it
ACTIVE_FRACTION = 0.6
C_RATE = 0.5
PRESSURE_CYCLES, PRESSURE_INTERVAL_S, P0_MPA = 20, 120.0, 10.0
HYSTERESIS_V = 0.03
MILLING = {"jar_ml": 50, "jar_material": "ZrO2", "ball_material": "ZrO2", "ball_diameter_mm": 5,
           "speed_rpm": 500, "time_h": 10}
SINTERING = {"temperature_C": 550, "time_h": 5, "ramp_C_per_min": 5}


def write_example_study(directory: str | PathLike[str], *, seed: int = 2026,
                        overwrite: bool = False) -> Path:
    """Write the example study into ``directory`` and return the folder (see the module docstring).

    The folder must not exist or be empty, unless ``overwrite=True``: then its ``study.toml`` and
    ``raw/`` are replaced and everything else (a study's ``.ssbkit/`` database) is kept. The files
    are written to a temporary folder beside it first and moved in at the end, so an
    interrupted call leaves nothing half-written.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"must be a whole number ≥ 0, got {seed!r}", source="seed")
    return _write(Path(directory), int(seed), PAPER, overwrite=overwrite)


def _write(target: Path, seed: int, params: ExampleParameters, *, overwrite: bool = False) -> Path:
    if target.exists() and not target.is_dir():
        raise InputError("exists and is not a folder", source=target)
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise InputError("the folder exists and is not empty (pass overwrite=True to replace its "
                         "study.toml and raw/)", source=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise InputError(f"cannot write the example study: {exc.strerror or exc}", source=target) from None
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would become the study folder's
        _Builder(staging, seed, params).build()
        if not target.exists():
            os.replace(staging, target)
            return target
        old_raw = target / "raw"
        retired = target / f".raw-replaced-{os.getpid()}"
        if old_raw.exists():
            os.replace(old_raw, retired)
        os.replace(staging / "raw", old_raw)
        os.replace(staging / "study.toml", target / "study.toml")
        shutil.rmtree(retired, ignore_errors=True)
    except OSError as exc:
        raise InputError(f"cannot write the example study: {exc.strerror or exc}",
                         source=target) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# -- the trends of the milling grid ----------------------------------------------------------

def grid_conductivity(frb_percent: float, bmr: float,
                      params: ExampleParameters = PAPER) -> tuple[float, float]:
    """σ(25 °C) [S/cm] and Ea [eV] of the powder milled at ``frb_percent`` and ``bmr`` (chosen
    trend, best at FRB 10 %, BMR 80:1; see the module table).

    >>> s, ea = grid_conductivity(10, 80)
    >>> round(s * 1e3, 3), round(ea, 3)
    (13.3, 0.28)
    """
    shape = math.exp(-math.log(frb_percent / 10.0) ** 2 / (2 * params.frb_width**2))
    sigma = params.sigma_best_mS_cm * 1e-3 * shape * (bmr / 80.0) ** params.bmr_exponent
    ea = params.ea_best_eV + params.ea_per_ln_sigma_eV * math.log(params.sigma_best_mS_cm * 1e-3 / sigma)
    return sigma, ea


def _milling_dose_kj_g(frb_percent: float, bmr: float) -> float:
    from ssbkit.synthesis.dose import milling_dose
    from ssbkit.synthesis.milling import plan_milling

    plan = plan_milling(jar_volume_ml=MILLING["jar_ml"], ball_diameter_mm=MILLING["ball_diameter_mm"],
                        ball_material=MILLING["ball_material"], frb=frb_percent / 100.0, bmr=bmr)
    dose = milling_dose(plan, rpm=MILLING["speed_rpm"], time_h=MILLING["time_h"], plate_radius_mm=70.0,
                        jar_radius_mm=22.5, hindering_exponent=1.0)
    return dose.dose.value / 1000.0


def grid_structure(dose_kj_g: float) -> dict[str, float]:
    """Lattice parameter [Å], crystallite size [nm], microstrain [%] and impurity weight
    fractions [%] of a powder given its milling dose [kJ/g] (chosen trends; module table).

    >>> {k: round(v, 3) for k, v in grid_structure(120.0).items()}
    {'a': 9.857, 'size_nm': 51.96, 'strain_pct': 0.066, 'LiCl_wt_pct': 3.743, 'Li2S_wt_pct': 2.339}
    """
    fresh = math.exp(-dose_kj_g / 120.0)
    return {"a": 9.8532 + 0.01 * fresh, "size_nm": 25.0 + 60.0 * math.exp(-dose_kj_g / 150.0),
            "strain_pct": 0.03 + 3e-4 * dose_kj_g, "LiCl_wt_pct": 0.8 + 8.0 * fresh,
            "Li2S_wt_pct": 0.5 + 5.0 * fresh}


def _sigma_at(sigma_25: float, ea: float, kelvin: float) -> float:
    """σ at ``kelvin`` from σ(25 °C) and Ea in the σT form."""
    return sigma_25 * T25_K / kelvin * math.exp(-ea / BOLTZMANN_EV * (1.0 / kelvin - 1.0 / T25_K))


def _unix(iso: str) -> float:
    from datetime import UTC, datetime

    return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


class _Builder:
    """Writes the files under ``root/raw`` and collects the manifest's tables as it goes."""

    def __init__(self, root: Path, seed: int, params: ExampleParameters) -> None:
        self.root, self.seed, self.params = root, seed, params
        self.materials: list[dict[str, Any]] = []
        self.samples: list[dict[str, Any]] = []
        self.pellets: list[dict[str, Any]] = []
        self.cells: list[dict[str, Any]] = []
        self.measurements: list[dict[str, Any]] = []
        self.headline: list[dict[str, Any]] = []

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode("utf-8"))])

    def path(self, relative: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def build(self) -> None:
        self._materials()
        self._grid()
        self._other_pellets()
        self._cells()
        self._exsy()
        self._headline()
        manifest = self.root / "study.toml"
        writers.write_manifest(manifest, header=_HEADER.format(seed=self.seed),
                               study=_study_table(), tables={
                                   "materials": self.materials, "samples": self.samples,
                                   "pellets": self.pellets, "cells": self.cells,
                                   "measurements": self.measurements, "headline": self.headline})
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace("[settings.exsy]\n", f"[settings.exsy]\n{_EXSY_LENGTH_NOTE}\n", 1),
                            encoding="utf-8")

    # -- materials and the milling grid ---------------------------------------------------------

    def _materials(self) -> None:
        self.materials += [
            {"id": "LPSCB", "composition": "Li5.5PS4.5Cl0.8Br0.7",
             "precursors": ["Li2S", "P2S5", "LiCl", "LiBr"], "role": "electrolyte"},
            {"id": "LTS", "composition": "Li2TiS3", "precursors": ["Li2S", "TiS2"], "role": "cathode"},
            {"id": "Li2S", "composition": "Li2S", "role": "cathode"},
            {"id": "LiI", "composition": "LiI", "role": "additive"},
            {"id": "LPSC", "composition": "Li6PS5Cl", "precursors": ["Li2S", "P2S5", "LiCl"],
             "role": "electrolyte"},
            {"id": "Li2S-LiI", "composition": "(Li2S)0.75(LiI)0.25", "precursors": ["Li2S", "LiI"],
             "role": "mixture"},
            {"id": "Li2S-LPSC-LiI", "composition": "(Li2S)1(Li6PS5Cl)1(LiI)1",
             "precursors": ["Li2S", "Li6PS5Cl", "LiI"], "role": "mixture"},
        ]

    def _grid(self) -> None:
        for k, (frb, bmr) in enumerate((f, b) for f in FRB_PERCENT for b in BMR):
            sample, pellet = f"S-F{frb}-B{bmr}", f"P-F{frb}-B{bmr}"
            dose = _milling_dose_kj_g(frb, bmr)
            self.samples.append({
                "id": sample, "material": "LPSCB",
                "description": f"Li5.5PS4.5Cl0.8Br0.7 ball-milled at FRB {frb} %, BMR {bmr}:1 "
                               f"(Burgio–Magini dose {dose:.0f} kJ/g), then annealed",
                "milling": {**MILLING, "frb_percent": frb, "bmr": bmr}, "sintering": dict(SINTERING)})
            self._xrd(sample, grid_structure(dose))
            sigma, ea = grid_conductivity(frb, bmr, self.params)
            thickness = round(0.85 + self.rng(f"{pellet} geometry").uniform(-0.05, 0.05), 2)
            self.pellets.append(_pellet(pellet, sample, thickness, density_g_cm3=1.9))
            day = _unix("2025-02-03T08:00:00") + 86400.0 * k
            for j, celsius in enumerate(GRID_TEMPERATURES_C):
                kelvin = celsius + 273.15
                r_bulk = thickness / 10.0 / (_sigma_at(sigma, ea, kelvin) * _area(10.0))
                truth = {"R0": r_bulk, "C0": 10e-12, "CPE1_0": 5e-6, "CPE1_1": 0.85}
                self._eis(pellet, celsius, "p(R0,C0)-CPE1", truth, day + 7200.0 * j)
            if (frb, bmr) == (10, 80):
                r_25 = thickness / 10.0 / (sigma * _area(10.0))
                self._dcpol(pellet, r_25, day + 7200.0 * len(GRID_TEMPERATURES_C))

    def _xrd(self, sample: str, structure: Mapping[str, float]) -> None:
        from ssbkit.xrd.data import ANODES, Instrument
        from ssbkit.xrd.simulate import PhaseBroadening, simulate_pattern
        from ssbkit.xrd.structures import argyrodite, li2s, licl

        kalpha1 = ANODES["CuKa"][0][0]
        size_y = math.degrees(0.9 * kalpha1 / (structure["size_nm"] * 10.0))  # Scherrer, K = 0.9
        strain_x = math.degrees(4.0 * structure["strain_pct"] / 100.0)  # β = 4ε·tanθ
        licl_wt, li2s_wt = structure["LiCl_wt_pct"] / 100.0, structure["Li2S_wt_pct"] / 100.0
        pattern = simulate_pattern(
            [argyrodite("Li5.5PS4.5Cl0.8Br0.7", a=structure["a"]), licl(a=5.1300), li2s(a=5.7080)],
            weight_fractions=[1.0 - licl_wt - li2s_wt, licl_wt, li2s_wt], two_theta_range=(10.0, 80.0),
            step=0.02, instrument=Instrument(wavelengths=ANODES["CuKa"], U=0.004, V=-0.002, W=0.002,
                                             zero=0.02),
            peak_counts=5000.0, background=[300.0, -60.0, 30.0, -10.0, 5.0],
            phase_broadening=[PhaseBroadening(X=strain_x, Y=size_y), PhaseBroadening(X=0.02, Y=0.05),
                              PhaseBroadening(X=0.02, Y=0.05)], rng=self.rng(f"xrd {sample}"))
        relative = f"raw/xrd/{sample}.xy"
        writers.write_xy(self.path(relative), pattern, comments=[
            f"{sample}: simulated by ssbkit (ssbkit.study.example), not measured",
            f"Li5.5PS4.5Cl0.8Br0.7 a = {structure['a']:.4f} A + LiCl {100 * licl_wt:.2f} wt% "
            f"+ Li2S {100 * li2s_wt:.2f} wt%, Cu Ka1/Ka2"])
        self.measurements.append({"id": f"xrd-{sample}", "file": relative, "technique": "xrd",
                                  "sample": sample,
                                  "instrument": "Bragg-Brentano diffractometer, Cu Kα (simulated)"})

    def _eis(self, pellet: str, celsius: float, circuit: str, truth: Mapping[str, float],
             start: float) -> None:
        from ssbkit.eis.simulate import simulate_spectrum

        name = f"{celsius:g}C".replace("-", "m")
        spectrum = simulate_spectrum(circuit, truth, EIS_FREQUENCY, noise=0.003,
                                     rng=self.rng(f"eis {pellet} {name}"))
        relative = f"raw/eis/{pellet}_{name}.csv"
        writers.write_squidstat_eis(self.path(relative), [spectrum], start_unix_s=start)
        self.measurements.append({"id": f"eis-{pellet}-{name}", "file": relative, "technique": "eis",
                                  "pellet": pellet, "temperature_C": celsius, "date": _date(start),
                                  "instrument": "Admiral Squidstat Plus"})

    def _dcpol(self, pellet: str, r_ionic: float, start: float) -> None:
        from ssbkit.eis.simulate import simulate_polarisation

        record = simulate_polarisation([0.1, 0.2, 0.3, 0.4, 0.5], electronic_resistance=2.4e8,
                                       ionic_resistance=r_ionic, time_constant_s=20.0, step_duration_s=1200.0,
                                       points_per_step=121, noise_A=2e-12, rng=self.rng(f"dcpol {pellet}"))
        relative = f"raw/dcpol/{pellet}_dcpol.csv"
        writers.write_squidstat_dc(self.path(relative), record, start_unix_s=start)
        self.measurements.append({"id": f"dcpol-{pellet}", "file": relative, "technique": "dcpol",
                                  "pellet": pellet, "temperature_C": 25, "date": _date(start),
                                  "instrument": "Admiral Squidstat Plus"})

    def _other_pellets(self) -> None:
        """Li2S, LiI and their mixture (Nat. Commun. 2021): bulk arcs inside the analyser's range."""
        for k, material in enumerate(("Li2S", "LiI", "Li2S-LiI")):
            sample, pellet = f"S-{material}", f"P-{material}"
            self.samples.append({"id": sample, "material": material,
                                 "description": f"{material} powder for a conductivity pellet"
                                                + (", hand-ground mixture" if "-" in material else "")})
            thickness = round(1.0 + self.rng(f"{pellet} geometry").uniform(-0.05, 0.05), 2)
            density = {"Li2S": 1.66, "LiI": 4.08}.get(material, 2.2)
            entry = _pellet(pellet, sample, thickness, density_g_cm3=density)
            entry["settings"] = dict(PELLET_SETTINGS)
            self.pellets.append(entry)
            sigma, ea = self.params.pellet_sigma_S_cm[material], self.params.pellet_ea_eV[material]
            day = _unix("2025-05-12T08:00:00") + 86400.0 * k
            for j, celsius in enumerate(PELLET_TEMPERATURES_C):
                r_bulk = thickness / 10.0 / (_sigma_at(sigma, ea, celsius + 273.15) * _area(10.0))
                truth = {"R0": r_bulk, "C0": 5e-12, "CPE1_0": 1e-6, "CPE1_1": 0.85}
                self._eis(pellet, celsius, "p(R0,C0)-CPE1", truth, day + 7200.0 * j)

    # -- cells ------------------------------------------------------------------------------------

    def _cells(self) -> None:
        for plan in self.params.cells:
            active = round(plan.composite_mass_mg * ACTIVE_FRACTION, 9)
            nominal_mah = self.params.theoretical_mah_g * active / 1000.0
            self.cells.append({
                "id": plan.id, "electrolyte": "S-F10-B80", "cathode_active": "LTS",
                "composite_ratio": "60:30:10", "active_fraction": ACTIVE_FRACTION,
                "composite_mass_mg": plan.composite_mass_mg, "active_mass_mg": active,
                "loading_mg_cm2": active / AREA_CM2, "area_cm2": AREA_CM2,
                "anode": "Li-In", "electrolyte_mass_mg": 100, "stack_pressure_MPa": P0_MPA,
                "theoretical_capacity_mAh_g": self.params.theoretical_mah_g})
            start = _unix(plan.start)
            # polarisation = 2·(I·R + h/2) at 0.5 C: the resistance that gives the first cycle's
            resistance = (plan.polarisation_first_v - HYSTERESIS_V) / (2 * C_RATE * nominal_mah / 1000.0)
            record = _simulate_cell(plan, self.params, active_mg=active, nominal_mah=nominal_mah,
                                    resistance_ohm=resistance, start_unix_s=start,
                                    rng=self.rng(f"cycling {plan.id}"))
            cycling_id = f"cyc-{plan.id}"
            relative = f"raw/cycling/{plan.id}_{C_RATE:g}C.csv"
            writers.write_neware_csv(self.path(relative), record, active_mass_mg=active)
            self.measurements.append({"id": cycling_id, "file": relative, "technique": "cycling",
                                      "cell": plan.id, "date": plan.start[:10],
                                      "instrument": "Neware BTS4000",
                                      "notes": f"{plan.n_cycles} cycles at {C_RATE:g} C, 1.0–3.0 V vs Li–In"})
            self._pressure(plan, record, cycling_id)
            if plan is self.params.cells[0]:
                self._rate_test(plan, active, nominal_mah, resistance)
                self._insitu_eis(plan, record)

    def _rate_test(self, plan: CellPlan, active_mg: float, nominal_mah: float, resistance_ohm: float) -> None:
        from ssbkit.cycling.simulate import simulate_rate_test

        rates = self.params.rate_mah_g
        reference = rates[min(rates)]
        record = simulate_rate_test(
            rates=(*rates, min(rates)), cycles_per_rate=3, capacity_mah=reference * active_mg / 1000.0,
            nominal_capacity_mah=nominal_mah, rate_capacity={c: q / reference for c, q in rates.items()},
            first_charge_extra=100.0 / self.params.first_ce_pct - 1.0, ce=0.9999,
            resistance_ohm=resistance_ohm, hysteresis_v=HYSTERESIS_V, points_per_step=30, noise_v=3e-4,
            start_unix_s=_unix("2025-02-24T09:00:00"), rng=self.rng(f"rate {plan.id}"))
        relative = f"raw/cycling/{plan.id}_rate.csv"
        writers.write_neware_csv(self.path(relative), _thin_rests(record, 30), active_mass_mg=active_mg)
        self.measurements.append({"id": f"rate-{plan.id}", "file": relative, "technique": "cycling",
                                  "cell": plan.id, "protocol": "rate", "date": "2025-02-24",
                                  "instrument": "Neware BTS4000",
                                  "notes": "3 cycles each at 0.1, 0.5, 1 C, then 0.1 C"})

    def _pressure(self, plan: CellPlan, record: Any, cycling_id: str) -> None:
        from ssbkit.cycling.data import CYCLE, UNIX_TIME
        from ssbkit.pressure.data import PressureLog
        from ssbkit.pressure.simulate import simulate_pressure

        log = simulate_pressure(record, p0_mpa=P0_MPA, growth_per_cycle=plan.pressure_growth_pct / 100.0,
                                breathing_mpa=plan.breathing_mpa, noise_mpa=0.02,
                                interval_s=PRESSURE_INTERVAL_S, margin_s=600.0,
                                rng=self.rng(f"pressure {plan.id}"))
        # the load cell logged the first cycles only: keep its samples to 10 min past their end
        last_row = np.flatnonzero(np.asarray(record.columns[CYCLE]) == PRESSURE_CYCLES)[-1]
        end = float(np.asarray(record.columns[UNIX_TIME])[last_row]) + 600.0
        kept = log.unix_time <= end
        log = PressureLog(log.unix_time[kept], log.pressure[kept], source=log.source)
        relative = f"raw/pressure/{plan.id}_pressure.csv"
        writers.write_pressure_csv(self.path(relative), log)
        self.measurements.append({"id": f"pressure-{plan.id}", "file": relative, "technique": "pressure",
                                  "cell": plan.id, "cycling": cycling_id, "date": plan.start[:10],
                                  "instrument": "load cell (simulated)",
                                  "notes": f"logged over the first {PRESSURE_CYCLES} cycles"})

    def _insitu_eis(self, plan: CellPlan, record: Any) -> None:
        """Eleven sweeps over the second charge (SOC 0–100 %), processes as examples/make_data.py."""
        from ssbkit.eis.simulate import simulate_spectrum

        half = record.metadata["truth"]["half_cycles"]
        second = next(j for j, (c, d) in enumerate(zip(half["cycle"], half["direction"], strict=True))
                      if c == 2 and d == "charge")
        begin, end = half["start_s"][second], half["end_s"][second]
        soc = np.linspace(0.0, 1.0, 11)
        frequency = np.logspace(math.log10(7e6), -2, 89)
        rng = self.rng(f"insitu {plan.id}")
        sweeps = [simulate_spectrum(INSITU_CIRCUIT, insitu_cell_parameters(x), frequency, noise=0.002,
                                    rng=rng) for x in soc]
        relative = f"raw/eis/{plan.id}_insitu_charge.csv"
        start = _unix(plan.start) + begin
        writers.write_squidstat_eis(self.path(relative), sweeps, start_unix_s=start,
                                    sweep_starts_s=[5.0 + x * (end - begin) for x in soc],
                                    dc_potentials_v=[1.55 + 0.8 * x + 0.15 * x**3 for x in soc])
        self.measurements.append({"id": f"eis-{plan.id}-charge", "file": relative, "technique": "eis",
                                  "cell": plan.id, "soc_percent": [round(100 * x) for x in soc],
                                  "date": _date(start), "instrument": "Admiral Squidstat Plus",
                                  "notes": "in-situ impedance during the second charge"})

    # -- EXSY and the headline ----------------------------------------------------------------------

    def _exsy(self) -> None:
        from ssbkit.nmr.simulate import simulate_buildup

        sample = "S-Li2S-LPSC-LiI"
        self.samples.append({"id": sample, "material": "Li2S-LPSC-LiI",
                             "description": "Li2S / Li6PS5Cl / LiI mixture for 6Li 2D-EXSY"})
        for interface, ea in self.params.exsy_ea_eV.items():
            name = interface.replace("–", "-")
            table = simulate_buildup("sphere", mixing_times_s=np.geomspace(0.01, 10.0, 16),
                                     D_cm2_s=self.params.exsy_d298_cm2_s[interface],
                                     length_um=EXSY_RADIUS_UM,
                                     plateau=0.5, temperatures_K=list(EXSY_TEMPERATURES_K), Ea_eV=ea,
                                     noise=self.params.exsy_noise, rng=self.rng(f"exsy {name}"))
            relative = f"raw/exsy/{name}_buildup.csv"
            writers.write_buildup_csv(self.path(relative), table)
            self.measurements.append({"id": f"exsy-{name}", "file": relative, "technique": "exsy",
                                      "sample": sample, "instrument": "6Li MAS NMR, 2D-EXSY (simulated)",
                                      "notes": "cross/(cross + diagonal) build-up, 293–373 K",
                                      "conditions": {"interface": interface}})

    def _headline(self) -> None:
        """The studies' numbers (always ``PAPER``'s) and the analysis result field that gives each."""
        p, (conventional, high) = PAPER, PAPER.cells
        cyc, cyc_high = f"cycling:cyc-{conventional.id}", f"cycling:cyc-{high.id}"
        best = "conductivity:P-F10-B80"
        rows = [("σ(25 °C), FRB 10 %, BMR 80:1", p.sigma_best_mS_cm, "mS/cm", EES, best, "sigma_25C"),
                ("Ea, FRB 10 %, BMR 80:1", p.ea_best_eV, "eV", EES, best, "ea")]
        rows += [(f"specific capacity at {rate:g} C", q, "mAh/g", EES, f"rate:rate-{conventional.id}",
                  f"capacity_{rate:g}C") for rate, q in p.rate_mah_g.items()]
        rows += [
            ("first-cycle Coulombic efficiency", p.first_ce_pct, "%", EES, cyc, "first_cycle_ce"),
            ("peak discharge capacity", conventional.peak_mah_g, "mAh/g", EES, cyc, "peak_capacity"),
            ("cycle of the peak capacity", conventional.peak_cycle, "1", EES, cyc, "peak_cycle"),
            (f"retention after {conventional.n_cycles} cycles (vs peak)", conventional.retention_pct, "%",
             EES, cyc, "retention_vs_peak"),
            ("polarisation, first cycle", conventional.polarisation_first_v, "V", EES, cyc,
             "polarisation_first"),
            ("polarisation, last cycle", conventional.polarisation_last_v, "V", EES, cyc,
             "polarisation_last"),
            (f"retention after {high.n_cycles} cycles, high loading (vs peak)", high.retention_pct, "%", EES,
             cyc_high, "retention_vs_peak")]
        rows += [(f"stack-pressure growth per cycle, {cell.id.removeprefix('C-')} loading",
                  cell.pressure_growth_pct, "%", EES, f"pressure:pressure-{cell.id}", "growth_per_cycle")
                 for cell in p.cells]
        rows += [(f"EXSY Ea, {interface}", ea, "eV", NATCOMM, f"exsy:exsy-{interface.replace('–', '-')}",
                  "ea") for interface, ea in p.exsy_ea_eV.items()]
        rows += [(f"pellet Ea, {material.replace('-', '–')}", ea, "eV", NATCOMM,
                  f"conductivity:P-{material}", "ea") for material, ea in p.pellet_ea_eV.items()]
        keys = ("quantity", "paper", "unit", "source", "analysis", "field")
        self.headline += [dict(zip(keys, row, strict=True)) for row in rows]


# -- helpers ------------------------------------------------------------------------------------

INSITU_CIRCUIT = "R0-ZARC1-ZARC2-ZARC3-ZARC4"
# the conductivity kind's default circuit, R0-CPE1, is the argyrodite's (bulk arc above 7 MHz);
# the Nat. Commun. pellets show their bulk arc, so they carry their own
PELLET_SETTINGS = {"circuit": "p(R0,C0)-CPE1"}
_HEADER = """\
# A simulated example study, written by ssbkit.study.example.write_example_study(seed={seed}).
# Every file under raw/ was made by ssbkit's own forward models; the parameters are the two
# studies' published numbers where they report them and chosen for the example elsewhere
# (the table in the module docstring of ssbkit.study.example says which). Not measured data.
"""


def _study_table() -> dict[str, Any]:
    description = (
        "Every file in raw/ is simulated by ssbkit's own forward models (the simulate modules of "
        "ssbkit.eis, ssbkit.cycling, ssbkit.pressure, ssbkit.xrd and ssbkit.nmr) with parameters taken "
        f"from the two studies ({EES}: ball-milled Li5.5PS4.5Cl0.8Br0.7 and Li2TiS3 | argyrodite | Li–In "
        f"cells; {NATCOMM}: exchange NMR across a LiI coating) where they report them, and chosen for "
        "the example elsewhere (ssbkit.study.example lists which). Not measured data.")
    return {"name": "Ball-milled argyrodite, Li2TiS3 cells and a LiI coating (simulated example)",
            "description": description, "simulated": True,
            "settings": {"exsy": {"length_um": EXSY_RADIUS_UM}}}


def insitu_cell_parameters(soc: float) -> dict[str, float]:
    """The in-situ cell's processes (``INSITU_CIRCUIT``) at a state of charge ``soc`` from 0 to 1;
    examples/make_data.py writes its DRT series from the same cell."""
    return {"R0": 12.0,
            "ZARC1_0": 6.0, "ZARC1_1": 1e-6, "ZARC1_2": 0.9,
            "ZARC2_0": 10.0, "ZARC2_1": 3e-4, "ZARC2_2": 0.85,
            "ZARC3_0": 20.0 + 60.0 * soc**2, "ZARC3_1": 0.1, "ZARC3_2": 0.85,
            "ZARC4_0": 30.0 + 20.0 * soc, "ZARC4_1": 10.0, "ZARC4_2": 0.8}


def _area(diameter_mm: float) -> float:
    return math.pi * (diameter_mm / 20.0) ** 2


def _pellet(pellet: str, sample: str, thickness_mm: float, *, density_g_cm3: float) -> dict[str, Any]:
    """A cold-pressed 10 mm pellet at 85 % of the crystal density (chosen)."""
    mass_mg = 1000.0 * 0.85 * density_g_cm3 * _area(10.0) * thickness_mm / 10.0
    return {"id": pellet, "sample": sample, "diameter_mm": 10, "thickness_mm": thickness_mm,
            "mass_mg": round(mass_mg, 1), "pressing_pressure_MPa": 375, "electrodes": "stainless steel"}


def _date(unix_s: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d")


def _simulate_cell(plan: CellPlan, params: ExampleParameters, *, active_mg: float, nominal_mah: float,
                   resistance_ohm: float, start_unix_s: float, rng: np.random.Generator) -> Any:
    """The long-term cycling record of ``plan`` (capacities prescribed; see the module docstring)."""
    from ssbkit.cycling.simulate import simulate_cycling

    record = simulate_cycling(
        n_cycles=plan.n_cycles, capacity_mah=plan.peak_mah_g * active_mg / 1000.0, active_mass_mg=active_mg,
        nominal_capacity_mah=nominal_mah, c_rates=C_RATE, rate_capacity=1.0,
        first_charge_extra=100.0 / params.first_ce_pct - 1.0, ce=0.9999, peak_cycle=plan.peak_cycle,
        initial_capacity_fraction=plan.initial_fraction,
        fade_per_cycle=(1.0 - plan.retention_pct / 100.0) / (plan.n_cycles - plan.peak_cycle),
        resistance_ohm=resistance_ohm, hysteresis_v=HYSTERESIS_V, points_per_step=30, noise_v=3e-4,
        start_unix_s=start_unix_s, rng=rng)
    grown = _grow_polarisation(record, plan.polarisation_last_v - plan.polarisation_first_v)
    return _thin_rests(grown, 30)


def _grow_polarisation(record: Any, increase_v: float) -> Any:
    """``record`` with its polarisation grown linearly by ``increase_v`` from the first cycle to
    the last: charge rows up and discharge rows down by half the cycle's increment, the energy
    counters moved by that voltage times the charge counted so far in the step."""
    from ssbkit.cycling.data import (
        CHARGE_CAPACITY,
        CHARGE_ENERGY,
        CURRENT,
        CYCLE,
        DISCHARGE_CAPACITY,
        DISCHARGE_ENERGY,
        VOLTAGE,
        CyclingRecord,
    )

    columns = {name: np.array(values) for name, values in record.columns.items()}
    cycle = columns[CYCLE].astype(float)
    half = 0.5 * increase_v * (cycle - cycle.min()) / max(cycle.max() - cycle.min(), 1.0)
    charging, discharging = columns[CURRENT] > 0, columns[CURRENT] < 0
    columns[VOLTAGE] = columns[VOLTAGE] + np.where(charging, half, 0.0) - np.where(discharging, half, 0.0)
    columns[CHARGE_ENERGY] = columns[CHARGE_ENERGY] + np.where(charging, half * columns[CHARGE_CAPACITY], 0.0)
    columns[DISCHARGE_ENERGY] = columns[DISCHARGE_ENERGY] - np.where(
        discharging, half * columns[DISCHARGE_CAPACITY], 0.0)
    return CyclingRecord(columns, record.metadata, record.source)


def _thin_rests(record: Any, points_per_step: int) -> Any:
    """``record`` with four rows kept of each rest step (a logger writes rests sparsely)."""
    from ssbkit.cycling.data import STEP_TYPE, CyclingRecord

    local = np.arange(len(record)) % points_per_step  # every step has points_per_step rows
    keep = (np.asarray(record.columns[STEP_TYPE]) != "Rest") | np.isin(
        local, [0, points_per_step // 3, 2 * points_per_step // 3, points_per_step - 1])
    return CyclingRecord({name: np.asarray(values)[keep] for name, values in record.columns.items()},
                         record.metadata, record.source)
