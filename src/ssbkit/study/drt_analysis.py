"""The DRT analysis of a study: impedance of a cell measured along a charge, as a map over SOC.

**drt** (one per impedance measurement on a cell): the file's sweeps, read with
``ssbkit.io.read_spectra`` in measurement order, are turned into distributions of relaxation
times by ``ssbkit.eis.drt_series.drt_series`` (Tikhonov regularisation on a radial-basis
expansion of γ, as DRTtools defines it; λ per sweep by modified GCV unless a number is given),
the function ``ssbkit eis drt-map`` calls, with its defaults. Each sweep's model is

    Z(f) = R∞ + j2πf·L₀ + ∫ γ(ln τ) / (1 + j2πfτ) d ln τ,   R_pol = ∫ γ d ln τ.

The manifest's ``soc_percent`` (one value per sweep) labels the sweeps; without it they are
labelled by their index and the message says so. ``regions`` (name → [τ_min, τ_max] in s)
split the τ axis into the processes of a solid-state cell (bulk and grain boundary,
interfaces, charge transfer, diffusion); each sweep's resistance in a region is ∫γ d ln τ
over it, and each peak of γ is assigned to the region that holds its τ and followed from
sweep to sweep (``DRTSeries.track_peaks``, at most ``max_shift_decades`` between sweeps).

The result (``ssbkit.study.kinds.RESULT_KEYS``) holds R_pol and R∞ at the first and last sweep,
a table of region resistances per sweep and one of the peaks, and, for the figures, γ(τ, SOC)
on at most ``MAX_POINTS`` τ values and the Nyquist data with the DRT model of the first and
last sweep.

>>> [kind.name for kind in KINDS], DRT_DEFAULTS["lam"]
(['drt'], 'mgcv')
>>> region_of(3e-2, {"interface": (1e-5, 1e-2), "charge_transfer": (1e-2, 1.0)})
'charge_transfer'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, make_provenance, to_json_safe
from ssbkit.study.kinds import AnalysisKind, AnalysisTask, FigureSpec, TaskInput
from ssbkit.study.pellet_analyses import read_input, renamed_error, thin

__all__ = ["DRT_DEFAULTS", "KINDS", "drt_figures", "region_of", "run_drt"]

DRT_DEFAULTS: dict[str, Any] = {
    "lam": "mgcv",
    "rbf": "gaussian",
    "fwhm_coeff": 0.5,
    "order": 1,
    "inductance": "fit",
    "data": "combined",
    "tau_grid": "auto",
    "peak_prominence": 0.02,
    "regions": {"bulk": [1e-7, 1e-5], "interface": [1e-5, 1e-2], "charge_transfer": [1e-2, 1.0],
                "diffusion": [1.0, 1e3]},
    "max_shift_decades": 0.3,
}
SOC_LABEL = "soc [%]"
INDEX_LABEL = "sweep"
OUTSIDE = "outside"


def _error(key: str, detail: str) -> InputError:
    return InputError(detail, source=f"[settings.drt] {key}")


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _error(key, f"must be a finite number, got {value!r}")
    return float(value)


def _tau_grid(value: Any) -> Any:
    """``"auto"`` (τ = 1/f), ``"MIN:MAX:N"`` or ``[MIN, MAX, N]``: N log-spaced times [s]."""
    import numpy as np

    if value == "auto":
        return None
    parts = value.split(":") if isinstance(value, str) else value
    try:
        if isinstance(parts, str) or len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), float(parts[2])
    except (TypeError, ValueError):
        raise _error("tau_grid", f"must be \"auto\", \"MIN:MAX:N\" or [MIN, MAX, N] in s, "
                                 f"got {value!r}") from None
    if not (0 < lo < hi < math.inf) or n != int(n) or n < 3:
        raise _error("tau_grid", f"needs 0 < MIN < MAX and a whole N ≥ 3, got {value!r}")
    return np.geomspace(lo, hi, int(n))


def _settings(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(settings as given and checked, the options of ``drt_series``, the regions)."""
    from ssbkit.eis.drt import DATA_MODES, INDUCTANCE_MODES, LAMBDA_METHODS
    from ssbkit.eis.drt_basis import normalise_rbf
    from ssbkit.eis.drt_series import check_regions

    unknown = sorted(set(given) - set(DRT_DEFAULTS))
    if unknown:
        raise _error(unknown[0], f"unknown setting; known: {', '.join(DRT_DEFAULTS)}")
    s = {**DRT_DEFAULTS, **given}
    lam = s["lam"]
    if isinstance(lam, str) and lam not in LAMBDA_METHODS:
        raise _error("lam", f"must be a number > 0 or one of {', '.join(LAMBDA_METHODS)}; got {lam!r}")
    if not isinstance(lam, str) and _number("lam", lam) <= 0:
        raise _error("lam", f"must be > 0, got {lam!r}")
    for key, choices in (("inductance", INDUCTANCE_MODES), ("data", DATA_MODES)):
        if s[key] not in choices:
            raise _error(key, f"must be one of {', '.join(choices)}; got {s[key]!r}")
    try:
        normalise_rbf(s["rbf"])
    except InputError as exc:
        raise _error("rbf", exc.detail) from None
    for key in ("fwhm_coeff", "peak_prominence", "max_shift_decades"):
        s[key] = _number(key, s[key])
    if s["order"] not in (1, 2) or isinstance(s["order"], bool):
        raise _error("order", f"must be 1 or 2, got {s['order']!r}")
    try:
        regions = check_regions(s["regions"])
    except InputError as exc:
        raise _error("regions", exc.detail) from None
    options = {"lam": lam, "rbf": s["rbf"], "fwhm_coeff": s["fwhm_coeff"], "order": int(s["order"]),
               "inductance": s["inductance"], "data": s["data"], "tau": _tau_grid(s["tau_grid"]),
               "peak_prominence": s["peak_prominence"]}
    s["regions"] = {name: list(pair) for name, pair in regions.items()}
    return s, options, regions


def region_of(tau: float, regions: Mapping[str, tuple[float, float]]) -> str:
    """The first region (in the order given) whose [τ_min, τ_max) holds ``tau``, else ``"outside"``."""
    return next((name for name, (lo, hi) in regions.items() if lo <= tau < hi), OUTSIDE)


def _key(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_").lower() or "region"


def _labels(item: TaskInput, n: int) -> tuple[str, list[float], str]:
    soc = item.conditions.get("soc_percent")
    if soc is None:
        return INDEX_LABEL, [float(k) for k in range(n)], \
            f"no soc_percent for measurement {item.measurement!r}: the {n} sweeps are labelled by their index"
    if isinstance(soc, str) or not hasattr(soc, "__len__"):
        raise InputError(f"measurement {item.measurement!r}: soc_percent must be a list of numbers, one per "
                         f"sweep, got {soc!r}", source=item.name)
    values = list(soc)
    if len(values) != n:
        raise InputError(f"measurement {item.measurement!r}: soc_percent has {len(values)} values but the "
                         f"file holds {n} sweep(s)", source=item.name)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise InputError(f"measurement {item.measurement!r}: soc_percent must hold finite numbers, got "
                         f"{values!r}", source=item.name)
    return SOC_LABEL, [float(v) for v in values], ""


def run_drt(task: AnalysisTask) -> dict[str, Any]:
    """DRTs of the sweeps of one impedance file of a cell, over its state of charge."""
    import numpy as np

    from ssbkit.eis.data import Spectrum
    from ssbkit.eis.drt_series import drt_series
    from ssbkit.io import read_spectra

    settings, options, regions = _settings(task.settings)
    if len(task.inputs) != 1:
        raise InputError(f"a DRT analysis reads one impedance file, got {len(task.inputs)}",
                         source=f"cell {task.target}")
    item = task.inputs[0]
    raw = read_input(item, read_spectra)
    # named as the manifest names the file: the stored copy's path must not reach the result
    spectra = [Spectrum(s.frequency, s.impedance, s.mask, {}, source=f"{item.name} sweep {k}")
               for k, s in enumerate(raw)]
    label, values, note = _labels(item, len(spectra))
    try:
        series = drt_series(spectra, labels={label: values}, **options)
    except InputError as exc:
        raise renamed_error(exc, item) from None
    results = series.results

    frame = series.region_resistances(regions)
    if label == INDEX_LABEL:  # the index label repeats the index column
        frame = frame.drop(columns=[INDEX_LABEL])
    region_rows = to_json_safe(frame.rename(columns={"index": "sweep"}))
    peaks = []
    for row in to_json_safe(series.track_peaks(settings["max_shift_decades"])):
        sweep = int(row["index"])
        peaks.append({"sweep": sweep, **({label: row[label]} if label != INDEX_LABEL else {}),
                      "region": region_of(row["tau [s]"], regions), "track": int(row["track"]),
                      "tau [s]": row["tau [s]"], "frequency [Hz]": 1.0 / (2.0 * math.pi * row["tau [s]"]),
                      "gamma [Ohm]": row["gamma [Ohm]"], "resistance [Ohm]": row["resistance [Ohm]"]})
    peaks.sort(key=lambda p: (p["sweep"], p["tau [s]"]))

    first, last = results[0], results[-1]
    summary: dict[str, Any] = {
        "r_polarisation_first": Estimate(first.R_pol, math.nan, "Ohm").to_dict(),
        "r_polarisation_last": Estimate(last.R_pol, math.nan, "Ohm").to_dict(),
        "n_sweeps": Estimate(len(results), math.nan, "1").to_dict(),
        "r_inf_first": Estimate(first.R_inf, math.nan, "Ohm").to_dict(),
        "r_inf_last": Estimate(last.R_inf, math.nan, "Ohm").to_dict(),
    }
    for name in regions:
        for which, row in (("first", region_rows[0]), ("last", region_rows[-1])):
            summary[f"r_{_key(name)}_{which}"] = Estimate(row[f"{name} [Ohm]"], math.nan, "Ohm").to_dict()

    keep = thin(series.tau.size)
    nyquist = []
    for k in sorted({0, len(results) - 1}):
        r = results[k]
        points = thin(r.frequency.size)
        nyquist.append({"sweep": k, "label": label, "value": values[k], "frequency": r.frequency[points],
                        "z_real": r.impedance.real[points], "z_imag": r.impedance.imag[points],
                        "fit_real": r.impedance_fit.real[points], "fit_imag": r.impedance_fit.imag[points]})
    out_series = {
        "file": item.name,
        "settings": settings,
        "map": {"label": label, "values": values, "tau": series.tau[keep],
                "gamma": np.asarray(series.matrix)[:, keep]},
        "r_pol": [r.R_pol for r in results],
        "nyquist": nyquist,
    }
    notes = [m for m in (note, series.message) if m]
    notes += [f"sweep {k}: {r.message}" for k, r in enumerate(results) if r.message]
    provenance = make_provenance("ssbkit.study.drt_analysis.run_drt", settings=settings,
                                 files={item.name: item.path},
                                 citations=series.provenance.citations[1:] if series.provenance else ())
    return to_json_safe({"kind": "drt", "success": bool(series.success), "message": "; ".join(notes),
                         "summary": summary, "tables": {"regions": region_rows, "peaks": peaks},
                         "series": out_series, "provenance": provenance.to_dict()})


# -- figures -------------------------------------------------------------------------------

def _stored_series(stored: Mapping[str, Any]) -> Any:
    """The stored map as a ``DRTSeries``, so ``ssbkit.eis.plot.plot_drt_map`` draws it: each sweep
    becomes a DRT result that holds only γ on the stored τ grid (the rest is not needed to draw)."""
    import numpy as np

    from ssbkit.eis.drt import DRTResult
    from ssbkit.eis.drt_series import DRTSeries

    tau = np.asarray(stored["tau"], float)
    empty = np.empty(0)
    results = []
    for row in stored["gamma"]:
        gamma = np.array([math.nan if g is None else g for g in row], float)
        results.append(DRTResult(
            frequency=empty, impedance=empty.astype(complex), impedance_fit=empty.astype(complex), tau=tau,
            gamma=gamma, coefficients=empty, tau_fine=tau, gamma_fine=gamma, R_inf=math.nan, L0=math.nan,
            R_pol=math.nan, lam=math.nan, lambda_method="", peaks=(), rbf="", epsilon=math.nan, order=1,
            data="", inductance="", residual_rms=math.nan))
    return DRTSeries(results=tuple(results), labels={stored["label"]: list(stored["values"])})


def _nyquist(curves: list[Mapping[str, Any]]) -> Any:
    import numpy as np

    from ssbkit.core.plotting import new_figure

    ax = new_figure(3.5, 3.2).add_subplot()
    low, extent = 0.0, 0.0
    for colour, c in zip(("C0", "C3"), curves, strict=False):
        name = "sweep" if c["label"] == INDEX_LABEL else "SOC"
        unit = "" if c["label"] == INDEX_LABEL else " %"
        z_re, z_im = np.asarray(c["z_real"], float), -np.asarray(c["z_imag"], float)
        ax.plot(z_re, z_im, "o", ms=3, color=colour, label=f"{name} = {c['value']:g}{unit}")
        fit_re = np.array([math.nan if v is None else v for v in c["fit_real"]], float)
        fit_im = np.array([math.nan if v is None else -v for v in c["fit_imag"]], float)
        ax.plot(fit_re, fit_im, "-", lw=1.0, color=colour)
        extent = max(extent, float(np.max(z_re)), float(np.max(z_im)))
        low = min(low, float(np.min(z_re)), float(np.min(z_im)))  # an inductive tail dips below 0
    margin = 0.04 * (extent - low)
    ax.set_xlim(low - margin, extent + margin)
    ax.set_ylim(low - margin, extent + margin)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Z' [Ω]")
    ax.set_ylabel("−Z'' [Ω]")
    ax.legend(frameon=False, fontsize="small")
    return ax.figure


def drt_figures(result: Mapping[str, Any]) -> list[FigureSpec]:
    """The DRT map over SOC and the Nyquist plots of the first and last sweep, from the dict alone."""
    from ssbkit.eis.plot import plot_drt_map

    series = result.get("series") or {}
    summary = result.get("summary") or {}
    settings = series.get("settings") or DRT_DEFAULTS
    specs = []
    stored = series.get("map") or {}
    if stored.get("gamma") and stored.get("tau"):
        regions = settings.get("regions") or None
        figure = plot_drt_map(_stored_series(stored), label=stored["label"], regions=regions)
        axis = "the state of charge" if stored["label"] == SOC_LABEL else "the sweep index (no SOC given)"
        r_first = (summary.get("r_polarisation_first") or {}).get("value")
        r_last = (summary.get("r_polarisation_last") or {}).get("value")
        lam = settings.get("lam")
        lam_text = f"λ = {lam:g}" if isinstance(lam, int | float) else f"λ by {lam}"
        caption = (f"Distribution of relaxation times of {series.get('file', 'the cell')} over {axis}: "
                   f"colour is γ(τ) [Ω] of each of {len(stored['gamma'])} sweeps (Tikhonov regularisation, "
                   f"{settings.get('rbf')} basis, {lam_text}, derivative order {settings.get('order')}); "
                   f"dashed lines bound the τ regions {', '.join(regions or {}) or 'none'}. "
                   + (f"R_pol = {r_first:.4g} Ω at the first sweep, {r_last:.4g} Ω at the last."
                      if r_first is not None and r_last is not None else ""))
        specs.append(FigureSpec("map", figure, caption.strip()))
    curves = [c for c in series.get("nyquist") or [] if c.get("frequency")]
    if curves:
        caption = ("Nyquist plots of the first and last sweep: points are the measured impedance, lines the "
                   "DRT model (R∞ + L₀ + ∫γ/(1 + jωτ) d ln τ) fitted to them.")
        specs.append(FigureSpec("nyquist", _nyquist(curves), caption))
    return specs


KINDS: list[AnalysisKind] = [
    AnalysisKind(name="drt", technique="eis", target="cell",
                 title="Distribution of relaxation times over SOC", defaults=DRT_DEFAULTS, run=run_drt,
                 figures=drt_figures),
]
