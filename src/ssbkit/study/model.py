"""The process–property model of a study: correlations, and a Gaussian process that suggests
the next experiment.

Input is a table with one row per sample: process-parameter columns (``frb [%]``, ``bmr [1]``)
and property columns (``sigma_25C [mS/cm]``, ``ea [eV]``, ``lattice_a [Å]``), NaN where a
property was not measured.

**Correlations** (:func:`correlate`): Pearson r and Spearman ρ of every parameter × property
pair over the rows where both are known, with two-sided p-values from scipy.stats (Pearson's is
exact for normal data; Spearman's uses the t approximation, rough below ~10 samples). A pair
with fewer than 3 rows, or with a constant column, has no correlation: NaN, and the message
says which and why.

**Gaussian process** (:func:`suggest_next`). Each parameter is mapped to u ∈ [0, 1] over its
observed range (after log10 for ``log_parameters``: a ball-to-material ratio of 20–80 is a
ratio scale), the target is standardised, y' = (y − ȳ)/s_y, and modelled as

    f ~ GP(0, k),   k(u, u') = s² · exp(−½ Σ_j (u_j − u'_j)² / ℓ_j²) + σ_n² δ(u, u'),

a constant times an anisotropic (ARD) squared-exponential kernel plus white noise. The
hyperparameters (s², ℓ_j, σ_n²) maximise the log marginal likelihood

    log p(y' | θ) = −½ y'ᵀ K⁻¹ y' − Σ log L_ii − (n/2) log 2π,   K = L Lᵀ,

with its analytic gradient ½ tr((α αᵀ − K⁻¹) ∂K/∂θ), α = K⁻¹ y', by L-BFGS-B from one fixed and
``restarts`` seeded random starts, within 0.05 ≤ ℓ_j ≤ 10 (in units of the observed range),
10⁻⁴ ≤ s² ≤ 10⁴ and 10⁻⁶ ≤ σ_n² ≤ 10 (in units of the target's variance). The prediction at
u* is the posterior of the noise-free f: mean k*ᵀα and variance s² − vᵀv with v = L⁻¹k*, both
returned in the target's units (Rasmussen & Williams 2006, ch. 2 and 5).

The next experiment maximises the expected improvement over a grid spanning ``bounds``
(Jones, Schonlau & Welch 1998): with z = (μ − f*)/σ for maximisation,

    EI = (μ − f*) Φ(z) + σ φ(z),

where f* is the best posterior mean at the measured points (with noisy data this is steadier
than the best noisy value; without noise the two agree). EI is ≥ 0, and ~0 at a measured point
of a noise-free model.

As a model check, the leave-one-out predictions come in closed form (R&W eq. 5.12):
μ₋ᵢ = yᵢ − αᵢ/[K⁻¹]ᵢᵢ and σ²₋ᵢ = 1/[K⁻¹]ᵢᵢ (the hyperparameters are kept; σ₋ᵢ includes the
noise), with standardised residuals zᵢ = (yᵢ − μ₋ᵢ)/σ₋ᵢ and the predictive Q² = 1 − Σ(yᵢ − μ₋ᵢ)² /
Σ(yᵢ − ȳ)². Q² near 1 means the model predicts samples it has not seen; Q² ≤ 0 means it does
no better than the mean, and the suggestion is then exploration, not a prediction.

The GP is written here with numpy and scipy instead of scikit-learn: a 9-point, 2-parameter GP
does not justify a 40 MB dependency, and a scientist reading a suggestion should be able to
follow every step of the maths above in this file.

Examples
--------
>>> import numpy as np, pandas as pd
>>> frame = pd.DataFrame({"frb [%]": [10, 20, 30, 10, 20, 30], "bmr [1]": [20, 20, 20, 80, 80, 80],
...                       "sigma [mS/cm]": [8.0, 9.0, 7.5, 13.0, 12.0, 9.5]})
>>> c = correlate(frame, parameters=["frb [%]", "bmr [1]"], properties=["sigma [mS/cm]"])
>>> round(float(c.pearson_r[1, 0]), 3)
0.828
>>> s = suggest_next(frame, parameters=["frb [%]", "bmr [1]"], target="sigma [mS/cm]",
...                  log_parameters=["bmr [1]"], grid_points=11, rng=0)
>>> s.success, sorted(s.next_point)
(True, ['bmr [1]', 'frb [%]'])
>>> s.expected_improvement.value >= 0
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, frozen_array, frozen_table, make_provenance
from ssbkit.core.units import parse_label
from ssbkit.core.validate import positive_int, require_columns

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["Correlations", "GaussianProcess", "Suggestion", "correlate", "plot_correlations",
           "plot_suggestion", "suggest_next"]

citations.register(
    "rasmussen2006",
    "C. E. Rasmussen, C. K. I. Williams, Gaussian Processes for Machine Learning, MIT Press, "
    "Cambridge, MA (2006).",
    "10.7551/mitpress/3206.001.0001",
)
citations.register(
    "jones1998",
    "D. R. Jones, M. Schonlau, W. J. Welch, Efficient global optimization of expensive black-box "
    "functions, J. Global Optim. 13 (1998) 455-492.",
    "10.1023/A:1008306431147",
)

MIN_ROWS = 3
LENGTH_BOUNDS = (0.05, 10.0)  # in units of each parameter's observed range
SIGNAL_BOUNDS = (1e-4, 1e4)  # s², in units of the target's variance
NOISE_BOUNDS = (1e-6, 10.0)  # σ_n², same units
MAX_GRID = 250_000  # grid nodes; the posterior sd needs an n × nodes matrix
_NO_STRUCTURE_Q2 = 0.3


# ---------------------------------------------------------------------------------------------
# input checks


def _frame(frame: Any) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"must be a pandas DataFrame, got {type(frame).__name__}", source="frame")
    return frame


def _names(name: str, value: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items and not allow_empty:
        raise InputError("must name at least one column", source=name)
    for item in items:
        if not isinstance(item, str):
            raise InputError(f"column names must be strings, got {item!r}", source=name)
    if len(set(items)) != len(items):
        raise InputError(f"names a column twice: {list(items)}", source=name)
    return items


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats (NaN kept); text or infinity is an error naming the column and row."""
    import pandas as pd

    series = frame[column]
    if series.dtype == bool:
        raise InputError("holds booleans, not numbers", source=f"column {column!r}")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(values) & series.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"row {frame.index[row]!r} holds {series.iloc[row]!r}, not a number",
                         source=f"column {column!r}")
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise InputError(f"row {frame.index[row]!r} is infinite", source=f"column {column!r}")
    return values


def _generator(rng: Any) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng(0)  # a fixed seed: a study's report must not change run to run
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise InputError(f"must be a numpy Generator or a non-negative int seed, got {rng!r}", source="rng")


# ---------------------------------------------------------------------------------------------
# correlations


@dataclass(frozen=True, kw_only=True)
class Correlations(Result):
    """Pearson r and Spearman ρ (with two-sided p-values and n) for every parameter × property
    pair; the matrices are indexed [parameter, property] and NaN where undefined."""

    parameters: tuple[str, ...]
    properties: tuple[str, ...]
    pearson_r: Any
    pearson_p: Any
    spearman_rho: Any
    spearman_p: Any
    n: Any

    def pair(self, parameter: str, prop: str) -> dict[str, float]:
        """The numbers of one pair: ``{"n", "pearson_r", "pearson_p", "spearman_rho", "spearman_p"}``."""
        if parameter not in self.parameters:
            raise InputError(f"not one of {list(self.parameters)}", source=f"parameter {parameter!r}")
        if prop not in self.properties:
            raise InputError(f"not one of {list(self.properties)}", source=f"property {prop!r}")
        i, j = self.parameters.index(parameter), self.properties.index(prop)
        return {"n": int(self.n[i, j]), "pearson_r": float(self.pearson_r[i, j]),
                "pearson_p": float(self.pearson_p[i, j]), "spearman_rho": float(self.spearman_rho[i, j]),
                "spearman_p": float(self.spearman_p[i, j])}

    def to_frame(self) -> pd.DataFrame:
        """The long table: one row per pair, columns parameter, property, n, pearson r/p, spearman ρ/p."""
        import pandas as pd

        rows = [{"parameter": p, "property": q, **self.pair(p, q)}
                for p in self.parameters for q in self.properties]
        return pd.DataFrame(rows, columns=["parameter", "property", "n", "pearson_r", "pearson_p",
                                           "spearman_rho", "spearman_p"])

    def to_dict(self) -> dict[str, Any]:
        """The matrices (NaN as null) and the same numbers as a list of ``pairs``."""
        out = super().to_dict()
        out["pairs"] = [{"parameter": p, "property": q, **_json_numbers(self.pair(p, q))}
                        for p in self.parameters for q in self.properties]
        return out

    def _report_lines(self) -> list[str]:
        lines = []
        for p in self.parameters:
            for q in self.properties:
                c = self.pair(p, q)
                lines.append(f"  {p} × {q}: n = {c['n']}, r = {c['pearson_r']:.3f} "
                             f"(p = {c['pearson_p']:.3g}), ρ = {c['spearman_rho']:.3f} "
                             f"(p = {c['spearman_p']:.3g})")
        return lines


def _json_numbers(values: Mapping[str, float]) -> dict[str, Any]:
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


def correlate(frame: pd.DataFrame, *, parameters: Sequence[str], properties: Sequence[str]) -> Correlations:
    """Pearson and Spearman correlations of each parameter with each property.

    Each pair uses the rows where both columns are known (pairwise deletion: properties are
    often measured on different subsets of samples). ``n`` says how many.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"x": [1, 2, 3, 4], "y": [2.0, 4.0, 6.0, 8.0], "z": [1.0, 1.0, 1.0, None]})
    >>> c = correlate(f, parameters="x", properties=["y", "z"])
    >>> float(c.pearson_r[0, 0]), float(c.spearman_rho[0, 0]), int(c.n[0, 1])
    (1.0, 1.0, 3)
    >>> c.message
    'undefined (NaN): x × z (z is constant over the 3 rows)'
    """
    from scipy import stats

    frame = _frame(frame)
    parameters = _names("parameters", parameters)
    properties = _names("properties", properties)
    require_columns(frame, [*parameters, *properties], source="frame")
    columns = {name: _numeric(frame, name) for name in dict.fromkeys((*parameters, *properties))}
    shape = (len(parameters), len(properties))
    r, pr, rho, prho = (np.full(shape, np.nan) for _ in range(4))
    counts = np.zeros(shape, dtype=int)
    undefined = []
    for i, p in enumerate(parameters):
        for j, q in enumerate(properties):
            x, y = columns[p], columns[q]
            keep = ~(np.isnan(x) | np.isnan(y))
            x, y = x[keep], y[keep]
            counts[i, j] = x.size
            if x.size < MIN_ROWS:
                undefined.append(f"{p} × {q} (n = {x.size} < {MIN_ROWS})")
                continue
            constant = [name for name, v in ((p, x), (q, y)) if np.ptp(v) == 0]
            if constant:  # scipy would warn and give NaN; say why instead
                undefined.append(f"{p} × {q} ({' and '.join(constant)} "
                                 f"{'is' if len(constant) == 1 else 'are'} constant over the {x.size} rows)")
                continue
            pearson = stats.pearsonr(x, y)
            spearman = stats.spearmanr(x, y)
            r[i, j], pr[i, j] = float(pearson.statistic), float(pearson.pvalue)
            rho[i, j], prho[i, j] = float(spearman.statistic), float(spearman.pvalue)
    message = "undefined (NaN): " + "; ".join(undefined) if undefined else ""
    used = {name: columns[name] for name in dict.fromkeys((*parameters, *properties))}
    return Correlations(
        success=bool(np.isfinite(r).any()),
        message=message if np.isfinite(r).any() else f"no pair has a correlation; {message}",
        parameters=parameters, properties=properties,
        pearson_r=frozen_array(r), pearson_p=frozen_array(pr), spearman_rho=frozen_array(rho),
        spearman_p=frozen_array(prho), n=frozen_array(counts),
        provenance=make_provenance("ssbkit.study.model.correlate",
                                   settings={"parameters": list(parameters), "properties": list(properties),
                                             "min_rows": MIN_ROWS},
                                   inputs={"columns": used}),
    )


# ---------------------------------------------------------------------------------------------
# the Gaussian process


def _correlation(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """exp(−½ Σ_j (a_j − b_j)² / ℓ_j²) for every row pair of ``a`` and ``b``."""
    d = (a[:, None, :] - b[None, :, :]) / lengths
    return np.exp(-0.5 * np.einsum("ijk,ijk->ij", d, d))


def _negative_lml(theta: np.ndarray, u: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """−log p(y | θ) and its gradient, θ = (log s², log ℓ_1..ℓ_d, log σ_n²)."""
    from scipy.linalg import cho_solve, cholesky

    signal, lengths, noise = math.exp(theta[0]), np.exp(theta[1:-1]), math.exp(theta[-1])
    n = y.size
    corr = _correlation(u, u, lengths)
    kernel = signal * corr + noise * np.eye(n)
    try:
        chol = cholesky(kernel, lower=True)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = cho_solve((chol, True), y)
    value = 0.5 * y @ alpha + np.log(np.diag(chol)).sum() + 0.5 * n * math.log(2 * math.pi)
    inner = np.outer(alpha, alpha) - cho_solve((chol, True), np.eye(n))
    grads = [signal * corr]
    grads += [signal * corr * (u[:, None, j] - u[None, :, j]) ** 2 / lengths[j] ** 2
              for j in range(u.shape[1])]
    grads.append(noise * np.eye(n))
    gradient = np.array([-0.5 * np.sum(inner * g) for g in grads])
    return float(value), gradient


@dataclass(frozen=True, kw_only=True)
class GaussianProcess:
    """A fitted GP over process parameters (see the module docstring for the maths).

    ``predict`` takes points in the parameters' own units and returns the posterior mean and
    standard deviation of the noise-free target in the target's units. Length scales are in
    units of each parameter's observed range (of log10 for log parameters).
    """

    parameters: tuple[str, ...]
    log_parameters: tuple[str, ...]
    low: Any  # transformed lower end of the observed range, per parameter
    span: Any  # transformed observed range, per parameter
    y_mean: float
    y_scale: float
    signal_variance: float  # standardised units
    length_scales: Any
    noise_variance: float  # standardised units
    log_marginal_likelihood: float
    u: Any = field(repr=False)  # scaled training inputs
    y: Any = field(repr=False)  # standardised training targets
    chol: Any = field(repr=False)
    alpha: Any = field(repr=False)

    def scale(self, points: Any) -> np.ndarray:
        """Points in the parameters' units -> the model's u ∈ [0, 1] coordinates."""
        x = np.array(points, dtype=float, ndmin=2)
        if x.shape[1] != len(self.parameters):
            raise InputError(f"needs {len(self.parameters)} columns ({', '.join(self.parameters)}), "
                             f"got {x.shape[1]}", source="points")
        logs = np.array([p in self.log_parameters for p in self.parameters])
        if (x[:, logs] <= 0).any():
            raise InputError("log parameters must be > 0", source="points")
        x[:, logs] = np.log10(x[:, logs])
        return (x - self.low) / self.span

    def predict(self, points: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd (target units) at ``points`` (an (m, d) array, one point of d
        values, or a DataFrame with the parameter columns)."""
        import pandas as pd

        if isinstance(points, pd.DataFrame):
            require_columns(points, self.parameters, source="points")
            points = points[list(self.parameters)].to_numpy(float)
        return self._predict_scaled(self.scale(points))

    def _predict_scaled(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy.linalg import solve_triangular

        cross = self.signal_variance * _correlation(self.u, u, self.length_scales)
        mean = cross.T @ self.alpha
        v = solve_triangular(self.chol, cross, lower=True)
        variance = np.clip(self.signal_variance - np.einsum("ij,ij->j", v, v), 0.0, None)
        return self.y_mean + self.y_scale * mean, self.y_scale * np.sqrt(variance)

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form leave-one-out predictive mean and sd (noise included), target units."""
        from scipy.linalg import cho_solve

        inverse = cho_solve((self.chol, True), np.eye(self.y.size))
        diagonal = np.diag(inverse)
        mean = self.y - self.alpha / diagonal
        return self.y_mean + self.y_scale * mean, self.y_scale / np.sqrt(diagonal)

    def to_dict(self) -> dict[str, Any]:
        """The kernel and its hyperparameters (JSON-safe); the training data are in the Suggestion."""
        return {"kernel": "s² · ARD squared exponential + σ_n² white noise",
                "parameters": list(self.parameters), "log_parameters": list(self.log_parameters),
                "signal_sd": self.y_scale * math.sqrt(self.signal_variance),
                "noise_sd": self.y_scale * math.sqrt(self.noise_variance),
                "length_scales": dict(zip(self.parameters, map(float, self.length_scales), strict=True)),
                "log_marginal_likelihood": self.log_marginal_likelihood}


def _fit(u: np.ndarray, y: np.ndarray, *, generator: np.random.Generator,
         restarts: int) -> tuple[np.ndarray, float, bool]:
    """Hyperparameters (log) maximising the marginal likelihood: best of a fixed and seeded starts."""
    from scipy.optimize import minimize

    d = u.shape[1]
    bounds = [tuple(np.log(SIGNAL_BOUNDS)), *[tuple(np.log(LENGTH_BOUNDS))] * d,
              tuple(np.log(NOISE_BOUNDS))]
    starts = [np.log([1.0, *([0.5] * d), 1e-2])]
    for _ in range(restarts):  # random starts inside a sensible sub-box, not at the bounds' extremes
        starts.append(np.concatenate([generator.uniform(np.log(0.1), np.log(10.0), 1),
                                      generator.uniform(np.log(0.1), np.log(3.0), d),
                                      generator.uniform(np.log(1e-4), np.log(0.5), 1)]))
    best, best_value, converged = starts[0], math.inf, False
    for start in starts:
        run = minimize(_negative_lml, start, args=(u, y), jac=True, method="L-BFGS-B", bounds=bounds)
        if np.isfinite(run.fun) and run.fun < best_value - 1e-12:
            best, best_value = run.x, float(run.fun)
        converged = converged or bool(run.success)
    return np.asarray(best, dtype=float), -best_value, converged and best_value < 1e24


def _build(u: np.ndarray, y_raw: np.ndarray, theta: np.ndarray, lml: float, *, parameters: tuple[str, ...],
           log_parameters: tuple[str, ...], low: np.ndarray, span: np.ndarray) -> GaussianProcess:
    from scipy.linalg import cho_solve, cholesky

    y_mean, y_scale = float(np.mean(y_raw)), float(np.std(y_raw))
    y = (y_raw - y_mean) / y_scale
    signal, lengths, noise = math.exp(theta[0]), np.exp(theta[1:-1]), math.exp(theta[-1])
    chol = cholesky(signal * _correlation(u, u, lengths) + noise * np.eye(y.size), lower=True)
    return GaussianProcess(
        parameters=parameters, log_parameters=log_parameters, low=frozen_array(low), span=frozen_array(span),
        y_mean=y_mean, y_scale=y_scale, signal_variance=signal, length_scales=frozen_array(lengths),
        noise_variance=noise, log_marginal_likelihood=float(lml), u=frozen_array(u), y=frozen_array(y),
        chol=frozen_array(chol), alpha=frozen_array(cho_solve((chol, True), y)))


def _expected_improvement(mean: np.ndarray, sd: np.ndarray, best: float, sign: float) -> np.ndarray:
    from scipy.special import ndtr

    gain = sign * (mean - best)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, gain / np.where(sd > 0, sd, 1.0), 0.0)
    density = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return np.where(sd > 0, np.clip(gain * ndtr(z) + sd * density, 0.0, None), np.clip(gain, 0.0, None))


# ---------------------------------------------------------------------------------------------
# the suggestion


@dataclass(frozen=True, kw_only=True)
class Suggestion(Result):
    """The next experiment by expected improvement of a GP model of ``target``, with the model
    check (leave-one-out) and the grids for plotting.

    Estimates are in the target's unit (``unit``). ``length_scales`` are in units of each
    parameter's observed range (of log10 for log parameters): ≪ 1 means the target changes
    between neighbouring samples, ≫ 1 that it changes smoothly (nearly linearly, or not at all)
    over the whole range.
    ``grid`` maps each parameter to its axis values and ``"mean"``, ``"sd"``,
    ``"expected_improvement"`` to arrays over the grid (axis j = parameter j, ``indexing="ij"``).
    """

    parameters: tuple[str, ...]
    target: str
    unit: str
    maximize: bool
    log_parameters: tuple[str, ...]
    bounds: Mapping[str, tuple[float, float]]
    samples: tuple[str, ...]
    x: Any  # (n, d) measured parameter values
    y: Any  # (n,) measured target
    next_point: Mapping[str, float]
    predicted: Estimate
    expected_improvement: Estimate
    already_measured: bool
    measured_sample: str | None
    best_sample: str
    best_point: Mapping[str, float]
    best_measured: Estimate
    best_predicted: Estimate
    length_scales: Mapping[str, float]
    signal_sd: Estimate
    noise_sd: Estimate
    log_marginal_likelihood: float
    loo_mean: Any
    loo_sd: Any
    loo_z: Any
    q_squared: float
    grid: Mapping[str, Any] = field(repr=False)
    model: GaussianProcess = field(repr=False, compare=False)

    def predict(self, points: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of the target at ``points`` (see ``GaussianProcess.predict``)."""
        return self.model.predict(points)

    def to_frame(self) -> pd.DataFrame:
        """One row per measured sample: parameters, target, the model's fit and its leave-one-out check."""
        import pandas as pd

        from ssbkit.core.units import label

        name, _ = parse_label(self.target)
        mean, sd = self.model._predict_scaled(np.asarray(self.model.u))
        columns: dict[str, Any] = {"sample": list(self.samples)}
        columns.update({p: self.x[:, j] for j, p in enumerate(self.parameters)})
        columns[self.target] = self.y
        columns[label(f"{name} fitted", self.unit)] = mean
        columns[label(f"{name} fitted sd", self.unit)] = sd
        columns[label(f"{name} loo mean", self.unit)] = self.loo_mean
        columns[label(f"{name} loo sd", self.unit)] = self.loo_sd
        columns[f"{name} loo z"] = self.loo_z
        return pd.DataFrame(columns)

    def _report_lines(self) -> list[str]:
        point = ", ".join(f"{p} = {v:.4g}" for p, v in self.next_point.items())
        best = ", ".join(f"{p} = {v:.4g}" for p, v in self.best_point.items())
        scales = ", ".join(f"{p}: {v:.3g}" for p, v in self.length_scales.items())
        return [
            f"  model of {self.target} over {', '.join(self.parameters)} from {len(self.samples)} samples "
            f"({'maximise' if self.maximize else 'minimise'})",
            f"  next: {point} -> {self.predicted}, EI = {self.expected_improvement}"
            + (f" (already measured: {self.measured_sample})" if self.already_measured else ""),
            f"  best measured: {self.best_sample} ({best}) = {self.best_measured}, "
            f"model {self.best_predicted}",
            f"  length scales (fraction of range): {scales}; signal sd {self.signal_sd}, "
            f"noise sd {self.noise_sd}",
            f"  leave-one-out: Q² = {self.q_squared:.3f}, "
            f"rms z = {float(np.sqrt(np.mean(np.square(self.loo_z)))):.2f}",
        ]


def _bounds(bounds: Any, parameters: tuple[str, ...], x: np.ndarray,
            logs: np.ndarray) -> dict[str, tuple[float, float]]:
    given = {} if bounds is None else bounds
    if not isinstance(given, Mapping):
        raise InputError(f"must map parameter names to (low, high), got {type(given).__name__}",
                         source="bounds")
    unknown = [k for k in given if k not in parameters]
    if unknown:
        raise InputError(f"names {unknown}, not one of the parameters {list(parameters)}", source="bounds")
    out = {}
    for j, p in enumerate(parameters):
        if p not in given:
            out[p] = (float(x[:, j].min()), float(x[:, j].max()))
            continue
        try:
            low, high = (float(v) for v in given[p])
        except (TypeError, ValueError):
            raise InputError(f"must be two numbers (low, high), got {given[p]!r}",
                             source=f"bounds[{p!r}]") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InputError(f"needs finite low < high, got ({low:g}, {high:g})", source=f"bounds[{p!r}]")
        if logs[j] and low <= 0:
            raise InputError(f"{p} is a log parameter: low must be > 0, got {low:g}", source=f"bounds[{p!r}]")
        out[p] = (low, high)
    return out


def suggest_next(
    frame: pd.DataFrame,
    *,
    parameters: Sequence[str],
    target: str,
    maximize: bool = True,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    grid_points: int = 41,
    log_parameters: Sequence[str] = (),
    rng: np.random.Generator | int | None = None,
    restarts: int = 5,
) -> Suggestion:
    """Fit a GP of ``target`` over ``parameters`` and suggest the grid point of largest expected
    improvement (see the module docstring).

    Parameters
    ----------
    frame
        One row per sample; rows without ``target`` are left out (the message counts them).
    parameters, target
        Column names; the parameters of the rows used must be numbers (no NaN).
    maximize
        Look for the largest target (``False``: the smallest).
    bounds
        ``{parameter: (low, high)}`` of the grid searched, in the parameter's units; a parameter
        left out spans its observed range.
    grid_points
        Nodes per parameter (the grid has ``grid_points ** len(parameters)`` nodes, ≤ 250 000).
    log_parameters
        Parameters modelled and gridded on a log10 scale (all values must be > 0).
    rng, restarts
        Seed or Generator for the ``restarts`` random starts of the hyperparameter search
        (``None``: seed 0, so the same table always gives the same suggestion).
    """
    frame = _frame(frame)
    parameters = _names("parameters", parameters)
    if not isinstance(target, str):
        raise InputError(f"must be a column name, got {target!r}", source="target")
    if target in parameters:
        raise InputError(f"{target!r} is also one of the parameters", source="target")
    log_parameters = _names("log_parameters", log_parameters, allow_empty=True)
    stray = [p for p in log_parameters if p not in parameters]
    if stray:
        raise InputError(f"names {stray}, not one of the parameters {list(parameters)}",
                         source="log_parameters")
    grid_points = positive_int("grid_points", grid_points)
    if grid_points < 2:
        raise InputError(f"must be ≥ 2, got {grid_points}", source="grid_points")
    if grid_points ** len(parameters) > MAX_GRID:
        raise InputError(f"{grid_points}^{len(parameters)} grid nodes is more than {MAX_GRID}; "
                         f"use grid_points ≤ {int(MAX_GRID ** (1 / len(parameters)))}", source="grid_points")
    if not isinstance(restarts, int | np.integer) or isinstance(restarts, bool) or restarts < 0:
        raise InputError(f"must be an int ≥ 0, got {restarts!r}", source="restarts")
    restarts = int(restarts)
    generator = _generator(rng)
    require_columns(frame, [*parameters, target], source="frame")

    y_all = _numeric(frame, target)
    used = ~np.isnan(y_all)
    if used.sum() < MIN_ROWS:
        raise InputError(f"a model needs at least {MIN_ROWS} rows with a value, got {int(used.sum())}",
                         source=f"column {target!r}")
    y = y_all[used]
    if np.ptp(y) == 0:
        raise InputError(f"is the same ({y[0]:g}) in all {y.size} rows: nothing to model",
                         source=f"column {target!r}")
    x = np.empty((y.size, len(parameters)))
    labels = [str(v) for v in frame.index[used]]
    logs = np.array([p in log_parameters for p in parameters])
    for j, p in enumerate(parameters):
        values = _numeric(frame, p)[used]
        if np.isnan(values).any():
            row = labels[int(np.flatnonzero(np.isnan(values))[0])]
            raise InputError(f"is missing in row {row!r}, which has a {target}", source=f"column {p!r}")
        if logs[j] and (values <= 0).any():
            row = labels[int(np.flatnonzero(values <= 0)[0])]
            raise InputError(f"is a log parameter but row {row!r} is {values[values <= 0][0]:g} "
                             "(must be > 0)", source=f"column {p!r}")
        if np.ptp(values) == 0:
            raise InputError(f"is the same ({values[0]:g}) in every row used: it cannot be modelled",
                             source=f"column {p!r}")
        x[:, j] = values
    spans = _bounds(bounds, parameters, x, logs)

    t = x.copy()
    t[:, logs] = np.log10(t[:, logs])
    low, span = t.min(axis=0), np.ptp(t, axis=0)
    u = (t - low) / span
    y_scaled = (y - y.mean()) / y.std()
    theta, lml, converged = _fit(u, y_scaled, generator=generator, restarts=restarts)
    model = _build(u, y, theta, lml, parameters=parameters, log_parameters=log_parameters, low=low, span=span)
    sign = 1.0 if maximize else -1.0

    axes_t = []
    for j, p in enumerate(parameters):
        a, b = spans[p]
        axes_t.append(np.linspace(*(np.log10([a, b]) if logs[j] else (a, b)), grid_points))
    mesh = np.meshgrid(*axes_t, indexing="ij")
    grid_u = (np.stack([m.ravel() for m in mesh], axis=1) - low) / span
    mean, sd = model._predict_scaled(grid_u)
    fitted_mean, _ = model._predict_scaled(u)
    incumbent = float(sign * np.max(sign * fitted_mean))
    ei = _expected_improvement(mean, sd, incumbent, sign)
    pick = int(np.argmax(ei))
    axes = [10 ** a if logs[j] else a for j, a in enumerate(axes_t)]
    point = {p: float(axes[j][idx]) for j, (p, idx) in
             enumerate(zip(parameters, np.unravel_index(pick, mesh[0].shape), strict=True))}
    step_u = np.array([(a[-1] - a[0]) / (grid_points - 1) for a in axes_t]) / span
    near = np.all(np.abs(u - grid_u[pick]) <= 0.5 * step_u + 1e-12, axis=1)
    measured = labels[int(np.flatnonzero(near)[0])] if near.any() else None

    loo_mean, loo_sd = model.leave_one_out()
    loo_z = (y - loo_mean) / loo_sd
    q_squared = 1.0 - float(np.sum((y - loo_mean) ** 2) / np.sum((y - y.mean()) ** 2))
    best = int(np.argmax(sign * y))
    best_mean, best_sd = model._predict_scaled(u[best:best + 1])
    _, unit = parse_label(target)

    notes = [f"{int((~used).sum())} row(s) without {target} left out"] if (~used).any() else []
    if not converged:
        notes.append("the likelihood maximisation did not converge")
    if float(ei[pick]) <= 1e-3 * y.std():
        notes.append("the expected improvement is ~0 everywhere on the grid: the model sees nothing to gain")
    elif measured is not None:
        notes.append(f"the suggestion is the measured sample {measured}: measure it again")
    if q_squared < _NO_STRUCTURE_Q2:
        notes.append(f"leave-one-out Q² = {q_squared:.2f}: the model barely predicts unseen samples, "
                     "so the suggestion is exploration, not a prediction")
    rng_setting = "Generator" if isinstance(rng, np.random.Generator) else (0 if rng is None else int(rng))
    return Suggestion(
        success=converged, message="; ".join(notes),
        parameters=parameters, target=target, unit=unit, maximize=bool(maximize),
        log_parameters=log_parameters,
        bounds=MappingProxyType(spans), samples=tuple(labels), x=frozen_array(x), y=frozen_array(y),
        next_point=MappingProxyType(point),
        predicted=Estimate(float(mean[pick]), float(sd[pick]), unit),
        expected_improvement=Estimate(float(ei[pick]), math.nan, unit),
        already_measured=measured is not None, measured_sample=measured,
        best_sample=labels[best],
        best_point=MappingProxyType(dict(zip(parameters, map(float, x[best]), strict=True))),
        best_measured=Estimate(float(y[best]), math.nan, unit),
        best_predicted=Estimate(float(best_mean[0]), float(best_sd[0]), unit),
        length_scales=MappingProxyType(dict(zip(parameters, map(float, model.length_scales), strict=True))),
        signal_sd=Estimate(model.y_scale * math.sqrt(model.signal_variance), math.nan, unit),
        noise_sd=Estimate(model.y_scale * math.sqrt(model.noise_variance), math.nan, unit),
        log_marginal_likelihood=float(lml),
        loo_mean=frozen_array(loo_mean), loo_sd=frozen_array(loo_sd), loo_z=frozen_array(loo_z),
        q_squared=q_squared,
        grid=frozen_table({**{p: axes[j] for j, p in enumerate(parameters)},
                           "mean": mean.reshape(mesh[0].shape), "sd": sd.reshape(mesh[0].shape),
                           "expected_improvement": ei.reshape(mesh[0].shape)}),
        model=model,
        provenance=make_provenance(
            "ssbkit.study.model.suggest_next",
            settings={"parameters": list(parameters), "target": target, "maximize": bool(maximize),
                      "bounds": {p: list(b) for p, b in spans.items()}, "grid_points": grid_points,
                      "log_parameters": list(log_parameters), "rng": rng_setting, "restarts": restarts},
            inputs={"samples": labels, "x": x, "y": y},
            citations=("rasmussen2006", "jones1998")),
    )


# ---------------------------------------------------------------------------------------------
# figures


def plot_correlations(correlations: Correlations, *, which: str = "pearson") -> Figure:
    """Heat map of r (``which="spearman"``: ρ), parameters down, properties across, values written."""
    from ssbkit.core.plotting import new_figure
    from ssbkit.core.validate import one_of

    if not isinstance(correlations, Correlations):
        raise InputError(f"must be a Correlations, got {type(correlations).__name__}", source="correlations")
    which = one_of("which", which, ("pearson", "spearman"))
    values = np.asarray(correlations.pearson_r if which == "pearson" else correlations.spearman_rho)
    rows, cols = len(correlations.parameters), len(correlations.properties)
    fig = new_figure(1.6 + 0.9 * cols, 1.2 + 0.5 * rows)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            text = "n/a" if not math.isfinite(v) else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize="small",
                    color="white" if math.isfinite(v) and abs(v) > 0.6 else "black")
    ax.set_xticks(range(cols), correlations.properties, rotation=30, ha="right")
    ax.set_yticks(range(rows), correlations.parameters)
    fig.colorbar(image, ax=ax, label="Pearson r" if which == "pearson" else "Spearman ρ")
    return fig


def plot_suggestion(suggestion: Suggestion) -> Figure:
    """The model and the suggestion: for two parameters the mean map (with contours) and the sd
    map side by side; for one, the mean ± 2 sd band; measured points as circles, the suggestion
    as a star. More parameters: leave-one-out predictions against the measured values."""
    from ssbkit.core.plotting import new_figure

    if not isinstance(suggestion, Suggestion):
        raise InputError(f"must be a Suggestion, got {type(suggestion).__name__}", source="suggestion")
    s = suggestion
    d = len(s.parameters)
    x, y = np.asarray(s.x), np.asarray(s.y)
    star = [s.next_point[p] for p in s.parameters]
    if d == 2:
        fig = new_figure(7.5, 3.2)
        axes = fig.subplots(1, 2)
        gx, gy = s.grid[s.parameters[0]], s.grid[s.parameters[1]]
        for ax, key, title in zip(axes, ("mean", "sd"), ("predicted mean", "predicted sd"), strict=True):
            values = np.asarray(s.grid[key]).T
            # filled contours sit on the grid nodes, so a log axis (a geometric grid) stays aligned
            surface = ax.contourf(gx, gy, values, levels=20 if np.ptp(values) > 0 else 1, cmap="viridis")
            if key == "mean" and np.ptp(values) > 0:
                ax.contour(gx, gy, values, levels=8, colors="white", linewidths=0.6)
            fig.colorbar(surface, ax=ax, label=f"{title} [{s.unit}]" if s.unit not in ("", "1") else title)
            # samples sit on the edges of the default grid: draw them whole, not clipped by the axes
            ax.scatter(x[:, 0], x[:, 1], s=28, facecolor="white", edgecolor="black", zorder=3,
                       label="measured", clip_on=False)
            ax.scatter(*star, marker="*", s=160, color="tab:red", edgecolor="black", zorder=4,
                       label="next", clip_on=False)
            ax.set_xlabel(s.parameters[0])
            ax.set_ylabel(s.parameters[1])
            for j, which in enumerate("xy"):
                if s.parameters[j] in s.log_parameters:
                    _log_axis(ax, which, x[:, j])
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
                   frameon=False, fontsize="small")
        return fig
    fig = new_figure(4.0, 3.0)
    ax = fig.add_subplot()
    if d == 1:
        gx = np.asarray(s.grid[s.parameters[0]])
        mean, sd = np.asarray(s.grid["mean"]), np.asarray(s.grid["sd"])
        ax.fill_between(gx, mean - 2 * sd, mean + 2 * sd, color="tab:blue", alpha=0.2, label="mean ± 2 sd")
        ax.plot(gx, mean, color="tab:blue", lw=1.2, label="predicted mean")
        ax.scatter(x[:, 0], y, s=24, color="black", zorder=3, label="measured")
        ax.errorbar(star[0], s.predicted.value, yerr=2 * s.predicted.stderr, fmt="*", ms=12, color="tab:red",
                    zorder=4, label="next")
        ax.set_xlabel(s.parameters[0])
        ax.set_ylabel(s.target)
        if s.parameters[0] in s.log_parameters:
            _log_axis(ax, "x", x[:, 0])
    else:
        loo_mean, loo_sd = np.asarray(s.loo_mean), np.asarray(s.loo_sd)
        ax.errorbar(y, loo_mean, yerr=2 * loo_sd, fmt="o", ms=4, color="tab:blue",
                    label="leave-one-out ± 2 sd")
        line = [min(y.min(), loo_mean.min()), max(y.max(), loo_mean.max())]
        ax.plot(line, line, color="0.4", lw=0.8, ls="--")
        ax.set_xlabel(f"measured {s.target}")
        ax.set_ylabel(f"predicted {s.target}")
    ax.legend(frameon=False, fontsize="small")
    return fig


def _log_axis(ax: Any, which: str, values: np.ndarray) -> None:
    """A log x or y axis ticked at the measured levels (20, 40, 80), not at powers of ten."""
    from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(FixedLocator(np.unique(values)[:12]))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_locator(NullLocator())
