"""A study's analyses of its powders: Rietveld refinement of XRD scans and D(T) from EXSY build-ups.

Two kinds (``KINDS``), each fed by one measurement of a ``[[samples]]`` entry.

``xrd``
    ``ssbkit.xrd.refine.refine`` on the scan, as ``ssbkit xrd refine`` runs it. Settings:
    ``phases`` (built-in names of ``ssbkit.xrd.structures``; the first is the main phase;
    ``"argyrodite"`` is Li5.5PS4.5Cl0.8Br0.7), ``mode`` (rietveld | lebail | pawley),
    ``range_deg`` (``[min, max]`` 2θ [deg] fitted; ``[]`` for the whole scan), ``wavelength``
    (the radiation when the file does not name it; an .xy file never does: Cu Kα1/Kα2 by
    default), ``instrument`` (a table of U, V, W [deg²], X, Y [deg], zero [deg] and
    polarization in FullProf's convention, ``ssbkit.xrd.data.Instrument``; ``{}`` refines
    U, V, W, and sizes and strains then include the instrument's broadening) and
    ``background_terms``. Only built-in phases: a CIF named in the settings would be an input
    the pipeline does not hash, so an edit of it would not recompute the analysis.
    Summary: ``lattice_a`` [Å], ``size`` [nm] (Scherrer on the phase's Lorentzian width) and
    ``strain`` [%] of the first phase (its cell volume [Å³] is in the table), ``wt_<phase>``
    [%] for every phase as named in the settings (Hill–Howard), ``rwp``, ``rp``, ``rexp`` [%]
    and ``gof`` [1]. The stored curves keep every k-th point (at most 1500).

``exsy``
    ``ssbkit.nmr.buildup.fit_buildup_series`` on a build-up table (``mixing_time [s]``,
    ``intensity``, ``temperature [K]``, optionally ``intensity stderr``; read by
    ``read_buildup_table``), as ``ssbkit nmr exsy-fit`` runs it: one fit per temperature
    with the build-up ``model`` (default ``"sphere"`` of radius ``length_um`` [µm]), then the
    weighted Arrhenius line ln D = ln D0 − Ea/(k_B T). A model with a length (sphere, cube,
    …) needs ``length_um`` in ``[settings.exsy]``: D scales with L², so there is no default,
    as on the command line (the bundled example's manifest gives its simulated 1 µm).
    ``normalisation``
    states how the table's intensities were made from peak volumes (one of
    ``ssbkit.nmr.volumes.NORMALIZATIONS``): it is recorded and shown, the table is fitted as
    it stands. ``pair`` picks one curve of a table with a ``pair`` column.
    Summary: ``ea`` [eV]; ``d_298K`` [cm²/s], the line at 298.15 K (25 °C), with its standard
    error from the line's covariance,

        σ²(ln D(T₀)) = σ²(ln D0) + σ²(b)/T₀² + 2 cov(ln D0, b)/T₀,   cov(ln D0, b) = −x̄ σ²(b),

    b = −Ea/k_B the slope and x̄ the weighted mean of 1/T (``RateArrhenius`` reports no
    covariance, so it is rebuilt here); ``d0``, the prefactor; ``n_temperatures``, those on
    the line (a temperature whose fit gave only a bound is left off and named in the
    message). The first-order model gives ``k_298K`` and ``k0`` in Hz, the spelling of 1/s
    that ``ssbkit.core.units`` knows. A table without temperatures, or with one, is an input
    error: there is no Arrhenius line to draw. No measured EXSY data are at hand, so the tests
    use simulated build-ups only.

Both return the study's result dict (``ssbkit.study.kinds.RESULT_KEYS``); ``figures`` draws it
with ``ssbkit.xrd.plot.plot_refinement`` and ``ssbkit.nmr.plot.plot_buildup`` /
``plot_arrhenius_D``, from objects rebuilt out of the stored numbers (no file is read).

Examples
--------
>>> sorted(kind.name for kind in KINDS)
['exsy', 'xrd']
>>> XRD_DEFAULTS["phases"], EXSY_DEFAULTS["model"]
(['argyrodite', 'LiCl', 'Li2S'], 'sphere')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, to_json_safe
from ssbkit.study.kinds import AnalysisKind, AnalysisTask, FigureSpec, TaskInput

__all__ = ["EXSY_DEFAULTS", "KINDS", "XRD_DEFAULTS", "exsy_figures", "run_exsy", "run_xrd", "xrd_figures"]

XRD_DEFAULTS: Mapping[str, Any] = {
    "phases": ["argyrodite", "LiCl", "Li2S"],
    "mode": "rietveld",
    "range_deg": [],
    "wavelength": "CuKa",
    "instrument": {},
    "background_terms": 6,
}
EXSY_DEFAULTS: Mapping[str, Any] = {
    "model": "sphere",
    "length_um": None,  # required by a model with a length: D scales with its square
    "plateau": "free",
    "normalisation": "cross/(cross+diagonal)",
    "pair": "",
}
REFERENCE_TEMPERATURE_K = 298.15  # 25 °C, as ssbkit.eis.arrhenius
MAX_SERIES_POINTS = 1500  # of a refinement's curves in the stored result
CURVE_POINTS = 100  # of each fitted build-up curve
_INSTRUMENT_KEYS = ("U", "V", "W", "X", "Y", "zero", "polarization")
_XRD_PHASES, _XRD_RANGE = "[settings.xrd] phases", "[settings.xrd] range_deg"


# -- shared plumbing ----------------------------------------------------------------------------

def _settings(task: AnalysisTask, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's defaults with the task's settings over them; keys of other kinds (a sample's
    settings serve both of its kinds) are left out."""
    merged = dict(defaults)
    merged.update({k: v for k, v in dict(task.settings).items() if k in defaults})
    return merged


def _single_input(task: AnalysisTask) -> TaskInput:
    if len(task.inputs) != 1:
        raise InputError(f"a {task.kind} analysis reads one file, got {len(task.inputs)}", source=task.id)
    return task.inputs[0]


def _named(exc: InputError, item: TaskInput) -> InputError:
    """The error again, naming the file as the manifest wrote it instead of its stored copy."""
    stored = Path(item.path)
    detail = exc.detail.replace(str(stored), item.name)
    where = exc.source or ""
    if where in (str(stored), stored.name):
        where = ""
    # a source that starts with the file ("<file> (a->b) at 320 K") keeps only what it adds;
    # another one is an argument's name, e.g. 'pair'
    where = where.replace(str(stored), item.name).removeprefix(item.name).lstrip(":, ")
    if where:
        detail = f"{where}: {detail}"
    try:
        return type(exc)(detail, source=item.name, location=exc.location)
    except TypeError:  # a subclass with another signature
        return InputError(detail, source=item.name, location=exc.location)


def _setting_error(kind: str, key: str, exc: InputError) -> InputError:
    return InputError(exc.detail, source=f"[settings.{kind}] {key}")


def _hash(item: TaskInput) -> str:
    return item.sha256 if item.sha256.startswith("sha256:") else f"sha256:{item.sha256}"


def _provenance(technique: Any, kind: str, settings: Mapping[str, Any], item: TaskInput) -> dict[str, Any]:
    out = to_json_safe(technique.to_dict()) if technique is not None else {}
    out.setdefault("inputs", {})[item.name] = _hash(item)
    out["analysis"] = {"kind": kind, "settings": to_json_safe(dict(settings))}
    return out


def _value(summary: Mapping[str, Any], key: str) -> float:
    entry = summary.get(key) or {}
    value = entry.get("value") if isinstance(entry, Mapping) else None
    return math.nan if value is None else float(value)


def _stderr(summary: Mapping[str, Any], key: str) -> float:
    entry = summary.get(key) or {}
    value = entry.get("stderr") if isinstance(entry, Mapping) else None
    return math.nan if value is None else float(value)


def _fmt(value: float, stderr: float = math.nan, digits: int = 4) -> str:
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}g}"
    return text + (f" ± {stderr:.2g}" if math.isfinite(stderr) else "")


def _numbers(values: Any) -> list[float]:
    import numpy as np

    return [math.nan if v is None else float(v) for v in np.asarray(values, dtype=object).tolist()]


# -- xrd ----------------------------------------------------------------------------------------

def _xrd_phases(value: Any) -> tuple[list[str], list[Any]]:
    from ssbkit.xrd.structures import builtin_phase

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
        raise InputError(f"give a list of built-in phase names, got {value!r}", source=_XRD_PHASES)
    names = [v.strip() for v in value]
    seen = [n.lower() for n in names]
    if len(set(seen)) != len(seen):
        raise InputError(f"a phase is named twice: {', '.join(names)}", source=_XRD_PHASES)
    phases = []
    for name in names:
        if name.lower().endswith(".cif"):
            raise InputError(f"{name!r}: only built-in phases here (a CIF would be an input the study "
                             "does not hash)", source=_XRD_PHASES)
        try:
            phases.append(builtin_phase(name))
        except InputError as exc:
            raise _setting_error("xrd", "phases", exc) from None
    return names, phases


def _xrd_options(s: Mapping[str, Any]) -> dict[str, Any]:
    from ssbkit.core.validate import finite, one_of
    from ssbkit.xrd.data import Instrument, wavelengths_from
    from ssbkit.xrd.refine import MODES

    try:
        mode = one_of("mode", s["mode"], MODES)
    except InputError as exc:
        raise _setting_error("xrd", "mode", exc) from None
    window = s["range_deg"]
    if window is None or (isinstance(window, list | tuple) and len(window) == 0):
        window = None
    elif isinstance(window, list | tuple) and len(window) == 2:
        try:
            lo, hi = (finite("range_deg", v) for v in window)
        except InputError as exc:
            raise _setting_error("xrd", "range_deg", exc) from None
        if not lo < hi:
            raise InputError(f"give [min, max] with min < max, got {list(window)}", source=_XRD_RANGE)
        window = (lo, hi)
    else:
        raise InputError(f"give [min, max] in degrees 2θ or [], got {window!r}", source=_XRD_RANGE)
    try:
        radiation = wavelengths_from(s["wavelength"], source="wavelength")
    except InputError as exc:
        raise _setting_error("xrd", "wavelength", exc) from None
    profile = s["instrument"]
    if not isinstance(profile, Mapping):
        raise InputError(f"give a table of {', '.join(_INSTRUMENT_KEYS)}, got {profile!r}",
                         source="[settings.xrd] instrument")
    unknown = sorted(set(profile) - set(_INSTRUMENT_KEYS))
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(_INSTRUMENT_KEYS)}",
                         source="[settings.xrd] instrument")
    try:
        profile = {k: finite(k, v) for k, v in profile.items()}
        Instrument(**profile, source="instrument")  # checked here, built with the scan's radiation
    except InputError as exc:
        raise _setting_error("xrd", "instrument", exc) from None
    terms = s["background_terms"]
    if isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= 30:
        raise InputError(f"must be a whole number in 0–30, got {terms!r}",
                         source="[settings.xrd] background_terms")
    return {"mode": mode, "two_theta_range": window, "radiation": radiation, "profile": profile,
            "background_terms": terms}


def _stride(n: int) -> int:
    return max(1, math.ceil(n / MAX_SERIES_POINTS))


def run_xrd(task: AnalysisTask) -> dict[str, Any]:
    """Refine the task's scan with the settings' phases (module docstring): the result dict.

    A bad scan or setting raises ``InputError`` naming the file (``TaskInput.name``) or the
    setting; a refinement that does not converge comes back with ``success`` False.
    """
    import numpy as np

    from ssbkit.io import read_pattern
    from ssbkit.xrd.data import Instrument
    from ssbkit.xrd.refine import refine

    item = _single_input(task)
    s = _settings(task, XRD_DEFAULTS)
    names, phases = _xrd_phases(s["phases"])
    options = _xrd_options(s)
    try:
        pattern = read_pattern(item.path)
        # The file's radiation where it names one; else the setting (an .xy file never names it).
        radiation = pattern.wavelengths or options["radiation"]
        instrument = (Instrument(**options["profile"], wavelengths=radiation, source="instrument")
                      if options["profile"] else None)
        result = refine(pattern, phases, mode=options["mode"], instrument=instrument,
                        wavelength=radiation, background_terms=options["background_terms"],
                        two_theta_range=options["two_theta_range"])
    except InputError as exc:
        raise _named(exc, item) from None

    first = result.phases[0]
    summary: dict[str, Any] = {"lattice_a": first.a, "size": first.size, "strain": first.strain}
    for name, phase in zip(names, result.phases, strict=True):
        summary[f"wt_{name}"] = phase.weight_fraction
    summary.update({"rwp": Estimate(result.Rwp, unit="%"), "rp": Estimate(result.Rp, unit="%"),
                    "rexp": Estimate(result.Rexp, unit="%"), "gof": Estimate(result.GOF, unit="1")})
    rows = []
    for name, phase in zip(names, result.phases, strict=True):
        row: dict[str, Any] = {"phase": name, "structure": phase.name, "space group": phase.space_group}
        for field, label in (("a", "a"), ("b", "b"), ("c", "c"), ("volume", "volume"),
                             ("weight_fraction", "wt"), ("size", "size"), ("strain", "strain")):
            e = getattr(phase, field)
            row[f"{label} [{e.unit}]"] = e.value
            row[f"{label} stderr [{e.unit}]"] = e.stderr
        row["size lower limit [nm]"] = phase.size_lower_limit
        row["R_Bragg [%]"] = phase.R_bragg
        rows.append(row)
    x = np.asarray(result.two_theta, dtype=float)
    keep = slice(None, None, _stride(x.size))
    lo, hi = float(x[0]), float(x[-1])
    ticks = {}
    for name, phase in zip(names, result.phases, strict=True):
        positions = np.asarray(phase.reflections["two_theta [deg]"], dtype=float)
        ticks[name] = positions[(positions >= lo) & (positions <= hi)]
    # Rounded far below the counting noise: the stored result stays small.
    curves = {label: np.round(np.asarray(values, dtype=float)[keep], 2) for label, values in (
        ("observed [counts]", result.observed), ("calculated [counts]", result.calculated),
        ("background [counts]", result.background), ("difference [counts]", result.difference))}
    series = {"file": item.name, "mode": result.mode, "phases": names,
              "two_theta [deg]": np.round(x[keep], 5), **curves,
              "ticks [deg]": {name: np.round(t, 5) for name, t in ticks.items()}}
    return to_json_safe({
        "kind": "xrd", "success": bool(result.success), "message": result.message,
        "summary": summary, "tables": {"phases": rows}, "series": series,
        "provenance": _provenance(result.provenance, "xrd", s, item),
    })


def xrd_figures(result: Mapping[str, Any]) -> list[FigureSpec]:
    """The Rietveld plot (observed, calculated, background, ticks per phase with wt %, difference),
    drawn from the stored series; [] when the result holds no curves."""
    import numpy as np

    from ssbkit.xrd.plot import plot_refinement

    series = result.get("series") or {}
    summary = result.get("summary") or {}
    x = series.get("two_theta [deg]") or []
    if len(x) < 2:
        return []
    names = list(series.get("phases") or [])
    ticks = series.get("ticks [deg]") or {}
    phases = [SimpleNamespace(name=name,
                              weight_fraction=Estimate(_value(summary, f"wt_{name}"),
                                                       _stderr(summary, f"wt_{name}"), "%"),
                              reflections={"two_theta [deg]": np.asarray(_numbers(ticks.get(name, [])))})
              for name in names]
    drawn = SimpleNamespace(two_theta=np.asarray(_numbers(x)),
                            observed=np.asarray(_numbers(series["observed [counts]"])),
                            calculated=np.asarray(_numbers(series["calculated [counts]"])),
                            background=np.asarray(_numbers(series["background [counts]"])),
                            phases=phases, Rwp=_value(summary, "rwp"), GOF=_value(summary, "gof"),
                            mode=str(series.get("mode", "")))
    figure = plot_refinement(drawn)
    main = names[0] if names else "the first phase"
    fractions = ", ".join(f"{n} {_fmt(_value(summary, f'wt_{n}'), _stderr(summary, f'wt_{n}'), 3)} wt %"
                          for n in names)
    size = f"{_fmt(_value(summary, 'size'), _stderr(summary, 'size'), 3)} nm"
    rows = (result.get("tables") or {}).get("phases") or [{}]
    limit = rows[0].get("size lower limit [nm]")
    if not math.isfinite(_value(summary, "size")) and limit is not None:
        size = f"> {limit:.3g} nm (no size broadening resolved)"
    caption = (f"{drawn.mode.capitalize() or 'Refinement'} fit of {series.get('file', 'the scan')}: observed "
               "counts (points), calculated pattern (red line) and background, observed − calculated "
               f"below, reflection positions of each phase as ticks. {main}: a = "
               f"{_fmt(_value(summary, 'lattice_a'), _stderr(summary, 'lattice_a'), 6)} Å, crystallite size "
               f"{size}, microstrain "
               f"{_fmt(_value(summary, 'strain'), _stderr(summary, 'strain'), 2)} %. Phases (Hill–Howard): "
               f"{fractions}. Rwp = {_value(summary, 'rwp'):.2f} %, GOF = {_value(summary, 'gof'):.2f}.")
    if not result.get("success", False):
        caption += f" The refinement did not converge: {result.get('message', '')}"
    return [FigureSpec(name="xrd_refinement", figure=figure, caption=caption)]


# -- exsy ---------------------------------------------------------------------------------------

def _exsy_options(s: Mapping[str, Any]) -> dict[str, Any]:
    from ssbkit.core.validate import one_of, positive
    from ssbkit.nmr.models import get_model
    from ssbkit.nmr.volumes import NORMALIZATIONS

    try:
        model = get_model(s["model"])
    except InputError as exc:
        raise _setting_error("exsy", "model", exc) from None
    length = None
    if model.needs_length:
        if s["length_um"] is None:
            raise InputError(f"the {model.name!r} model needs the diffusion length [µm] (D scales with its "
                             "square): add length_um = <the model's length in µm, a sphere's radius> "
                             "under [settings.exsy], or in the sample's settings",
                             source="[settings.exsy] length_um")
        try:
            length = positive("length_um", s["length_um"])
        except InputError as exc:
            raise _setting_error("exsy", "length_um", exc) from None
    plateau = s["plateau"]
    if not (isinstance(plateau, str) and plateau.lower() == "free"):
        try:
            plateau = positive("plateau", plateau)
        except InputError as exc:
            raise _setting_error("exsy", "plateau", exc) from None
    try:
        normalisation = one_of("normalisation", s["normalisation"], NORMALIZATIONS)
    except InputError as exc:
        raise _setting_error("exsy", "normalisation", exc) from None
    pair = s["pair"]
    if not isinstance(pair, str):
        raise InputError(f"give a pair as 'from->to' or '' for the table's only one, got {pair!r}",
                         source="[settings.exsy] pair")
    return {"model": model, "length_um": length, "plateau": plateau, "normalisation": normalisation,
            "pair": pair.strip() or None}


def _rate_at(line: Any, temperature_K: float) -> Estimate:
    """The Arrhenius line at ``temperature_K`` with its stderr (module docstring)."""
    import numpy as np

    from ssbkit.core.units import BOLTZMANN_EV

    ea, pre = line.activation_energy, line.prefactor
    inverse = 1.0 / temperature_K
    ln_rate = math.log(pre.value) - ea.value * inverse / BOLTZMANN_EV
    var_slope = (ea.stderr / BOLTZMANN_EV) ** 2
    var_ln_pre = (pre.stderr / pre.value) ** 2
    x = 1.0 / np.asarray(line.temperature_K, dtype=float)
    values = np.asarray(line.values, dtype=float)
    w = (values / np.asarray(line.stderr, dtype=float)) ** 2 if line.stderr is not None else np.ones_like(x)
    x_mean = float(np.sum(w * x) / np.sum(w))
    variance = var_ln_pre + var_slope * inverse**2 - 2.0 * x_mean * var_slope * inverse
    rate = math.exp(ln_rate)
    stderr = rate * math.sqrt(variance) if math.isfinite(variance) and variance >= 0 else math.nan
    return Estimate(rate, stderr, pre.unit)


def _refuse_volume_table(path: str) -> None:
    """A peak-volume table read as a build-up would fail on its missing 'intensity' column;
    say what it is instead. (``ssbkit.nmr.exchange.read_exchange_table`` keeps no temperature,
    so a volume series over temperature cannot be normalised here yet.)"""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline().lower()
    except OSError:
        return  # the reader names the problem
    words = {w.strip().strip('"').split("[")[0].strip() for w in header.replace(";", ",").replace("\t", ",")
             .split(",")}
    if {"from", "to", "volume"} <= words and "intensity" not in words:
        raise InputError("a peak-volume table (from, to, volume), not a build-up table: normalise it "
                         "(ssbkit.nmr.volumes.normalize) and give 'mixing_time [s]', 'intensity' and "
                         "'temperature [K]' columns", source=path)


def run_exsy(task: AnalysisTask) -> dict[str, Any]:
    """Fit the task's build-up table per temperature and D(T) to the Arrhenius law (module
    docstring): the result dict.

    A bad table or setting raises ``InputError`` naming the file (``TaskInput.name``) or the
    setting; fits that give only a bound come back with ``success`` False and say which.
    """
    import numpy as np

    from ssbkit.nmr.buildup import TEMPERATURE, fit_buildup_series, read_buildup_table

    item = _single_input(task)
    s = _settings(task, EXSY_DEFAULTS)
    o = _exsy_options(s)
    model = o["model"]
    try:
        _refuse_volume_table(item.path)
        frame = read_buildup_table(item.path)
        if TEMPERATURE not in frame.columns:
            raise InputError(f"no {TEMPERATURE!r} column: D(T) and its activation energy need build-ups "
                             "at 2 or more temperatures", source=item.path)
        found = np.unique(frame[TEMPERATURE].to_numpy(float))
        if found.size < 2:
            raise InputError(f"build-ups at one temperature only ({found[0]:g} K): D(T) and its activation "
                             "energy need 2 or more", source=item.path)
        series = fit_buildup_series(frame, model=model, length_um=o["length_um"], plateau=o["plateau"],
                                    pair=o["pair"], source=item.name)
    except InputError as exc:
        raise _named(exc, item) from None

    rate_name, unit = model.rate_parameter, model.units[model.rate_parameter]
    line = series.arrhenius
    def in_summary(e: Estimate | None) -> Estimate:
        # ssbkit.core.units spells a rate 'Hz', not the model's '1/s'
        return Estimate(math.nan if e is None else e.value, math.nan if e is None else e.stderr,
                        "Hz" if unit == "1/s" else unit)

    summary: dict[str, Any] = {
        "ea": series.Ea if series.Ea is not None else Estimate(math.nan, unit="eV"),
        f"{rate_name.lower()}_298K": in_summary(None if line is None
                                                 else _rate_at(line, REFERENCE_TEMPERATURE_K)),
        f"{rate_name.lower()}0": in_summary(series.prefactor),
        "n_temperatures": {"value": 0 if line is None else len(line.temperature_K), "stderr": None,
                           "unit": "1"},
    }
    rows, curves = [], []
    for fit in series.fits:
        rate = fit.rate
        rows.append({"temperature [K]": fit.temperature_K, f"{rate_name} [{unit}]": rate.value,
                     f"{rate_name} stderr [{unit}]": rate.stderr, "plateau": fit.plateau.value,
                     "plateau stderr": fit.plateau.stderr, "R²": fit.r_squared,
                     "determined": bool(fit.success)})
        t = np.asarray(fit.mixing_time_s, dtype=float)
        positive = t[t > 0]
        log_time = positive.size > 0 and float(t.max()) / float(positive.min()) >= 100.0
        grid = (np.geomspace(float(positive.min()), float(t.max()), CURVE_POINTS) if log_time
                else np.linspace(0.0, float(t.max()), CURVE_POINTS))
        curves.append({
            "temperature [K]": fit.temperature_K, "mixing_time [s]": t,
            "intensity": np.asarray(fit.intensity, dtype=float),
            "intensity stderr": None if fit.stderr is None else np.asarray(fit.stderr, dtype=float),
            "rate": rate.value, "rate stderr": rate.stderr, "plateau": fit.plateau.value,
            "plateau stderr": fit.plateau.stderr, "plateau fixed": bool(fit.plateau_fixed),
            "determined": bool(fit.success), "log time": bool(log_time),
            "fit mixing_time [s]": grid, "fit intensity": fit.predict(grid),
        })
    arrhenius = None
    if line is not None:
        temps = np.asarray(line.temperature_K, dtype=float)
        grid = np.linspace(float(temps.min()), float(temps.max()), CURVE_POINTS // 2)
        arrhenius = {
            "temperature [K]": temps, "rate": np.asarray(line.values, dtype=float),
            "rate stderr": None if line.stderr is None else np.asarray(line.stderr, dtype=float),
            "activation_energy": line.activation_energy, "prefactor": line.prefactor,
            "r_squared": line.r_squared, "weighted": bool(line.weighted),
            "degrees_of_freedom": line.degrees_of_freedom,
            "line 1000/T [1/K]": 1000.0 / grid, "line ln rate": np.log(line.predict(grid)),
        }
    message = series.message
    if line is None:
        note = "fewer than 2 temperatures gave a rate: no Arrhenius line"
        message = f"{message}; {note}" if message else note
    out_series = {"file": item.name, "model": model.name, "equation": model.equation,
                  "length_um": o["length_um"], "normalisation": o["normalisation"], "pair": series.pair,
                  "rate_parameter": rate_name, "rate_unit": unit, "buildup": curves, "arrhenius": arrhenius}
    return to_json_safe({
        "kind": "exsy", "success": bool(series.success and line is not None), "message": message,
        "summary": summary, "tables": {"diffusion" if rate_name == "D" else "exchange": rows},
        "series": out_series, "provenance": _provenance(series.provenance, "exsy", s, item),
    })


def _buildup_fits(series: Mapping[str, Any]) -> list[Any]:
    """``BuildupFit``s rebuilt from the stored numbers, for ``ssbkit.nmr.plot``."""
    import numpy as np

    from ssbkit.core.results import frozen_array
    from ssbkit.nmr.buildup import BuildupFit

    name, unit = series.get("rate_parameter", "D"), series.get("rate_unit", "cm²/s")
    fits = []
    for curve in series.get("buildup") or []:
        rate = Estimate(*_numbers([curve.get("rate"), curve.get("rate stderr")]), unit)
        plateau = Estimate(*_numbers([curve.get("plateau"), curve.get("plateau stderr")]), "1")
        err = curve.get("intensity stderr")
        fits.append(BuildupFit(
            success=bool(curve.get("determined", False)), model=series.get("model", "sphere"),
            equation=series.get("equation", ""), plateau=plateau,
            plateau_fixed=bool(curve.get("plateau fixed", False)), length_um=series.get("length_um"),
            temperature_K=curve.get("temperature [K]"), **{name: rate},
            mixing_time_s=frozen_array(_numbers(curve.get("mixing_time [s]") or [])),
            intensity=frozen_array(_numbers(curve.get("intensity") or [])),
            stderr=None if err is None else frozen_array(_numbers(err)),
            fitted=frozen_array(np.zeros(len(curve.get("intensity") or [])))))
    return fits


def _estimate(data: Any, unit: str) -> Estimate:
    data = data if isinstance(data, Mapping) else {}
    return Estimate(*_numbers([data.get("value"), data.get("stderr")]), data.get("unit", unit))


def exsy_figures(result: Mapping[str, Any]) -> list[FigureSpec]:
    """Build-up curves with their fits, and ln D against 1000/T with the Arrhenius line (when
    there is one), drawn by ``ssbkit.nmr.plot`` from the stored numbers."""
    from ssbkit.nmr.buildup import BuildupSeriesFit, RateArrhenius
    from ssbkit.nmr.plot import plot_arrhenius_D, plot_buildup

    series = result.get("series") or {}
    summary = result.get("summary") or {}
    fits = [f for f in _buildup_fits(series) if f.mixing_time_s.size]
    if not fits:
        return []
    name, unit = series.get("rate_parameter", "D"), series.get("rate_unit", "cm²/s")
    model, length = series.get("model", ""), series.get("length_um")
    shape = f"{model} model" + (f", L = {length:g} µm" if length else "")
    rates = "; ".join(f"{f.temperature_K:g} K: {name} = {_fmt(f.rate.value, f.rate.stderr, 3)}"
                      + ("" if f.success else " (a bound only)") for f in fits)
    caption = (f"EXSY cross-peak build-up of {series.get('file', 'the table')}"
               f"{' (' + series['pair'] + ')' if series.get('pair') else ''}: normalised intensity "
               f"({series.get('normalisation', '')}) against mixing time at {len(fits)} temperatures, points "
               f"measured, lines the fits of the {shape} ({series.get('equation', '')}). {rates} [{unit}].")
    log_time = any(c.get("log time") for c in series.get("buildup") or [])
    figures = [FigureSpec(name="exsy_buildup", figure=plot_buildup(fits, log_time=log_time), caption=caption)]
    stored = series.get("arrhenius")
    if stored:
        line = RateArrhenius(
            quantity=name, activation_energy=_estimate(stored.get("activation_energy"), "eV"),
            prefactor=_estimate(stored.get("prefactor"), unit),
            r_squared=_numbers([stored.get("r_squared")])[0], weighted=bool(stored.get("weighted")),
            temperature_K=tuple(_numbers(stored["temperature [K]"])), values=tuple(_numbers(stored["rate"])),
            stderr=None if stored.get("rate stderr") is None else tuple(_numbers(stored["rate stderr"])),
            degrees_of_freedom=int(stored.get("degrees_of_freedom") or 0))
        drawn = BuildupSeriesFit(model=str(model), fits=tuple(fits), arrhenius=line)
        key = f"{name.lower()}_298K"
        quantity = "diffusion coefficient" if name == "D" else "exchange rate"
        weighted = "weighted " if line.weighted else ""
        caption = (f"Arrhenius plot of the EXSY {quantity} of {series.get('file', 'the table')}: ln {name} "
                   f"against 1000/T ({shape}), error bars from the build-up fits, line the {weighted}"
                   f"least-squares fit ln {name} = ln {name}0 − Ea/(k_B T). Ea = "
                   f"{_fmt(_value(summary, 'ea'), _stderr(summary, 'ea'), 3)} eV, {name}(25 °C) = "
                   f"{_fmt(_value(summary, key), _stderr(summary, key), 3)} {unit}, "
                   f"R² = {_fmt(line.r_squared, digits=4)}.")
        figures.append(FigureSpec(name="exsy_arrhenius", figure=plot_arrhenius_D(drawn), caption=caption))
    if not result.get("success", False):
        note = f" Not every fit succeeded: {result.get('message', '')}"
        figures = [FigureSpec(f.name, f.figure, f.caption + note) for f in figures]
    return figures


KINDS: list[AnalysisKind] = [
    AnalysisKind(name="xrd", technique="xrd", target="sample", title="Rietveld refinement",
                 defaults=XRD_DEFAULTS, run=run_xrd, figures=xrd_figures),
    AnalysisKind(name="exsy", technique="exsy", target="sample", title="EXSY build-up and D(T)",
                 defaults=EXSY_DEFAULTS, run=run_exsy, figures=exsy_figures),
]
