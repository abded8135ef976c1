"""Multi-site exchange in 2D-EXSY: the kinetic-matrix (Bloch–McConnell) model, its fit to every
peak volume of every mixing time at once, and the Perrin–Dwyer matrix-logarithm inversion.

For N sites (phases) with longitudinal magnetisations M (Jeener, Meier, Bachmann, Ernst 1979):

    dM/dt = −L (M − M0),   L = R + K,   R = diag(1/T1_i),
    K_ii = Σ_j k_ij,   K_ji = −k_ij   (k_ij: rate [1/s] from site i to site j),

with detailed balance p_i k_ij = p_j k_ji, so one rate per pair is free; the populations p
(fractions from the 1D spectrum) are given and M0 = total · p. The volume of the peak at
(F1 = site i, F2 = site j) after the mixing time t is

    V[i → j](t) = [exp(−L t)]_ji · M0_i,

the diagonal peaks being i → i. Volumes are indexed ``[from, to]`` everywhere here (the
transpose of Jeener's matrix A = exp(−Lt)·diag(M0)). Because of detailed balance
P^(−1/2) L P^(1/2) is symmetric, so exp(−Lt) comes from one symmetric eigendecomposition.

``fit_exchange(table, populations=…)`` fits ln k of each exchanging pair (k_ij with i before j
in site order; k_ji follows by detailed balance, its stderr scaled by p_i/p_j), ln(total)
and, with ``T1_s="fit"``, ln(1/T1) per site, to all volumes with
scipy.optimize.least_squares (trust-region reflective, bounded). The bounds keep every rate
inside what the mixing times can show: k and R1 from 1e-9/t_max (nothing happens within the
longest mixing time) to 1e3/t_min (complete within the shortest). A rate within a factor 10
of its floor is reported as no exchange; a rate whose tenfold increase barely changes χ²
(less than χ²/dof) is only a lower bound, the exchange being complete before the first
mixing time, and the fit is then not a success. With a ``volume stderr`` column the fit is
weighted and a χ² test says whether the model describes the data (``lack_of_fit``); without
one the relative r.m.s. residual is the guide.

``exchange_matrix_inversion(volumes, t, populations)`` inverts one mixing time exactly
(Perrin & Dwyer 1990, what EXSYCalc does): L = −(1/t) · ln[Aᵀ… ] written out as
L = −logm(X)/t with X_ji = V[i → j]/M0_i; the rates are k_ij = −L_ji and R1_i is the i-th
column sum of L (the columns of K sum to zero). It is exact for noiseless volumes and
needs no starting values, but it amplifies noise and fails (a complex logarithm) when the
mixing time is long compared with 1/k; the global fit is the sturdier estimate. A mode that
has equilibrated within t leaves an eigenvalue of X near zero, and its rate can be anything
above −ln(that eigenvalue)/t: an eigenvalue below 5 × the volumes' noise (measured by how far
V departs from the symmetry V[i→j] = V[j→i] that detailed balance gives) or below 1e-9 is
reported as complete exchange, a lower bound, not a success.

>>> v = exchange_volumes([0.1], populations={"A": 0.5, "B": 0.5}, rates={("A", "B"): 2.0})
>>> v.round(4).tolist()  # [t][from][to]: 0.25·(1 − e^(−0.4)) = 0.0824 crosses
[[[0.4176, 0.0824], [0.0824, 0.4176]]]
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, make_provenance, to_json_safe
from ssbkit.core.validate import finite_array, positive

__all__ = [
    "FROM",
    "MIXING_TIME",
    "TO",
    "VOLUME",
    "VOLUME_STDERR",
    "ExchangeFit",
    "ExchangeInversion",
    "ExchangeRate",
    "exchange_matrix_inversion",
    "exchange_volumes",
    "fit_exchange",
    "kinetic_matrix",
    "rate_constants",
    "populations_from_diagonal",
    "read_exchange_table",
]

MIXING_TIME, FROM, TO, VOLUME, VOLUME_STDERR = "mixing_time [s]", "from", "to", "volume", "volume stderr"
_NEGATIVE_FRACTION = 0.05  # a volume below −5 % of the largest is a phase or sign error
_RATE_FLOOR, _RATE_CEILING = 1e-9, 1e3  # k and R1 bounds, × 1/t_max and × 1/t_min
_EIGENVALUE_NOISE_FACTOR = 5.0  # an eigenvalue of X below 5 × the noise is an equilibrated mode
_LACK_OF_FIT_P = 1e-3

citations.register("jeener1979", "J. Jeener, B. H. Meier, P. Bachmann, R. R. Ernst, Investigation of "
                   "exchange processes by two-dimensional NMR spectroscopy, J. Chem. Phys. 71 (1979) 4546.",
                   "10.1063/1.438208")
citations.register("perrin1990", "C. L. Perrin, T. J. Dwyer, Application of two-dimensional NMR to kinetics "
                   "of chemical exchange, Chem. Rev. 90 (1990) 935.")


@dataclass(frozen=True)
class ExchangeRate:
    """One rate constant from one site to another; ``derived`` when detailed balance gave it."""

    from_site: str
    to_site: str
    k: Estimate
    derived: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.from_site, "to": self.to_site, "k": self.k.to_dict(), "derived": self.derived}


# -- the model -------------------------------------------------------------------------------------

def _sites_and_populations(populations: Any,
                           sites: Sequence[str] | None) -> tuple[tuple[str, ...], np.ndarray]:
    if isinstance(populations, Mapping):
        names = tuple(str(s) for s in populations)
        values = [populations[s] for s in populations]
        if sites is not None and tuple(map(str, sites)) != names:
            names_given = tuple(map(str, sites))
            if set(names_given) != set(names):
                raise InputError(f"sites {names_given} and the populations' sites {names} differ",
                                 source="sites")
            values = [populations[s] for s in names_given]
            names = names_given
    else:
        if sites is None:
            raise InputError("populations given as a list need sites=[names] in the same order",
                             source="populations")
        names = tuple(str(s) for s in sites)
        values = list(np.atleast_1d(populations))
    if len(names) < 2 or len(set(names)) != len(names):
        raise InputError(f"exchange needs 2 or more differently named sites, got {names}", source="sites")
    p = np.array([positive(f"population of {n}", v) for n, v in zip(names, values, strict=True)])
    return names, p / p.sum()


def rate_constants(rates: Any, sites: Sequence[str], populations: np.ndarray) -> np.ndarray:
    """k[i, j] (from i to j, 1/s) from one rate per pair; the reverse by detailed balance.

    ``rates`` is a mapping {(from, to): k} or a list of {"from", "to", "k"}; giving both
    directions of a pair is allowed when they obey p_i k_ij = p_j k_ji.
    """
    index = {s: i for i, s in enumerate(sites)}
    items = rates.items() if isinstance(rates, Mapping) else [((r["from"], r["to"]), r["k"]) for r in rates]
    k = np.zeros((len(sites), len(sites)))
    given = np.zeros_like(k, dtype=bool)
    for (a, b), value in items:
        if a not in index or b not in index or a == b:
            raise InputError(f"rate {a!r} → {b!r}: both must be different sites of {', '.join(sites)}",
                             source="rates")
        i, j = index[a], index[b]
        kij = float(value)
        if not math.isfinite(kij) or kij < 0:
            raise InputError(f"rate {a!r} → {b!r} must be ≥ 0, got {value!r}", source="rates")
        kji = populations[i] * kij / populations[j]
        if given[j, i] and not math.isclose(k[j, i], kji, rel_tol=1e-6, abs_tol=1e-300):
            raise InputError(f"rates {a!r} ↔ {b!r} break detailed balance p_i k_ij = p_j k_ji "
                             f"({populations[i]:.4g}·{kij:g} ≠ {populations[j]:.4g}·{k[j, i]:g})",
                             source="rates")
        k[i, j], k[j, i] = kij, kji
        given[i, j] = True
    return k


def kinetic_matrix(k: np.ndarray, R1: Any = None) -> np.ndarray:
    """L = R + K from k[i, j] (rate from i to j) and R1 = 1/T1 per site (zero when None)."""
    k = np.asarray(k, dtype=float)
    off = k * (1.0 - np.eye(k.shape[0]))
    L = -off.T
    L[np.diag_indices_from(L)] = off.sum(axis=1)
    if R1 is not None:
        L = L + np.diag(np.asarray(R1, dtype=float))
    return L


def _propagators(times: np.ndarray, k: np.ndarray, R1: np.ndarray, p: np.ndarray) -> np.ndarray:
    """exp(−L t) for each t, through the symmetric form P^(−1/2) L P^(1/2)."""
    L = kinetic_matrix(k, R1)
    root = np.sqrt(p)
    symmetric = L * root[None, :] / root[:, None]
    symmetric = 0.5 * (symmetric + symmetric.T)
    lam, u = np.linalg.eigh(symmetric)
    decay = np.exp(-np.outer(times, lam))  # (n_t, N)
    core = np.einsum("ik,tk,jk->tij", u, decay, u)
    return core * root[None, :, None] / root[None, None, :]


def _volumes(times: np.ndarray, k: np.ndarray, R1: np.ndarray, p: np.ndarray, total: float) -> np.ndarray:
    # [t, from, to] = exp(−Lt)[to, from] · M0[from]
    return np.transpose(_propagators(times, k, R1, p), (0, 2, 1)) * (total * p)[None, :, None]


def _relaxation(T1_s: Any, sites: tuple[str, ...]) -> np.ndarray:
    if T1_s is None:
        return np.zeros(len(sites))
    if isinstance(T1_s, Mapping):
        missing = [s for s in sites if s not in T1_s]
        if missing:
            raise InputError(f"no T1 for {', '.join(missing)}", source="T1_s")
        values = [T1_s[s] for s in sites]
    elif np.ndim(T1_s) == 0:
        values = [T1_s] * len(sites)
    else:
        values = list(T1_s)
        if len(values) != len(sites):
            raise InputError(f"{len(values)} T1 values for {len(sites)} sites", source="T1_s")
    return np.array([1.0 / positive("T1_s", v) for v in values])


def exchange_volumes(mixing_time_s: Any, *, populations: Any, rates: Any, sites: Sequence[str] | None = None,
                     T1_s: Any = None, total: float = 1.0) -> np.ndarray:
    """Peak volumes [t, from, to] of the kinetic-matrix model at each mixing time [s].

    ``populations``: {site: fraction} (or a list with ``sites``); ``rates``: one k [1/s] per
    exchanging pair, {(from, to): k}; ``T1_s``: one for all, or per site; ``total``: Σ M0.
    """
    names, p = _sites_and_populations(populations, sites)
    times = finite_array("mixing_time_s", np.atleast_1d(mixing_time_s))
    if (times < 0).any():
        raise InputError("mixing times must be ≥ 0 s", source="mixing_time_s")
    k = rate_constants(rates, names, p)
    return _volumes(times, k, _relaxation(T1_s, names), p, positive("total", total))


# -- results ---------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class ExchangeFit(Result):
    """Rate constants of every pair (both directions), the total magnetisation, R1 where fitted,
    and the fit of every volume. ``lack_of_fit`` (only with standard errors) is True when a χ²
    test rejects the model at p < 0.001."""

    sites: tuple[str, ...]
    populations: tuple[float, ...]
    rates: tuple[ExchangeRate, ...]
    total: Estimate
    R1: tuple[Estimate, ...]
    R1_fitted: bool = False
    chi_square: float = math.nan
    reduced_chi_square: float = math.nan
    degrees_of_freedom: int = 0
    relative_rms: float = math.nan
    p_value: float = math.nan
    lack_of_fit: bool | None = None
    weighted: bool = False
    mixing_time_s: np.ndarray = field(default_factory=lambda: frozen_array([]))
    from_site: tuple[str, ...] = ()
    to_site: tuple[str, ...] = ()
    volume: np.ndarray = field(default_factory=lambda: frozen_array([]))
    fitted: np.ndarray = field(default_factory=lambda: frozen_array([]))
    source: str = ""

    def rate(self, from_site: str, to_site: str) -> Estimate:
        """k [1/s] from one site to another (0 for pairs left out of the fit)."""
        for r in self.rates:
            if r.from_site == from_site and r.to_site == to_site:
                return r.k
        if from_site in self.sites and to_site in self.sites and from_site != to_site:
            return Estimate(0.0, 0.0, "1/s")
        raise InputError(f"no rate {from_site!r} → {to_site!r}; sites: {', '.join(self.sites)}",
                         source="rate")

    def predict(self, mixing_time_s: Any) -> np.ndarray:
        """Volumes [t, from, to] of the fitted model."""
        p = np.array(self.populations)
        k = np.zeros((len(self.sites), len(self.sites)))
        index = {s: i for i, s in enumerate(self.sites)}
        for r in self.rates:
            k[index[r.from_site], index[r.to_site]] = r.k.value
        times = np.atleast_1d(np.asarray(mixing_time_s, dtype=float))
        return _volumes(times, k, np.array([e.value for e in self.R1]), p, self.total.value)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rates"] = [r.to_dict() for r in self.rates]
        out["residuals"] = to_json_safe(self.volume - self.fitted)
        return out

    def to_frame(self) -> Any:
        """One row per rate: from, to, k [1/s], k stderr [1/s], derived."""
        import pandas as pd

        return pd.DataFrame([{"from": r.from_site, "to": r.to_site, "k [1/s]": r.k.value,
                              "k stderr [1/s]": r.k.stderr, "derived": r.derived} for r in self.rates])

    def _report_lines(self) -> list[str]:
        pops = ", ".join(f"{s} {p:.3g}" for s, p in zip(self.sites, self.populations, strict=True))
        lines = [f"  sites (populations): {pops}"]
        lines += [f"  k({r.from_site} → {r.to_site}) = {r.k}" + (" (detailed balance)" if r.derived else "")
                  for r in self.rates]
        fit = f"  relative r.m.s. residual {self.relative_rms:.3g}"
        if self.weighted:
            fit += f", χ²/dof = {self.reduced_chi_square:.3g} (p = {self.p_value:.3g})"
        return [*lines, fit]


@dataclass(frozen=True, kw_only=True)
class ExchangeInversion(Result):
    """L = −logm(X)/t of one mixing time: rates k_ij = −L_ji, R1_i the column sums of L."""

    sites: tuple[str, ...]
    populations: tuple[float, ...]
    mixing_time_s: float
    rate_matrix: np.ndarray
    rates: tuple[ExchangeRate, ...]
    R1: tuple[float, ...]
    detailed_balance_deviation: float

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rates"] = [r.to_dict() for r in self.rates]
        return out


# -- the global fit ------------------------------------------------------------------------------

def _table_arrays(table: Any, sites: tuple[str, ...], where: str) -> dict[str, Any]:
    import pandas as pd

    from ssbkit.core.validate import require_columns

    if isinstance(table, Mapping) and not isinstance(table, pd.DataFrame):
        table = pd.DataFrame({k: list(v) for k, v in table.items()})
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"must be a table (DataFrame or mapping of columns), got {type(table).__name__}",
                         source="table")
    require_columns(table, [MIXING_TIME, FROM, TO, VOLUME], source=where)
    t = finite_array(f"{where}: {MIXING_TIME}", table[MIXING_TIME].to_numpy(float))
    v = finite_array(f"{where}: {VOLUME}", table[VOLUME].to_numpy(float))
    a = [str(s).strip() for s in table[FROM]]
    b = [str(s).strip() for s in table[TO]]
    unknown = sorted({*a, *b} - set(sites))
    if unknown:
        raise InputError(f"the table names site(s) {', '.join(unknown)} that have no population "
                         f"(sites: {', '.join(sites)})", source=where)
    err = None
    if VOLUME_STDERR in table.columns:
        err = finite_array(f"{where}: {VOLUME_STDERR}", table[VOLUME_STDERR].to_numpy(float))
        if (err <= 0).any():
            raise InputError(f"{VOLUME_STDERR!r} must be > 0", source=where)
    if (t < 0).any():
        raise InputError("mixing times must be ≥ 0 s", source=where)
    index = {s: i for i, s in enumerate(sites)}
    return {"t": t, "v": v, "err": err, "from": a, "to": b, "i": np.array([index[s] for s in a]),
            "j": np.array([index[s] for s in b])}


def _start(data: dict[str, Any], pairs: list[tuple[int, int]], p: np.ndarray) -> tuple[np.ndarray, float]:
    t, v, i, j = data["t"], data["v"], data["i"], data["j"]
    positive_t = t[t > 0]
    t_short = float(positive_t.min())
    at_short = t == t_short
    total = float(v[at_short].sum())
    if total <= 0:
        total = float(np.abs(v).sum()) / np.unique(t).size
    guesses = []
    for a, b in pairs:
        cross = v[at_short & (((i == a) & (j == b)) | ((i == b) & (j == a)))]
        k = float(cross.mean()) / (total * p[a] * t_short) if cross.size else math.nan
        floor = 1e-3 / float(positive_t.max())
        guesses.append(k if math.isfinite(k) and k > floor else 1.0 / float(np.median(positive_t)))
    return np.array(guesses), total


def fit_exchange(
    table: Any,
    *,
    populations: Any,
    sites: Sequence[str] | None = None,
    T1_s: Any = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    absolute_sigma: bool = False,
    source: str | None = None,
) -> ExchangeFit:
    """Fit the kinetic-matrix model to every volume of a long-form table at once.

    Parameters
    ----------
    table
        ``mixing_time [s]``, ``from``, ``to``, ``volume`` (and optionally ``volume stderr``),
        one row per peak and mixing time (``read_exchange_table``, ``simulate_exchange``).
    populations
        {site: fraction} from the 1D spectrum (normalised to sum 1), or a list with ``sites``.
    T1_s
        None (no relaxation: volumes normalised so that it cancels), one T1 [s] for all sites,
        one per site (mapping or list), or ``"fit"`` to fit R1 = 1/T1 per site.
    pairs
        The pairs that exchange, e.g. [("Li2S", "LiI"), ("LiI", "LPSC")]; all pairs by default.
    """
    from scipy.optimize import least_squares

    names, p = _sites_and_populations(populations, sites)
    where = source or "table"
    data = _table_arrays(table, names, where)
    index = {s: n for n, s in enumerate(names)}
    if pairs is None:
        pair_index = [(a, b) for a in range(len(names)) for b in range(a + 1, len(names))]
    else:
        pair_index = []
        for a, b in pairs:
            if a not in index or b not in index or a == b:
                raise InputError(f"pair ({a!r}, {b!r}) is not two different sites of {', '.join(names)}",
                                 source="pairs")
            pair_index.append(tuple(sorted((index[a], index[b]))))
        pair_index = sorted(set(pair_index))
    crosses = (data["i"] != data["j"]) & (data["t"] > 0)
    if not crosses.any():
        raise InputError("the table holds no cross peak at a mixing time > 0", source=where)
    seen = set(data["i"].tolist()) | set(data["j"].tolist())
    unseen = [names[n] for n in range(len(names)) if n not in seen]
    if unseen:
        raise InputError(f"site(s) {', '.join(unseen)} have a population but no rows in the table: nothing "
                         "constrains their rates (leave them out of the populations, or add their peaks)",
                         source=where)
    fit_r1 = isinstance(T1_s, str) and T1_s.lower() == "fit"
    r1_fixed = None if fit_r1 else _relaxation(T1_s, names)
    n_pairs, n_sites = len(pair_index), len(names)
    times, inverse = np.unique(data["t"], return_inverse=True)
    w = 1.0 / data["err"] if data["err"] is not None else np.ones(data["v"].size)
    w_scale = float(w.max())
    w = w / w_scale

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        k = np.zeros((n_sites, n_sites))
        for (a, b), ln_k in zip(pair_index, theta[:n_pairs], strict=True):
            k[a, b] = np.exp(ln_k)
            k[b, a] = p[a] * k[a, b] / p[b]
        r1 = np.exp(theta[n_pairs + 1:]) if fit_r1 else r1_fixed
        return k, float(np.exp(theta[n_pairs])), r1  # type: ignore[return-value]

    def residual(theta: np.ndarray) -> np.ndarray:
        k, total, r1 = unpack(theta)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            model = _volumes(times, k, r1, p, total)[inverse, data["i"], data["j"]]
        return w * (model - data["v"])

    k0, total0 = _start(data, pair_index, p)
    if not (math.isfinite(total0) and total0 > 0):
        raise InputError("the volumes hold no positive magnetisation to fit", source=where)
    t_min, t_max = float(times[times > 0].min()), float(times.max())
    ln_low, ln_high = math.log(_RATE_FLOOR / t_max), math.log(_RATE_CEILING / t_min)
    lower = np.array([ln_low] * n_pairs + [math.log(total0) - 30.0] + [ln_low] * (n_sites if fit_r1 else 0))
    upper = np.array([ln_high] * n_pairs + [math.log(total0) + 30.0] + [ln_high] * (n_sites if fit_r1 else 0))
    r1_start = [math.log(1.0 / (10.0 * t_max))] * n_sites if fit_r1 else []
    best = None
    for factor in (1.0, 0.1, 10.0):
        theta0 = np.array([*np.log(k0 * factor), math.log(total0), *r1_start])
        theta0 = np.clip(theta0, lower + 1e-6, upper - 1e-6)
        res = least_squares(residual, theta0, bounds=(lower, upper), method="trf", x_scale="jac",
                            xtol=1e-13, ftol=1e-13, gtol=1e-13, max_nfev=4000)
        if best is None or res.cost < best.cost:
            best = res
    res = best
    chi2_n = float(np.sum(res.fun**2))
    dof = int(res.fun.size - res.x.size)
    # A rate that ran to its floor (no exchange seen) leaves a null column in the Jacobian; the
    # others' covariance comes from the rest, and that rate is reported without a stderr.
    norms = np.linalg.norm(res.jac, axis=0)
    live = norms > 1e-8 * norms.max()
    # A rate that could as well be zero (its floor) is no exchange; one that is not, but whose
    # tenfold increase hardly changes χ², is only bounded from below (as in fit_buildup).
    noise2 = max(chi2_n / dof if dof > 0 else 0.0, 1e-24 * float(np.sum((w * data["v"]) ** 2)))

    def costlier(n: int, ln_k: float) -> float:
        moved = res.x.copy()
        moved[n] = ln_k
        return float(np.sum(residual(moved) ** 2)) - chi2_n

    unbounded = []
    for n in range(n_pairs):
        if not live[n]:
            continue
        if costlier(n, ln_low) < noise2:
            live[n] = False
        elif res.x[n] > ln_high - math.log(10.0) or costlier(n, res.x[n] + math.log(10.0)) < noise2:
            unbounded.append(n)
            live[n] = False
    cov = np.full((res.x.size, res.x.size), math.nan)
    try:
        cov[np.ix_(live, live)] = np.linalg.inv(res.jac[:, live].T @ res.jac[:, live])
    except np.linalg.LinAlgError:
        pass
    weighted = data["err"] is not None
    if absolute_sigma and weighted:
        cov = cov / w_scale**2
    else:
        cov = cov * (chi2_n / dof) if dof > 0 else np.full(cov.shape, math.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    k, total, r1 = unpack(res.x)
    dead = [f"{names[a]}–{names[b]}" for n, (a, b) in enumerate(pair_index)
            if not live[n] and n not in unbounded]
    rates = []
    for n, (a, b) in enumerate(pair_index):
        rates.append(ExchangeRate(names[a], names[b], Estimate(k[a, b], k[a, b] * se[n], "1/s")))
        reverse = Estimate(k[b, a], k[b, a] * se[n], "1/s")  # k_ba = (p_a/p_b)·k_ab: same relative stderr
        rates.append(ExchangeRate(names[b], names[a], reverse, derived=True))
    r1_est = (tuple(Estimate(r, r * s, "1/s") for r, s in zip(r1, se[n_pairs + 1:], strict=True)) if fit_r1
              else tuple(Estimate(r, 0.0, "1/s") for r in r1))
    model = data["v"] + res.fun / w
    chi2 = chi2_n * w_scale**2
    p_value, lack = math.nan, None
    notes = [] if res.success else [f"least squares did not converge: {res.message}"]
    if unbounded:
        faster = ", ".join(f"{names[pair_index[n][0]]}–{names[pair_index[n][1]]}" for n in unbounded)
        notes.append(f"exchange {faster} is complete before the first mixing time ({t_min:g} s): its rate is "
                     "only a lower bound")
    if dead:
        notes.append(f"no exchange detected between {', '.join(dead)} (rate consistent with zero)")
    if weighted and dof > 0:
        from scipy.stats import chi2 as chi2_distribution

        p_value = float(chi2_distribution.sf(chi2, dof))
        lack = p_value < _LACK_OF_FIT_P
        if lack:
            notes.append(f"the model does not describe the volumes: χ²/dof = {chi2 / dof:.3g}, "
                         f"p = {p_value:.2g} (wrong populations, a missing site or pair, or T1 left out?)")
    scale = float(np.max(np.abs(data["v"])))
    return ExchangeFit(
        success=bool(res.success) and not unbounded, message="; ".join(notes), sites=names,
        populations=tuple(map(float, p)),
        rates=tuple(rates), total=Estimate(total, total * se[n_pairs], "1"), R1=r1_est, R1_fitted=fit_r1,
        chi_square=chi2, reduced_chi_square=chi2 / dof if dof > 0 else math.nan, degrees_of_freedom=dof,
        relative_rms=float(np.sqrt(np.mean((model - data["v"]) ** 2)) / scale) if scale > 0 else math.nan,
        p_value=p_value, lack_of_fit=lack, weighted=weighted, mixing_time_s=frozen_array(data["t"]),
        from_site=tuple(data["from"]), to_site=tuple(data["to"]), volume=frozen_array(data["v"]),
        fitted=frozen_array(model), source=where,
        provenance=make_provenance("ssbkit.nmr.exchange.fit_exchange",
                                   settings={"sites": names, "populations": p, "T1_s": T1_s,
                                             "pairs": [(names[a], names[b]) for a, b in pair_index],
                                             "absolute_sigma": bool(absolute_sigma)},
                                   inputs={"t": data["t"], "from": data["from"], "to": data["to"],
                                           "volume": data["v"], "stderr": data["err"]},
                                   citations=("jeener1979",)),
    )


# -- one mixing time: the matrix logarithm ----------------------------------------------------------

def exchange_matrix_inversion(volumes: Any, mixing_time_s: float | None = None, populations: Any = None, *,
                              sites: Sequence[str] | None = None, total: float | None = None
                              ) -> ExchangeInversion:
    """Rates from the volumes of one mixing time by L = −logm(X)/t (Perrin & Dwyer 1990).

    ``volumes``: an N×N array indexed [from, to] (sites in the populations' order), or a
    long-form table of one mixing time (then ``mixing_time_s`` may be left out). ``total``:
    Σ M0, by default the sum of the volumes (no relaxation loss during t).

    >>> v = exchange_volumes([0.1], populations={"A": 0.3, "B": 0.7}, rates={("A", "B"): 2.0})[0]
    >>> r = exchange_matrix_inversion(v, 0.1, {"A": 0.3, "B": 0.7})
    >>> [(x.from_site, x.to_site, round(x.k.value, 9)) for x in r.rates]
    [('A', 'B', 2.0), ('B', 'A', 0.857142857)]
    """
    from scipy.linalg import logm

    if populations is None:
        raise InputError("populations are needed (fractions from the 1D spectrum)", source="populations")
    names, p = _sites_and_populations(populations, sites)
    n = len(names)
    if hasattr(volumes, "columns"):
        data = _table_arrays(volumes, names, "volumes")
        times = np.unique(data["t"])
        if times.size != 1:
            raise InputError(f"the inversion takes one mixing time, the table has {times.size}",
                             source="volumes")
        if mixing_time_s is None:
            mixing_time_s = float(times[0])
        matrix = np.full((n, n), math.nan)
        matrix[data["i"], data["j"]] = data["v"]
        if np.isnan(matrix).any():
            raise InputError(f"the inversion needs all {n * n} peaks (diagonal and cross)", source="volumes")
    else:
        matrix = finite_array("volumes", volumes, ndim=2)
        if matrix.shape != (n, n):
            raise InputError(f"volumes must be {n}×{n} for {n} sites, got {matrix.shape}", source="volumes")
    if mixing_time_s is None:
        raise InputError("the mixing time is needed", source="mixing_time_s")
    t = positive("mixing_time_s", mixing_time_s)
    m_total = float(matrix.sum()) if total is None else positive("total", total)
    m0 = m_total * p
    x = matrix.T / m0[None, :]  # X[to, from] = exp(−Lt)[to, from]
    # Each eigenvalue of X is exp(−λt) of one mode of L; one lost in the noise is a mode that has
    # equilibrated, whose rate the logarithm cannot give. First-order exchange keeps V symmetric
    # (V[i→j] = V[j→i], detailed balance), so the broken symmetry measures the volumes' noise.
    upper = np.triu_indices(n, 1)
    noise = float(np.sqrt(np.mean((matrix - matrix.T)[upper] ** 2) / 2.0)) / float(m0.min())
    floor = max(_EIGENVALUE_NOISE_FACTOR * noise, 1e-9)
    smallest = float(np.min(np.linalg.eigvals(x).real))
    with np.errstate(all="ignore"):
        log = logm(x)
    message = ""
    ok = bool(np.isfinite(log).all())
    if abs(smallest) <= floor:
        ok = False
        message = (f"exchange complete: only a lower bound on the fastest rate(s) (the smallest eigenvalue "
                   f"of the normalised volumes, {smallest:.3g}, is within {floor:.3g} of zero: "
                   f"{_EIGENVALUE_NOISE_FACTOR:g} × the noise, or 1e-9); use a shorter mixing time")
    if np.iscomplexobj(log):
        if not message and np.abs(log.imag).max() > 1e-8 * max(np.abs(log.real).max(), 1e-300):
            ok = False
            message = ("the matrix logarithm is complex: these volumes are not first-order exchange at this "
                       "mixing time (noise, or t long compared with 1/k)")
        log = log.real
    L = -np.asarray(log, dtype=float) / t
    k = -L.T * (1.0 - np.eye(n))  # k[i, j] = −L[j, i]
    rates = tuple(ExchangeRate(names[i], names[j], Estimate(float(k[i, j]), math.nan, "1/s"))
                  for i in range(n) for j in range(n) if i != j)
    negative = [f"{r.from_site} → {r.to_site}" for r in rates if r.k.value < 0]
    if negative and ok:
        message = f"negative rate(s) {', '.join(negative)}: noise larger than the exchange there"
    flux = p[:, None] * k
    scale = float(np.abs(flux).max())
    deviation = float(np.abs(flux - flux.T).max() / scale) if scale > 0 else 0.0
    return ExchangeInversion(
        success=ok, message=message, sites=names, populations=tuple(map(float, p)), mixing_time_s=t,
        rate_matrix=frozen_array(L), rates=rates, R1=tuple(map(float, L.sum(axis=0))),
        detailed_balance_deviation=deviation,
        provenance=make_provenance("ssbkit.nmr.exchange.exchange_matrix_inversion",
                                   settings={"sites": names, "populations": p, "mixing_time_s": t,
                                             "total": m_total},
                                   inputs={"volumes": matrix}, citations=("perrin1990", "jeener1979")),
    )


def populations_from_diagonal(table: Any) -> dict[str, float]:
    """Site populations from a long-form volume table: at the shortest mixing time, the sum of
    every peak that starts at a site (its diagonal and its cross peaks), normalised.

    Exchange moves magnetisation between sites but conserves it, so these sums are the
    equilibrium magnetisations M0 exactly, up to the longitudinal relaxation during the
    shortest mixing time (a factor exp(−t/T1) per site, ≈ 1 when t ≪ T1). The diagonal
    alone would lose what has already left the site.

    >>> from ssbkit.nmr.simulate import simulate_exchange
    >>> v = simulate_exchange(["A", "B"], [0.3, 0.7], {("A", "B"): 5.0}, mixing_times_s=[0.05, 1.0])
    >>> {k: round(p, 6) for k, p in populations_from_diagonal(v).items()}
    {'A': 0.3, 'B': 0.7}
    """
    import pandas as pd

    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    where = str(getattr(frame, "attrs", {}).get("source", "") or "table")
    for column in (MIXING_TIME, FROM, TO, VOLUME):
        if column not in frame.columns:
            raise InputError(f"no {column!r} column", source=where)
    t = frame[MIXING_TIME].to_numpy(float)
    first = frame[t == t.min()]
    sums = first.groupby(FROM, sort=False)[VOLUME].sum()
    if (sums <= 0).any() or len(sums) < 2:
        raise InputError(f"the peaks at the shortest mixing time ({t.min():g} s) do not give a positive "
                         "magnetisation for every site; give the populations", source=where)
    total = float(sums.sum())
    return {str(site): float(v) / total for site, v in sums.items()}


# -- the long-form table ---------------------------------------------------------------------------

def read_exchange_table(path: str | PathLike[str]) -> Any:
    """Read a long-form exchange table (CSV/TSV): ``mixing_time [s]`` (or ``[ms]``…), ``from``,
    ``to``, ``volume`` and optionally ``volume stderr``; one row per peak and mixing time, the
    diagonal peaks with from == to.

    Refused with an ``InputError`` naming the file and row: a missing file, a missing column,
    a value that is not a number, a negative mixing time, an empty site name, a peak listed
    twice for one mixing time, a table without cross peaks, and a volume below −5 % of the
    largest (a phase or sign error, not noise).
    """
    import pandas as pd

    from ssbkit.nmr.buildup import _MIXING_NAMES, _numbers, _to_canonical

    where = Path(path)
    if not where.is_file():
        raise InputError("no such file", source=where)
    try:
        raw = pd.read_csv(where, sep=None, engine="python", dtype={"from": str, "to": str})
    except (OSError, ValueError, csv.Error, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table: {exc}", source=where) from None
    from ssbkit.core.units import parse_label

    found = ", ".join(repr(str(c)) for c in raw.columns)
    columns: dict[str, tuple[Any, str]] = {}
    for column in raw.columns:
        name, unit = parse_label(str(column).strip())
        key = name.strip().lower()
        role = ("mixing" if key in _MIXING_NAMES or key.replace("_", " ") in _MIXING_NAMES else
                {"from": FROM, "to": TO, "volume": VOLUME, "volume stderr": VOLUME_STDERR,
                 "volume_stderr": VOLUME_STDERR}.get(key))
        if role is not None:
            columns[role] = (column, unit.strip())
    for role, label in (("mixing", "mixing_time [s]"), (FROM, "from"), (TO, "to"), (VOLUME, "volume")):
        if role not in columns:
            raise InputError(f"no {label!r} column; found {found}", source=where)
    out = pd.DataFrame()
    for role, target in (("mixing", MIXING_TIME), (VOLUME, VOLUME), (VOLUME_STDERR, VOLUME_STDERR)):
        if role not in columns:
            continue
        column, unit = columns[role]
        values = _numbers(raw[column])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(f"column {str(column)!r}, row {int(bad[0]) + 1}: not a finite number "
                             f"({raw[column].iloc[int(bad[0])]!r})", source=where)
        out[target] = _to_canonical(values, unit, "time" if role == "mixing" else None, str(column), where)
    for role in (FROM, TO):
        names = raw[columns[role][0]].astype("string").str.strip()
        empty = np.flatnonzero(names.isna().to_numpy() | (names.fillna("") == "").to_numpy())
        if empty.size:
            raise InputError(f"column {role!r}, row {int(empty[0]) + 1}: no site name", source=where)
        out[role] = names.astype(str).to_numpy()
    out = out[[MIXING_TIME, FROM, TO, VOLUME] + ([VOLUME_STDERR] if VOLUME_STDERR in out.columns else [])]
    t = out[MIXING_TIME].to_numpy(float)
    if (t < 0).any():
        raise InputError(f"row {int(np.flatnonzero(t < 0)[0]) + 1}: negative mixing time", source=where)
    twice = out.duplicated([MIXING_TIME, FROM, TO]).to_numpy()
    if twice.any():
        row = int(np.flatnonzero(twice)[0])
        raise InputError(f"row {row + 1}: the peak {out[FROM].iloc[row]} → {out[TO].iloc[row]} at "
                         f"{t[row]:g} s is listed twice", source=where)
    if not (out[FROM] != out[TO]).any():
        raise InputError("the table holds no cross peak (from ≠ to)", source=where)
    v = out[VOLUME].to_numpy(float)
    floor = -_NEGATIVE_FRACTION * float(np.abs(v).max())
    if (v < floor).any():
        row = int(np.flatnonzero(v < floor)[0])
        raise InputError(f"row {row + 1}: volume {v[row]:.4g} is below −{100 * _NEGATIVE_FRACTION:g} % of "
                         "the largest volume: a phase or sign error?", source=where)
    if VOLUME_STDERR in out.columns and (out[VOLUME_STDERR].to_numpy(float) <= 0).any():
        raise InputError(f"column {VOLUME_STDERR!r} must be > 0", source=where)
    out.attrs["source"] = str(where)
    return out
