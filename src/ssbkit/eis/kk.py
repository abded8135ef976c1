"""Kramers–Kronig validation of impedance spectra: the linear test lin-KK.

A spectrum can only be trusted, and fitted, if the system was linear, causal and stable
while it was measured; then Z' and Z'' are tied to each other by the Kramers–Kronig
relations. Schönleber, Klotz and Ivers-Tiffée (2014) test that by fitting a model that
obeys the relations by construction, an ohmic resistance, a series inductance (and
optionally a series capacitance) and M Voigt elements with *fixed* time constants,

    Ẑ(ω) = R₀ + jωL [+ 1/(jωC)] + Σₖ Rₖ / (1 + jωτₖ),
    τ₁ = 1/ω_max … τ_M = 1/ω_min, spaced evenly in log τ,

so the fit is linear in (R₀, Rₖ, L, 1/C). Every equation is weighted by 1/|Z| (each point
counts by its relative error). ``fit_type`` says which equations are solved: ``"complex"``
both parts at once; ``"real"`` the real parts for R₀ and Rₖ, then L (and 1/C) from the
imaginary part left over; ``"imag"`` the imaginary parts for Rₖ, L (and 1/C), then R₀ from
the real part left over (the weighted mean of Boukamp 1995, eq. 7).

M is chosen by Schönleber's criterion: M rises from 1 until
μ = 1 − Σ_{Rₖ<0} |Rₖ| / Σ_{Rₖ≥0} |Rₖ| falls below ``c`` (0.85 in the paper). An under-fitted
model leaves the negative resistances out, an over-fitted one starts fitting the noise
with Rₖ of alternating sign, and μ drops. Beware: on spectra of a few ideal (Debye) RC arcs,
μ of a coarse τ grid already dips below 0.85 at M ≈ 6 while the residuals are still tens of
per cent; ``c=0.5`` (impedance.py's documented example) avoids that.

The residuals are relative, ΔZ'/|Z| and ΔZ''/|Z|. Their sum of squares is Boukamp's
pseudo-χ², and √(χ²_ps / 2N) estimates the relative noise of each part of Z (pyimpspec
reports the same number as √(χ²_ps·5000/N) in %). **Verdict:** a spectrum is judged
*valid* when that rms residual is at most ``rms_limit`` (1 % by default). A spectrum that
obeys the relations leaves only its measurement noise, which frequency-response analysers
keep at 0.1–0.5 % of |Z| (1 % leaves room for noisy cells), while drift or non-linearity
leaves systematic residuals of several per cent. Look at the residuals too: they should
scatter around zero without a trend.

Why written here: impedance.py 1.7.1's ``linKK`` fails under NumPy 2 (it ``eval``s a
generated string) and solves normal equations, which square the condition number;
pyimpspec is GPL. The test itself is a small weighted linear least-squares problem per M,
solved here with column scaling and an SVD-based ``lstsq``, one M at a time, stopping as
soon as the criterion is met.

>>> import numpy as np
>>> from ssbkit.eis import simulate_spectrum
>>> params = {"R0": 10, "R1": 100, "C1": 1e-6, "R2": 200, "C2": 1e-3}
>>> s = simulate_spectrum("R0-p(R1,C1)-p(R2,C2)", params, np.logspace(5, -1, 61),
...                       noise=0.005, rng=np.random.default_rng(1))
>>> kk = linkk(s, c=0.5, fit_type="complex")
>>> kk.valid, kk.noise.value < 0.5
(True, True)
>>> drifted = simulate_spectrum("R0-p(R1,C1)-p(R2,C2)", params, np.logspace(5, -1, 61),
...                             noise=0.005, drift_ohm=20, rng=np.random.default_rng(1))
>>> linkk(drifted, c=0.5, fit_type="complex").valid
False
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance, to_json_safe
from ssbkit.core.units import label
from ssbkit.core.validate import fraction, in_range, one_of, positive_int
from ssbkit.eis.data import Spectrum

__all__ = ["FIT_TYPES", "KramersKronigResult", "linkk"]

citations.register(
    "schoenleber2014",
    "M. Schönleber, D. Klotz, E. Ivers-Tiffée, A Method for Improving the Robustness of "
    "linear Kramers-Kronig Validity Tests, Electrochim. Acta 131 (2014) 20-27.",
    "10.1016/j.electacta.2014.01.034",
)
citations.register(
    "boukamp1995",
    "B. A. Boukamp, A Linear Kronig-Kramers Transform Test for Immittance Data Validation, "
    "J. Electrochem. Soc. 142 (1995) 1885-1894.",
    "10.1149/1.2044210",
)

FIT_TYPES = ("real", "imag", "complex")
# A bound that keeps a typo (max_m=1e9) from running for hours; far beyond any useful M,
# which rarely exceeds the number of points.
_LARGEST_M = 1000


@dataclass(frozen=True, kw_only=True)
class KramersKronigResult(Result):
    """A lin-KK test: the model, its residuals and the verdict.

    Residuals are fractions of |Z| (0.01 = 1 %); ``noise`` and ``rms_limit`` are in %.
    """

    frequency: np.ndarray  # [Hz], the points in use
    impedance: np.ndarray  # [Ohm], measured, complex
    impedance_fit: np.ndarray  # [Ohm], the lin-KK model, complex
    residual_real: np.ndarray  # (Z' − Ẑ')/|Z|
    residual_imag: np.ndarray  # (Z'' − Ẑ'')/|Z|
    m: int  # number of Voigt (RC) elements
    mu: float
    mu_criterion_met: bool
    tau: np.ndarray  # [s], fixed time constants
    resistances: np.ndarray  # [Ohm], Rₖ
    ohmic_resistance: Estimate
    inductance: Estimate
    capacitance: Estimate | None
    pseudo_chi2: float
    noise: Estimate  # [%] rms of the relative residuals per part
    valid: bool
    rms_limit: float  # [%]
    fit_type: str
    c: float | None

    @property
    def max_residual(self) -> float:
        """The largest |residual| of either part, as a fraction of |Z|."""
        return float(max(np.abs(self.residual_real).max(), np.abs(self.residual_imag).max()))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "provenance":
                continue
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and np.iscomplexobj(value):
                value = {"real": value.real, "imag": value.imag}
            out[f.name] = to_json_safe(value)
        out["provenance"] = None if self.provenance is None else self.provenance.to_dict()
        return out

    def to_frame(self) -> Any:
        """One row per point: data, model and residuals (in % of |Z|)."""
        import pandas as pd

        return pd.DataFrame({
            label("frequency", "Hz"): self.frequency,
            label("Z_re", "Ohm"): self.impedance.real,
            label("Z_im", "Ohm"): self.impedance.imag,
            label("Z_fit_re", "Ohm"): self.impedance_fit.real,
            label("Z_fit_im", "Ohm"): self.impedance_fit.imag,
            label("residual_re", "%"): 100.0 * self.residual_real,
            label("residual_im", "%"): 100.0 * self.residual_imag,
        })

    def _report_lines(self) -> list[str]:
        criterion = (f"μ = {self.mu:.3f} < c = {self.c:g}" if self.c is not None
                     else f"μ = {self.mu:.3f}, M fixed")
        lines = [
            f"  {'valid' if self.valid else 'NOT valid'}: rms residual {self.noise.value:.3g} % "
            f"(limit {self.rms_limit:g} %), largest {100 * self.max_residual:.3g} %",
            f"  M = {self.m} RC elements ({self.fit_type} fit), {criterion}",
            f"  pseudo-χ² = {self.pseudo_chi2:.4g} over {self.frequency.size} points",
            f"  R0 = {self.ohmic_resistance}, L = {self.inductance}"
            + (f", C = {self.capacitance}" if self.capacitance is not None else ""),
        ]
        return lines


def linkk(
    spectrum: Spectrum,
    *,
    c: float = 0.85,
    max_m: int = 50,
    fit_type: str = "real",
    add_capacitance: bool = False,
    m: int | None = None,
    rms_limit: float | str = 0.01,
) -> KramersKronigResult:
    """Schönleber's linear Kramers–Kronig test on the points in use of ``spectrum``.

    Parameters
    ----------
    spectrum
        The spectrum; masked points are left out.
    c
        The μ cut-off in (0, 1): M rises from 1 until μ < c.
    max_m
        The largest M tried; if μ never falls below ``c`` the result has M = ``max_m`` and
        ``mu_criterion_met`` False.
    fit_type
        ``"real"``, ``"imag"`` or ``"complex"``: which parts of Z the RC elements are fitted to.
    add_capacitance
        Add a series capacitance, for spectra with no low-frequency intercept (blocking
        electrodes, diffusion tails).
    m
        Fix the number of RC elements instead of choosing it by μ (then ``c`` is unused).
    rms_limit
        The largest rms relative residual of a valid spectrum, as a fraction (0.01) or a
        percentage (``"1%"``).
    """
    if not isinstance(spectrum, Spectrum):
        raise InputError(f"must be a Spectrum, got {type(spectrum).__name__}", source="spectrum")
    kind = one_of("fit_type", fit_type, FIT_TYPES)
    if not isinstance(add_capacitance, bool | np.bool_):
        raise InputError(f"must be True or False, got {add_capacitance!r}",
                         source="add_capacitance")
    add_c = bool(add_capacitance)
    if m is None:
        cutoff: float | None = in_range("c", c, 0.0, 1.0, low_inclusive=False,
                                        high_inclusive=False)
        largest = positive_int("max_m", max_m)
        if largest > _LARGEST_M:
            raise InputError(f"must be ≤ {_LARGEST_M}, got {max_m!r}", source="max_m")
    else:
        cutoff = None
        largest = positive_int("m", m)
        if largest > _LARGEST_M:
            raise InputError(f"must be ≤ {_LARGEST_M}, got {m!r}", source="m")
    limit = fraction("rms_limit", rms_limit)
    if limit <= 0:
        raise InputError(f"must be > 0, got {rms_limit!r}", source="rms_limit")

    where = spectrum.source or "spectrum"
    used = spectrum.masked() if spectrum.mask.any() else None
    n_params = 3 + add_c  # R0, R1, L (and 1/C) of the smallest model
    n_used = 0 if used is None else len(used)
    if used is None or n_used < n_params:
        raise InputError(f"lin-KK needs at least {n_params} points in use "
                         f"(R0, one RC, L{', C' if add_c else ''}), got {n_used}", source=where)
    freq, z = used.frequency, used.impedance
    modulus = np.abs(z)
    if (modulus == 0).any():
        first = float(freq[np.flatnonzero(modulus == 0)[0]])
        raise InputError(f"|Z| is 0 at {first:g} Hz; relative residuals need |Z| > 0",
                         source=where)

    omega = 2.0 * np.pi * freq
    weight = 1.0 / modulus
    target = z * weight
    # Columns for R0, the series C (as 1/C) and L do not depend on M: built once.
    fixed = np.empty((z.size, 2 + add_c), complex)
    fixed[:, 0] = weight
    if add_c:
        fixed[:, 1] = -1j * weight / omega
    fixed[:, -1] = 1j * omega * weight
    log_tau = (-math.log(omega.max()), -math.log(omega.min()))

    first_m = largest if cutoff is None else 1
    for n_rc in range(first_m, largest + 1):
        tau = _time_constants(log_tau, n_rc)
        rc = weight[:, None] / (1.0 + 1j * omega[:, None] * tau[None, :])
        params = _solve(fixed, rc, target, kind)
        mu = _mu(params[1:n_rc + 1])
        if cutoff is not None and mu < cutoff:
            break
    criterion_met = cutoff is not None and mu < cutoff

    design = np.hstack([fixed[:, :1], rc, fixed[:, 1:]])
    z_fit = (design @ params) / weight
    residual = (z - z_fit) * weight
    chi2 = float(np.sum(residual.real**2 + residual.imag**2))
    noise = 100.0 * math.sqrt(chi2 / (2 * z.size))
    valid = noise <= 100.0 * limit
    per_point = np.maximum(np.abs(residual.real), np.abs(residual.imag))
    worst = int(np.argmax(per_point))
    verdict = (f"Kramers–Kronig consistent: rms residual {noise:.3g} % ≤ {100 * limit:g} %"
               if valid else
               f"not Kramers–Kronig consistent: rms residual {noise:.3g} % > {100 * limit:g} %")
    message = (f"{verdict}; largest {100 * per_point[worst]:.3g} % of |Z| at "
               f"{freq[worst]:.4g} Hz")
    if cutoff is not None and not criterion_met:
        message += f"; μ never fell below c = {cutoff:g} up to M = {largest}"

    inverse_c = float(params[-2]) if add_c else math.nan
    return KramersKronigResult(
        success=True,
        message=message,
        frequency=freq,
        impedance=z,
        impedance_fit=z_fit,
        residual_real=residual.real.copy(),
        residual_imag=residual.imag.copy(),
        m=n_rc,
        mu=float(mu),
        mu_criterion_met=criterion_met,
        tau=tau,
        resistances=params[1:n_rc + 1].copy(),
        ohmic_resistance=Estimate(float(params[0]), unit="Ohm"),
        inductance=Estimate(float(params[-1]), unit="H"),
        capacitance=(Estimate(1.0 / inverse_c if inverse_c else math.inf, unit="F")
                     if add_c else None),
        pseudo_chi2=chi2,
        noise=Estimate(noise, unit="%"),
        valid=bool(valid),
        rms_limit=100.0 * limit,
        fit_type=kind,
        c=cutoff,
        provenance=make_provenance(
            "ssbkit.eis.linkk",
            settings={"c": cutoff, "max_m": None if m is not None else largest, "m": m,
                      "fit_type": kind, "add_capacitance": add_c, "rms_limit": limit},
            inputs={"source": spectrum.source, "frequency": freq, "z_real": z.real,
                    "z_imag": z.imag},
            citations=["schoenleber2014", "boukamp1995"],
        ),
    )


def _time_constants(log_tau: tuple[float, float], n_rc: int) -> np.ndarray:
    """τ₁ = 1/ω_max … τ_M = 1/ω_min, evenly spaced in log τ; one RC sits at their middle."""
    if n_rc == 1:
        return np.array([math.exp(0.5 * (log_tau[0] + log_tau[1]))])
    return np.exp(np.linspace(log_tau[0], log_tau[1], n_rc))


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Scaling columns to unit norm keeps R (Ohm), L (H) and 1/C (1/F) columns, which differ
    # by many orders of magnitude, from setting the rank cut-off of the SVD.
    norm = np.linalg.norm(a, axis=0)
    norm[norm == 0] = 1.0
    return np.linalg.lstsq(a / norm, b, rcond=None)[0] / norm


def _solve(fixed: np.ndarray, rc: np.ndarray, target: np.ndarray, kind: str) -> np.ndarray:
    """Weighted linear fit; returns (R0, R1 … RM, [1/C,] L)."""
    n_rc = rc.shape[1]
    if kind == "complex":
        a = np.hstack([fixed[:, :1], rc, fixed[:, 1:]])
        return _lstsq(np.vstack([a.real, a.imag]), np.concatenate([target.real, target.imag]))
    params = np.empty(n_rc + fixed.shape[1])
    if kind == "real":
        a = np.hstack([fixed[:, :1], rc]).real
        params[:n_rc + 1] = _lstsq(a, target.real)
        left = target.imag - rc.imag @ params[1:n_rc + 1]
        params[n_rc + 1:] = _lstsq(fixed[:, 1:].imag, left)
    else:
        a = np.hstack([rc, fixed[:, 1:]]).imag
        params[1:] = _lstsq(a, target.imag)
        left = target.real - rc.real @ params[1:n_rc + 1]
        column = fixed[:, 0].real
        params[0] = (column @ left) / (column @ column)
    return params


def _mu(resistances: np.ndarray) -> float:
    """Schönleber's μ = 1 − Σ|Rₖ<0| / Σ|Rₖ≥0| (−∞ when no Rₖ is positive but some negative)."""
    positive = float(resistances[resistances >= 0].sum())
    negative = float(-resistances[resistances < 0].sum())
    if positive == 0.0:
        return -math.inf if negative > 0 else 1.0
    return 1.0 - negative / positive
