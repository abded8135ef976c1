"""Le Bail, Pawley and multi-phase Rietveld refinement of a powder pattern.

``refine(pattern, phases, mode=…)`` fits

    y_c,i = b_i + Σ_φ Σ_k I_φk Σ_l w_l LP(2θ_kl) Ω(2θ_i − c_kl; Γ_kl, η_kl),
    c_kl = 2θ_kl + zero − (2s/R)·cosθ_kl·180/π,

to the measured pattern by weighted least squares, χ² = Σ w_i (y_o,i − y_c,i)², w_i = 1/σ_i²
(the pattern's σ; counting statistics √I where the file gives none). The model is the one of
``simulate.calculate_pattern`` (the tests check they agree to rounding): l runs over the
radiation lines (λ_l, weight w_l; Cu Kα2 at its own 2θ_kl with weight ½), Ω is the
area-normalised Thompson–Cox–Hastings pseudo-Voigt cut at ±12 FWHM (its Lorentzian part
rescaled to full area, as ``profile.add_peaks``) with Gaussian FWHM² = (U + U_φ) tan²θ +
V tanθ + W and Lorentzian FWHM = (X + X_φ) tanθ + (Y + Y_φ)/cosθ [deg] — U, V, W, X, Y the
instrument's (``data.Instrument``), U_φ, X_φ, Y_φ the phase's own broadening — widths and
LP taken at the Bragg angle; b a Chebyshev series on 2θ scaled to [−1, 1] over the fitted
range; ``zero`` [deg]; ``displacement`` s [mm] the sample height error on a goniometer of
radius R [mm], s > 0 for a sample surface below the focusing circle (recessed), which moves
peaks to lower 2θ. Asymmetry, absorption and preferred orientation are not modelled.

I_φk depends on the mode:

- ``"rietveld"``: I = S_φ · m_k · |F_k|² from the structure (``crystal.structure_factors``);
- ``"lebail"``: I_k extracted by partitioning the observed counts among the reflections in
  proportion to the calculated ones, I_k ← I_k · Σ_i w_i Ω_ik (y_o − b)_i / Σ_i w_i Ω_ik (y_c − b)_i,
  alternated with least squares of scales, background, cell and profile until Rwp settles.
  Le Bail's own partition averages the ratio (y_o − b)/(y_c − b) point by point; its fixed
  point weighs every point of a peak's ±12 FWHM alike, so the background's noise in the
  tails enters the intensities (Rwp 5.9 % against 5.26 % for Pawley on synth3). The ratio of
  weighted sums used here (the image-space reconstruction update) has the least-squares
  intensities as its fixed point, and is over-relaxed (the ratio to the power 1.9) to
  converge in fewer partitions;
- ``"pawley"``: I_k are least-squares parameters (≥ 0); reflections of one phase closer than
  a tenth of the FWHM (exact overlaps such as cubic 333/511) share one intensity.

Linear parameters (scales, background, Pawley intensities) are solved by linear least squares
inside every evaluation (variable projection; ``parameters.fit_separable``); the others by a
bounded Levenberg–Marquardt with an analytic Jacobian (peak centre, width and η derivatives
through the chain rule; |F|² by central differences), which is exact where finite
differences are not: cutting peaks at a window makes the model jump by a tail's value
whenever an edge crosses a point, and a finite-difference step that meets one sees a slope
of jump/step.

The default strategy runs cumulative stages: (1) scales + background + zero, (2) + cell,
(3) + profile — X_φ, Y_φ of every phase when a calibrated ``instrument`` is given, else
U, V, W as well (sizes and strains then include the instrument) — and, for Rietveld,
(4) + free atomic coordinates (``parameters.free_directions``) and Biso of every site of
phases above 20 wt % (one overall ΔB per phase above 2 wt %). Parameters are named
``zero``, ``displacement``, ``U`` … ``Y``, ``bkg0`` …, ``<phase>:scale``, ``<phase>:a`` (the
free cell parameters of its crystal system), ``<phase>:X|Y|U``, ``<phase>:<site>:x|y|z``,
``<phase>:<site>:B``, ``<phase>:<site>:occ`` (a factor on the site's occupancies),
``<phase>:B`` and, Pawley, ``<phase>:I(h k l)``; a strategy may name them or patterns.

Reported per phase: cell parameters, volume and weight fraction with esd, crystallite size
and microstrain, the reflections (ticks) with intensities, and R_Bragg. Conventions:

- esd from the covariance (JᵀJ)⁻¹ scaled by GOF² = χ²/(N − P), as GSAS-II and TOPAS do;
  derived numbers (dependent cell edges, volume, weight fraction, size, strain) to first
  order through that covariance. Le Bail intensities are not counted in P;
- agreement indices in %, none background-subtracted: Rp = Σ|y_o − y_c|/Σ y_o,
  Rwp = [Σ w(y_o − y_c)²/Σ w y_o²]^½, Rexp = [(N − P)/Σ w y_o²]^½ and
  GOF = Rwp/Rexp = √(χ²/(N − P)) as GSAS-II reports it (FullProf's "Chi2" is GOF²);
  R_Bragg = Σ|I_obs − I_calc|/Σ I_obs with I_obs partitioned as above;
- weight fractions (Rietveld) by Hill & Howard: W_φ = S_φ (ZMV)_φ / Σ S (ZMV) with
  ZM = ``Phase.cell_mass`` and V the cell volume; crystalline phases only (no amorphous);
- crystallite size from the phase's Lorentzian Y_φ (Scherrer on the FWHM, K = 0.9):
  L = K λ / (Y_φ·π/180) with λ the strongest line, in nm; an apparent size, near but not
  equal to the volume-weighted one (TOPAS's LVol-FWHM; GSAS-II uses K = 1 and µm). With Y_φ
  within 2σ of 0 no size broadening is resolved: the size is infinite, with the one-sided 95 %
  lower limit K λ/(Y_φ + 1.645σ) in ``size_lower_limit``;
- microstrain from X_φ, "apparent strain" ε = β/(4 tanθ) with β = X_φ·π/180, i.e.
  ε = X_φ·π/720, in %. GSAS-II reports microstrain ×10⁶ from its own mixed width and
  FullProf (π/180)·X/4 in ‱ in its .mic file: compare programs on widths, not on these. A
  phase's Gaussian U_φ (a strategy may refine it) does not enter the strain.

Why our own engine: GSAS-II is not pip-installable and rietx is young; this is a few hundred
lines of numpy on ``crystal`` and ``profile``, every number traceable. Peaks are tabulated
per reflection in sparse form (point, peak, value and derivatives) rather than summed
(``profile.add_peaks``): the refinement needs per-reflection columns (Pawley's design
matrix, the partition) and their derivatives.

Examples
--------
>>> from ssbkit.xrd.data import Instrument
>>> from ssbkit.xrd.simulate import PhaseBroadening, simulate_pattern
>>> from ssbkit.xrd.structures import licl
>>> ins = Instrument(U=0.004, V=-0.002, W=0.002)
>>> scan = simulate_pattern([licl(a=5.1300)], instrument=ins, weight_fractions=[1.0], background=[100.0],
...                         phase_broadening=[PhaseBroadening(Y=0.05)], noise=False)
>>> fit = refine(scan, [licl(a=5.1350)], instrument=ins, strategy=[["scale", "background"], ["cell", "size"]])
>>> round(fit.phases[0].a.value, 6), round(fit.phases[0].size.value, 2), fit.Rwp < 1e-6
(5.13, 158.89, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance
from ssbkit.core.validate import finite, one_of, positive, positive_int
from ssbkit.xrd.data import Instrument, Pattern, wavelengths_from
from ssbkit.xrd.parameters import Parameters, fit_separable, free_directions, solve_linear
from ssbkit.xrd.simulate import DEFAULT_GONIOMETER_RADIUS_MM

__all__ = ["GROUPS", "MODES", "PhaseRefinement", "RefinementResult", "refine"]

MODES = ("rietveld", "lebail", "pawley")
GROUPS = ("scale", "background", "zero", "displacement", "cell", "profile", "instrument", "broadening",
          "size", "strain", "positions", "biso", "occupancy")
SCHERRER_K = 0.9
WINDOW_FWHM = 12.0  # as profile.add_peaks and simulate.calculate_pattern
PAWLEY_OVERLAP = 0.1  # Pawley: reflections of a phase closer than this × FWHM share an intensity
_LORENTZ_IN_WINDOW = 1.0 / math.atan(2.0 * WINDOW_FWHM)
_GAUSS_NORM = 2.0 * math.sqrt(math.log(2.0) / math.pi)
_FOUR_LN2 = 4.0 * math.log(2.0)
_DEG_PER_RAD = 180.0 / math.pi
_RAD_PER_2THETA = math.pi / 360.0  # dθ [rad] per degree of 2θ
_MARGIN_DEG = 3.0  # reflections this far outside the range still reach it with their tails
_MAJOR_PHASE, _MINOR_PHASE = 0.2, 0.02  # default stage 4: Biso per site above, an overall ΔB above
_LEBAIL_RELAX, _LEBAIL_PARTITIONS, _LEBAIL_CYCLES = 1.9, 20, 100
_ONE_SIDED_95 = 1.6448536269514722  # the normal distribution's 95th percentile
_LEBAIL_MIN_AREA = 0.01  # a reflection with less of its area on the data keeps its intensity
_SEARCH_SPAN, _SEARCH_STEPS = 0.015, 200  # cell search: ± relative dilation, most steps either side
_GLOBAL = ("zero", "displacement", "U", "V", "W", "X", "Y")

citations.register("rietveld1969", "H. M. Rietveld, A profile refinement method for nuclear and magnetic "
                   "structures, J. Appl. Cryst. 2 (1969) 65–71.", "10.1107/S0021889869006558")
citations.register("lebail1988", "A. Le Bail, H. Duroy, J. L. Fourquet, Ab-initio structure determination of "
                   "LiSbWO6 by X-ray powder diffraction, Mater. Res. Bull. 23 (1988) 447–452.",
                   "10.1016/0025-5408(88)90019-0")
citations.register("pawley1981", "G. S. Pawley, Unit-cell refinement from powder diffraction scans, J. Appl. "
                   "Cryst. 14 (1981) 357–361.", "10.1107/S0021889881009618")
citations.register("golubpereyra1973", "G. H. Golub, V. Pereyra, The differentiation of pseudo-inverses "
                   "and nonlinear least squares problems whose variables separate, SIAM J. Numer. Anal. 10 "
                   "(1973) 413–432.", "10.1137/0710036")
citations.register("daubewitherspoon1986", "M. E. Daube-Witherspoon, G. Muehllehner, An iterative image "
                   "space reconstruction algorithm suitable for volume ECT, IEEE Trans. Med. Imaging 5 "
                   "(1986) 61–66.", "10.1109/TMI.1986.4307748")


# -- results -------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PhaseRefinement:
    """One refined phase: cell, volume, weight fraction, size, strain, scale, reflections (ticks).

    ``reflections`` maps ``hkl`` (n, 3), ``d [Å]``, ``two_theta [deg]`` (where the Kα1 peak is
    seen, zero and displacement included), ``multiplicity`` and ``intensity`` (m·|F|² for
    Rietveld, the extracted intensity for Le Bail and Pawley), ``observed intensity`` (the
    observed pattern partitioned among reflections, Le Bail's way).
    """

    name: str
    space_group: str
    a: Estimate
    b: Estimate
    c: Estimate
    alpha: Estimate
    beta: Estimate
    gamma: Estimate
    volume: Estimate
    weight_fraction: Estimate
    size: Estimate
    strain: Estimate
    scale: Estimate
    X: Estimate
    Y: Estimate
    R_bragg: float
    reflections: Mapping[str, np.ndarray]
    phase: Any = field(repr=False, compare=False)
    size_lower_limit: float = field(default=math.nan, metadata={"unit": "nm"})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "space_group": self.space_group}
        for name in ("a", "b", "c", "alpha", "beta", "gamma", "volume", "weight_fraction", "size", "strain",
                     "scale", "X", "Y"):
            out[name] = getattr(self, name).to_dict()
        out["R_bragg"] = self.R_bragg if math.isfinite(self.R_bragg) else None
        out["size_lower_limit"] = self.size_lower_limit if math.isfinite(self.size_lower_limit) else None
        out["reflections"] = {k: np.asarray(v).tolist() for k, v in self.reflections.items()}
        return out


@dataclass(frozen=True, kw_only=True)
class RefinementResult(Result):
    """A refined pattern: phases, global agreement, refined parameters and the curves to plot.

    ``Rwp``, ``Rp``, ``Rexp`` in %; ``GOF`` = Rwp/Rexp = √(χ²/(N − P)) (GSAS-II's). Curves:
    ``two_theta`` [deg], ``observed``, ``calculated``, ``background`` [counts] and ``difference``.
    """

    mode: str
    phases: tuple[PhaseRefinement, ...]
    Rwp: float = field(metadata={"unit": "%"})
    Rp: float = field(metadata={"unit": "%"})
    Rexp: float = field(metadata={"unit": "%"})
    GOF: float
    n_points: int
    n_parameters: int
    zero: Estimate
    displacement: Estimate
    instrument: Instrument
    parameters: Mapping[str, Estimate]
    stages: tuple[Mapping[str, Any], ...]
    two_theta: np.ndarray
    observed: np.ndarray
    sigma: np.ndarray
    calculated: np.ndarray
    background: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        return self.observed - self.calculated

    def phase(self, name: str) -> PhaseRefinement:
        for p in self.phases:
            if p.name == name:
                return p
        raise InputError(f"no phase {name!r}; refined: {', '.join(p.name for p in self.phases)}")

    def to_frame(self) -> Any:
        """One row per phase with ``name [unit]`` columns (value and stderr)."""
        import pandas as pd

        rows = []
        for p in self.phases:
            row: dict[str, Any] = {"phase": p.name, "space group": p.space_group}
            for name in ("a", "b", "c", "volume", "weight_fraction", "size", "strain"):
                e = getattr(p, name)
                row[f"{name} [{e.unit}]"] = e.value
                row[f"{name} stderr [{e.unit}]"] = e.stderr
            rows.append(row)
        return pd.DataFrame(rows)

    def curves(self) -> Any:
        """The curves as a table: 2θ, observed, calculated, background, difference."""
        import pandas as pd

        return pd.DataFrame({"2theta [deg]": self.two_theta, "observed [counts]": self.observed,
                             "calculated [counts]": self.calculated, "background [counts]": self.background,
                             "difference [counts]": self.difference})

    def _report_lines(self) -> list[str]:
        lines = [f"  mode: {self.mode}; Rwp {self.Rwp:.2f} %, Rp {self.Rp:.2f} %, Rexp {self.Rexp:.2f} %, "
                 f"GOF {self.GOF:.3f} ({self.n_points} points, {self.n_parameters} parameters)"]
        for p in self.phases:
            lines.append(f"  {p.name} ({p.space_group}): a = {p.a}, b = {p.b}, c = {p.c}, V = {p.volume}, "
                         f"wt = {p.weight_fraction}, size = {p.size}, strain = {p.strain}")
        return lines


# -- the refinement --------------------------------------------------------------------------------

def refine(pattern: Pattern, phases: Any, *, mode: str = "rietveld", instrument: Instrument | None = None,
           wavelength: Any = None, strategy: str | Sequence[Any] = "default", background_terms: int = 6,
           two_theta_range: tuple[float, float] | None = None, start: Mapping[str, float] | None = None,
           max_nfev: int | None = None, goniometer_radius: float = DEFAULT_GONIOMETER_RADIUS_MM
           ) -> RefinementResult:
    """Refine ``phases`` against ``pattern`` (Rietveld, Le Bail or Pawley; module docstring).

    ``phases``: ``Phase`` objects, CIF paths or built-in names (one or a list).
    ``instrument``: the calibrated profile and geometry (U, V, W, X, Y, zero, polarisation);
    without one the profile starts as a Gaussian as wide as the strongest peak and U, V, W
    are refined. The radiation is ``wavelength`` (an anode name, λ [Å] or [(λ, weight), …])
    if given, else the instrument's, else the pattern's. ``strategy``: ``"default"`` or a
    list of cumulative stages, each a list of groups (``GROUPS``) or parameter names or
    patterns (``"LiCl:a"``, ``"*:B"``); the scales (and Pawley's intensities) are solved for
    in every stage. ``two_theta_range``: (min, max) [deg] fitted.
    ``start``: starting values by parameter name (``{"LiCl:Y": 0.05}``), which override the
    phases', the instrument's and the guessed ones. ``max_nfev``: the most model evaluations
    per least-squares run. ``goniometer_radius`` [mm] converts the sample displacement.
    """
    if not isinstance(pattern, Pattern):
        raise InputError(f"expected a Pattern, got {type(pattern).__name__}", source="pattern")
    mode = one_of("mode", mode, MODES)
    if isinstance(background_terms, bool) or not isinstance(background_terms, int | np.integer) \
            or not 0 <= background_terms <= 30:
        raise InputError(f"must be a whole number in 0–30, got {background_terms!r}",
                         source="background_terms")
    max_nfev = None if max_nfev is None else positive_int("max_nfev", max_nfev)
    radius_mm = positive("goniometer_radius", goniometer_radius)
    if instrument is not None and not isinstance(instrument, Instrument):
        raise InputError(f"expected an Instrument, got {type(instrument).__name__}", source="instrument")
    lines = _radiation(pattern, instrument, wavelength)
    x, y, sigma = _points(pattern, two_theta_range)
    if not np.any(y > 0):
        raise InputError("the pattern has no intensities (every count in the fitted range is <= 0)",
                         source=pattern.source or "pattern")
    position, width = _strongest_peak(x, y)
    if instrument is None:  # a Gaussian start as wide as the data's strongest peak
        base = Instrument(wavelengths=lines, W=width ** 2)
    else:
        base = dataclasses.replace(instrument, wavelengths=lines)
    items = list(phases) if isinstance(phases, list | tuple) else [phases]
    if not items:
        raise InputError("give at least one phase", source="phases")
    loaded = [_load_phase(item, f"phases[{i}]") for i, item in enumerate(items)]
    names = _unique_names([p.name for p in loaded])
    models = [_PhaseModel(p, n, lines, float(x[0]), float(x[-1])) for p, n in zip(loaded, names, strict=True)]
    model = _Model(x, lines, base, models, mode, int(background_terms), radius_mm)
    model.calibrated = instrument is not None
    if mode == "pawley":
        _group_overlaps(model, width)
    model.build_parameters(size_guess=_size_broadening_guess(base, position, width) if instrument else 0.0)
    _start_from(model.params, start)
    stages = _stages(strategy, mode)

    params, fit, refined, history, unsettled = model.params, None, [], [], []
    diverged: list[str] = []
    searched: set[str] = set()
    for number, stage in enumerate(stages):
        last = number == len(stages) - 1
        for group in stage:
            refined += [name for name in _resolve(group, model, params) if name not in refined]
        newly = [pm for pm in model.phases
                 if pm.name not in searched and any(f"{pm.name}:{c}" in refined for c in pm.cell_names)]
        if newly:
            _search_cells(model, params, y, sigma, newly)
            searched.update(pm.name for pm in newly)
        # a phase with no intensity left has nothing to hold its cell, profile or structure: they stay put
        absent = set() if fit is None else {pm.name for pm in model.phases
                                            if _phase_absent(model, params, pm)}
        for name in params:  # scales and Pawley intensities, linear, are always solved for
            always = params[name].linear and not name.startswith("bkg")
            held = not params[name].linear and name.split(":", 1)[0] in absent
            params.update(name, vary=always or (name in refined and not held))
        _lift_from_bounds(params, refined)
        varied = sum(params[name].vary for name in params)
        if y.size <= varied:
            raise InputError(f"{y.size} points in the fitted range cannot determine the {varied} parameters "
                             f"of stage {number + 1}", source=pattern.source or "pattern")
        if mode == "lebail":
            fit, cycles, settled, rose = _lebail_stage(model, params, y, sigma, max_nfev, covariance=last)
            if not settled:
                unsettled.append(number + 1)
            if rose:
                diverged.append(f"Le Bail stage {number + 1}: {rose}")
        else:
            fit = fit_separable(model.evaluate, params, y, sigma, jacobian=model.jacobian, max_nfev=max_nfev,
                                covariance=last, tolerance=1e-8 if last else 1e-6,
                                max_step=_cell_steps(model, params))
            cycles = 1
        params = model.params = fit.parameters
        history.append({"stage": number + 1, "refined": list(refined), "Rwp": _rwp(y, fit.calculated, sigma),
                        "evaluations": fit.nfev, "cycles": cycles, "success": fit.success})
    notes = [f"Le Bail stage {k} stopped at {_LEBAIL_CYCLES} cycles, Rwp still falling" for k in unsettled]
    # A phase that is not there is a finding (its weight fraction is ~0), not a failed fit; a cell
    # that ended on its bound is a failure.
    phase_notes = _phase_problems(model, params)
    absent = [n for n in phase_notes if " not found: " in n]
    problems = diverged + [n for n in phase_notes if n not in absent]
    return _result(model, fit, x, y, sigma, history, instrument, strategy, two_theta_range, absent + notes,
                   problems)


def _search_cells(model: _Model, params: Parameters, y: np.ndarray, sigma: np.ndarray,
                  phases: list[_PhaseModel]) -> None:
    """Start each phase's cell from the best of a grid of dilations, strongest phase first.

    Least squares on a cell started more than about a FWHM off (at the top of the range) finds
    the nearest local minimum, often with a minor phase's peaks on the main phase's tails and
    its scale at 0, after which nothing holds the cell. Scaling the cell edges by 1 ± δ over
    ±``_SEARCH_SPAN`` in steps that move the highest reflection by a quarter of its FWHM, with
    scales and background solved at each, finds the basin; the least squares that follow
    refine within it. Intensities: |F|² (Rietveld), the current extraction (Le Bail) or the
    multiplicities (Pawley).
    """
    values = params.vector()
    sqrt_w = 1.0 / sigma
    columns = {pm.name: _phase_column(model, pm, values) for pm in model.phases}
    order = sorted(phases, key=lambda pm: -float(np.sum(columns[pm.name])) * max(
        params[f"{pm.name}:scale"].value if model.mode != "pawley" else 1.0, 1e-300))
    for pm in order:
        lengths = [model.index[f"{pm.name}:{c}"] for c in pm.cell_names if c in ("a", "b", "c")]
        if not lengths:
            continue
        step = 0.25 * _cell_resolution(model, pm, values)
        count = min(int(math.ceil(_SEARCH_SPAN / step)), _SEARCH_STEPS)
        start = values[lengths].copy()
        best, best_chi2 = start, math.inf
        for factor in 1.0 + np.linspace(-_SEARCH_SPAN, _SEARCH_SPAN, 2 * count + 1):
            trial = start * factor
            if any(v < params[model.names[i]].min or v > params[model.names[i]].max
                   for i, v in zip(lengths, trial, strict=True)):
                continue
            values[lengths] = trial
            columns[pm.name] = _phase_column(model, pm, values)
            design = np.column_stack([*columns.values(), model.basis])
            nonnegative = np.r_[np.ones(len(columns), bool), np.zeros(model.basis.shape[1], bool)]
            coefficients = solve_linear(design, y, sqrt_w, nonnegative)
            chi2 = float(np.sum((sqrt_w * (y - design @ coefficients)) ** 2))
            if chi2 < best_chi2:
                best, best_chi2 = trial, chi2
        values[lengths] = best
        columns[pm.name] = _phase_column(model, pm, values)
        for i, v in zip(lengths, best, strict=True):
            params.update(model.names[i], value=float(v))


def _cell_resolution(model: _Model, pm: _PhaseModel, values: np.ndarray) -> float:
    """The relative change of the cell edges that moves a reflection in range by its FWHM (the
    highest-angle one, which moves most: |∂2θ/∂ln d| = 2 tanθ)."""
    t = model.table(pm, values)
    inside = np.isfinite(t.ticks) & (t.ticks >= model.x[0]) & (t.ticks <= model.x[-1])
    if not inside.any():
        return 0.01
    moves = 2.0 * _DEG_PER_RAD * np.tan(np.radians(t.ticks[inside] / 2.0))
    return float(np.min(t.fwhm[inside] / moves))


def _cell_steps(model: _Model, params: Parameters) -> dict[str, float]:
    """The largest step of every cell parameter in one least-squares iteration: one that moves the
    peaks by half their FWHM. A longer one can carry a minor phase's peaks past the ones they
    fit, its scale then drops to 0 and nothing brings the cell back."""
    values = params.vector()
    out = {}
    for pm in model.phases:
        relative = 0.5 * _cell_resolution(model, pm, values)
        for c in pm.cell_names:
            value = params[f"{pm.name}:{c}"].value
            out[f"{pm.name}:{c}"] = relative * (value if c in ("a", "b", "c") else _DEG_PER_RAD)
    return out


def _phase_column(model: _Model, pm: _PhaseModel, values: np.ndarray) -> np.ndarray:
    """The phase's pattern per unit scale (Pawley: intensities set to the multiplicities)."""
    t = model.table(pm, values)
    if model.mode == "rietveld":
        intensity = model.structure_intensities(pm, values)
    else:
        intensity = pm.extracted if model.mode == "lebail" else pm.multiplicity
    return np.bincount(t.rows, weights=t.value * intensity[t.refl[t.peak]], minlength=model.x.size)


def _phase_absent(model: _Model, params: Parameters, pm: _PhaseModel) -> bool:
    """True where the phase contributes no intensity (scale or every intensity at 0)."""
    linear = [params[model.names[i]].value for i in pm.linear_idx]
    if model.mode == "lebail" and not np.any(pm.extracted > 0):
        return True
    return not any(v > 0 for v in linear)


def _phase_problems(model: _Model, params: Parameters) -> list[str]:
    """Phases not found (no intensity, or a Rietveld scale within 2σ of 0) and cells on a bound."""
    out = []
    for pm in model.phases:
        scale = params[f"{pm.name}:scale"] if model.mode != "pawley" else None
        if _phase_absent(model, params, pm):
            what = "intensities" if model.mode == "pawley" else "scale"
            out.append(f"phase {pm.name} not found: its {what} went to 0, so its cell and broadening are "
                       "not determined")
            continue
        if model.mode == "rietveld" and scale is not None and scale.value < 2.0 * scale.stderr:
            out.append(f"phase {pm.name} not found: its scale {scale.value:.3g} is within 2σ "
                       f"({scale.stderr:.2g}) of 0, so its cell and broadening are not determined")
            continue
        for c in pm.cell_names:
            q = params[f"{pm.name}:{c}"]
            if q.vary and (q.value <= q.min + 1e-9 * abs(q.min) or q.value >= q.max - 1e-9 * abs(q.max)):
                out.append(f"{pm.name}:{c} ended on its bound ({q.value:.5g} {q.unit}, the start ± 5 %)")
    return out


def _start_from(params: Parameters, start: Mapping[str, float] | None) -> None:
    for name, value in (start or {}).items():
        if name not in params or params[name].linear:
            known = ", ".join(n for n in params if not params[n].linear)
            raise InputError(f"no non-linear parameter {name!r}; parameters: {known}", source="start")
        params.update(name, value=finite(f"start[{name!r}]", value))


def _load_phase(item: Any, where: str) -> Any:
    from ssbkit.xrd.crystal import Phase

    if isinstance(item, Phase):
        return item
    if isinstance(item, str | Path) and Path(item).is_file():
        return Phase.from_cif(item)
    if isinstance(item, str):
        from ssbkit.xrd.structures import BUILTIN_PHASES, builtin_phase

        if item in BUILTIN_PHASES:
            return builtin_phase(item)
        raise InputError(f"{item!r} is neither a CIF file nor a built-in phase "
                         f"({', '.join(sorted(BUILTIN_PHASES))})", source=where)
    raise InputError(f"a phase is a Phase, a CIF path or a built-in name, got {type(item).__name__}",
                     source=where)


def _radiation(pattern: Pattern, instrument: Instrument | None, wavelength: Any
               ) -> tuple[tuple[float, float], ...]:
    if wavelength is not None:
        return wavelengths_from(wavelength, source="wavelength")
    if instrument is not None:
        return tuple(instrument.wavelengths)
    if pattern.wavelengths:
        return tuple(pattern.wavelengths)
    raise InputError("no wavelength: the pattern does not say and none was given; pass wavelength= "
                     "(e.g. 'CuKa' or 1.5406) or an instrument", source=pattern.source or "pattern")


def _points(pattern: Pattern, two_theta_range: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, s = pattern.two_theta, pattern.intensity, pattern.sigma
    if two_theta_range is not None:
        try:
            lo, hi = (finite("two_theta_range", v) for v in two_theta_range)
        except (TypeError, ValueError):
            raise InputError(f"must be (min, max) in degrees, got {two_theta_range!r}",
                             source="two_theta_range") from None
        if not lo < hi:
            raise InputError(f"min must be below max, got {lo:g}, {hi:g}", source="two_theta_range")
        keep = (x >= lo) & (x <= hi)
        if keep.sum() < 10:
            raise InputError(f"only {int(keep.sum())} points of the scan ({x[0]:g}–{x[-1]:g}°) lie in "
                             f"{lo:g}–{hi:g}°", source="two_theta_range")
        x, y, s = x[keep], y[keep], s[keep]
    return np.array(x, float), np.array(y, float), np.array(s, float)


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        clean = str(name).replace(":", "_").strip() or "phase"
        candidate, k = clean, 2
        while candidate in out:
            candidate, k = f"{clean}#{k}", k + 1
        out.append(candidate)
    return out


def _strongest_peak(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """2θ and FWHM [deg] of the strongest peak above a rough background (starting values only)."""
    background = float(np.percentile(y, 20))
    top = int(np.argmax(y))
    half = background + (y[top] - background) / 2.0
    left, right = top, top
    while left > 0 and y[left] > half:
        left -= 1
    while right < y.size - 1 and y[right] > half:
        right += 1
    return float(x[top]), float(np.clip(x[right] - x[left], 0.02, 2.0))


def _size_broadening_guess(instrument: Instrument, position: float, fwhm: float) -> float:
    """The Y_φ that widens the instrument's peak at ``position`` to ``fwhm`` (a starting value)."""
    from ssbkit.xrd.profile import tch

    fg, fl = float(instrument.gaussian_fwhm(position)), float(instrument.lorentzian_fwhm(position))
    if float(tch(fg, fl)[0]) >= fwhm:
        return 0.0
    lo, hi = fl, fl + 2.0 * fwhm
    for _ in range(40):  # the TCH width grows with the Lorentzian width: bisect
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(tch(fg, mid)[0]) < fwhm else (lo, mid)
    return float(min((lo - fl) * math.cos(math.radians(position / 2.0)), 0.5))


def _group_overlaps(model: _Model, fwhm: float) -> None:
    """Pawley: reflections of one phase closer than PAWLEY_OVERLAP·FWHM share one intensity,
    split between them in proportion to their multiplicities."""
    lam = model.lines[model.primary][0]
    for pm in model.phases:
        ratio = lam / (2.0 * pm.d_spacing(pm.phase.reciprocal_metric))
        tt = np.degrees(2.0 * np.arcsin(np.clip(ratio, 0.0, 1.0)))
        order = np.argsort(tt, kind="stable")
        starts = np.r_[True, np.diff(tt[order]) >= PAWLEY_OVERLAP * fwhm]
        groups = np.empty(tt.size, dtype=int)
        groups[order] = np.cumsum(starts) - 1
        pm.groups = groups
        pm.share = pm.multiplicity / np.bincount(groups, weights=pm.multiplicity)[groups]


def _stages(strategy: Any, mode: str) -> list[list[str]]:
    if isinstance(strategy, str):
        if strategy.lower() != "default":
            raise InputError(f"must be 'default' or a list of stages, got {strategy!r}", source="strategy")
        stages = [["scale", "background", "zero"], ["cell"], ["profile"]]
        return stages + [["positions", "biso"]] if mode == "rietveld" else stages
    out = []
    for stage in strategy:
        items = [stage] if isinstance(stage, str) else list(stage)
        if not items or not all(isinstance(item, str) for item in items):
            raise InputError(f"a stage is a list of group or parameter names, got {stage!r}",
                             source="strategy")
        out.append(items)
    if not out:
        raise InputError("give at least one stage", source="strategy")
    return out


def _resolve(group: str, model: _Model, params: Parameters) -> list[str]:
    """The parameters a group or name in a strategy stands for."""
    phases = model.phases
    if group in ("positions", "biso", "occupancy") and model.mode != "rietveld":
        raise InputError(f"{group!r} needs mode='rietveld' (a {model.mode} fit has no structure)",
                         source="strategy")
    if group == "scale":
        return [] if model.mode == "pawley" else [f"{pm.name}:scale" for pm in phases]
    if group == "background":
        return [n for n in params if n.startswith("bkg")]
    if group in ("zero", "displacement"):
        return [group]
    if group == "cell":
        return [f"{pm.name}:{c}" for pm in phases for c in pm.cell_names]
    if group == "instrument":
        return ["U", "V", "W"]
    if group in ("broadening", "size", "strain"):
        keys = {"broadening": ("X", "Y"), "size": ("Y",), "strain": ("X",)}[group]
        return [f"{pm.name}:{k}" for pm in phases for k in keys]
    if group == "profile":
        broadening = _resolve("broadening", model, params)
        return broadening if model.calibrated else ["U", "V", "W", *broadening]
    if group == "positions":
        return [f"{pm.name}:{s.label}:{axis}" for pm in phases for s in pm.sites for axis, _ in s.directions]
    if group == "biso":
        out = []
        for pm, w in zip(phases, _weight_fractions(model, params.vector()), strict=True):
            if w >= _MAJOR_PHASE or len(phases) == 1:
                out += [f"{pm.name}:{s.label}:B" for s in pm.sites]
            elif w >= _MINOR_PHASE:
                out.append(f"{pm.name}:B")
        return out
    if group == "occupancy":
        return [f"{pm.name}:{s.label}:occ" for pm in phases for s in pm.sites]
    matched = [n for n in params.match(group) if not (model.mode == "pawley" and params[n].linear)]
    if not matched:
        known = ", ".join(n for n in params if not n.endswith(")"))
        raise InputError(f"{group!r} is neither a group ({', '.join(GROUPS)}) nor a parameter ({known})",
                         source="strategy")
    return matched


def _lift_from_bounds(params: Parameters, names: list[str]) -> None:
    """Broadening starts just above zero: a trust region started on its bound crawls."""
    for name in names:
        if name.endswith((":X", ":Y")) and params[name].value <= 0.0:
            params.update(name, value=1e-3)


def _lebail_stage(model: _Model, params: Parameters, y: np.ndarray, sigma: np.ndarray, max_nfev: int | None,
                  *, covariance: bool) -> tuple[Any, int, bool, str]:
    """Alternate least squares of scales, background, cell and profile (intensities held) with
    partitions of the observed counts (all else held) until Rwp settles. Returns the last fit,
    the cycles, whether Rwp settled before the cap and, where Rwp rose from one cycle to the next
    (the partition diverging), what it did (else "")."""
    previous, settled = math.inf, False
    cycle = 0
    while cycle < _LEBAIL_CYCLES and not settled:
        cycle += 1
        fit = fit_separable(model.evaluate, params, y, sigma, jacobian=model.jacobian,
                            max_nfev=max_nfev, covariance=False, tolerance=1e-6,
                            max_step=_cell_steps(model, params))
        params = fit.parameters
        rwp = _rwp(y, fit.calculated, sigma)
        for pm in model.phases:  # the scale goes into the intensities
            pm.extracted = pm.extracted * params[pm.name + ":scale"].value
            params.update(pm.name + ":scale", value=1.0)
        values = params.vector()
        for _ in range(_LEBAIL_PARTITIONS):
            before = [pm.extracted for pm in model.phases]
            _partition(model, values, y, sigma)
            if all(np.max(np.abs(pm.extracted - old)) < 1e-4 * np.max(old)
                   for pm, old in zip(model.phases, before, strict=True)):
                break
        if rwp > previous * (1.0 + 1e-3):
            final = fit_separable(model.evaluate, params, y, sigma, jacobian=model.jacobian,
                                  max_nfev=max_nfev, covariance=covariance,
                                  max_step=_cell_steps(model, params))
            return final, cycle, True, f"Rwp rose from {previous:.2f} to {rwp:.2f} % at cycle {cycle}"
        settled = previous - rwp < 1e-5 * rwp
        previous = rwp
    final = fit_separable(model.evaluate, params, y, sigma, jacobian=model.jacobian, max_nfev=max_nfev,
                          covariance=covariance, max_step=_cell_steps(model, params))
    return final, cycle, settled, ""


def _area_on_data(model: _Model, t: _Table) -> np.ndarray:
    """The fraction of each reflection's peak area (all its lines) that lies on the data."""
    step = np.gradient(model.x)
    refl = t.refl[t.peak]
    size = t.d.size
    seen = np.bincount(refl, weights=t.value * step[t.rows], minlength=size)
    total = np.bincount(t.refl, weights=t.per_peak["amplitude"], minlength=size)
    return np.divide(seen, total, out=np.zeros(size), where=total > 0)


def _partition(model: _Model, values: np.ndarray, y: np.ndarray, sigma: np.ndarray) -> list[np.ndarray]:
    """The observed intensity of every reflection: I_k · Σ_i w Ω_ik (y_o − b) / Σ_i w Ω_ik (y_c − b).

    In Le Bail mode it replaces the intensities (over-relaxed, module docstring).
    """
    n = model.x.size
    net_calc = np.zeros(n)
    tables, intensities = [], []
    for pm in model.phases:
        t = model.table(pm, values)
        intensity = model.peak_intensities(pm, values, scaled=True)
        net_calc += np.bincount(t.rows, weights=t.value * intensity[t.refl[t.peak]], minlength=n)
        tables.append(t)
        intensities.append(intensity)
    weight = 1.0 / sigma ** 2
    net_obs = (y - model.background(values)) * weight
    net_calc *= weight
    observed = []
    for pm, t, intensity in zip(model.phases, tables, intensities, strict=True):
        refl = t.refl[t.peak]
        seen = np.bincount(refl, weights=t.value * net_obs[t.rows], minlength=intensity.size)
        expected = np.bincount(refl, weights=t.value * net_calc[t.rows], minlength=intensity.size)
        ratio = np.divide(np.maximum(seen, 0.0), expected, out=np.zeros_like(seen), where=expected > 0)
        if model.mode == "lebail":
            # only reflections with a share of their area on the data: of one beyond the range the
            # data may see a Gaussian tail alone, and the ratio of two such tails grew its intensity
            # to 1e23 over the cycles (Rwp 10 % -> 21 % once η > 0 gave the peak a long tail)
            update = (expected > 0) & (_area_on_data(model, t) > _LEBAIL_MIN_AREA)
            pm.extracted = np.where(update, intensity * ratio ** _LEBAIL_RELAX, pm.extracted)
        observed.append(intensity * ratio)
    return observed


# -- the model -------------------------------------------------------------------------------------

@dataclass
class _Site:
    """A refinable view of one site: where it is and the directions it may move along."""

    index: int
    label: str
    xyz: np.ndarray
    directions: list[tuple[str, np.ndarray]]  # (the coordinate named, shift vector)


class _PhaseModel:
    """One phase's reflections and sites, and its caches of peak tables and |F|²."""

    def __init__(self, phase: Any, name: str, lines: Sequence[tuple[float, float]], lo: float,
                 hi: float) -> None:
        from ssbkit.xrd.crystal import reflections

        self.name = name
        self.phase = phase
        self.cell_names = tuple(phase.free_cell_parameters())
        lam = max(lines, key=lambda line: line[1])[0]
        outside = InputError(f"no reflection of phase {name!r} lies in the fitted range {lo:g}–{hi:g}° 2θ "
                             f"at λ = {lam:g} Å; check the phase, its cell and the wavelength",
                             source=f"phase {name!r}")
        try:  # the phase, range and λ are valid here: the one refusal left is an empty range
            refl = reflections(phase, two_theta_min=max(lo - _MARGIN_DEG, 0.5),
                               two_theta_max=min(hi + _MARGIN_DEG, 179.0), wavelength=lam)
        except InputError:
            raise outside from None  # the user's range, not the one widened for tails
        if not ((refl.two_theta >= lo) & (refl.two_theta <= hi)).any():
            raise outside
        self.hkl_int = np.asarray(refl.hkl, dtype=int)
        self.hkl = self.hkl_int.astype(float)
        self.multiplicity = np.asarray(refl.multiplicity, dtype=float)
        ops = [(np.asarray(r, float), np.asarray(t, float)) for r, t in phase.operations]
        self.sites = [_Site(i, s.label, np.asarray(s.xyz, float), free_directions(s.xyz, ops))
                      for i, s in enumerate(phase.sites)]
        self.intensity_cache: dict[tuple, np.ndarray] = {}
        self.table_cache: dict[tuple, _Table] = {}
        self.extracted = self.multiplicity.copy()  # Le Bail intensities
        self.groups = np.arange(self.hkl.shape[0])  # Pawley: the intensity parameter of each reflection
        self.share = np.ones(self.hkl.shape[0])
        # indices into the parameter vector, set by _Model.build_parameters
        self.cell_idx = self.broad_idx = self.profile_idx = np.zeros(0, int)
        self.structure_idx = self.linear_idx = np.zeros(0, int)

    def d_spacing(self, reciprocal_metric: np.ndarray) -> np.ndarray:
        return 1.0 / np.sqrt(np.einsum("ki,ij,kj->k", self.hkl, reciprocal_metric, self.hkl))


@dataclass
class _Table:
    """Every peak of one phase on the grid: per point of a peak (``rows``, ``peak``) its value and its
    derivatives by centre, FWHM and η; per peak its reflection and the chain-rule factors."""

    rows: np.ndarray
    peak: np.ndarray
    value: np.ndarray
    by_center: np.ndarray
    by_fwhm: np.ndarray
    by_eta: np.ndarray
    refl: np.ndarray  # (peaks,) reflection of each peak (one per reflection and radiation line)
    per_peak: dict[str, np.ndarray]
    d: np.ndarray  # (reflections,)
    ticks: np.ndarray  # (reflections,) where the strongest line's peak is seen
    fwhm: np.ndarray  # (reflections,)


class _Model:
    """The calculated pattern as ``offset + columns · linear`` for ``fit_separable``, and its Jacobian."""

    def __init__(self, x: np.ndarray, lines: Sequence[tuple[float, float]], instrument: Instrument,
                 phases: list[_PhaseModel], mode: str, background_terms: int, radius_mm: float) -> None:
        from ssbkit.xrd.profile import chebyshev

        self.x = x
        self.lines = tuple(lines)
        self.primary = max(range(len(self.lines)), key=lambda i: self.lines[i][1])
        self.instrument = instrument
        self.phases = phases
        self.mode = mode
        self.radius_mm = radius_mm
        lo, hi = float(x[0]), float(x[-1])
        self.basis = np.zeros((x.size, background_terms))
        for j in range(background_terms):
            self.basis[:, j] = chebyshev(x, np.eye(background_terms)[j], lo=lo, hi=hi)
        self.params = Parameters()
        self.calibrated = False
        self.cell_cache: dict[tuple, tuple] = {}

    # parameter layout ----------------------------------------------------------------------------
    def build_parameters(self, *, size_guess: float) -> None:
        p, ins = self.params, self.instrument
        p.add("zero", ins.zero, min=-2.0, max=2.0, unit="deg")
        p.add("displacement", 0.0, min=-2.0, max=2.0, unit="mm")
        p.add("U", ins.U, min=0.0, max=1.0, unit="deg²")
        p.add("V", ins.V, min=-1.0, max=1.0, unit="deg²")
        p.add("W", max(ins.W, 1e-8), min=1e-8, max=1.0, unit="deg²")
        p.add("X", ins.X, min=0.0, max=2.0, unit="deg")
        p.add("Y", ins.Y, min=0.0, max=2.0, unit="deg")
        for pm in self.phases:
            n = pm.name
            for cell_name in pm.cell_names:
                value = float(getattr(pm.phase, cell_name))
                unit = "deg" if cell_name in ("alpha", "beta", "gamma") else "Å"
                p.add(f"{n}:{cell_name}", value, min=0.95 * value, max=1.05 * value, unit=unit)
            p.add(f"{n}:X", 0.0, min=0.0, max=2.0, unit="deg")
            p.add(f"{n}:Y", size_guess, min=0.0, max=2.0, unit="deg")
            p.add(f"{n}:U", 0.0, min=0.0, max=1.0, unit="deg²")
            if self.mode == "rietveld":
                for site in pm.sites:
                    for axis, _ in site.directions:
                        value = float(site.xyz["xyz".index(axis)])
                        p.add(f"{n}:{site.label}:{axis}", value, min=value - 0.1, max=value + 0.1)
                    biso = pm.phase.sites[site.index].biso
                    p.add(f"{n}:{site.label}:B", biso, min=-1.0, max=20.0, unit="Å²")
                    fill = sum(pm.phase.sites[site.index].species.values())
                    p.add(f"{n}:{site.label}:occ", 1.0, min=0.0, max=1.0 / fill if fill > 0 else 1.0)
                p.add(f"{n}:B", 0.0, min=-5.0, max=20.0, unit="Å²")
        # linear parameters last, in the order of the model's columns
        if self.mode == "pawley":
            for pm in self.phases:
                for g in range(int(pm.groups.max()) + 1):
                    hkl = " ".join(str(int(v)) for v in pm.hkl[int(np.flatnonzero(pm.groups == g)[0])])
                    p.add(f"{pm.name}:I({hkl})", 0.0, vary=True, min=0.0, linear=True)
        else:
            for pm in self.phases:
                p.add(f"{pm.name}:scale", 0.0, min=0.0, linear=True)
        for j in range(self.basis.shape[1]):
            p.add(f"bkg{j}", 0.0, linear=True, unit="counts")
        names = list(p)
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self.global_idx = np.array([self.index[g] for g in _GLOBAL])
        self.bkg_idx = np.array([self.index[f"bkg{j}"] for j in range(self.basis.shape[1])], dtype=int)
        for pm in self.phases:
            pm.cell_idx = np.array([self.index[f"{pm.name}:{c}"] for c in pm.cell_names], dtype=int)
            pm.broad_idx = np.array([self.index[f"{pm.name}:{k}"] for k in ("X", "Y", "U")])
            pm.profile_idx = np.concatenate([self.global_idx, pm.cell_idx, pm.broad_idx])
            own = [i for i, nm in enumerate(names) if nm.startswith(f"{pm.name}:")]
            pm.structure_idx = np.array([i for i in own if names[i].count(":") == 2
                                         or names[i] == f"{pm.name}:B"], dtype=int)
            pm.linear_idx = np.array([i for i in own if p[names[i]].linear], dtype=int)

    # evaluation ----------------------------------------------------------------------------------
    def cell(self, pm: _PhaseModel, values: np.ndarray) -> tuple[Any, np.ndarray]:
        """The phase with the cell of ``values`` and its reciprocal metric (cached)."""
        key = (pm.name, *values[pm.cell_idx].tolist())
        hit = self.cell_cache.get(key)
        if hit is None:
            phase = pm.phase.with_cell(dict(zip(pm.cell_names, key[1:], strict=True)))
            hit = (phase, phase.reciprocal_metric)
            if len(self.cell_cache) > 256:
                self.cell_cache.clear()
            self.cell_cache[key] = hit
        return hit

    def background(self, values: np.ndarray) -> np.ndarray:
        return self.basis @ values[self.bkg_idx]

    def table(self, pm: _PhaseModel, values: np.ndarray) -> _Table:
        key = tuple(values[pm.profile_idx].tolist())
        hit = pm.table_cache.get(key)
        if hit is None:
            hit = self._table(pm, values)
            if len(pm.table_cache) > 64:
                pm.table_cache.clear()
            pm.table_cache[key] = hit
        return hit

    def _table(self, pm: _PhaseModel, values: np.ndarray) -> _Table:
        from ssbkit.xrd.profile import lorentz_polarization, tch

        zero, displacement, U, V, W, X, Y = values[self.global_idx]
        Xp, Yp, Up = values[pm.broad_idx]
        d = pm.d_spacing(self.cell(pm, values)[1])
        bragg, refl, weight, first = [], [], [], None
        for i, (lam, w) in enumerate(self.lines):
            ratio = lam / (2.0 * d)
            ok = np.flatnonzero(ratio < 1.0)
            bragg.append(2.0 * _DEG_PER_RAD * np.arcsin(ratio[ok]))
            refl.append(ok)
            weight.append(np.full(ok.size, w))
            if i == self.primary:
                first = (sum(b.size for b in bragg[:-1]), ok)
        tt = np.concatenate(bragg)
        refl_of_peak = np.concatenate(refl)
        theta = np.radians(tt / 2.0)
        tan, cos, sin = np.tan(theta), np.cos(theta), np.sin(theta)
        shift = -2.0 * displacement / self.radius_mm * _DEG_PER_RAD  # × cosθ [deg]
        center = tt + zero + shift * cos
        g2 = (U + Up) * tan * tan + V * tan + W
        fg = np.sqrt(np.maximum(g2, 0.0))
        fl = np.maximum((X + Xp) * tan + (Y + Yp) / cos, 0.0)
        fwhm, eta = tch(fg, fl)
        fwhm = np.maximum(fwhm, 1e-6)
        lp = lorentz_polarization(tt, self.instrument)
        amplitude = np.concatenate(weight) * lp
        half = WINDOW_FWHM * fwhm
        lo = np.searchsorted(self.x, center - half)
        hi = np.searchsorted(self.x, center + half)
        counts = hi - lo
        peak = np.repeat(np.arange(counts.size), counts)
        rows = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + lo[peak]
        # the pseudo-Voigt of profile.add_peaks (Lorentzian part rescaled for the area the window cuts off)
        gamma = fwhm[peak]
        u = (self.x[rows] - center[peak]) / gamma
        u2 = u * u
        e = eta[peak]
        lorentz = _LORENTZ_IN_WINDOW / (1.0 + 4.0 * u2)
        gauss = _GAUSS_NORM * np.exp(-_FOUR_LN2 * u2)
        shape = e * lorentz + (1.0 - e) * gauss
        slope = -8.0 * u * (e * lorentz / (1.0 + 4.0 * u2) + (1.0 - e) * math.log(2.0) * gauss)  # dshape/du
        a = amplitude[peak] / gamma
        # chain-rule factors per peak: TCH width and η by the Gaussian and Lorentzian FWHM ...
        dfwhm_dg, dfwhm_dl, deta_dg, deta_dl = _tch_derivatives(fg, fl, fwhm)
        # ... and everything by the Bragg angle 2θ_B [deg]
        dtan = _RAD_PER_2THETA / (cos * cos)
        dsec = _RAD_PER_2THETA * sin / (cos * cos)
        # ∂Γ_G/∂(Γ_G²); zero where U tan²θ + V tanθ + W < 0 and Γ_G is held at 0
        half_inverse = np.where(g2 > 0, 0.5 / np.maximum(fg, 1e-300), 0.0)
        dfg = (2.0 * (U + Up) * tan + V) * dtan * half_inverse
        dfl = (X + Xp) * dtan + (Y + Yp) * dsec
        k, c = self.instrument.polarization, self.instrument.monochromator_cos2
        cos2t, sin2t = np.cos(2.0 * theta), np.sin(2.0 * theta)
        numerator = 1.0 - k + k * c * cos2t * cos2t
        dln_lp = _RAD_PER_2THETA * (-4.0 * k * c * cos2t * sin2t / numerator - 2.0 * cos / sin + sin / cos)
        per_peak = {
            "tan": tan, "sec": 1.0 / cos, "cos": cos, "dfg_dfg2": half_inverse,
            "dfwhm_dg": dfwhm_dg, "dfwhm_dl": dfwhm_dl, "deta_dg": deta_dg, "deta_dl": deta_dl,
            "dcenter_dB": 1.0 - shift * sin * _RAD_PER_2THETA,
            "dfwhm_dB": dfwhm_dg * dfg + dfwhm_dl * dfl, "deta_dB": deta_dg * dfg + deta_dl * dfl,
            "dlnamp_dB": dln_lp, "amplitude": amplitude, "dB_dd": -2.0 * _DEG_PER_RAD * tan / d[refl_of_peak],
        }
        start, primary_refl = first
        ticks = np.full(d.size, np.nan)
        ticks[primary_refl] = center[start:start + primary_refl.size]
        widths = np.full(d.size, np.nan)
        widths[primary_refl] = fwhm[start:start + primary_refl.size]
        return _Table(rows=rows, peak=peak, value=a * shape, by_center=-a * slope / gamma,
                      by_fwhm=-a * (shape + u * slope) / gamma, by_eta=a * (lorentz - gauss),
                      refl=refl_of_peak, per_peak=per_peak, d=d, ticks=ticks, fwhm=widths)

    def structure(self, pm: _PhaseModel, values: np.ndarray) -> Any:
        """The phase with the cell and the site parameters of ``values``."""
        phase = self.cell(pm, values)[0]
        if self.mode != "rietveld":
            return phase
        index = self.index
        overall = values[index[f"{pm.name}:B"]]
        sites = list(phase.sites)
        for site in pm.sites:
            xyz = site.xyz.copy()
            for axis, direction in site.directions:
                shift = values[index[f"{pm.name}:{site.label}:{axis}"]] - site.xyz["xyz".index(axis)]
                xyz = xyz + shift * direction
            biso = values[index[f"{pm.name}:{site.label}:B"]] + overall
            occupancy = values[index[f"{pm.name}:{site.label}:occ"]]
            sites[site.index] = _changed_site(sites[site.index], xyz, biso, occupancy)
        return phase.with_sites(sites)

    def structure_intensities(self, pm: _PhaseModel, values: np.ndarray) -> np.ndarray:
        """m·|F|² of every reflection (Rietveld)."""
        from ssbkit.xrd.crystal import structure_factors

        key = tuple(values[np.concatenate([pm.cell_idx, pm.structure_idx])].tolist())
        hit = pm.intensity_cache.get(key)
        if hit is None:
            hit = pm.multiplicity * structure_factors(self.structure(pm, values), pm.hkl_int)
            if len(pm.intensity_cache) > 64:
                pm.intensity_cache.clear()
            pm.intensity_cache[key] = hit
        return hit

    def peak_intensities(self, pm: _PhaseModel, values: np.ndarray, *, scaled: bool) -> np.ndarray:
        """The intensity each reflection's peak is drawn with (per unit scale unless ``scaled``)."""
        if self.mode == "pawley":
            return values[pm.linear_idx][pm.groups] * pm.share if scaled else pm.share
        base = self.structure_intensities(pm, values) if self.mode == "rietveld" else pm.extracted
        return base * values[pm.linear_idx[0]] if scaled else base

    def evaluate(self, values: np.ndarray) -> tuple[np.ndarray, Any]:
        n = self.x.size
        if self.mode == "pawley":
            from scipy import sparse

            blocks = []
            for pm in self.phases:
                t = self.table(pm, values)
                refl = t.refl[t.peak]
                blocks.append(sparse.csc_matrix((t.value * pm.share[refl], (t.rows, pm.groups[refl])),
                                                shape=(n, int(pm.groups.max()) + 1)))
            blocks.append(sparse.csc_matrix(self.basis))
            return np.zeros(n), sparse.hstack(blocks, format="csc")
        columns = np.empty((n, len(self.phases) + self.basis.shape[1]))
        for j, pm in enumerate(self.phases):
            t = self.table(pm, values)
            intensity = self.peak_intensities(pm, values, scaled=False)
            columns[:, j] = np.bincount(t.rows, weights=t.value * intensity[t.refl[t.peak]], minlength=n)
        columns[:, len(self.phases):] = self.basis
        return np.zeros(n), columns

    def jacobian(self, values: np.ndarray, which: np.ndarray) -> np.ndarray:
        """∂y_calc/∂values[which], the linear parameters held at ``values``."""
        n = self.x.size
        out = np.zeros((n, which.size))
        column = {int(i): j for j, i in enumerate(which)}
        for pm in self.phases:
            mine = [i for i in which if i in set(pm.profile_idx.tolist()) | set(pm.structure_idx.tolist())]
            if not mine:
                continue
            t = self.table(pm, values)
            intensity = self.peak_intensities(pm, values, scaled=True)
            weight = intensity[t.refl][t.peak]
            pp = t.per_peak
            for i in mine:
                name = self.names[i]
                key = name.rsplit(":", 1)[-1] if name.startswith(f"{pm.name}:") else name
                along = None  # (centre, FWHM, η, ln amplitude) per peak
                if name == "zero":
                    along = (1.0, 0.0, 0.0, 0.0)
                elif name == "displacement":
                    along = (-2.0 / self.radius_mm * _DEG_PER_RAD * pp["cos"], 0.0, 0.0, 0.0)
                elif key in ("U", "V", "W") and (name in _GLOBAL or key == "U"):
                    dg = {"U": pp["tan"] ** 2, "V": pp["tan"], "W": 1.0}[key] * pp["dfg_dfg2"]
                    along = (0.0, pp["dfwhm_dg"] * dg, pp["deta_dg"] * dg, 0.0)
                elif key in ("X", "Y"):
                    dl = pp["tan"] if key == "X" else pp["sec"]
                    along = (0.0, pp["dfwhm_dl"] * dl, pp["deta_dl"] * dl, 0.0)
                elif i in pm.cell_idx:
                    step = 1e-6 * abs(values[i])
                    up, down = values.copy(), values.copy()
                    up[i] += step
                    down[i] -= step
                    dd = pm.d_spacing(self.cell(pm, up)[1]) - pm.d_spacing(self.cell(pm, down)[1])
                    dd /= 2 * step
                    db = pp["dB_dd"] * dd[t.refl]
                    along = tuple(pp[k] * db for k in ("dcenter_dB", "dfwhm_dB", "deta_dB", "dlnamp_dB"))
                values_nnz = np.zeros(t.rows.size)
                if along is not None:
                    c, f, e, a = (np.broadcast_to(v, t.refl.shape)[t.peak] for v in along)
                    values_nnz += weight * (t.by_center * c + t.by_fwhm * f + t.by_eta * e + t.value * a)
                if self.mode == "rietveld" and (along is None or i in pm.cell_idx):
                    # through m|F|²: the structure, and the cell by sinθ/λ in f(s) and exp(−Bs²)
                    step = (1e-5 if key in ("x", "y", "z") else 1e-4) if along is None else 1e-6 * values[i]
                    bounds = self.params[name]
                    up, down = values.copy(), values.copy()
                    up[i] = min(values[i] + step, bounds.max)  # an occupancy at 1 is differenced backwards
                    down[i] = max(values[i] - step, bounds.min)
                    dI = self.structure_intensities(pm, up) - self.structure_intensities(pm, down)
                    dI /= up[i] - down[i]
                    values_nnz += t.value * (dI * values[pm.linear_idx[0]])[t.refl][t.peak]
                out[:, column[int(i)]] += np.bincount(t.rows, weights=values_nnz, minlength=n)
        return out


def _tch_derivatives(fg: np.ndarray, fl: np.ndarray, fwhm: np.ndarray) -> tuple[np.ndarray, ...]:
    """∂Γ/∂Γ_G, ∂Γ/∂Γ_L, ∂η/∂Γ_G, ∂η/∂Γ_L of the TCH pseudo-Voigt (profile.tch)."""
    g, lor = fg, fl
    dp_dg = (5 * g ** 4 + 4 * 2.69269 * g ** 3 * lor + 3 * 2.42843 * g * g * lor * lor
             + 2 * 4.47163 * g * lor ** 3 + 0.07842 * lor ** 4)
    dp_dl = (2.69269 * g ** 4 + 2 * 2.42843 * g ** 3 * lor + 3 * 4.47163 * g * g * lor * lor
             + 4 * 0.07842 * g * lor ** 3 + 5 * lor ** 4)
    five_f4 = 5.0 * fwhm ** 4
    dfwhm_dg, dfwhm_dl = dp_dg / five_f4, dp_dl / five_f4
    q = lor / fwhm
    deta_dq = 1.36603 - 2 * 0.47719 * q + 3 * 0.11116 * q * q
    deta_dg = deta_dq * (-lor / fwhm ** 2 * dfwhm_dg)
    deta_dl = deta_dq * (1.0 / fwhm - lor / fwhm ** 2 * dfwhm_dl)
    return dfwhm_dg, dfwhm_dl, deta_dg, deta_dl




def _changed_site(site: Any, xyz: np.ndarray, biso: float, occupancy_factor: float) -> Any:
    changes: dict[str, Any] = {"xyz": tuple(float(v) for v in xyz), "biso": float(biso)}
    if occupancy_factor != 1.0:
        changes["species"] = {k: v * occupancy_factor for k, v in site.species.items()}
    return site.replace(**changes)


# -- the result ------------------------------------------------------------------------------------

def _rwp(y: np.ndarray, calc: np.ndarray, sigma: np.ndarray) -> float:
    w = 1.0 / sigma ** 2
    return float(100.0 * np.sqrt(np.sum(w * (y - calc) ** 2) / np.sum(w * y * y)))


def _weight_fractions(model: _Model, values: np.ndarray) -> np.ndarray:
    """Hill–Howard W = S·(ZMV) / Σ S·(ZMV) (NaN without a structure: Le Bail and Pawley)."""
    if model.mode != "rietveld":
        return np.full(len(model.phases), np.nan)
    zmv = np.array([pm.phase.cell_mass * model.cell(pm, values)[0].volume for pm in model.phases])
    scales = np.array([values[pm.linear_idx[0]] for pm in model.phases])
    total = float(np.sum(scales * zmv))
    return scales * zmv / total if total > 0 else np.full(len(model.phases), np.nan)


def _size(pm: _PhaseModel, params: Parameters, lam: float, estimate: Any, notes: list[str]
          ) -> tuple[Estimate, float]:
    """Scherrer size from Y_φ and its one-sided 95 % lower limit [nm].

    Y_φ within 2σ of 0 (or at 0) resolves no size broadening: the size is reported as infinite
    (1/Y_φ would give 1e15 ± 3e14 nm) with the lower limit from Y_φ + 1.645σ, as
    ``sizestrain.williamson_hall`` does with its intercept.
    """
    yp = params[f"{pm.name}:Y"]
    length = SCHERRER_K * lam / 10.0  # nm·rad

    def scherrer(y_deg: float) -> float:
        return length / math.radians(y_deg) if y_deg > 0 else math.inf

    sigma = yp.stderr if yp.vary else math.nan
    upper = yp.value + _ONE_SIDED_95 * sigma
    limit = scherrer(upper) if math.isfinite(upper) and upper > 0 else math.nan
    if yp.value <= 0 or (math.isfinite(sigma) and yp.value < 2.0 * sigma):
        bound = f", > {limit:.4g} nm (one-sided 95 %)" if math.isfinite(limit) else ""
        notes.append(f"phase {pm.name}: no size broadening resolved (Y_φ = {yp.value:.2g} ± {sigma:.2g}°, "
                     f"within 2σ of 0): size reported as infinite{bound}")
        return Estimate(math.inf, math.nan, "nm"), limit
    yi = int(pm.broad_idx[1])
    return estimate(lambda v: scherrer(v[yi]) if v[yi] > 0 else math.nan, "nm"), limit


def _frozen_stage(stage: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in stage.items()})


def _propagate(fn: Any, model: _Model, values: np.ndarray, fit: Any) -> tuple[float, float]:
    """fn(values) and its standard error, to first order through the fit's covariance."""
    value = float(fn(values))
    if not fit.varied or not math.isfinite(value):
        return value, math.nan
    gradient = np.zeros(len(fit.varied))
    for j, name in enumerate(fit.varied):
        i = model.index[name]
        step = 1e-6 * max(abs(values[i]), 1e-9)
        up, down = values.copy(), values.copy()
        up[i] += step
        down[i] -= step
        gradient[j] = (fn(up) - fn(down)) / (2.0 * step)
    used = gradient != 0
    if not used.any():
        return value, 0.0
    variance = float(gradient[used] @ fit.covariance[np.ix_(used, used)] @ gradient[used])
    return value, math.sqrt(variance) if variance >= 0 else math.nan


def _result(model: _Model, fit: Any, x: np.ndarray, y: np.ndarray, sigma: np.ndarray,
            history: list[dict[str, Any]], instrument: Instrument | None, strategy: Any,
            two_theta_range: Any, notes: list[str], problems: Sequence[str] = ()) -> RefinementResult:
    params = fit.parameters
    values = params.vector()
    n, p = y.size, len(fit.varied)
    calc = fit.calculated
    rwp = _rwp(y, calc, sigma)
    gof = math.sqrt(fit.chi_square / (n - p))
    lam = model.lines[model.primary][0]
    observed = _partition(model, values, y, sigma)

    def estimate(fn: Any, unit: str) -> Estimate:
        value, error = _propagate(fn, model, values, fit)
        return Estimate(value, error, unit)

    def param(name: str) -> Estimate:
        q = params[name]
        return Estimate(q.value, q.stderr if q.vary else math.nan, q.unit)

    phases = []
    for j, pm in enumerate(model.phases):
        cell = [estimate(lambda v, pm=pm, k=k: model.cell(pm, v)[0].cell[k], "Å" if k < 3 else "deg")
                for k in range(6)]
        xi, yi = pm.broad_idx[:2]
        size, size_limit = _size(pm, params, lam, estimate, notes)
        strain = estimate(lambda v, xi=xi: 100.0 * math.radians(v[xi]) / 4.0, "%")
        if params[f"{pm.name}:U"].vary:
            notes.append(f"phase {pm.name}: its Gaussian broadening U_φ was refined, but the strain comes "
                         "from its Lorentzian X_φ only")
        if model.mode == "rietveld":
            scale = param(f"{pm.name}:scale")
            fraction = estimate(lambda v, j=j: 100.0 * _weight_fractions(model, v)[j], "%")
        else:
            scale, fraction = Estimate(math.nan), Estimate(math.nan, unit="%")
        t = model.table(pm, values)
        intensity = model.peak_intensities(pm, values, scaled=True)
        inside = np.isfinite(t.ticks) & (t.ticks >= x[0]) & (t.ticks <= x[-1])
        obs = observed[j][inside]
        r_bragg = float(100.0 * np.sum(np.abs(obs - intensity[inside])) / np.sum(obs)) if np.sum(obs) > 0 \
            else math.nan
        table = {"hkl": frozen_array(pm.hkl_int[inside]), "d [Å]": frozen_array(t.d[inside]),
                 "two_theta [deg]": frozen_array(t.ticks[inside]),
                 "multiplicity": frozen_array(pm.multiplicity[inside].astype(int)),
                 "intensity": frozen_array(intensity[inside]), "observed intensity": frozen_array(obs)}
        phases.append(PhaseRefinement(
            name=pm.name, space_group=pm.phase.space_group, a=cell[0], b=cell[1], c=cell[2], alpha=cell[3],
            beta=cell[4], gamma=cell[5], volume=estimate(lambda v, pm=pm: model.cell(pm, v)[0].volume, "Å³"),
            weight_fraction=fraction, size=size, strain=strain, scale=scale, X=param(f"{pm.name}:X"),
            Y=param(f"{pm.name}:Y"), R_bragg=r_bragg, reflections=MappingProxyType(table),
            phase=model.structure(pm, values), size_lower_limit=size_limit))

    refined_instrument = dataclasses.replace(model.instrument, **{k: float(values[model.index[k]])
                                                                  for k in ("U", "V", "W", "X", "Y", "zero")})
    notes = [f"{len(history)} stage(s), Rwp {rwp:.2f} %, GOF {gof:.3f}", *problems, *notes]
    if not fit.success:
        notes.append(f"the last stage did not converge: {fit.message}")
    if instrument is None:
        notes.append("no instrument given: U, V, W refined; sizes and strains include the instrument")
    if model.instrument.asymmetry > 0:
        notes.append("the instrument's peak asymmetry is not modelled")
    keys = {"rietveld": ("rietveld1969", "hill1987"), "lebail": ("lebail1988", "daubewitherspoon1986"),
            "pawley": ("pawley1981",)}[model.mode] + ("thompson1987", "golubpereyra1973")
    provenance = make_provenance(
        "ssbkit.xrd.refine",
        settings={"mode": model.mode, "strategy": strategy, "background_terms": model.basis.shape[1],
                  "two_theta_range": two_theta_range, "window_fwhm": WINDOW_FWHM,
                  "wavelengths": list(model.lines),
                  "goniometer_radius_mm": model.radius_mm, "instrument": instrument},
        inputs={"two_theta": x, "intensity": y, "sigma": sigma,
                "phases": [{"name": pm.name, "cell": list(pm.phase.cell)} for pm in model.phases]},
        citations=keys)
    return RefinementResult(
        success=bool(fit.success and not problems and np.all(np.isfinite(calc))), message="; ".join(notes),
        provenance=provenance,
        mode=model.mode, phases=tuple(phases), Rwp=rwp,
        Rp=float(100.0 * np.sum(np.abs(y - calc)) / np.sum(np.abs(y))),
        Rexp=float(100.0 * math.sqrt((n - p) / np.sum(y * y / sigma ** 2))), GOF=gof, n_points=n,
        n_parameters=p, zero=param("zero"), displacement=param("displacement"), instrument=refined_instrument,
        parameters=MappingProxyType({name: param(name) for name in params
                                     if not (model.mode == "pawley" and name.endswith(")"))}),
        stages=tuple(_frozen_stage(stage) for stage in history), two_theta=frozen_array(x),
        observed=frozen_array(y), sigma=frozen_array(sigma),
        calculated=frozen_array(calc), background=frozen_array(model.background(values)))
