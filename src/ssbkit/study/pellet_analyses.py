"""The pellet analyses of a study: ionic conductivity over temperature, electronic conductivity.

**conductivity** (one per pellet, every impedance file measured on it, each at the manifest's
``temperature_C``). Each file is read with ``ssbkit.io.read_spectra``; one sweep of it
(``sweep``, default the last: repeated sweeps at one temperature settle towards the last) is
fitted with ``circuit`` by ``ssbkit.eis.fit.fit_circuits`` (the whole series in one batch);
``ssbkit.eis.conductivity.conductivity_from_fit`` turns the resistance of ``process`` into

    σ = L / (R·A)   [S/cm],  A = π d²/4,

with the pellet's diameter d and thickness L from the manifest, and
``ssbkit.eis.arrhenius.arrhenius_from_conductivities`` fits

    ln(σT) = ln A − Ea/(k_B·T)        (``form = "sigma"``: ln σ = ln σ0 − Ea/(k_B·T))

over the temperatures, weighted by (σ/δσ)² unless ``weighted = false``. These are the
functions ``ssbkit eis conductivity`` and ``ssbkit eis arrhenius`` call, with their defaults
except the circuit: ``R0-CPE1``, a series resistance and the blocking-electrode spike, which is
what a fast sulfide electrolyte shows at room temperature when its bulk arc lies above the
analyser's range; ``process = "auto"`` then takes the high-frequency intercept. Pellets whose
arcs are resolved need e.g. ``circuit = "p(R1,CPE1)-p(R2,CPE2)-CPE3"`` and ``process = "bulk"``
or ``"total"`` (arcs are told apart by their capacitance, Irvine, Sinclair & West 1990).

σ(25 °C) is the measurement at 25 °C (within 0.5 °C) where there is one, else the Arrhenius
line at 298.15 K; the message says which. A fit that does not converge, or one that converges
to a resistance it does not determine (not finite and > 0, no finite standard error, or less
than ``MIN_RESISTANCE_SIGNIFICANCE`` standard errors from zero: a spectrum with no intercept,
or noise), leaves its temperature out of the Arrhenius fit, says so in the message and in the
table's ``note``, and makes the result ``success = False``. Such a point is dropped rather
than kept unweighted: one σ without a standard error would otherwise turn the whole line
into an unweighted fit, and its σ (L/(R·A) of a vanishing R) is meaningless.

**electronic** (one per pellet, its DC polarisation files): ``ssbkit.io.read_chronoamperometry``
and ``ssbkit.eis.dcpol.electronic_conductivity``, as ``ssbkit eis dcpol`` does: the
steady-state current of each voltage step, the line I = V/R_e + I_0, and σ_e = L/(R_e·A).

Both return the study's result dict (``ssbkit.study.kinds.RESULT_KEYS``); curves in ``series``
are thinned to at most ``MAX_POINTS`` points, and ``figures`` draws from the dict alone.

>>> sorted(kind.name for kind in KINDS)
['conductivity', 'electronic']
>>> thin(5, 3).tolist(), thin(1000).size
([0, 2, 4], 200)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, make_provenance, to_json_safe
from ssbkit.study.kinds import AnalysisKind, AnalysisTask, FigureSpec, TaskInput

__all__ = [
    "CONDUCTIVITY_DEFAULTS",
    "ELECTRONIC_DEFAULTS",
    "KINDS",
    "MAX_POINTS",
    "MIN_RESISTANCE_SIGNIFICANCE",
    "conductivity_figures",
    "electronic_figures",
    "pellet_geometry",
    "read_input",
    "renamed_error",
    "run_conductivity",
    "run_electronic",
    "thin",
]

CONDUCTIVITY_DEFAULTS: dict[str, Any] = {
    "circuit": "R0-CPE1",
    "process": "auto",
    "weights": "modulus",
    "sweep": -1,
    "assign": {},
    "form": "sigmaT",
    "weighted": True,
}
ELECTRONIC_DEFAULTS: dict[str, Any] = {
    "tail_fraction": 0.1,
    "voltage_tolerance_V": 0.005,
    "min_points": 5,
    "steady_threshold": 0.01,
}
MAX_POINTS = 200  # per stored curve: the series are stored in the lab database
MIN_RESISTANCE_SIGNIFICANCE = 2.0  # R / δR below this: the fit did not determine R
ROOM_TEMPERATURE_C = 25.0
_ROOM_TOLERANCE_C = 0.5
_CELSIUS_ZERO_K = 273.15


# -- shared helpers ------------------------------------------------------------------------

def renamed_error(exc: InputError, item: TaskInput) -> InputError:
    """``exc`` as an ``InputError`` whose source is the file as the manifest wrote it
    (``item.name``), never its stored, content-addressed copy, and named once: a source more
    precise than the file ("<file> sweep 2", "<file>: frequency") keeps what it adds.

    >>> item = TaskInput("m1", "/store/ab12.csv", "raw/x.csv", "sha256:x", {})
    >>> str(renamed_error(InputError("no data", source="/store/ab12.csv sweep 0"), item))
    'raw/x.csv: sweep 0: no data'
    >>> str(renamed_error(InputError("must be > 0", source="lam"), item))
    'raw/x.csv: lam: must be > 0'
    """
    stored = str(item.path)
    detail = str(exc.detail).replace(stored, item.name)
    where = (exc.source or "").replace(stored, item.name).removeprefix(item.name).lstrip(":, ")
    return InputError(f"{where}: {detail}" if where else detail, source=item.name, location=exc.location)


def read_input(item: TaskInput, reader: Callable[..., list[Any]]) -> list[Any]:
    """``reader(item.path)``, with an ``InputError`` naming the file as the manifest wrote it
    (``item.name``), never the stored, content-addressed copy."""
    try:
        return reader(item.path)
    except InputError as exc:
        raise renamed_error(exc, item) from None


def thin(n: int, most: int = MAX_POINTS) -> Any:
    """Indices of at most ``most`` of ``n`` points, spread evenly, first and last kept."""
    import numpy as np

    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


def pellet_geometry(task: AnalysisTask) -> Any:
    """The ``PelletGeometry`` of the task's pellet from ``context["diameter_mm"/"thickness_mm"]``."""
    from ssbkit.eis.conductivity import PelletGeometry

    where = f"pellet {task.target}"
    missing = [k for k in ("diameter_mm", "thickness_mm") if task.context.get(k) is None]
    if missing:
        raise InputError(f"needs {' and '.join(missing)} to turn resistances into conductivities",
                         source=where)
    try:
        return PelletGeometry.from_diameter(task.context["diameter_mm"], task.context["thickness_mm"])
    except InputError as exc:
        raise InputError(str(exc), source=where) from None


def _setting_error(kind: str, key: str, detail: str) -> InputError:
    return InputError(detail, source=f"[settings.{kind}] {key}")


def _merged(kind: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise _setting_error(kind, unknown[0], f"unknown setting; known: {', '.join(defaults)}")
    return {**defaults, **given}


def _choice(kind: str, key: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _setting_error(kind, key, f"must be one of {', '.join(choices)}; got {value!r}")
    return value


def _number(kind: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _setting_error(kind, key, f"must be a finite number, got {value!r}")
    return float(value)


def _temperature_K(item: TaskInput, *, required: bool) -> float | None:
    value = item.conditions.get("temperature_C")
    if value is None:
        if required:
            raise InputError(f"measurement {item.measurement!r} has no temperature_C: each impedance "
                             "file of a conductivity series needs its temperature", source=item.name)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value <= -_CELSIUS_ZERO_K:
        raise InputError(f"measurement {item.measurement!r}: temperature_C must be a number above "
                         f"−273.15, got {value!r}", source=item.name)
    return float(value) + _CELSIUS_ZERO_K


def _estimate(value: float, stderr: float, unit: str) -> dict[str, Any]:
    return Estimate(value, stderr, unit).to_dict()


def _rows(frame: Any) -> list[dict[str, Any]]:
    return to_json_safe(frame)


def _result(kind: str, success: bool, message: str, summary: Mapping[str, Any],
            tables: Mapping[str, Any], series: Mapping[str, Any], provenance: Any) -> dict[str, Any]:
    return to_json_safe({"kind": kind, "success": bool(success), "message": message,
                         "summary": dict(summary), "tables": dict(tables), "series": dict(series),
                         "provenance": provenance.to_dict()})


def _text(estimate: Mapping[str, Any] | None, digits: str = ".4g") -> str:
    value = None if not estimate else estimate.get("value")
    if value is None:
        return "n/a"
    stderr = estimate.get("stderr")
    error = f" ± {stderr:.2g}" if stderr is not None else ""
    return f"{value:{digits}}{error} {estimate.get('unit', '')}".rstrip()


def _geometry_text(geometry: Mapping[str, Any]) -> str:
    d, length = geometry.get("diameter_mm", math.nan), geometry.get("thickness_mm", math.nan)
    return f"d = {d:g} mm, L = {length:g} mm"


# -- conductivity --------------------------------------------------------------------------

def _conductivity_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    from ssbkit.eis.circuits import parse_circuit
    from ssbkit.eis.conductivity import ARC_LABELS, PROCESSES
    from ssbkit.eis.fit import WEIGHTS

    kind = "conductivity"
    s = _merged(kind, CONDUCTIVITY_DEFAULTS, given)
    if not isinstance(s["circuit"], str):
        raise _setting_error(kind, "circuit", f"must be a circuit string, got {s['circuit']!r}")
    try:
        parse_circuit(s["circuit"])
    except InputError as exc:
        raise _setting_error(kind, "circuit", exc.detail) from None
    _choice(kind, "process", s["process"], (*PROCESSES, "auto"))
    _choice(kind, "weights", s["weights"], WEIGHTS)
    _choice(kind, "form", s["form"], ("sigmaT", "sigma"))
    if isinstance(s["sweep"], bool) or not isinstance(s["sweep"], int):
        raise _setting_error(kind, "sweep", f"must be a whole number (0 = first, -1 = last), "
                                            f"got {s['sweep']!r}")
    if not isinstance(s["weighted"], bool):
        raise _setting_error(kind, "weighted", f"must be true or false, got {s['weighted']!r}")
    assign = s["assign"]
    if not isinstance(assign, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in assign.items()):
        raise _setting_error(kind, "assign", "must map circuit elements to processes, e.g. "
                                             "{ R1 = \"bulk\" }")
    for element, process in assign.items():
        _choice(kind, f"assign.{element}", process, ARC_LABELS)
    s["assign"] = dict(sorted(assign.items()))
    return s


def _one_sweep(item: TaskInput, spectra: list[Any], sweep: int, temperature_K: float) -> Any:
    from ssbkit.eis.data import Spectrum

    if not -len(spectra) <= sweep < len(spectra):
        raise InputError(f"holds {len(spectra)} sweep(s); the setting sweep = {sweep} is not one of them",
                         source=item.name)
    chosen = spectra[sweep]
    # the stored copy's path must not reach the result: the spectrum is named as the manifest names it
    return Spectrum(chosen.frequency, chosen.impedance, chosen.mask, {"temperature_K": temperature_K},
                    source=item.name)


def run_conductivity(task: AnalysisTask) -> dict[str, Any]:
    """σ per temperature, Arrhenius Ea and σ(25 °C) of one pellet (see the module docstring)."""
    from ssbkit.eis.arrhenius import arrhenius_from_conductivities
    from ssbkit.eis.conductivity import conductivity_from_fit
    from ssbkit.eis.fit import fit_circuits
    from ssbkit.io import read_spectra

    settings = _conductivity_settings(task.settings)
    geometry = pellet_geometry(task)
    if not task.inputs:
        raise InputError("no impedance files to analyse", source=f"pellet {task.target}")
    # Sorted by temperature then name, so the result does not depend on the order of the inputs.
    pairs = sorted(((_temperature_K(item, required=True), item) for item in task.inputs),
                   key=lambda p: (p[0], p[1].name, p[1].measurement))
    spectra = [_one_sweep(item, read_input(item, read_spectra), settings["sweep"], t) for t, item in pairs]
    fits = fit_circuits(spectra, settings["circuit"], weights=settings["weights"])
    sigmas = []
    for (t, item), fit in zip(pairs, fits, strict=True):
        try:
            sigmas.append(conductivity_from_fit(fit, geometry, process=settings["process"], temperature_K=t,
                                                assign=settings["assign"] or None))
        except InputError as exc:
            raise InputError(f"{exc} (circuit {settings['circuit']}, process {settings['process']})",
                             source=item.name) from None

    notes: list[str] = []
    # why each temperature is left out of the Arrhenius line ("" where it is in)
    left_out = ["the circuit fit did not converge" if not fit.success else _undetermined(sigma)
                for fit, sigma in zip(fits, sigmas, strict=True)]
    failed = [item.name for (_, item), fit in zip(pairs, fits, strict=True) if not fit.success]
    if failed:
        notes.append(f"the circuit fit did not converge for {', '.join(failed)}; left out")
    vague = [f"{item.name} ({why})" for (_, item), fit, why in zip(pairs, fits, left_out, strict=True)
             if fit.success and why]
    if vague:
        notes.append(f"the fit does not determine the resistance of {'; '.join(vague)}; left out")
    used = [s for s, why in zip(sigmas, left_out, strict=True) if not why]
    temperatures = sorted({s.temperature_K for s in used})
    arrhenius = None
    if len(temperatures) >= 2:
        arrhenius = arrhenius_from_conductivities(used, form=settings["form"], weighted=settings["weighted"])
        if arrhenius.message:
            notes.append(f"Arrhenius: {arrhenius.message}")
    else:
        notes.append(f"{len(temperatures)} temperature(s) with a determined resistance: no Arrhenius fit")

    sigma_25, how = _room_conductivity(pairs, sigmas, left_out, arrhenius)
    notes.insert(0, how)
    ea = arrhenius.activation_energy if arrhenius is not None else Estimate(math.nan, math.nan, "eV")
    summary = {
        "sigma_25C": sigma_25.to_dict(),
        "ea": ea.to_dict(),
        "n_temperatures": _estimate(len(temperatures), math.nan, "1"),
        "r_squared": _estimate(arrhenius.r_squared if arrhenius else math.nan, math.nan, "1"),
    }
    table, parameters, nyquist = [], [], []
    for (t, item), fit, sigma, why in zip(pairs, fits, sigmas, left_out, strict=True):
        mS = sigma.conductivity.to("mS/cm")
        table.append({
            "measurement": item.measurement, "file": item.name, "temperature [°C]": t - _CELSIUS_ZERO_K,
            "temperature [K]": t, "process": sigma.process,
            "resistance [Ohm]": sigma.resistance.value, "resistance stderr [Ohm]": sigma.resistance.stderr,
            "sigma [mS/cm]": mS.value, "sigma stderr [mS/cm]": mS.stderr,
            "fit converged": bool(fit.success), "reduced chi-square": fit.reduced_chi_square,
            "points": int(fit.frequency.size), "in Arrhenius fit": not why, "note": why,
        })
        parameters += [{"measurement": item.measurement, "temperature [°C]": t - _CELSIUS_ZERO_K,
                        "parameter": name, "value": e.value, "stderr": e.stderr, "unit": e.unit}
                       for name, e in fit.parameters.items()]
        keep = thin(fit.frequency.size)
        nyquist.append({
            "measurement": item.measurement, "file": item.name, "temperature_K": t,
            "circuit": fit.circuit, "converged": bool(fit.success),
            "resistance_ohm": None if why else sigma.resistance.value,  # only sets the zoom
            "parameters": {name: e.value for name, e in fit.parameters.items()},
            "frequency": fit.frequency[keep], "z_real": fit.impedance.real[keep],
            "z_imag": fit.impedance.imag[keep], "fit_real": fit.impedance_fit.real[keep],
            "fit_imag": fit.impedance_fit.imag[keep],
        })
    series = {
        "geometry": {"diameter_mm": float(task.context["diameter_mm"]),
                     "thickness_mm": float(task.context["thickness_mm"]),
                     "area_cm2": geometry.area_cm2.value},
        "settings": settings,
        "nyquist": nyquist,
        "arrhenius": _arrhenius_series(used, arrhenius, settings),
    }
    success = not any(left_out) and bool(used) and (arrhenius is None or arrhenius.success)
    provenance = make_provenance(
        "ssbkit.study.pellet_analyses.run_conductivity",
        settings={**settings, "geometry": geometry.to_dict()},
        files={item.name: item.path for _, item in pairs},
        citations=("irvine1990", "brug1984", "hsu2001"))
    return _result("conductivity", success, "; ".join(notes), summary,
                   {"conductivity": table, "parameters": parameters}, series, provenance)


def _undetermined(sigma: Any) -> str:
    """Why the fitted resistance behind ``sigma`` says nothing ("" when it is determined)."""
    r = sigma.resistance
    if not (math.isfinite(r.value) and r.value > 0):
        return f"R = {r.value:.3g} Ohm"
    if not math.isfinite(r.stderr):
        return f"R = {r.value:.3g} Ohm without a standard error"
    if r.value < MIN_RESISTANCE_SIGNIFICANCE * r.stderr:
        return (f"R = {r.value:.3g} ± {r.stderr:.2g} Ohm, within {MIN_RESISTANCE_SIGNIFICANCE:g} standard "
                "errors of 0")
    return ""


def _room_conductivity(pairs: list[tuple[float, TaskInput]], sigmas: list[Any], left_out: list[str],
                       arrhenius: Any) -> tuple[Estimate, str]:
    room_K = ROOM_TEMPERATURE_C + _CELSIUS_ZERO_K
    measured = [(abs(t - room_K), item.name, s)
                for (t, item), s, why in zip(pairs, sigmas, left_out, strict=True)
                if not why and abs(t - room_K) <= _ROOM_TOLERANCE_C]
    if measured:
        _, name, sigma = min(measured, key=lambda m: (m[0], m[1]))
        extra = f" (first of {len(measured)})" if len(measured) > 1 else ""
        return sigma.conductivity.to("mS/cm"), f"σ(25 °C) measured: {name}{extra}"
    if arrhenius is not None:
        t = arrhenius.temperature_K
        where = "interpolated" if min(t) <= room_K <= max(t) else "extrapolated"
        return (arrhenius.conductivity_at(room_K).to("mS/cm"),
                f"σ(25 °C) from the Arrhenius line ({where}; no measurement at 25 °C)")
    return Estimate(math.nan, math.nan, "mS/cm"), "no σ(25 °C): no measurement at 25 °C and no Arrhenius line"


def _arrhenius_series(used: list[Any], arrhenius: Any, settings: Mapping[str, Any]) -> dict[str, Any]:
    import numpy as np

    t = np.array([s.temperature_K for s in used], dtype=float)
    sigma = np.array([s.conductivity.to("S/cm").value for s in used], dtype=float)
    stderr = np.array([s.conductivity.to("S/cm").stderr for s in used], dtype=float)
    weighted = bool(arrhenius.weighted) if arrhenius is not None else False
    out: dict[str, Any] = {"form": settings["form"], "weighted": weighted,
                           "temperature_K": t, "sigma_S_cm": sigma, "sigma_stderr_S_cm": stderr,
                           "inverse_temperature_1000_per_K": 1000.0 / t if t.size else t,
                           "ln_sigma_T": np.log(sigma * t) if t.size else t}
    if arrhenius is not None:
        line_t = np.linspace(t.min(), t.max(), 50)
        out["line"] = {"inverse_temperature_1000_per_K": 1000.0 / line_t,
                       "ln_sigma_T": np.log(arrhenius.predict(line_t) * line_t)}
    return out


def conductivity_figures(result: Mapping[str, Any]) -> list[FigureSpec]:
    """The Nyquist plots with their fits and the Arrhenius plot, from the result dict alone."""
    import numpy as np

    from ssbkit.eis.plot import plot_arrhenius

    series = result.get("series") or {}
    summary = result.get("summary") or {}
    settings = series.get("settings") or CONDUCTIVITY_DEFAULTS
    geometry = series.get("geometry") or {}
    specs = []
    curves = [c for c in series.get("nyquist") or [] if c.get("frequency")]
    if curves:
        rows = (result.get("tables") or {}).get("conductivity") or []
        processes = sorted({row.get("process", "") for row in rows})
        temperatures = ", ".join(f"{c['temperature_K'] - _CELSIUS_ZERO_K:g}" for c in curves)
        fig, zoomed = _nyquist_figure(curves)
        caption = (f"Nyquist plots of the pellet at {temperatures} °C: points are the measured impedance, "
                   f"lines the fitted {settings['circuit']} circuit ({settings['weights']} weights)"
                   + ("; right, the same near the origin, where the resistances are read" if zoomed else "")
                   + f". σ = L/(R·A) from the {' / '.join(processes) or settings['process']} resistance with "
                   f"{_geometry_text(geometry)}: σ(25 °C) = {_text(summary.get('sigma_25C'))}.")
        specs.append(FigureSpec("nyquist", fig, caption))
    arrhenius = series.get("arrhenius") or {}
    t = np.asarray(arrhenius.get("temperature_K") or [], float)
    if np.unique(t).size >= 2:
        from ssbkit.eis.arrhenius import arrhenius as fit_arrhenius

        stderr = arrhenius.get("sigma_stderr_S_cm")
        weighted = bool(arrhenius.get("weighted")) and stderr is not None and None not in stderr
        fit = fit_arrhenius(t, arrhenius["sigma_S_cm"], stderr=stderr if weighted else None,
                            form=arrhenius.get("form", "sigmaT"))
        form = "σT" if fit.form == "sigmaT" else "σ"
        caption = (f"Arrhenius plot of the pellet's ionic conductivity: log₁₀({form}) against 1000/T at "
                   f"{t.size} temperatures, with the least-squares line of ln({form}) on 1/T "
                   f"({'weighted by (σ/δσ)²' if weighted else 'unweighted'}): "
                   f"Ea = {_text(summary.get('ea'), '.4f')}, "
                   f"σ(25 °C) = {_text(summary.get('sigma_25C'))}.")
        specs.append(FigureSpec("arrhenius", plot_arrhenius(fit), caption))
    return specs


def _nyquist_figure(curves: list[Mapping[str, Any]]) -> tuple[Any, bool]:
    """Every spectrum with its fit; beside it, where the electrode response dwarfs the arcs, the
    region within 3 × the largest resistance, so the intercepts can be seen."""
    import numpy as np

    from ssbkit.core.plotting import new_figure
    from ssbkit.eis.fit import FitResult
    from ssbkit.eis.plot import plot_nyquist

    def fit_of(c: Mapping[str, Any], keep: Any) -> Any:
        z = np.asarray(c["z_real"], float) + 1j * np.asarray(c["z_imag"], float)
        z_fit = np.asarray(c["fit_real"], float) + 1j * np.asarray(c["fit_imag"], float)
        return FitResult(
            success=bool(c.get("converged", True)), circuit=c["circuit"],
            parameters={k: Estimate(math.nan if v is None else v) for k, v in c["parameters"].items()},
            initial={}, frequency=np.asarray(c["frequency"], float)[keep], impedance=z[keep],
            impedance_fit=z_fit[keep], metadata={"temperature_K": c["temperature_K"]})

    everything = [fit_of(c, slice(None)) for c in curves]
    resistances = [c.get("resistance_ohm") for c in curves]
    window = 3.0 * max((r for r in resistances if r is not None and r > 0), default=math.nan)
    near = []
    if math.isfinite(window):
        for c, fit in zip(curves, everything, strict=True):
            inside = (fit.impedance.real <= window) & (-fit.impedance.imag <= window)
            if inside.sum() >= 2:
                near.append(fit_of(c, inside))
    zoom = bool(near) and any((np.abs(f.impedance) > 1.5 * window).any() for f in everything)
    if not zoom:
        return plot_nyquist(everything), False
    fig = new_figure(7.0, 3.2)
    left, right = fig.subplots(1, 2)
    plot_nyquist(everything, ax=left)
    plot_nyquist(near, ax=right)
    return fig, True


# -- electronic conductivity ---------------------------------------------------------------

def _electronic_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    kind = "electronic"
    s = _merged(kind, ELECTRONIC_DEFAULTS, given)
    for key in ELECTRONIC_DEFAULTS:
        s[key] = _number(kind, key, s[key])
    if s["min_points"] != int(s["min_points"]):
        raise _setting_error(kind, "min_points", f"must be a whole number, got {s['min_points']!r}")
    s["min_points"] = int(s["min_points"])
    return s


def run_electronic(task: AnalysisTask) -> dict[str, Any]:
    """σ_e from the DC polarisation files of one pellet (see the module docstring)."""
    import numpy as np

    from ssbkit.eis.dcpol import electronic_conductivity, split_steps
    from ssbkit.io import read_chronoamperometry

    settings = _electronic_settings(task.settings)
    geometry = pellet_geometry(task)
    if not task.inputs:
        raise InputError("no DC polarisation files to analyse", source=f"pellet {task.target}")
    inputs = sorted(task.inputs, key=lambda item: (item.name, item.measurement))
    records, owners = [], []
    for item in inputs:
        for record in read_input(item, read_chronoamperometry):
            records.append(record)
            owners.append(item)
    temperatures = [t for t in (_temperature_K(item, required=False) for item in inputs) if t is not None]
    names = ", ".join(item.name for item in inputs)
    try:
        result = electronic_conductivity(records, geometry, temperature_K=temperatures[0] if temperatures
                                         else None, **settings)
    except InputError as exc:
        raise InputError(exc.detail, source=names) from None

    steps = []
    for k, record in enumerate(records):
        for where in split_steps(record, voltage_tolerance_V=settings["voltage_tolerance_V"],
                                 min_points=settings["min_points"]):
            t = record.time[where]
            keep = thin(t.size)
            steps.append({"file": owners[k].name, "voltage": float(np.mean(record.voltage[where])),
                          "time_s": (t - t[0])[keep], "current_A": record.current[where][keep]})
    rows = _rows(result.to_frame())
    for row in rows:
        row["file"] = owners[row["record"]].name
    v = np.array([s.voltage for s in result.steps])
    line_v = np.array([0.0, float(v.max())]) if v.size else v
    series = {
        "geometry": {"diameter_mm": float(task.context["diameter_mm"]),
                     "thickness_mm": float(task.context["thickness_mm"]),
                     "area_cm2": geometry.area_cm2.value},
        "steps": steps,
        "iv": {"voltage_V": v, "current_A": [s.current.value for s in result.steps],
               "current_stderr_A": [s.current.stderr for s in result.steps],
               "line_voltage_V": line_v,
               "line_current_A": result.slope.value * line_v + result.intercept.value},
    }
    summary = {
        "sigma_electronic": result.electronic_conductivity.to_dict(),
        "r_electronic": result.electronic_resistance.to_dict(),
        "n_steps": _estimate(len(result.steps), math.nan, "1"),
    }
    provenance = make_provenance("ssbkit.study.pellet_analyses.run_electronic",
                                 settings={**settings, "geometry": geometry.to_dict()},
                                 files={item.name: item.path for item in inputs})
    return _result("electronic", result.success, result.message, summary, {"steps": rows}, series,
                   provenance)


def electronic_figures(result: Mapping[str, Any]) -> list[FigureSpec]:
    """Current against time at each voltage step, and the I–V line, from the result dict alone."""
    import numpy as np

    from ssbkit.core.plotting import matplotlib_package, new_figure

    series = result.get("series") or {}
    steps = [s for s in series.get("steps") or [] if s.get("time_s")]
    iv = series.get("iv") or {}
    if not steps and not iv.get("voltage_V"):
        return []
    fig = new_figure(7.0, 3.0)
    left, right = fig.subplots(1, 2)
    cmap = matplotlib_package().colormaps["viridis"]
    currents = [np.asarray(s["current_A"], dtype=float) for s in steps]
    positive = all((c > 0).all() for c in currents)
    for k, (step, current) in enumerate(zip(steps, currents, strict=True)):
        colour = cmap(0.85 * k / max(len(steps) - 1, 1))
        left.plot(step["time_s"], current, "-", lw=1.0, color=colour, label=f"{step['voltage']:.3g} V")
    if positive and currents:
        left.set_yscale("log")
    left.set_xlabel("time in step [s]")
    left.set_ylabel("current [A]")
    if steps:
        left.legend(frameon=False, fontsize="x-small")
    volts = np.asarray(iv.get("voltage_V") or [], float)
    if volts.size:
        amps = np.asarray(iv["current_A"], float)
        errors = np.array([math.nan if e is None else e for e in iv.get("current_stderr_A") or []], float)
        right.errorbar(volts, amps, yerr=errors if errors.size == volts.size else None, fmt="o", ms=4,
                       capsize=2, label="steady state")
        line_v = iv.get("line_voltage_V") or []
        line_i = [math.nan if x is None else x for x in iv.get("line_current_A") or []]
        if line_v and line_i:
            right.plot(line_v, line_i, "-", color="C3", lw=1.2, label="I = V/R_e + I₀")
        right.legend(frameon=False, fontsize="x-small")
    right.set_xlabel("voltage [V]")
    right.set_ylabel("current [A]")
    summary = result.get("summary") or {}
    geometry = series.get("geometry") or {}
    caption = (f"DC polarisation with ion-blocking electrodes: left, the current at each voltage step "
               f"(the ionic current decays, leaving the electronic one); right, the steady-state current "
               f"(mean of the last part of each step) against voltage with the fitted line I = V/R_e + I₀. "
               f"R_e = {_text(summary.get('r_electronic'))}, σ_e = L/(R_e·A) = "
               f"{_text(summary.get('sigma_electronic'))} ({_geometry_text(geometry)}).")
    return [FigureSpec("dc_polarisation", fig, caption)]


KINDS: list[AnalysisKind] = [
    AnalysisKind(name="conductivity", technique="eis", target="pellet",
                 title="Ionic conductivity and activation energy", defaults=CONDUCTIVITY_DEFAULTS,
                 run=run_conductivity, figures=conductivity_figures, grouped=True),
    AnalysisKind(name="electronic", technique="dcpol", target="pellet",
                 title="Electronic conductivity (DC polarisation)", defaults=ELECTRONIC_DEFAULTS,
                 run=run_electronic, figures=electronic_figures, grouped=True),
]
