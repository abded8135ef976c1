"""Ionic conductivity of a pellet from a resistance and its geometry; arcs told apart by capacitance.

σ = L / (R·A) [S/cm], with L the thickness [cm], A the electrode area [cm²] and R the
resistance [Ohm] of one process: ``bulk``, ``grain_boundary``, ``total`` (everything in series
before the electrode response starts) or ``intercept`` (the high-frequency intercept, used when
the bulk arc lies above the analyser's range, as for sulfides at room temperature). Standard
errors add in quadrature, (δσ/σ)² = (δL/L)² + (δR/R)² + (δA/A)² with δA/A = 2δd/d; geometry
is exact unless its standard errors are given. A thickness from mass and density,
L = m/(ρA), makes L and A correlated; ``PelletGeometry`` keeps its measured inputs and
propagates to first order from them, so that correlation is counted.

**Which arc is which** (Irvine, Sinclair & West 1990). Each R‖C or R‖CPE arc in series at the
top of a fitted circuit gets a capacitance (for a CPE the effective one, C = (Q R^(1−n))^(1/n),
the Brug / Hsu–Mansfeld form for R‖CPE) and a label, decided in this order:

1. the arc of smallest capacitance is ``bulk`` when C ≤ 1e-10 F (the tabulated bulk range,
   1e-12–1e-11 F, widened to 1e-10 F for thin pellets of high permittivity);
2. every other arc with C ≤ 1e-8 F is ``grain_boundary`` (1e-11–1e-8 F); where two arcs fall in
   one class the ordering by capacitance decides: one bulk, the rest grain boundary;
3. C ≥ 1e-7 F is ``electrode`` (1e-7–1e-5 F, the sample–electrode interface);
4. 1e-8 F < C < 1e-7 F is ``surface_layer`` (the table's 1e-9–1e-7 F), which is reported
   but not counted in the total.

A C or CPE in series with no resistor across it is the blocking electrode's spike
(``electrode``), and the resistors in series are the high-frequency ``intercept``. ``assign=``
overrides the rule arc by arc. The thresholds are module constants.

**Mixed conductors.** A symmetric, electron-blocking cell electrolyte | composite |
electrolyte measures the composite's ionic resistance in series with the electrolyte's;
``layer_ionic_conductivity`` removes the electrolyte's share, measured on an electrolyte-only
reference pellet and scaled to the electrolyte thickness and area in the cell.

This is a few lines of algebra on a fitted circuit; no library does the assignment, so it is
written here.

Examples
--------
>>> g = PelletGeometry.from_diameter(8.0, 2.1)   # mm: d = 0.8 cm, L = 0.21 cm
>>> r = ionic_conductivity(1.462e5, g, process="bulk", temperature_K=413)
>>> f"{r.conductivity.value:.4g} {r.conductivity.unit}"
'2.858e-06 S/cm'
>>> c = effective_capacitance(1.462e5, 6.515e-11, 0.8382)
>>> f"{c.value:.3e} {c.unit}"
'6.993e-12 F'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.units import dimension_of, label, normalize_unit
from ssbkit.core.validate import finite, in_range, non_negative, one_of, positive
from ssbkit.eis.circuits import Circuit, parse_circuit

__all__ = [
    "Arc",
    "BULK_MAX_F",
    "ConductivityResult",
    "ELECTRODE_MIN_F",
    "GRAIN_BOUNDARY_MAX_F",
    "LayerConductivityResult",
    "PelletGeometry",
    "assign_arcs",
    "conductivity_from_fit",
    "effective_capacitance",
    "ionic_conductivity",
    "layer_ionic_conductivity",
    "peak_frequency",
]

citations.register(
    "irvine1990",
    "J. T. S. Irvine, D. C. Sinclair, A. R. West, Electroceramics: characterization by "
    "impedance spectroscopy, Adv. Mater. 2 (1990) 132-138.",
    "10.1002/adma.19900020304",
)
citations.register(
    "brug1984",
    "G. J. Brug, A. L. G. van den Eeden, M. Sluyters-Rehbach, J. H. Sluyters, The analysis of "
    "electrode impedances complicated by the presence of a constant phase element, "
    "J. Electroanal. Chem. 176 (1984) 275-295.",
    "10.1016/S0022-0728(84)80324-1",
)
citations.register(
    "hsu2001",
    "C. H. Hsu, F. Mansfeld, Concerning the conversion of the constant phase element parameter "
    "Y0 into a capacitance, Corrosion 57 (2001) 747-748.",
)

BULK_MAX_F = 1e-10
GRAIN_BOUNDARY_MAX_F = 1e-8
ELECTRODE_MIN_F = 1e-7

PROCESSES = ("bulk", "grain_boundary", "total", "intercept")
ARC_LABELS = ("bulk", "grain_boundary", "surface_layer", "electrode")


# -- uncertainty ---------------------------------------------------------------------------

def _quadrature(*terms: tuple[float, float]) -> float:
    """sqrt(Σ (∂f·δx)²) over (partial derivative, stderr) pairs; an exact zero partial drops
    its term, so an unknown (NaN) stderr only spreads where it matters."""
    return math.sqrt(sum((d * s) ** 2 for d, s in terms if d != 0.0))


def _propagate(func: Callable[[Mapping[str, float]], float], inputs: Mapping[str, Estimate]) -> float:
    """First-order standard error of ``func`` of independent ``inputs`` (central differences)."""
    point = {k: e.value for k, e in inputs.items()}
    terms = []
    for name, estimate in inputs.items():
        step = 1e-6 * (abs(estimate.value) or 1.0)
        up, down = dict(point), dict(point)
        up[name] += step
        down[name] -= step
        terms.append(((func(up) - func(down)) / (2 * step), estimate.stderr))
    return _quadrature(*terms)


def _as_estimate(name: str, value: Any, unit: str) -> Estimate:
    """A number > 0 or an Estimate in ``unit`` (an Estimate in another unit of the same dimension
    is converted; one without a unit is taken to be in ``unit``)."""
    if isinstance(value, Estimate):
        stderr = value.stderr
        if not math.isnan(stderr):
            non_negative(f"{name} stderr", stderr)
        if value.unit not in ("", "1") and normalize_unit(value.unit) != unit:
            if dimension_of(value.unit) != dimension_of(unit):
                raise InputError(f"expected a value in {unit}, got {value.unit!r}", source=name)
            value = value.to(unit)
        return Estimate(positive(name, value.value), value.stderr, unit)
    return Estimate(positive(name, value), math.nan, unit)


# -- geometry ------------------------------------------------------------------------------

def _area_thickness(method: str, x: Mapping[str, float]) -> tuple[float, float]:
    """(area [cm²], thickness [cm]) from the measured inputs of a geometry."""
    if method == "mass":
        area = x["area_cm2"] if "area_cm2" in x else math.pi * (x["diameter_mm"] / 10) ** 2 / 4
        return area, (x["mass_mg"] / 1e3) / (x["density_g_cm3"] * area)
    area = x["area_cm2"] if method == "area" else math.pi * (x["diameter_mm"] / 10) ** 2 / 4
    return area, x["thickness_mm"] / 10


@dataclass(frozen=True)
class PelletGeometry:
    """A pellet's electrode area and thickness, built from what was measured.

    Use the constructors: ``from_diameter`` (diameter and thickness in mm), ``from_area``
    (an area override in cm², for electrodes smaller than the pellet) or ``from_mass``
    (thickness = m/(ρA)). Standard errors default to 0 (exact).

    >>> g = PelletGeometry.from_diameter(8.0, 2.1, diameter_stderr_mm=0.04)
    >>> round(g.area_cm2.value, 5), round(g.thickness_cm.value, 6), round(g.area_cm2.relative_stderr, 4)
    (0.50265, 0.21, 0.01)
    """

    method: str
    inputs: Mapping[str, Estimate]

    def __post_init__(self) -> None:
        one_of("method", self.method, ("diameter", "area", "mass"))
        object.__setattr__(self, "inputs", dict(self.inputs))

    @classmethod
    def from_diameter(cls, diameter_mm: float, thickness_mm: float, *, diameter_stderr_mm: float = 0.0,
                      thickness_stderr_mm: float = 0.0) -> PelletGeometry:
        """Full-face electrodes of ``diameter_mm`` on a pellet ``thickness_mm`` thick."""
        return cls("diameter", {
            "diameter_mm": _measured("diameter_mm", diameter_mm, diameter_stderr_mm, "mm"),
            "thickness_mm": _measured("thickness_mm", thickness_mm, thickness_stderr_mm, "mm")})

    @classmethod
    def from_area(cls, area_cm2: float, thickness_mm: float, *, area_stderr_cm2: float = 0.0,
                  thickness_stderr_mm: float = 0.0) -> PelletGeometry:
        """Electrodes of ``area_cm2`` (an override of π d²/4) on a pellet ``thickness_mm`` thick."""
        return cls("area", {
            "area_cm2": _measured("area_cm2", area_cm2, area_stderr_cm2, "cm²"),
            "thickness_mm": _measured("thickness_mm", thickness_mm, thickness_stderr_mm, "mm")})

    @classmethod
    def from_mass(cls, mass_mg: float, density_g_cm3: float, *, diameter_mm: float | None = None,
                  area_cm2: float | None = None, mass_stderr_mg: float = 0.0,
                  density_stderr_g_cm3: float = 0.0, diameter_stderr_mm: float = 0.0,
                  area_stderr_cm2: float = 0.0) -> PelletGeometry:
        """Thickness m/(ρA) of a pellet of ``mass_mg`` and density ``density_g_cm3`` (the
        pellet's, not the crystal's), with A from ``diameter_mm`` or ``area_cm2``.

        >>> g = PelletGeometry.from_mass(100.0, 1.6, diameter_mm=10.0)
        >>> round(g.thickness_cm.value, 4)
        0.0796
        """
        if (diameter_mm is None) == (area_cm2 is None):
            raise InputError("give exactly one of diameter_mm and area_cm2", source="from_mass")
        inputs = {"mass_mg": _measured("mass_mg", mass_mg, mass_stderr_mg, "mg"),
                  "density_g_cm3": _measured("density_g_cm3", density_g_cm3, density_stderr_g_cm3,
                                             "g/cm³")}
        if diameter_mm is not None:
            inputs["diameter_mm"] = _measured("diameter_mm", diameter_mm, diameter_stderr_mm, "mm")
        else:
            inputs["area_cm2"] = _measured("area_cm2", area_cm2, area_stderr_cm2, "cm²")
        return cls("mass", inputs)

    def _derived(self, which: int) -> Estimate:
        def func(x: Mapping[str, float]) -> float:
            area, thickness = _area_thickness(self.method, x)
            return (area, thickness, thickness / area)[which]

        unit = ("cm²", "cm", "1/cm")[which]
        return Estimate(func({k: e.value for k, e in self.inputs.items()}),
                        _propagate(func, self.inputs), unit)

    @property
    def area_cm2(self) -> Estimate:
        """Electrode area [cm²]."""
        return self._derived(0)

    @property
    def thickness_cm(self) -> Estimate:
        """Thickness [cm]."""
        return self._derived(1)

    @property
    def cell_constant(self) -> Estimate:
        """L/A [1/cm], with the correlation of L and A counted when L comes from the mass."""
        return self._derived(2)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "inputs": {k: e.to_dict() for k, e in self.inputs.items()},
                "area_cm2": self.area_cm2.to_dict(), "thickness_cm": self.thickness_cm.to_dict(),
                "cell_constant": self.cell_constant.to_dict()}

    def describe(self) -> str:
        a, t = self.area_cm2, self.thickness_cm
        diameter = self.inputs.get("diameter_mm")
        where = f"d = {diameter.value:g} mm, " if diameter is not None else ""
        return f"{where}A = {a.value:.5g} cm², L = {t.value:.5g} cm ({self.method})"


def _measured(name: str, value: float, stderr: float, unit: str) -> Estimate:
    """A measured input; ``name`` is the argument (``diameter_mm``), its stderr is ``…_stderr_mm``."""
    stem, _, suffix = name.partition("_")
    return Estimate(positive(name, value), non_negative(f"{stem}_stderr_{suffix}", stderr), unit)


# -- results -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arc:
    """One feature of a fitted circuit and the process it was assigned to.

    ``capacitance`` is C for R‖C, the effective capacitance for R‖CPE and ZARC, and NaN for a
    series CPE (whose Q and n are in ``q`` and ``exponent``).
    """

    elements: tuple[str, ...]
    process: str
    resistance: Estimate
    capacitance: Estimate
    exponent: Estimate
    q: Estimate
    peak_frequency: Estimate


@dataclass(frozen=True, kw_only=True)
class ConductivityResult(Result):
    """σ [S/cm] of one process, the resistance it came from, and the geometry."""

    conductivity: Estimate
    resistance: Estimate
    process: str
    geometry: PelletGeometry
    temperature_K: float | None = None
    arcs: tuple[Arc, ...] = ()

    def arc_table(self) -> Any:
        """The arcs of the fit (when σ came from one), one row each, ``name [unit]`` columns."""
        import pandas as pd

        rows = []
        for arc in self.arcs:
            rows.append({
                "elements": "‖".join(arc.elements), "process": arc.process,
                label("resistance", "Ohm"): arc.resistance.value,
                label("resistance stderr", "Ohm"): arc.resistance.stderr,
                label("capacitance", "F"): arc.capacitance.value,
                label("capacitance stderr", "F"): arc.capacitance.stderr,
                "n": arc.exponent.value, label("Q", "F·s^(n-1)"): arc.q.value,
                label("peak frequency", "Hz"): arc.peak_frequency.value,
            })
        return pd.DataFrame(rows)

    def _report_lines(self) -> list[str]:
        sigma = self.conductivity
        lines = [f"  {self.process} conductivity: {sigma.to('mS/cm')}  ({sigma})",
                 f"  resistance: {self.resistance}",
                 f"  geometry: {self.geometry.describe()}"]
        if self.temperature_K is not None:
            lines.append(f"  temperature: {self.temperature_K:g} K")
        for arc in self.arcs:
            c = f", C = {arc.capacitance.value:.3g} F" if math.isfinite(arc.capacitance.value) else ""
            r = f"R = {arc.resistance.value:.4g} Ohm" if math.isfinite(arc.resistance.value) else "spike"
            lines.append(f"    {'‖'.join(arc.elements)}: {arc.process}, {r}{c}")
        return lines


@dataclass(frozen=True, kw_only=True)
class LayerConductivityResult(ConductivityResult):
    """Ionic σ of the middle layer of an electron-blocking symmetric cell."""

    cell_resistance: Estimate
    reference_resistance: Estimate
    electrolyte_resistance: Estimate
    reference_conductivity: Estimate
    reference_geometry: PelletGeometry

    def _report_lines(self) -> list[str]:
        return [*super()._report_lines(),
                f"  cell {self.cell_resistance} − electrolyte share {self.electrolyte_resistance}",
                f"  reference electrolyte: {self.reference_conductivity.to('mS/cm')} "
                f"({self.reference_geometry.describe()})"]


# -- conductivity from a resistance --------------------------------------------------------

def _sigma(resistance: Estimate, geometry: PelletGeometry) -> Estimate:
    k = geometry.cell_constant
    value = k.value / resistance.value
    return Estimate(value, value * _quadrature((1.0, k.relative_stderr),
                                               (1.0, resistance.relative_stderr)), "S/cm")


def _temperature(value: Any) -> float | None:
    return None if value is None else positive("temperature_K", value)


def _check_geometry(geometry: Any) -> PelletGeometry:
    if not isinstance(geometry, PelletGeometry):
        raise InputError(f"must be a PelletGeometry (PelletGeometry.from_diameter(...)), got "
                         f"{type(geometry).__name__}", source="geometry")
    return geometry


def ionic_conductivity(resistance: float | Estimate, geometry: PelletGeometry, *, process: str = "total",
                       temperature_K: float | None = None) -> ConductivityResult:
    """σ = L/(R·A) of ``resistance`` [Ohm, or an Estimate with its stderr] across ``geometry``.

    ``process`` names what R is (bulk, grain_boundary, total, intercept).

    >>> g = PelletGeometry.from_diameter(8.0, 2.1, thickness_stderr_mm=0.021)
    >>> r = ionic_conductivity(Estimate(1.462e5, 1.462e3, "Ohm"), g, process="bulk")
    >>> print(r.conductivity.to("mS/cm"))
    0.0028576 ± 4e-05 mS/cm
    """
    r = _as_estimate("resistance", resistance, "Ohm")
    geometry = _check_geometry(geometry)
    process = one_of("process", process, PROCESSES)
    temperature = _temperature(temperature_K)
    return ConductivityResult(
        conductivity=_sigma(r, geometry), resistance=r, process=process, geometry=geometry,
        temperature_K=temperature,
        provenance=make_provenance("ssbkit.eis.ionic_conductivity", settings={"process": process},
                                   inputs={"resistance": r, "geometry": geometry,
                                           "temperature_K": temperature}),
    )


# -- capacitance of an arc -----------------------------------------------------------------

def _rqn(resistance: Any, q: Any, n: Any) -> tuple[Estimate, Estimate, Estimate]:
    r = _as_estimate("resistance", resistance, "Ohm")
    qq = _as_estimate("q", q, "F·s^(n-1)") if not isinstance(q, Estimate) else Estimate(
        positive("q", q.value), q.stderr, "F·s^(n-1)")
    nn = n if isinstance(n, Estimate) else Estimate(finite("n", n))
    in_range("n", nn.value, 0.0, 1.0, low_inclusive=False)
    return r, qq, nn


def effective_capacitance(resistance: float | Estimate, q: float | Estimate,
                          n: float | Estimate) -> Estimate:
    """C = (Q·R^(1−n))^(1/n) [F] of R‖CPE with Z_CPE = 1/(Q (jω)^n) (Brug; Hsu & Mansfeld).

    Standard errors of Estimates propagate to first order, correlations ignored; a plain
    number has an unknown (NaN) stderr, like ``Estimate(x)``. n = 1 gives C = Q.

    >>> effective_capacitance(1e3, 1e-6, 1.0).value
    1e-06
    """
    r, qq, nn = _rqn(resistance, q, n)
    value = (qq.value * r.value ** (1 - nn.value)) ** (1 / nn.value)
    n_ = nn.value
    # ln C = (ln Q + (1 − n) ln R)/n, so ∂lnC/∂lnQ = 1/n, ∂lnC/∂lnR = (1 − n)/n,
    # ∂lnC/∂n = −ln(Q R)/n².
    rel = _quadrature((1 / n_, qq.relative_stderr), ((1 - n_) / n_, r.relative_stderr),
                      (-math.log(qq.value * r.value) / n_**2, nn.stderr))
    return Estimate(value, value * rel, "F")


def peak_frequency(resistance: float | Estimate, q: float | Estimate, n: float | Estimate) -> Estimate:
    """f_p = 1/(2π (R·Q)^(1/n)) [Hz], the apex of an R‖CPE arc (uncertainty as above).

    >>> round(peak_frequency(1e3, 1e-6, 1.0).value, 3)   # 1/(2π R C)
    159.155
    """
    r, qq, nn = _rqn(resistance, q, n)
    n_ = nn.value
    value = 1 / (2 * math.pi * (r.value * qq.value) ** (1 / n_))
    rel = _quadrature((1 / n_, r.relative_stderr), (1 / n_, qq.relative_stderr),
                      (math.log(r.value * qq.value) / n_**2, nn.stderr))
    return Estimate(value, value * rel, "Hz")


# -- arcs of a fitted circuit --------------------------------------------------------------

_NAN_F = Estimate(math.nan, math.nan, "F")


def _value(parameters: Mapping[str, Any], name: str) -> Estimate:
    if name not in parameters:
        raise InputError(f"no parameter {name!r} (have {', '.join(parameters)})", source="parameters")
    item = parameters[name]
    if isinstance(item, Estimate):
        return Estimate(finite(name, item.value), item.stderr, item.unit)
    return Estimate(finite(name, item))


def _symbol(node: Any) -> str | None:
    return None if hasattr(node, "children") else node.element.symbol


def _arc_of_parallel(node: Any, parameters: Mapping[str, Any]) -> Arc | None:
    if len(node.children) != 2:
        return None
    symbols = [_symbol(c) for c in node.children]
    if "R" not in symbols or not ({"C", "CPE"} & set(symbols)) or symbols.count("R") != 1:
        return None
    r_leaf = node.children[symbols.index("R")]
    c_leaf = node.children[1 - symbols.index("R")]
    r = _value(parameters, r_leaf.name)
    positive(r_leaf.name, r.value)
    if c_leaf.element.symbol == "C":
        c = _value(parameters, c_leaf.name)
        positive(c_leaf.name, c.value)
        c = Estimate(c.value, c.stderr, "F")
        one = Estimate(1.0, 0.0)
        return Arc((r_leaf.name, c_leaf.name), "", Estimate(r.value, r.stderr, "Ohm"), c, one,
                   Estimate(math.nan, math.nan, "F·s^(n-1)"), peak_frequency(r, c, one))
    q = _value(parameters, f"{c_leaf.name}_0")
    n = _value(parameters, f"{c_leaf.name}_1")
    positive(f"{c_leaf.name}_0", q.value)
    in_range(f"{c_leaf.name}_1", n.value, 0.0, 1.0, low_inclusive=False)
    q = Estimate(q.value, q.stderr, "F·s^(n-1)")
    return Arc((r_leaf.name, c_leaf.name), "", Estimate(r.value, r.stderr, "Ohm"),
               effective_capacitance(r, q, n), n, q, peak_frequency(r, q, n))


def _arc_of_zarc(leaf: Any, parameters: Mapping[str, Any]) -> Arc:
    r = _value(parameters, f"{leaf.name}_0")
    tau = _value(parameters, f"{leaf.name}_1")
    phi = _value(parameters, f"{leaf.name}_2")
    positive(f"{leaf.name}_0", r.value)
    positive(f"{leaf.name}_1", tau.value)
    in_range(f"{leaf.name}_2", phi.value, 0.0, 1.0, low_inclusive=False)
    # R / (1 + (jωτ)^φ) is R‖CPE with Q = τ^φ/R, whose effective capacitance is τ/R.
    c = tau.value / r.value
    q = tau.value**phi.value / r.value
    f = 1 / (2 * math.pi * tau.value)
    return Arc((leaf.name,), "", Estimate(r.value, r.stderr, "Ohm"),
               Estimate(c, c * _quadrature((1.0, tau.relative_stderr), (1.0, r.relative_stderr)), "F"),
               phi, Estimate(q, math.nan, "F·s^(n-1)"), Estimate(f, f * tau.relative_stderr, "Hz"))


def _spike(leaf: Any, parameters: Mapping[str, Any]) -> Arc:
    nan_r = Estimate(math.nan, math.nan, "Ohm")
    nan_f = Estimate(math.nan, math.nan, "Hz")
    if leaf.element.symbol == "C":
        c = _value(parameters, leaf.name)
        return Arc((leaf.name,), "electrode", nan_r, Estimate(c.value, c.stderr, "F"),
                   Estimate(1.0, 0.0), Estimate(math.nan, math.nan, "F·s^(n-1)"), nan_f)
    q = _value(parameters, f"{leaf.name}_0")
    return Arc((leaf.name,), "electrode", nan_r, _NAN_F, _value(parameters, f"{leaf.name}_1"),
               Estimate(q.value, q.stderr, "F·s^(n-1)"), nan_f)


def _label_by_capacitance(arcs: list[Arc]) -> list[Arc]:
    order = sorted(range(len(arcs)), key=lambda i: arcs[i].capacitance.value)
    labels = [""] * len(arcs)
    bulk_taken = False
    for i in order:
        c = arcs[i].capacitance.value
        if c <= BULK_MAX_F and not bulk_taken:
            labels[i], bulk_taken = "bulk", True
        elif c <= GRAIN_BOUNDARY_MAX_F:
            labels[i] = "grain_boundary"
        elif c >= ELECTRODE_MIN_F:
            labels[i] = "electrode"
        else:
            labels[i] = "surface_layer"
        bulk_taken = True  # only the smallest capacitance can be bulk
    return [_relabel(a, label_) for a, label_ in zip(arcs, labels, strict=True)]


def _relabel(arc: Arc, process: str) -> Arc:
    return Arc(arc.elements, process, arc.resistance, arc.capacitance, arc.exponent, arc.q,
               arc.peak_frequency)


def assign_arcs(circuit: str | Circuit, parameters: Mapping[str, Any], *,
                assign: Mapping[str, str] | None = None) -> tuple[Arc, ...]:
    """Find the arcs, the series resistance and the electrode spike of a fitted circuit.

    ``parameters`` maps names (``R1``, ``CPE1_0``, ``CPE1_1``, ``C1``) to Estimates or numbers.
    ``assign`` maps an element of an arc (``"R2"``) to a label (bulk, grain_boundary,
    surface_layer, electrode) and overrides the capacitance rule of the module docstring.
    Elements the rule does not cover (L, Warburg, nested branches) are left out.

    >>> arcs = assign_arcs("R0-p(R1,C1)-p(R2,C2)-CPE3",
    ...                    {"R0": 5, "R1": 100, "C1": 5e-12, "R2": 300, "C2": 2e-9,
    ...                     "CPE3_0": 3e-6, "CPE3_1": 0.9})
    >>> [(a.elements, a.process) for a in arcs]   # doctest: +NORMALIZE_WHITESPACE
    [(('R0',), 'intercept'), (('R1', 'C1'), 'bulk'), (('R2', 'C2'), 'grain_boundary'),
     (('CPE3',), 'electrode')]
    """
    model = circuit if isinstance(circuit, Circuit) else parse_circuit(circuit)
    if not isinstance(parameters, Mapping):
        raise InputError(f"must map parameter names to values, got {type(parameters).__name__}",
                         source="parameters")
    items = model.tree.children if getattr(model.tree, "kind", "") == "series" else (model.tree,)
    series_r: list[str] = []
    arcs: list[Arc] = []
    spikes: list[Arc] = []
    for item in items:
        symbol = _symbol(item)
        if symbol == "R":
            series_r.append(item.name)
        elif symbol in ("C", "CPE"):
            spikes.append(_spike(item, parameters))
        elif symbol == "ZARC":
            arcs.append(_arc_of_zarc(item, parameters))
        elif symbol is None and item.kind == "parallel":
            arc = _arc_of_parallel(item, parameters)
            if arc is not None:
                arcs.append(arc)
    arcs = _label_by_capacitance(arcs)
    if assign:
        arcs = _apply_overrides(arcs, assign)
    out: list[Arc] = []
    if series_r:
        values = [_value(parameters, n) for n in series_r]
        total = sum(v.value for v in values)
        non_negative("+".join(series_r), total)
        out.append(Arc(tuple(series_r), "intercept",
                       Estimate(total, _quadrature(*((1.0, v.stderr) for v in values)), "Ohm"),
                       _NAN_F, Estimate(math.nan), Estimate(math.nan, math.nan, "F·s^(n-1)"),
                       Estimate(math.nan, math.nan, "Hz")))
    out += sorted(arcs, key=lambda a: a.capacitance.value)
    return (*out, *spikes)


def _apply_overrides(arcs: list[Arc], assign: Mapping[str, str]) -> list[Arc]:
    known = {name: i for i, arc in enumerate(arcs) for name in arc.elements}
    arcs = list(arcs)
    for name, process in assign.items():
        if name not in known:
            raise InputError(f"{name!r} is not in any arc (arcs: "
                             f"{', '.join('‖'.join(a.elements) for a in arcs) or 'none'})",
                             source="assign")
        i = known[name]
        arcs[i] = _relabel(arcs[i], one_of(f"assign[{name!r}]", process, ARC_LABELS))
    if sum(a.process == "bulk" for a in arcs) > 1:
        raise InputError("more than one arc labelled bulk", source="assign")
    return arcs


# -- conductivity from a fit ---------------------------------------------------------------

def _sum(arcs: list[Arc]) -> Estimate:
    return Estimate(sum(a.resistance.value for a in arcs),
                    _quadrature(*((1.0, a.resistance.stderr) for a in arcs)), "Ohm")


def _describe(arcs: tuple[Arc, ...]) -> str:
    parts = [f"{'‖'.join(a.elements)} {a.process}"
             + (f" (C = {a.capacitance.value:.3g} F)" if math.isfinite(a.capacitance.value) else "")
             for a in arcs]
    return "; ".join(parts) or "none"


def conductivity_from_fit(fit: Any, geometry: PelletGeometry, *, process: str = "auto",
                          circuit: str | Circuit | None = None, temperature_K: float | None = None,
                          assign: Mapping[str, str] | None = None) -> ConductivityResult:
    """σ of one process of a fitted equivalent circuit, with the arcs assigned by capacitance.

    ``fit`` is a fit result (``parameters``, ``circuit``, ``success``, ``metadata``) or a plain
    mapping of parameter names to Estimates or numbers, with ``circuit=``. ``process``:

    - ``bulk``: R of the bulk arc; ``grain_boundary``: the grain-boundary arcs' R summed;
    - ``intercept``: the series resistance (the high-frequency intercept);
    - ``total``: intercept + bulk + grain boundary (where the electrode response starts);
    - ``auto``: bulk when a bulk arc exists, else the intercept.

    The temperature is ``temperature_K`` or, failing that, the fit's ``metadata["temperature_K"]``.
    A fit with ``success=False`` gives a result with ``success=False``.

    >>> fit = {"R1": 1.462e5, "CPE1_0": 6.515e-11, "CPE1_1": 0.8382,
    ...        "R2": 2.012e6, "CPE2_0": 1.546e-10, "CPE2_1": 0.7872,
    ...        "CPE3_0": 1.382e-6, "CPE3_1": 0.5442}
    >>> g = PelletGeometry.from_diameter(8.0, 2.1)
    >>> r = conductivity_from_fit(fit, g, circuit="p(R1,CPE1)-p(R2,CPE2)-CPE3", process="total")
    >>> f"{r.resistance.value:.4g}", [a.process for a in r.arcs]
    ('2.158e+06', ['bulk', 'grain_boundary', 'electrode'])
    """
    geometry = _check_geometry(geometry)
    wanted = one_of("process", process, (*PROCESSES, "auto"))
    if isinstance(fit, Mapping):
        if circuit is None:
            raise InputError("parameters given as a mapping need circuit=", source="circuit")
        parameters, success, metadata, text = fit, True, {}, circuit
    else:
        for attribute in ("parameters", "circuit"):
            if not hasattr(fit, attribute):
                raise InputError(f"expected a fit result with .parameters and .circuit, or a "
                                 f"mapping; {type(fit).__name__} has no .{attribute}", source="fit")
        parameters = fit.parameters
        success = bool(getattr(fit, "success", True))
        metadata = getattr(fit, "metadata", None) or {}
        text = fit.circuit if circuit is None else circuit
    arcs = assign_arcs(text, parameters, assign=assign)
    if temperature_K is None and metadata.get("temperature_K") is not None:
        temperature_K = metadata["temperature_K"]
    temperature = _temperature(temperature_K)

    by = {name: [a for a in arcs if a.process == name]
          for name in ("intercept", "bulk", "grain_boundary", "surface_layer")}
    chosen = wanted
    if wanted == "auto":
        chosen = "bulk" if by["bulk"] else "intercept"
    if chosen == "total":
        parts = by["intercept"] + by["bulk"] + by["grain_boundary"]
    else:
        parts = by[chosen]
    if not parts:
        hint = " (with no bulk arc, the bulk may lie above the analyser's range: use 'intercept')" \
            if chosen == "bulk" else ""
        raise InputError(f"the fit has no {chosen.replace('_', ' ')} resistance{hint}; found: "
                         f"{_describe(arcs)}", source="process")
    resistance = _sum(parts)
    notes = []
    if wanted == "auto":
        notes.append(f"auto chose {chosen}")
    if chosen == "total" and by["surface_layer"]:
        notes.append("surface-layer arc(s) " + ", ".join("‖".join(a.elements) for a in by["surface_layer"])
                     + " not counted in the total")
    if not success:
        notes.insert(0, "the circuit fit did not succeed; this conductivity is not reliable")
    return ConductivityResult(
        success=success, message="; ".join(notes),
        conductivity=_sigma(resistance, geometry), resistance=resistance, process=chosen,
        geometry=geometry, temperature_K=temperature, arcs=arcs,
        provenance=make_provenance(
            "ssbkit.eis.conductivity_from_fit",
            settings={"process": wanted, "assign": dict(assign or {}),
                      "thresholds_F": {"bulk_max": BULK_MAX_F, "grain_boundary_max": GRAIN_BOUNDARY_MAX_F,
                                       "electrode_min": ELECTRODE_MIN_F}},
            inputs={"circuit": str(getattr(text, "text", text)), "parameters": dict(parameters),
                    "geometry": geometry, "temperature_K": temperature},
            citations=["irvine1990", "brug1984", "hsu2001"]),
    )


# -- mixed conductors ----------------------------------------------------------------------

def layer_ionic_conductivity(cell_resistance: float | Estimate, reference_resistance: float | Estimate, *,
                             layer: PelletGeometry, reference: PelletGeometry,
                             electrolyte_thickness_mm: float | None = None,
                             electrolyte_thickness_stderr_mm: float = 0.0,
                             temperature_K: float | None = None) -> LayerConductivityResult:
    """Ionic σ of the middle layer of an electron-blocking cell electrolyte | layer | electrolyte.

    The cell's resistance is the layer's ionic resistance plus the electrolyte's. The
    electrolyte's share is the reference pellet's resistance scaled to the cell:
    R_el = R_ref · (L_el / L_ref) · (A_ref / A_cell), where ``electrolyte_thickness_mm`` is the
    total electrolyte thickness in the cell (both sides; default: the reference pellet's) and
    A_cell is ``layer``'s area. Then σ_layer = L_layer / ((R_cell − R_el) · A_cell).
    Uncertainties propagate to first order from every measured input.

    >>> layer = PelletGeometry.from_diameter(10.0, 0.5)
    >>> ref = PelletGeometry.from_diameter(10.0, 1.0)
    >>> r = layer_ionic_conductivity(60.0, 20.0, layer=layer, reference=ref,
    ...                              electrolyte_thickness_mm=1.0)
    >>> round(r.resistance.value, 6), f"{r.conductivity.to('mS/cm').value:.4f}"
    (40.0, '1.5915')
    """
    r_cell = _as_estimate("cell_resistance", cell_resistance, "Ohm")
    r_ref = _as_estimate("reference_resistance", reference_resistance, "Ohm")
    layer = _check_geometry(layer)
    reference = _check_geometry(reference)
    temperature = _temperature(temperature_K)
    if electrolyte_thickness_mm is None:
        l_el = Estimate(reference.thickness_cm.value * 10, reference.thickness_cm.stderr * 10, "mm")
    else:
        l_el = _measured("electrolyte_thickness_mm", electrolyte_thickness_mm,
                         electrolyte_thickness_stderr_mm, "mm")

    inputs: dict[str, Estimate] = {"cell": r_cell, "reference": r_ref, "l_el": l_el}
    inputs.update({f"layer.{k}": e for k, e in layer.inputs.items()})
    inputs.update({f"ref.{k}": e for k, e in reference.inputs.items()})
    same_thickness = electrolyte_thickness_mm is None

    def parts(x: Mapping[str, float]) -> tuple[float, float, float]:
        a_cell, l_layer = _area_thickness(layer.method, {k[6:]: v for k, v in x.items()
                                                          if k.startswith("layer.")})
        a_ref, l_ref = _area_thickness(reference.method, {k[4:]: v for k, v in x.items()
                                                          if k.startswith("ref.")})
        l_cell_el = l_ref if same_thickness else x["l_el"] / 10
        r_el = x["reference"] * (l_cell_el / l_ref) * (a_ref / a_cell)
        r_layer = x["cell"] - r_el
        return r_el, r_layer, l_layer / (r_layer * a_cell)

    point = {k: e.value for k, e in inputs.items()}
    r_el, r_layer, sigma = parts(point)
    if r_layer <= 0:
        raise InputError(
            f"the cell's resistance {r_cell.value:.6g} Ohm is not larger than the electrolyte's share "
            f"{r_el:.6g} Ohm (the reference pellet "
            f"scaled to the cell's electrolyte thickness and area): check the resistances, the "
            f"thicknesses, and that the cell blocks electrons", source="cell_resistance")
    if same_thickness:
        del inputs["l_el"]
    estimates = [Estimate(v, _propagate(lambda x, i=i: parts(x)[i], inputs), u)
                 for i, (v, u) in enumerate(zip((r_el, r_layer, sigma), ("Ohm", "Ohm", "S/cm"),
                                                strict=True))]
    return LayerConductivityResult(
        conductivity=estimates[2], resistance=estimates[1], process="layer", geometry=layer,
        temperature_K=temperature, cell_resistance=r_cell, reference_resistance=r_ref,
        electrolyte_resistance=estimates[0], reference_conductivity=_sigma(r_ref, reference),
        reference_geometry=reference,
        provenance=make_provenance(
            "ssbkit.eis.layer_ionic_conductivity",
            settings={"electrolyte_thickness_mm": None if same_thickness else l_el.value},
            inputs={"cell_resistance": r_cell, "reference_resistance": r_ref, "layer": layer,
                    "reference": reference, "temperature_K": temperature}),
    )
