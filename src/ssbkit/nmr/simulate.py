"""Forward models of EXSY data with known truth, seeded, for tests, examples and the command line.

- ``simulate_buildup``: a build-up table (``mixing_time [s]``, ``intensity``, optionally
  ``temperature [K]``), the format ``read_buildup_table`` reads, made by one model of
  ``ssbkit.nmr.models``; over several temperatures the rate follows the Arrhenius law
  rate(T) = rate_ref · exp(−(Ea/k_B)(1/T − 1/T_ref)), with the rate given at T_ref;
- ``simulate_exchange``: the long-form volume table (``mixing_time [s]``, ``from``, ``to``,
  ``volume``) of the kinetic-matrix model of ``ssbkit.nmr.exchange``;
- ``simulate_exsy_spectra``: one 2D ``NMRSpectrum`` per mixing time, a peak at (F1 = shift of
  the starting site, F2 = shift of the arriving site) whose volume [intensity·ppm²] is the
  exchange volume, Gaussian or Lorentzian in both dimensions.

Noise is Gaussian, drawn from ``rng`` (a numpy Generator or a seed; required when noise > 0).
Its size is relative: for build-ups σ = noise × plateau (``noise_model="plateau"``, the same
for every point, as the noise of a spectrum is) or σ = noise × the value
(``"proportional"``); for volume tables σ = noise × the largest volume at t = 0; for spectra
σ = noise × the tallest point of the first spectrum. The truth is kept in ``attrs["truth"]``
(tables) or ``metadata["truth"]`` (spectra).

>>> t = simulate_buildup("sphere", D_cm2_s=2e-10, length_um=1.0, plateau=0.4,
...                      mixing_times_s=[0.01, 0.1, 1.0, 10.0])
>>> t.round(4).to_dict(orient="list")
{'mixing_time [s]': [0.01, 0.1, 1.0, 10.0], 'intensity': [0.0189, 0.0582, 0.1675, 0.3662]}
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.core.validate import finite, finite_array, non_negative, one_of, positive
from ssbkit.nmr.models import BuildupModel, get_model

__all__ = ["STUDY_SHIFTS_PPM", "simulate_buildup", "simulate_exchange", "simulate_exsy_spectra"]

# 6Li shifts of the LiI-coating study's phases [ppm].
STUDY_SHIFTS_PPM = {"Li2S": 2.31, "LPSC": 1.29, "LiI": -4.56}


def _generator(rng: Any, noise: float) -> np.random.Generator | None:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        if noise > 0:
            raise InputError("noise needs a seeded generator: pass rng=np.random.default_rng(N) or a seed",
                             source="rng")
        return None
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise InputError(f"must be a numpy Generator or an int seed, got {type(rng).__name__}", source="rng")


def _write_csv(frame: Any, path: str | PathLike[str]) -> None:
    """Write to a temporary file beside ``path`` and rename it: nothing half-written."""
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError("the folder does not exist", source=target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        frame.to_csv(temporary, index=False)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror}", source=target) from None


def simulate_buildup(
    model: str | BuildupModel = "sphere",
    *,
    mixing_times_s: Any,
    D_cm2_s: float | None = None,
    k_per_s: float | None = None,
    length_um: float | None = None,
    plateau: float = 0.5,
    temperatures_K: Any = None,
    Ea_eV: float | None = None,
    reference_temperature_K: float = 298.15,
    T1_s: float | None = None,
    noise: float = 0.0,
    noise_model: str = "plateau",
    stderr_column: bool = False,
    rng: Any = None,
    path: str | PathLike[str] | None = None,
) -> Any:
    """A build-up table made by ``model`` (see the module docstring); written to ``path`` too.

    The rate is ``D_cm2_s`` (diffusion models) or ``k_per_s`` (first-order), at
    ``reference_temperature_K`` when ``temperatures_K`` and ``Ea_eV`` make a series (one block
    of rows per temperature). ``T1_s`` multiplies the curve by exp(−t/T1). With
    ``stderr_column`` the table carries the noise's σ as ``intensity stderr``.
    """
    import pandas as pd

    m = get_model(model)
    rate_name, given = ("D_cm2_s", D_cm2_s) if m.rate_parameter == "D" else ("k_per_s", k_per_s)
    other = k_per_s if m.rate_parameter == "D" else D_cm2_s
    if given is None or other is not None:
        raise InputError(f"the {m.name!r} model takes its rate as {rate_name}", source=rate_name)
    rate_ref = positive(rate_name, given)
    times = finite_array("mixing_times_s", np.atleast_1d(mixing_times_s))
    if (times < 0).any():
        raise InputError("mixing times must be ≥ 0 s", source="mixing_times_s")
    a = positive("plateau", plateau)
    if m.needs_length and length_um is None:
        raise InputError(f"the {m.name!r} model needs length_um", source="length_um")
    length = positive("length_um", length_um) if m.needs_length else None
    sigma = non_negative("noise", noise)
    noise_model = one_of("noise_model", noise_model, ("plateau", "proportional"))
    generator = _generator(rng, sigma)
    t1 = None if T1_s is None else positive("T1_s", T1_s)
    if temperatures_K is None:
        if Ea_eV is not None:
            raise InputError("Ea_eV needs temperatures_K", source="Ea_eV")
        temperatures: list[float | None] = [None]
        rates = [rate_ref]
    else:
        temps = finite_array("temperatures_K", np.atleast_1d(temperatures_K))
        if (temps <= 0).any():
            raise InputError("temperatures must be > 0 K", source="temperatures_K")
        ea = finite("Ea_eV", 0.0 if Ea_eV is None else Ea_eV)
        t_ref = positive("reference_temperature_K", reference_temperature_K)
        temperatures = list(map(float, temps))
        rates = [rate_ref * math.exp(-(ea / BOLTZMANN_EV) * (1.0 / T - 1.0 / t_ref)) for T in temps]
    blocks = []
    for temperature, rate in zip(temperatures, rates, strict=True):
        clean = m(times, A=a, length_um=length, **{m.rate_parameter: rate})
        if t1:
            clean = clean * np.exp(-times / t1)
        scale = np.full(times.size, sigma * a) if noise_model == "plateau" else sigma * np.abs(clean)
        noisy = clean + (scale * generator.standard_normal(times.size) if generator is not None and sigma > 0
                         else 0.0)
        block = {"mixing_time [s]": times, "intensity": noisy}
        if stderr_column:
            block["intensity stderr"] = np.maximum(scale, 1e-12 * a)
        if temperature is not None:
            block["temperature [K]"] = np.full(times.size, temperature)
        blocks.append(pd.DataFrame(block))
    frame = pd.concat(blocks, ignore_index=True)
    frame.attrs["truth"] = {
        "model": m.name, "rate_parameter": m.rate_parameter, "unit": m.units[m.rate_parameter],
        "rates": [{"temperature_K": T, "value": r} for T, r in zip(temperatures, rates, strict=True)],
        "plateau": a, "length_um": length, "Ea_eV": Ea_eV, "reference_temperature_K": reference_temperature_K,
        "T1_s": t1, "noise": sigma, "noise_model": noise_model,
    }
    frame.attrs["source"] = "simulated build-up"
    if path is not None:
        _write_csv(frame, path)
    return frame


def simulate_exchange(
    sites: Sequence[str],
    populations: Any,
    rates: Any,
    *,
    mixing_times_s: Any,
    T1_s: Any = None,
    total: float = 1.0,
    noise: float = 0.0,
    stderr_column: bool = False,
    rng: Any = None,
    path: str | PathLike[str] | None = None,
) -> Any:
    """The long-form volume table (``mixing_time [s]``, ``from``, ``to``, ``volume``) of the
    kinetic-matrix model: every peak (N² per mixing time) of ``sites`` with ``populations``
    (fractions, in site order or a mapping), ``rates`` {(from, to): k [1/s]} (one direction per
    pair; the other follows by detailed balance) and optional ``T1_s``. σ = noise × the largest
    volume at t = 0 (total × the largest population).

    >>> v = simulate_exchange(["A", "B"], [0.5, 0.5], {("A", "B"): 2.0}, mixing_times_s=[0.1])
    >>> v.round(4).values.tolist()
    [[0.1, 'A', 'A', 0.4176], [0.1, 'A', 'B', 0.0824], [0.1, 'B', 'A', 0.0824], [0.1, 'B', 'B', 0.4176]]
    """
    import pandas as pd

    from ssbkit.nmr.exchange import _relaxation, _sites_and_populations, _volumes, rate_constants

    names, p = _sites_and_populations(populations, list(sites))
    times = finite_array("mixing_times_s", np.atleast_1d(mixing_times_s))
    if (times < 0).any():
        raise InputError("mixing times must be ≥ 0 s", source="mixing_times_s")
    k = rate_constants(rates, names, p)
    m_total = positive("total", total)
    sigma = non_negative("noise", noise) * m_total * float(p.max())
    generator = _generator(rng, sigma)
    clean = _volumes(times, k, _relaxation(T1_s, names), p, m_total)
    n = len(names)
    rows_t = np.repeat(times, n * n)
    rows_from = np.tile(np.repeat(np.array(names, dtype=object), n), times.size)
    rows_to = np.tile(np.array(names, dtype=object), n * times.size)
    volume = clean.reshape(-1)
    if generator is not None and sigma > 0:
        volume = volume + sigma * generator.standard_normal(volume.size)
    frame = pd.DataFrame({"mixing_time [s]": rows_t, "from": rows_from, "to": rows_to, "volume": volume})
    if stderr_column:
        frame["volume stderr"] = max(sigma, 1e-12 * m_total)
    frame.attrs["truth"] = {
        "sites": list(names), "populations": list(map(float, p)),
        "rates": [{"from": names[i], "to": names[j], "k": float(k[i, j])}
                  for i in range(n) for j in range(n) if i != j and k[i, j] > 0],
        "T1_s": T1_s if not isinstance(T1_s, np.ndarray) else T1_s.tolist(), "total": m_total,
        "noise": float(noise), "sigma": sigma, "clean_volume": clean.reshape(-1).tolist(),
    }
    frame.attrs["source"] = "simulated exchange"
    if path is not None:
        _write_csv(frame, path)
    return frame


def simulate_exsy_spectra(
    sites: Sequence[str] = ("Li2S", "LPSC", "LiI"),
    populations: Any = (0.3, 0.5, 0.2),
    rates: Any = None,
    *,
    mixing_times_s: Any,
    T1_s: Any = None,
    shifts_ppm: Any = None,
    linewidth_ppm: float = 0.4,
    lineshape: str = "gaussian",
    points: tuple[int, int] = (128, 256),
    ppm_range: tuple[float, float] | None = None,
    total: float = 1.0,
    noise: float = 0.0,
    rng: Any = None,
) -> list[Any]:
    """One 2D ``NMRSpectrum`` per mixing time with a peak per (from, to) whose volume
    [intensity·ppm²] is the exchange volume (see ``simulate_exchange`` for the kinetics).

    Axes run from high to low ppm (``points`` = (F1, F2)); ``shifts_ppm`` defaults to the study's
    (``STUDY_SHIFTS_PPM``) for its site names; ``linewidth_ppm`` is the full width at half
    maximum in both dimensions. A Lorentzian's tails reach past any window, so the volume
    inside the window is smaller than the truth (the truth holds the full volume). The
    spectra carry ``mixing_time_s``, ``nucleus`` ("6Li", "6Li") and ``truth`` (volumes
    [from][to], shifts, populations, rates) in their metadata.

    >>> s = simulate_exsy_spectra(rates={("Li2S", "LPSC"): 2.0}, mixing_times_s=[0.05, 0.5])
    >>> len(s), s[0].shape, s[1].metadata["mixing_time_s"]
    (2, (128, 256), 0.5)
    """
    from ssbkit.nmr.data import NMRSpectrum

    names = [str(s) for s in sites]
    if shifts_ppm is None:
        missing = [s for s in names if s not in STUDY_SHIFTS_PPM]
        if missing:
            raise InputError(f"no default shift for {', '.join(missing)}: pass shifts_ppm",
                             source="shifts_ppm")
        shifts = np.array([STUDY_SHIFTS_PPM[s] for s in names])
    else:
        values = [shifts_ppm[s] for s in names] if isinstance(shifts_ppm, dict) else list(shifts_ppm)
        shifts = finite_array("shifts_ppm", values)
        if shifts.size != len(names):
            raise InputError(f"{shifts.size} shifts for {len(names)} sites", source="shifts_ppm")
    width = positive("linewidth_ppm", linewidth_ppm)
    shape = one_of("lineshape", lineshape, ("gaussian", "lorentzian"))
    n1, n2 = (int(points[0]), int(points[1]))
    if min(n1, n2) < 8:
        raise InputError("at least 8 points per dimension", source="points")
    table = simulate_exchange(names, populations, rates or {}, mixing_times_s=mixing_times_s, T1_s=T1_s,
                              total=total)
    volumes = table["volume"].to_numpy(float).reshape(-1, len(names), len(names))
    high, low = (float(shifts.max()) + 4 * width + 1.0, float(shifts.min()) - 4 * width - 1.0) \
        if ppm_range is None else (max(ppm_range), min(ppm_range))
    axis1, axis2 = np.linspace(high, low, n1), np.linspace(high, low, n2)
    profile1 = np.array([_line(axis1, c, width, shape) for c in shifts])  # (N, n1), unit area
    profile2 = np.array([_line(axis2, c, width, shape) for c in shifts])
    sigma_rel = non_negative("noise", noise)
    generator = _generator(rng, sigma_rel)
    spectra, sigma = [], None
    truth = table.attrs["truth"]
    truth_common = {"sites": names, "shifts_ppm": shifts.tolist(), "populations": truth["populations"],
                    "rates": truth["rates"], "linewidth_ppm": width, "lineshape": shape}
    for t, v in zip(np.atleast_1d(np.asarray(mixing_times_s, dtype=float)), volumes, strict=True):
        data = np.einsum("ij,ia,jb->ab", v, profile1, profile2)  # F1 = from, F2 = to
        if sigma is None:
            sigma = sigma_rel * float(np.abs(data).max())
        if generator is not None and sigma > 0:
            data = data + sigma * generator.standard_normal(data.shape)
        spectra.append(NMRSpectrum(data, (axis1, axis2), metadata={
            "nucleus": ("6Li", "6Li"), "mixing_time_s": float(t),
            "truth": {**truth_common, "volumes": v.tolist(), "noise_sigma": sigma}},
            source=f"simulated EXSY, mixing time {t:g} s"))
    return spectra


def _line(axis: np.ndarray, centre: float, fwhm: float, shape: str) -> np.ndarray:
    if shape == "gaussian":
        s = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        return np.exp(-0.5 * ((axis - centre) / s) ** 2) / (s * math.sqrt(2.0 * math.pi))
    half = 0.5 * fwhm
    return half / math.pi / ((axis - centre) ** 2 + half * half)
