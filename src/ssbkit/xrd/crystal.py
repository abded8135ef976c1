"""Crystal structures for diffraction: sites, phases, reflections and structure factors.

A ``Phase`` is a cell (a, b, c [Å]; α, β, γ [deg]), a space group (symbol and number) with
its symmetry operations in the setting used, and the crystallographically distinct
``Site``\\ s: fractional xyz, the elements (or ions) sharing the site with their
occupancies, and an isotropic displacement parameter Biso [Å²]. A mixed site (4d of a
mixed-halide argyrodite: ½ S + ¼ Cl + ¼ Br) is one site with several elements.

Conventions:

- an operation (R, t) maps a position r to R·r + t; a reciprocal vector h (row) to h·R, so
  F(h·R) = F(h)·exp(−2πi h·t);
- reflections are enumerated in the sphere 1/d ≤ 1/d_min, grouped into symmetry-equivalent
  sets under the Laue group (the point group and −1: Friedel pairs merged, no anomalous
  scattering), one representative per set (the largest hkl in lexicographic order) with
  its multiplicity (the number of distinct hkl in the set);
- a reflection is systematically absent when Σ_{ops with h·R = h} exp(2πi h·t) = 0
  (centring, screw axes and glide planes); accidental zeros from special positions stay;
- F(h) = Σ_sites Σ_elements occ · f0(s) · exp(−B s²) · Σ_{r in orbit} exp(2πi h·r), over every
  atom of the cell, s = sinθ/λ = 1/(2d); |F|² in electrons².

Symmetry expansion and the reflection tables are cached on the phase's
``SymmetryOperations`` (shared by every phase made from it with ``replace``/``with_cell``/
``with_sites``): a refinement that moves the cell re-uses the table while the cell stays
within a few per cent, and only d, f0(s) and the phase factors are recomputed. A cell change
is checked against the table: a table is re-used only where no reflection it left out can
have come into the range (smallest generalised eigenvalue of the two reciprocal metrics).

CIF files are parsed with pymatgen's ``CifFile`` (text to tags); the cell, the symmetry
operations as written (``_symmetry_equiv_pos_as_xyz``/``_space_group_symop_operation_xyz``),
the sites, occupancies and displacement parameters are then taken as given, so the CIF's
setting and its partial and mixed occupancies are kept (pymatgen's ``Structure`` would
expand and may merge them). A CIF without operations gets them from its Hall symbol, its
H-M symbol with the setting (``:1``/``:2``, ICSD's ``S``/``Z`` for origin choice 1/2, ``:H``/``:R``;
an R group on a rhombohedral cell takes ``:R``) or its number and
``_space_group_IT_coordinate_system_code``; a symbol and a number that disagree are refused, and
so is a structure whose expanded content is not ``_cell_formula_units_Z`` × ``_chemical_formula_sum``
(the mark of a wrong origin choice). Lines pymatgen skips are named in the error, or kept in
``Phase.notes`` when the rest reads.

Examples
--------
>>> nacl = Phase(name="NaCl", a=5.64, space_group="Fm-3m", space_group_number=225,
...              sites=[Site("Na", {"Na": 1}, (0, 0, 0)), Site("Cl", {"Cl": 1}, (0.5, 0.5, 0.5))],
...              operations=SymmetryOperations.from_generators(
...                  ["z,x,y", "y,-x,-z", "-x,-y,-z"], centring="F"))
>>> [s.multiplicity for s in nacl.sites], round(nacl.density, 3)
([4, 4], 2.164)
>>> r = reflections(nacl, two_theta_min=20, two_theta_max=50, wavelength=1.540593)
>>> r.hkl.tolist(), r.multiplicity.tolist()
([[1, 1, 1], [2, 0, 0], [2, 2, 0]], [8, 6, 12])
>>> nacl.free_cell_parameters()
{'a': 5.64}
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.core.results import frozen_array
from ssbkit.xrd.formfactors import electrons, element_of, form_factor

__all__ = [
    "Phase",
    "Reflections",
    "Site",
    "SymmetryOperations",
    "reflections",
    "structure_factors",
]

_AVOGADRO_CM3_PER_A3 = 0.602214076  # N_A · 1e-24: g/mol per Å³ → g/cm³ divides by this
_POSITION_TOL = 1e-4  # fractional coordinates closer than this are one position
_TABLE_MARGIN = 0.95  # enumerate reflections to 0.95·d_min so small cell changes re-use it
_CELL_NAMES = ("a", "b", "c", "alpha", "beta", "gamma")


# ---------------------------------------------------------------------------- symmetry

class SymmetryOperations:
    """Space-group operations (R int 3×3, t fractional) of one setting, with caches.

    Iterating gives ``(R, t)`` pairs; ``rotations`` (n, 3, 3) and ``translations`` (n, 3)
    are read-only arrays. Build from CIF-style strings (``from_xyz``) or from generators
    and a centring (``from_generators``, closes the group).
    """

    def __init__(self, rotations: Any, translations: Any, *, source: str = "operations") -> None:
        rot = np.asarray(rotations)
        trans = np.asarray(translations, dtype=float)
        if rot.ndim != 3 or rot.shape[1:] != (3, 3) or trans.shape != (rot.shape[0], 3) or not len(rot):
            raise InputError("operations are n rotations (n, 3, 3) and n translations (n, 3)", source=source)
        if not np.allclose(rot, np.round(rot)):
            raise InputError("rotation matrices of a crystallographic setting are integer", source=source)
        self.rotations = frozen_array(np.round(rot).astype(int))
        self.translations = frozen_array(np.mod(trans, 1.0))
        self._orbits: dict[tuple[int, int, int], np.ndarray] = {}
        self._tables: list[tuple[np.ndarray, float, np.ndarray, np.ndarray]] = []
        self._geometry: list[tuple[np.ndarray, tuple[Site, ...], np.ndarray]] = []
        laue = np.unique(np.concatenate([self.rotations, -self.rotations]), axis=0)
        self._laue = laue

    def __len__(self) -> int:
        return int(len(self.rotations))

    def __iter__(self) -> Any:
        return iter(zip(self.rotations, self.translations, strict=True))

    def __repr__(self) -> str:
        return f"SymmetryOperations({len(self)} operations)"

    @classmethod
    def from_xyz(cls, operations: Iterable[str], *, source: str = "operations") -> SymmetryOperations:
        """From strings like ``"-x+1/2, y, z+1/2"`` (as in a CIF)."""
        pairs = [_parse_xyz(op, source=source) for op in operations]
        if not pairs:
            raise InputError("no symmetry operations given", source=source)
        return cls([p[0] for p in pairs], [p[1] for p in pairs], source=source)

    @classmethod
    def from_generators(cls, generators: Iterable[str], *, centring: str = "P",
                        source: str = "operations") -> SymmetryOperations:
        """The group generated by ``generators`` (xyz strings) and a lattice centring.

        >>> len(SymmetryOperations.from_generators(["z,x,y", "y,-x,-z"], centring="F"))
        96
        """
        centring_vectors = _CENTRINGS.get(centring)
        if centring_vectors is None:
            raise InputError(f"unknown centring {centring!r}; one of {', '.join(_CENTRINGS)}", source=source)
        pairs = [_parse_xyz(op, source=source) for op in generators]
        pairs += [(np.eye(3, dtype=int), np.array(v, dtype=float)) for v in centring_vectors]
        group = {_op_key(np.eye(3, dtype=int), np.zeros(3)): (np.eye(3, dtype=int), np.zeros(3))}
        frontier = list(group.values())
        while frontier:
            new = []
            for r1, t1 in frontier:
                for r2, t2 in pairs:
                    r, t = r2 @ r1, np.mod(r2 @ t1 + t2, 1.0)
                    key = _op_key(r, t)
                    if key not in group:
                        group[key] = (r, t)
                        new.append((r, t))
            frontier = new
            if len(group) > 192:
                raise InputError("the generators do not close to a space group (> 192 operations)",
                                 source=source)
        ops = sorted(group.values(), key=lambda p: _op_key(*p))
        return cls([p[0] for p in ops], [p[1] for p in ops], source=source)

    def orbit(self, xyz: Sequence[float]) -> np.ndarray:
        """The distinct positions (k, 3) in [0, 1) equivalent to ``xyz``."""
        key = tuple(float(v) for v in xyz)  # exact: a refined coordinate must move every image
        cached = self._orbits.get(key)
        if cached is None:
            images = np.mod(self.rotations @ np.asarray(key) + self.translations, 1.0)
            codes = np.mod(np.round(images / _POSITION_TOL).astype(np.int64), round(1 / _POSITION_TOL))
            _, first = np.unique(codes, axis=0, return_index=True)
            cached = frozen_array(images[np.sort(first)])
            if len(self._orbits) > 512:  # a refinement of positions makes a new key every step
                self._orbits.clear()
            self._orbits[key] = cached
        return cached

    def crystal_system(self) -> str:
        """The crystal system of the point group, from the orders of its proper rotations.

        >>> SymmetryOperations.from_xyz(["x,y,z", "-x,-y,z", "-x,y,-z", "x,-y,-z"]).crystal_system()
        'orthorhombic'
        """
        proper = np.unique(self.rotations * np.linalg.det(self.rotations).round()[:, None, None], axis=0)
        order = {3: 1, -1: 2, 0: 3, 1: 4, 2: 6}  # trace of a proper rotation → its order
        counts = np.bincount([order[int(round(np.trace(r)))] for r in proper], minlength=7)
        if counts[3] >= 8:
            return "cubic"
        if counts[6]:
            return "hexagonal"
        if counts[3]:
            return "trigonal"
        if counts[4]:
            return "tetragonal"
        return {0: "triclinic", 1: "monoclinic"}.get(int(counts[2]), "orthorhombic")

    def same_as(self, other: SymmetryOperations) -> bool:
        """True when both hold the same set of operations (order aside)."""
        mine = {_op_key(r, t) for r, t in self}
        return len(mine) == len(other) and mine == {_op_key(r, t) for r, t in other}


_CENTRINGS = {
    "P": (),
    "F": ((0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)),
    "I": ((0.5, 0.5, 0.5),),
    "C": ((0.5, 0.5, 0),),
    "A": ((0, 0.5, 0.5),),
    "B": ((0.5, 0, 0.5),),
    "R": ((2 / 3, 1 / 3, 1 / 3), (1 / 3, 2 / 3, 2 / 3)),
}


def _op_key(r: np.ndarray, t: np.ndarray) -> tuple[int, ...]:
    steps = np.round(np.mod(t, 1.0) * 48).astype(int) % 48  # translations are multiples of 1/48 here
    return (*np.asarray(r, dtype=int).ravel().tolist(), *steps.tolist())


_TERM = re.compile(r"([+-]?)(\d+(?:\.\d+)?(?:/\d+)?)?\*?([xyz])?")


def _parse_xyz(text: str, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    parts = str(text).lower().replace(" ", "").replace("'", "").split(",")
    if len(parts) != 3:
        raise InputError(f"symmetry operation {text!r} must have three comma-separated parts", source=source)
    rotation = np.zeros((3, 3), dtype=int)
    translation = np.zeros(3)
    for row, part in enumerate(parts):
        position = 0
        while position < len(part):
            match = _TERM.match(part, position)
            if not match or match.end() == position or not (match.group(2) or match.group(3)):
                raise InputError(f"cannot read symmetry operation {text!r}", source=source)
            sign = -1 if match.group(1) == "-" else 1
            number, axis = match.group(2), match.group(3)
            if axis:
                rotation[row, "xyz".index(axis)] += sign * (int(number) if number else 1)
            else:
                translation[row] += sign * float(Fraction(number))
            position = match.end()
    return rotation, translation


# ---------------------------------------------------------------------------- sites

@dataclass(frozen=True)
class Site:
    """One crystallographic site: ``species`` maps element (or ion) → occupancy.

    ``xyz`` fractional; ``biso`` [Å²]; ``multiplicity`` 0 means "from the phase's operations"
    (a ``Phase`` fills it in and checks a given one).
    """

    label: str
    species: Mapping[str, float]
    xyz: tuple[float, float, float]
    biso: float = 1.0
    wyckoff: str = ""
    multiplicity: int = 0

    def __post_init__(self) -> None:
        where = f"site {self.label!r}"
        if not isinstance(self.species, Mapping) or not self.species:
            raise InputError("species must map element symbols to occupancies, e.g. {'S': 1.0}", source=where)
        species = {}
        for symbol, occupancy in self.species.items():
            electrons(symbol)  # refuses what is not an element or ion with a form factor
            value = float(occupancy)
            if not math.isfinite(value) or value < 0:
                raise InputError(f"occupancy of {symbol} must be finite and >= 0, got {occupancy!r}",
                                 source=where)
            species[str(symbol)] = species.get(str(symbol), 0.0) + value
        if sum(species.values()) > 1.0 + 1e-6:
            raise InputError(f"occupancies add up to {sum(species.values()):.6g} > 1", source=where)
        xyz = tuple(float(v) for v in np.ravel(self.xyz))
        if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
            raise InputError(f"xyz must be three finite fractional coordinates, got {self.xyz!r}",
                             source=where)
        biso = float(self.biso)
        if not math.isfinite(biso):
            raise InputError(f"biso must be finite, got {self.biso!r}", source=where)
        object.__setattr__(self, "species", MappingProxyType(species))
        object.__setattr__(self, "xyz", xyz)
        object.__setattr__(self, "biso", biso)
        object.__setattr__(self, "multiplicity", int(self.multiplicity))

    def replace(self, **changes: Any) -> Site:
        """A copy with some fields changed (``species``, ``xyz``, ``biso`` …)."""
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------- phase

@dataclass(frozen=True, eq=False)
class Phase:
    """A crystalline phase: cell [Å, deg], space group, operations and sites (module docstring)."""

    name: str
    a: float
    b: float | None = None
    c: float | None = None
    alpha: float = 90.0
    beta: float = 90.0
    gamma: float = 90.0
    space_group: str = "P1"
    space_group_number: int = 0
    sites: Sequence[Site] = ()
    operations: SymmetryOperations | None = None
    source: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = self.source or f"phase {self.name!r}"
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        if self.b is None:
            object.__setattr__(self, "b", self.a)
        if self.c is None:
            object.__setattr__(self, "c", self.a)
        for name in _CELL_NAMES:
            value = float(getattr(self, name))
            bad = value <= 0 if name in "abc" else not 0 < value < 180
            if not math.isfinite(value) or bad:
                limit = "> 0 Å" if name in "abc" else "in (0, 180)°"
                raise InputError(f"cell parameter {name} must be {limit}, got {getattr(self, name)!r}",
                                 source=where)
            object.__setattr__(self, name, value)
        ca, cb, cg = (math.cos(math.radians(getattr(self, n))) for n in ("alpha", "beta", "gamma"))
        if 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg <= 0:
            raise InputError("the cell angles do not make a cell (zero or negative volume)", source=where)
        if self.operations is None:
            ops, number = _operations_for_symbol(self.space_group, source=where)
            object.__setattr__(self, "operations", ops)
            if not self.space_group_number:
                object.__setattr__(self, "space_group_number", number)
        elif not isinstance(self.operations, SymmetryOperations):
            raise InputError("operations must be a SymmetryOperations", source=where)
        object.__setattr__(self, "space_group_number", int(self.space_group_number))
        if not 0 <= self.space_group_number <= 230:
            raise InputError(f"space group number must be 1–230, got {self.space_group_number}", source=where)
        sites = []
        for site in self.sites:
            if not isinstance(site, Site):
                raise InputError(f"sites must be Site objects, got {type(site).__name__}", source=where)
            count = len(self.operations.orbit(site.xyz))
            if site.multiplicity and site.multiplicity != count:
                raise InputError(f"site {site.label!r} at {site.xyz} has {count} positions in the cell under "
                                 f"{self.space_group}, not the multiplicity {site.multiplicity} given",
                                 source=where)
            sites.append(site if site.multiplicity else dataclasses.replace(site, multiplicity=count))
        labels = [s.label for s in sites]
        if len(set(labels)) != len(labels):
            raise InputError(f"site labels must be unique, got {labels}", source=where)
        object.__setattr__(self, "sites", tuple(sites))

    # -- cell -------------------------------------------------------------------------------
    @property
    def cell(self) -> tuple[float, float, float, float, float, float]:
        """(a, b, c, α, β, γ) [Å, deg]."""
        return tuple(float(getattr(self, n)) for n in _CELL_NAMES)  # type: ignore[return-value]

    @property
    def metric(self) -> np.ndarray:
        """Real-space metric tensor G [Å²]."""
        a, b, c, al, be, ga = self.cell
        ca, cb, cg = (math.cos(math.radians(x)) for x in (al, be, ga))
        return np.array([[a * a, a * b * cg, a * c * cb], [a * b * cg, b * b, b * c * ca],
                         [a * c * cb, b * c * ca, c * c]])

    @property
    def reciprocal_metric(self) -> np.ndarray:
        """G* = G⁻¹ [Å⁻²]: 1/d² = h·G*·h."""
        return np.linalg.inv(self.metric)

    @property
    def volume(self) -> float:
        """Cell volume [Å³]."""
        return float(math.sqrt(np.linalg.det(self.metric)))

    @property
    def cell_mass(self) -> float:
        """Mass of the cell's content [g/mol per cell]: Σ occupancy × multiplicity × atomic weight (= Z·M)."""
        from ssbkit.core.formula import ATOMIC_WEIGHTS

        total = 0.0
        for site in self.sites:
            for symbol, occupancy in site.species.items():
                element = element_of(symbol)
                if element not in ATOMIC_WEIGHTS:
                    raise InputError(f"no standard atomic weight for {element}",
                                     source=f"phase {self.name!r}")
                total += occupancy * site.multiplicity * ATOMIC_WEIGHTS[element]
        return total

    @property
    def density(self) -> float:
        """Crystallographic density [g/cm³]."""
        return self.cell_mass / (_AVOGADRO_CM3_PER_A3 * self.volume)

    @property
    def composition(self) -> dict[str, float]:
        """Atoms per cell by element."""
        out: dict[str, float] = {}
        for site in self.sites:
            for symbol, occupancy in site.species.items():
                element = element_of(symbol)
                out[element] = out.get(element, 0.0) + occupancy * site.multiplicity
        return out

    @property
    def crystal_system(self) -> str:
        """triclinic … cubic, from the space-group number, or from the rotations where the number
        is not known (trigonal split by axes: 'rhombohedral')."""
        n = self.space_group_number
        if not n:
            name = self.operations.crystal_system()
            return "rhombohedral" if name == "trigonal" and abs(self.gamma - 120.0) > 1e-3 else name
        name = next(system for top, system in ((2, "triclinic"), (15, "monoclinic"), (74, "orthorhombic"),
                                               (142, "tetragonal"), (167, "trigonal"), (194, "hexagonal"),
                                               (230, "cubic")) if n <= top)
        if name == "trigonal" and abs(self.gamma - 120.0) > 1e-3:
            return "rhombohedral"
        return name

    def free_cell_parameters(self) -> dict[str, float]:
        """The independent cell parameters of the crystal system, in order (cubic: a; …)."""
        system = self.crystal_system
        names = {"cubic": ("a",), "tetragonal": ("a", "c"), "hexagonal": ("a", "c"), "trigonal": ("a", "c"),
                 "rhombohedral": ("a", "alpha"), "orthorhombic": ("a", "b", "c"),
                 "triclinic": _CELL_NAMES}.get(system)
        if names is None:  # monoclinic: the angle that is not 90°, β by default
            unique = next((n for n in ("beta", "gamma", "alpha") if abs(getattr(self, n) - 90) > 1e-6),
                          "beta")
            names = ("a", "b", "c", unique)
        return {n: float(getattr(self, n)) for n in names}

    def with_cell(self, values: Mapping[str, float] | Sequence[float]) -> Phase:
        """A new phase with the free cell parameters set (a mapping, or values in the order of
        ``free_cell_parameters()``); the constrained ones follow (cubic: b = c = a …).

        >>> from ssbkit.xrd.structures import licl
        >>> p = licl().with_cell({"a": 5.2})
        >>> p.a, p.b, p.c
        (5.2, 5.2, 5.2)
        """
        free = self.free_cell_parameters()
        if not isinstance(values, Mapping):
            values = list(np.atleast_1d(np.asarray(values, dtype=float)))
            if len(values) != len(free):
                raise InputError(f"{self.crystal_system} cell: give {len(free)} values ({', '.join(free)}), "
                                 f"got {len(values)}", source="values")
            values = dict(zip(free, values, strict=True))
        unknown = set(values) - set(free)
        if unknown:
            raise InputError(f"{', '.join(sorted(unknown))} not free in a {self.crystal_system} cell; "
                             f"free: {', '.join(free)}", source="values")
        cell = dict(zip(_CELL_NAMES, self.cell, strict=True)) | {k: float(v) for k, v in values.items()}
        system = self.crystal_system
        if system in ("cubic", "rhombohedral"):
            cell["b"] = cell["c"] = cell["a"]
        if system in ("tetragonal", "hexagonal", "trigonal"):
            cell["b"] = cell["a"]
        if system == "rhombohedral":
            cell["beta"] = cell["gamma"] = cell["alpha"]
        return self.replace(**cell)

    def replace(self, **changes: Any) -> Phase:
        """A new phase with ``name`` or cell parameters changed as given (no constraints:
        ``with_cell`` keeps b = c = a in a cubic cell …); the operations (and their caches)
        and sites are shared, so this is cheap inside a refinement loop."""
        allowed = {"name", "source", *_CELL_NAMES}
        unknown = set(changes) - allowed
        if unknown:
            raise InputError(f"replace() changes {', '.join(sorted(allowed))}; use with_sites() for sites, "
                             f"got {', '.join(sorted(unknown))}", source="replace")
        return dataclasses.replace(self, **changes)

    def with_sites(self, sites: Sequence[Site] | Mapping[str, Mapping[str, Any]]) -> Phase:
        """A new phase with new sites: a full list of ``Site``, or ``{label: {field: value}}``
        changing some fields (``species``, ``xyz``, ``biso``) of the named sites."""
        if isinstance(sites, Mapping):
            by_label = {s.label: s for s in self.sites}
            missing = set(sites) - set(by_label)
            if missing:
                raise InputError(f"no site {', '.join(sorted(missing))} in {self.name}; sites: "
                                 f"{', '.join(by_label)}", source="sites")
            new = []
            for site in self.sites:
                change = dict(sites.get(site.label, {}))
                if "xyz" in change:
                    change["multiplicity"] = 0  # a move off a special position changes it
                new.append(site.replace(**change) if change else site)
            sites = new
        return dataclasses.replace(self, sites=tuple(sites))

    # -- expansion --------------------------------------------------------------------------
    def expanded(self) -> tuple[np.ndarray, np.ndarray]:
        """Every atom position in the cell (N, 3) and the index of its site (N,)."""
        orbits = [self.operations.orbit(site.xyz) for site in self.sites]
        if not orbits:
            return np.zeros((0, 3)), np.zeros(0, dtype=int)
        index = np.concatenate([np.full(len(o), i) for i, o in enumerate(orbits)])
        return np.concatenate(orbits), index

    @classmethod
    def from_cif(cls, path: str | PathLike[str], *, name: str | None = None, biso: float = 1.0,
                 block: int | str = 0) -> Phase:
        """Read one structure from a CIF, keeping its setting, occupancies and Biso/Uiso.

        U → B = 8π²U; where the CIF gives neither, ``biso`` [Å²] is used. Rows at the same
        position (within 1e-4) with the same displacement make one mixed site.
        """
        return _read_cif(path, name=name, biso=biso, block=block)

    def __repr__(self) -> str:
        cell = ", ".join(f"{n}={getattr(self, n):g}" for n in self.free_cell_parameters())
        return f"Phase({self.name!r}, {self.space_group}, {cell}, {len(self.sites)} sites)"


def _operations_for_symbol(symbol: str, *, source: str) -> tuple[SymmetryOperations, int]:
    """Operations of a space group in pymatgen's standard setting (one object per symbol, so
    the phases of one group share its caches; pymatgen takes up to a second for a cubic group)."""
    key = str(symbol).replace(" ", "")
    if key not in _GROUPS:
        _GROUPS[key] = _pymatgen_operations(key, source=source)
    return _GROUPS[key]


_GROUPS: dict[str, tuple[SymmetryOperations, int]] = {}


def _pymatgen_operations(symbol: str, *, source: str) -> tuple[SymmetryOperations, int]:
    try:
        from pymatgen.symmetry.groups import SpaceGroup
    except ImportError as exc:
        from ssbkit.core.errors import DependencyError

        raise DependencyError("space groups by symbol need pymatgen: pip install 'ssbkit[xrd]'") from exc
    try:
        group = SpaceGroup(str(symbol).replace(" ", ""))
    except Exception:  # pymatgen raises ValueError/KeyError for symbols it does not know
        raise InputError(f"unknown space group {symbol!r}", source=source) from None
    ops = group.symmetry_ops
    rot = [op.rotation_matrix for op in ops]
    trans = [op.translation_vector for op in ops]
    return SymmetryOperations(rot, trans, source=source), int(group.int_number)


# ---------------------------------------------------------------------------- reflections

@dataclass(frozen=True, eq=False)
class Reflections:
    """Distinct reflections of a phase: ``hkl`` (n, 3), ``d`` [Å], ``two_theta`` [deg] at
    ``wavelength`` [Å], ``multiplicity`` (n,); sorted by increasing 2θ."""

    hkl: np.ndarray
    d: np.ndarray
    two_theta: np.ndarray
    multiplicity: np.ndarray
    wavelength: float
    phase: str = ""

    def __len__(self) -> int:
        return int(len(self.d))

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"h": self.hkl[:, 0], "k": self.hkl[:, 1], "l": self.hkl[:, 2], "d [Å]": self.d,
                             "2theta [deg]": self.two_theta, "multiplicity": self.multiplicity})


def _enumerate(ops: SymmetryOperations, reciprocal_metric: np.ndarray, d_min: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Representatives and multiplicities of all allowed reflections with d ≥ d_min (cached)."""
    for g_ref, d_lim, hkl, mult in ops._tables:
        # re-use when no reflection left out (d_ref < d_lim) can now have d ≥ d_min
        lowest = float(np.linalg.eigvals(np.linalg.solve(g_ref, reciprocal_metric)).real.min())
        if lowest > 0 and d_lim <= d_min * math.sqrt(lowest):
            return hkl, mult
    d_lim = d_min * _TABLE_MARGIN
    real_lengths = np.sqrt(np.diag(np.linalg.inv(reciprocal_metric)))
    limits = np.floor(real_lengths / d_lim).astype(int)
    grid = np.stack(np.meshgrid(*(np.arange(-n, n + 1) for n in limits), indexing="ij"), -1).reshape(-1, 3)
    inv_d2 = np.einsum("ni,ij,nj->n", grid, reciprocal_metric, grid)
    grid = grid[(inv_d2 <= 1.0 / d_lim**2) & (inv_d2 > 0)]
    if not len(grid):
        table = (frozen_array(np.zeros((0, 3), dtype=int)), frozen_array(np.zeros(0, dtype=int)))
    else:
        table = tuple(frozen_array(v) for v in _families(ops, grid, limits))
    ops._tables = [*ops._tables[-7:], (reciprocal_metric.copy(), d_lim, *table)]
    return table


def _families(ops: SymmetryOperations, grid: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    span = 2 * limits + 1
    images = np.einsum("ni,mij->mnj", grid, ops._laue)  # h·R for every Laue operation

    def code(h: np.ndarray) -> np.ndarray:
        shifted = h + limits
        return (shifted[..., 0] * span[1] + shifted[..., 1]) * span[2] + shifted[..., 2]

    keys = code(images).max(axis=0)
    family, mult = np.unique(keys, return_counts=True)
    digits = (family // (span[1] * span[2]), (family // span[2]) % span[1], family % span[2])
    rep = np.stack(digits, -1) - limits
    # systematic absences: Σ over the operations that fix h of exp(2πi h·t) vanishes
    fixed = (np.einsum("ni,mij->mnj", rep, ops.rotations) == rep[None]).all(axis=-1)
    phase = np.exp(2j * np.pi * (rep @ ops.translations.T)).T
    allowed = np.abs((fixed * phase).sum(axis=0)) > 1e-6 * fixed.sum(axis=0)
    return rep[allowed].astype(int), mult[allowed].astype(int)


def _wavelength(value: Any) -> float:
    from ssbkit.xrd.data import wavelengths_from

    if value is None:
        raise InputError("wavelength missing: give it in Å or as an anode ('CuKa')", source="wavelength")
    lines = wavelengths_from(value, source="wavelength")
    return max(lines, key=lambda line: line[1])[0]


def reflections(phase: Phase, *, two_theta_min: float, two_theta_max: float, wavelength: Any) -> Reflections:
    """The allowed reflections of ``phase`` with 2θ in [min, max] [deg] at ``wavelength`` [Å]
    (or an anode name: its strongest line). An InputError names the phase when none falls in
    the range."""
    if not isinstance(phase, Phase):
        raise InputError(f"expected a Phase, got {type(phase).__name__}", source="phase")
    lam = _wavelength(wavelength)
    lo, hi = float(two_theta_min), float(two_theta_max)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi <= 180):
        raise InputError(f"2θ range must satisfy 0 <= min < max <= 180°, got {lo:g}–{hi:g}",
                         source="two_theta")
    table = _select(phase, lam, lo, hi)
    if not len(table.d):
        raise InputError(f"no reflection of {phase.name} lies in 2θ = {lo:g}–{hi:g}° at λ = {lam:g} Å "
                         f"(largest d is {_largest_d(phase):.4g} Å)", source=f"phase {phase.name!r}")
    return table


def _largest_d(phase: Phase) -> float:
    return float(1.0 / np.sqrt(np.diag(phase.reciprocal_metric)).min())


def _select(phase: Phase, lam: float, lo: float, hi: float) -> Reflections:
    """Reflections with Bragg 2θ in [lo, hi] at λ (possibly none)."""
    d_min = lam / (2.0 * math.sin(math.radians(min(hi, 179.999) / 2.0)))
    g = phase.reciprocal_metric
    hkl, mult = _enumerate(phase.operations, g, d_min)
    d = 1.0 / np.sqrt(np.einsum("ni,ij,nj->n", hkl, g, hkl)) if len(hkl) else np.zeros(0)
    ratio = lam / (2.0 * d)
    keep = ratio < 1.0
    two_theta = np.full(d.shape, np.inf)
    two_theta[keep] = np.degrees(2.0 * np.arcsin(ratio[keep]))
    keep &= (two_theta >= lo) & (two_theta <= hi)
    order = np.argsort(two_theta[keep], kind="stable")
    pick = np.flatnonzero(keep)[order]
    return Reflections(hkl=frozen_array(hkl[pick]), d=frozen_array(d[pick]),
                       two_theta=frozen_array(two_theta[pick]), multiplicity=frozen_array(mult[pick]),
                       wavelength=lam, phase=phase.name)


def structure_factors(phase: Phase, reflections: Reflections | Any, *, wavelength: Any = None,
                      table: str = "it1992") -> np.ndarray:
    """|F|² [electrons²] of each reflection, over every atom of the cell (module docstring).

    ``reflections`` is a ``Reflections`` or an (n, 3) array of hkl. ``wavelength`` is accepted
    for symmetry with ``reflections`` and not used: without anomalous dispersion |F|² does
    not depend on it. ``table`` chooses the form factors (``ssbkit.xrd.formfactors``).
    """
    hkl = reflections.hkl if isinstance(reflections, Reflections) else np.asarray(reflections)
    if hkl.ndim != 2 or hkl.shape[1] != 3:
        raise InputError(f"hkl must be an (n, 3) array, got shape {hkl.shape}", source="reflections")
    if not phase.sites:
        raise InputError(f"phase {phase.name!r} has no sites: |F|² needs a structure "
                         "(Le Bail/Pawley fits need none)", source=f"phase {phase.name!r}")
    g = phase.reciprocal_metric
    s2 = 0.25 * np.einsum("ni,ij,nj->n", hkl, g, hkl)  # (sinθ/λ)² = 1/(4d²)
    return _structure_factors(phase, hkl, s2, table)


def _site_sums(phase: Phase, hkl: np.ndarray) -> np.ndarray:
    """Σ_{r in orbit} exp(2πi h·r) per reflection and site (n, sites); depends on neither the
    cell nor the occupancies, so it is kept for the last few (hkl table, sites) pairs."""
    ops = phase.operations
    for known_hkl, known_sites, sums in ops._geometry:
        if known_hkl is hkl and known_sites is phase.sites:
            return sums
    positions, index = phase.expanded()
    geometric = np.exp(2j * np.pi * (hkl @ positions.T))  # (n, N)
    starts = np.flatnonzero(np.r_[True, np.diff(index) != 0])  # each site's orbit is one block
    sums = np.add.reduceat(geometric, starts, axis=1)
    if not hkl.flags.writeable:  # only tables that cannot change under us are kept
        ops._geometry = [*ops._geometry[-7:], (hkl, phase.sites, sums)]
    return sums


def _structure_factors(phase: Phase, hkl: np.ndarray, s2: np.ndarray, table: str) -> np.ndarray:
    s = np.sqrt(s2)
    per_site = _site_sums(phase, hkl)
    amplitude = np.zeros(len(hkl), dtype=complex)
    cache: dict[str, np.ndarray] = {}
    for i, site in enumerate(phase.sites):
        scattering = np.zeros(len(hkl))
        for symbol, occupancy in site.species.items():
            if symbol not in cache:
                cache[symbol] = form_factor(symbol, s, table=table)
            scattering += occupancy * cache[symbol]
        amplitude += scattering * np.exp(-site.biso * s2) * per_site[:, i]
    return (amplitude.real**2 + amplitude.imag**2).astype(float)


# ---------------------------------------------------------------------------- CIF

def _read_cif(path: str | PathLike[str], *, name: str | None, biso: float, block: int | str) -> Phase:
    source = str(path)
    if not Path(path).is_file():
        raise InputError("no such file", source=source)
    try:
        from pymatgen.io.cif import CifFile
    except ImportError as exc:
        from ssbkit.core.errors import DependencyError

        raise DependencyError("reading a CIF needs pymatgen: pip install 'ssbkit[xrd]'") from exc
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    with warnings.catch_warnings(record=True) as caught:
        # pymatgen warns once per line it skips; those lines go into our message instead
        warnings.simplefilter("always")
        try:
            blocks = CifFile.from_str(text).data
        except (ZeroDivisionError, IndexError, KeyError):  # its loop_ parser on a loop without values
            blocks = None
            why = "a loop_ without tags or values (truncated file?)"
        except Exception as exc:  # pymatgen raises many kinds on malformed text
            blocks = None
            why = str(exc) or type(exc).__name__
    skipped = _cif_skipped(caught)
    if blocks is None:
        raise InputError(f"not a CIF that can be parsed: {why}{skipped}", source=source)
    if not blocks:
        raise InputError(f"no data_ block: not a CIF{skipped}", source=source)
    keys = list(blocks)
    if isinstance(block, str):
        if block not in blocks:
            raise InputError(f"no data block {block!r}; blocks: {', '.join(keys)}", source=source)
        data = blocks[block].data
    else:
        with_atoms = [k for k in keys if "_atom_site_fract_x" in blocks[k].data] or keys
        if block >= len(with_atoms):
            raise InputError(f"{len(with_atoms)} data block(s) with atom sites, asked for block {block}",
                             source=source)
        data = blocks[with_atoms[block]].data
    try:
        phase = _phase_from_block(data, path, name=name, biso=biso, source=source)
    except InputError as exc:
        raise InputError(exc.detail + skipped, source=source) from None
    if skipped:
        phase = dataclasses.replace(phase, notes=(*phase.notes, skipped.lstrip("; ")))
    return phase


def _phase_from_block(data: Mapping[str, Any], path: str | PathLike[str], *, name: str | None, biso: float,
                      source: str) -> Phase:
    def first(*tags: str) -> Any:
        for tag in tags:
            if tag in data and _cif_missing(data[tag]) is False:
                return data[tag]
        return None

    cell = {}
    tags = ("_cell_length_a", "_cell_length_b", "_cell_length_c", "_cell_angle_alpha", "_cell_angle_beta",
            "_cell_angle_gamma")
    for key, tag in zip(_CELL_NAMES, tags, strict=True):
        value = first(tag)
        if value is None and key in "abc":
            raise InputError(f"no {tag}: a CIF needs the cell", source=source)
        cell[key] = 90.0 if value is None else _cif_number(value, tag, source)
    written = first("_symmetry_space_group_name_H-M", "_space_group_name_H-M_alt")
    written = str(written).strip().strip("'\"").strip() if written is not None else ""
    number = first("_symmetry_Int_Tables_number", "_space_group_IT_number")
    number = int(_cif_number(number, "space group number", source)) if number is not None else 0
    xyz = first("_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz")
    if xyz is not None:  # the operations as written decide; the symbol and number only label them
        ops = SymmetryOperations.from_xyz(np.atleast_1d(xyz).tolist(), source=source)
        symbol = written or "P1"
        if written:
            try:
                from_symbol = _operations_for_symbol(_split_setting(written, source)[0], source=source)[1]
            except InputError:
                from_symbol = 0  # a symbol pymatgen does not know: the crystal system comes from the ops
            if number and from_symbol and number != from_symbol:
                raise InputError(f"space group {written!r} is number {from_symbol}, but the CIF says "
                                 f"{number}", source=source)
            number = number or from_symbol
    else:
        hall = first("_symmetry_space_group_name_Hall", "_space_group_name_Hall")
        code = first("_space_group_IT_coordinate_system_code")
        ops, symbol, number = _cif_setting(written, number, None if code is None else str(code),
                                           None if hall is None else str(hall), cell, source)
    labels = data.get("_atom_site_label")
    if labels is None or "_atom_site_fract_x" not in data:
        raise InputError("no atom sites (_atom_site_label, _atom_site_fract_x …)", source=source)
    labels = np.atleast_1d(labels).tolist()
    n = len(labels)

    def column(tag: str) -> list[Any]:
        values = data.get(tag)
        if values is None:
            return [None] * n
        values = np.atleast_1d(values).tolist()
        if len(values) != n:
            raise InputError(f"{tag} has {len(values)} values for {n} sites", source=source)
        return [None if _cif_missing(v) else v for v in values]

    types = column("_atom_site_type_symbol")
    occupancy = column("_atom_site_occupancy")
    b_iso, u_iso = column("_atom_site_B_iso_or_equiv"), column("_atom_site_U_iso_or_equiv")
    wyckoff = column("_atom_site_Wyckoff_symbol")
    aniso = _cif_aniso_b(data, source)
    fract = [column(f"_atom_site_fract_{ax}") for ax in "xyz"]
    rows = []
    for i, label in enumerate(labels):
        xyz_i = tuple(_cif_number(fract[k][i], f"_atom_site_fract_{ax} of {label}", source)
                      for k, ax in enumerate("xyz"))
        symbol_i = _cif_species(types[i] or label, source)
        occ = 1.0 if occupancy[i] is None else _cif_number(occupancy[i], f"occupancy of {label}", source)
        if b_iso[i] is not None:
            b = _cif_number(b_iso[i], f"B of {label}", source)
        elif u_iso[i] is not None:
            b = 8 * math.pi**2 * _cif_number(u_iso[i], f"U of {label}", source)
        else:
            b = aniso.get(label, float(biso))
        rows.append((str(label), symbol_i, occ, xyz_i, b, wyckoff[i] or ""))
    sites: list[Site] = []
    for label, symbol_i, occ, xyz_i, b, wyck in rows:
        for j, site in enumerate(sites):
            same_place = np.allclose(_wrap(np.subtract(site.xyz, xyz_i)), 0.0, atol=_POSITION_TOL)
            if same_place and abs(site.biso - b) < 1e-6:
                species = dict(site.species)
                species[symbol_i] = species.get(symbol_i, 0.0) + occ
                sites[j] = site.replace(species=species)
                break
        else:
            sites.append(Site(label, {symbol_i: occ}, xyz_i, b, wyckoff=str(wyck)))
    title = name or str(first("_chemical_name_common", "_chemical_formula_structural",
                              "_chemical_formula_sum") or Path(path).stem)
    try:
        phase = Phase(name=title.strip().strip("'\""), **cell, space_group=symbol, space_group_number=number,
                      sites=sites, operations=ops, source=source)
    except InputError as exc:
        raise InputError(exc.detail, source=source) from None
    _check_formula(phase, first("_chemical_formula_sum"), first("_cell_formula_units_Z"), source)
    return phase


_SETTING_SUFFIX = {"1": "1", "2": "2", "S": "1", "Z": "2", "H": "H", "R": "R"}


def _split_setting(symbol: str, source: str) -> tuple[str, str]:
    """'F d -3 m S' → ('Fd-3m', '1'); 'R -3 m :H' → ('R-3m', 'H'). ICSD writes S (standard: origin
    choice 1) and Z (origin at the centre: choice 2); H/R are hexagonal/rhombohedral axes."""
    text = str(symbol).replace(" ", "").replace("_", "")
    if ":" in text:
        text, _, suffix = text.partition(":")
    else:  # a Hermann-Mauguin symbol ends in a digit or a small letter, never a capital
        match = re.fullmatch(r"(.+?[^A-Z])([SZHR])", text)
        text, suffix = (match.group(1), match.group(2)) if match else (text, "")
    setting = _SETTING_SUFFIX.get(suffix.upper()) if suffix else ""
    if setting is None:
        raise InputError(f"space group {symbol!r}: unknown setting {suffix!r} (1, 2, S, Z, H or R)",
                         source=source)
    return text, setting


def _rhombohedral_axes(cell: Mapping[str, float]) -> bool:
    edges = (cell["a"], cell["b"], cell["c"])
    equal_edges = max(edges) - min(edges) < 1e-3 * edges[0]
    angles = (cell["alpha"], cell["beta"], cell["gamma"])
    return equal_edges and max(angles) - min(angles) < 1e-3 and abs(angles[0] - 90.0) > 1e-3


def _cif_setting(written: str, number: int, code: str | None, hall: str | None, cell: Mapping[str, float],
                 source: str) -> tuple[SymmetryOperations, str, int]:
    """Operations, symbol and number of a CIF that gives no operations: from the Hall name, the
    H-M symbol with its setting, or the number with ``_space_group_IT_coordinate_system_code``."""
    if hall:
        ops, from_hall, label = _hall_operations(hall, source)
        if number and number != from_hall:
            raise InputError(f"Hall symbol {hall!r} is space group {from_hall}, but the CIF says {number}",
                             source=source)
        if written:
            from_symbol = _operations_for_symbol(_split_setting(written, source)[0], source=source)[1]
            if from_symbol != from_hall:
                raise InputError(f"Hall symbol {hall!r} is space group {from_hall}, but {written!r} is "
                                 f"{from_symbol}", source=source)
        return ops, written or label, from_hall
    base, setting = _split_setting(written, source) if written else ("", "")
    if code is not None and code.strip() not in ("?", "."):
        from_code = {"1": "1", "2": "2", "h": "H", "r": "R"}.get(code.strip().lower())
        if from_code is None:
            raise InputError(f"_space_group_IT_coordinate_system_code {code!r} is not supported "
                             "(1, 2, h or r); give the operations (_space_group_symop_operation_xyz)",
                             source=source)
        if setting and setting != from_code:
            raise InputError(f"space group {written!r} and coordinate system code {code!r} disagree",
                             source=source)
        setting = from_code
    if not base and number:
        base = _symbol_of_number(number, source)
    if not base:
        return _operations_for_symbol("P1", source=source)[0], "P1", 1  # no symmetry given at all
    rhombohedral = _rhombohedral_axes(cell)
    if base.startswith("R"):
        if not setting:
            setting = "R" if rhombohedral else "H"
        elif (setting == "R") != rhombohedral:
            axes = "rhombohedral (a = b = c, α = β = γ ≠ 90°)" if setting == "R" else "hexagonal"
            raise InputError(f"space group {written or base!r} in the {setting} setting needs {axes} axes; "
                             f"the cell is {tuple(cell.values())}", source=source)
    full = f"{base}:{setting}" if setting else base
    try:
        ops, from_symbol = _operations_for_symbol(full, source=source)
    except InputError:
        if setting != "1":
            raise
        ops, from_symbol = _operations_for_symbol(base, source=source)  # a group with one origin only
    if number and number != from_symbol:
        raise InputError(f"space group {written!r} is number {from_symbol}, but the CIF says {number}",
                         source=source)
    return ops, written or full, from_symbol


def _symbol_of_number(number: int, source: str) -> str:
    from pymatgen.symmetry.groups import SpaceGroup

    if not 1 <= number <= 230:
        raise InputError(f"space group number must be 1–230, got {number}", source=source)
    return str(SpaceGroup.from_int_number(number).symbol)


def _hall_operations(hall: str, source: str) -> tuple[SymmetryOperations, int, str]:
    from pymatgen.symmetry.groups import SpaceGroup

    wanted = " ".join(str(hall).strip().strip("'\"").split())
    for exact in (True, False):
        for entry in SpaceGroup.SYMM_OPS:
            known = " ".join(entry["hall"].split())
            if known == wanted if exact else known.lower() == wanted.lower():
                label = entry["universal_h_m"]
                if label not in _GROUPS:
                    _GROUPS[label] = (SymmetryOperations.from_xyz(entry["symops"], source=source),
                                      int(entry["number"]))
                return _GROUPS[label][0], _GROUPS[label][1], label
    raise InputError(f"unknown Hall symbol {hall!r}", source=source)


def _check_formula(phase: Phase, formula: Any, z: Any, source: str) -> None:
    """Refuse a structure whose cell content is neither Z × _chemical_formula_sum nor the sum
    itself (pymatgen writes the cell content there): the sign of a wrong origin choice or setting."""
    if formula is None or z is None:
        return
    wanted: dict[str, float] = {}
    for symbol, count in re.findall(r"([A-Z][a-z]?)([0-9.]*)", str(formula)):
        try:
            wanted[symbol] = wanted.get(symbol, 0.0) + (float(count) if count else 1.0)
        except ValueError:
            return  # a formula we cannot read is not evidence against the structure
    units = _cif_number(z, "_cell_formula_units_Z", source)
    got = phase.composition
    if not wanted or units <= 0:
        return

    def matches(factor: float) -> bool:
        return all(abs(got.get(e, 0.0) - factor * wanted.get(e, 0.0))
                   <= 0.02 * factor * wanted.get(e, 0.0) + 0.05 for e in set(got) | set(wanted))

    if not (matches(units) or matches(1.0)):
        content = " ".join(f"{e}{got[e]:g}" for e in sorted(got))
        raise InputError(f"the sites expand to {content} per cell, not Z = {units:g} × {formula}: "
                         f"wrong origin choice or setting for {phase.space_group!r}? (write it as e.g. "
                         "'F d -3 m :2' or give the operations)", source=source)


def _cif_skipped(caught: Sequence[warnings.WarningMessage]) -> str:
    lines = [str(w.message).split("line:", 1)[-1].strip() for w in caught
             if "Possible issue in CIF" in str(w.message)]
    if not lines:
        return ""
    shown = ", ".join(repr(x) for x in lines[:5]) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    return f"; lines that are not CIF: {shown}"


def _wrap(delta: np.ndarray) -> np.ndarray:
    return delta - np.round(delta)


def _cif_missing(value: Any) -> bool:
    return isinstance(value, str) and value.strip() in ("?", ".")


def _cif_number(value: Any, what: str, source: str) -> float:
    text = str(value).strip()
    text = re.sub(r"\(\d+\)$", "", text)  # standard uncertainty in brackets
    try:
        number = float(Fraction(text)) if "/" in text else float(text)
    except ValueError:
        raise InputError(f"{what}: expected a number, got {value!r}", source=source) from None
    if not math.isfinite(number):
        raise InputError(f"{what}: expected a finite number, got {value!r}", source=source)
    return number


def _cif_species(text: str, source: str) -> str:
    match = re.match(r"^([A-Za-z]{1,2})(\d*[+-])?", str(text).strip())
    if not match:
        raise InputError(f"cannot tell the element of site {text!r}", source=source)
    letters, charge = match.group(1), match.group(2) or ""
    for candidate in (letters[:1].upper() + letters[1:].lower(), letters[:1].upper()):
        try:
            electrons(candidate)
        except InputError:
            continue
        return candidate + (charge if charge and charge[0] != "0" else "")
    raise InputError(f"cannot tell the element of site {text!r}", source=source)


def _cif_aniso_b(data: Mapping[str, Any], source: str) -> dict[str, float]:
    """Equivalent isotropic B = 8π²(U11 + U22 + U33)/3 of sites given only anisotropically."""
    labels = data.get("_atom_site_aniso_label")
    if labels is None or "_atom_site_aniso_U_11" not in data:
        return {}
    labels = np.atleast_1d(labels).tolist()
    diag = [np.atleast_1d(data[f"_atom_site_aniso_U_{k}{k}"]).tolist() for k in "123"]
    return {str(label): 8 * math.pi**2 * sum(_cif_number(d[i], f"U of {label}", source) for d in diag) / 3
            for i, label in enumerate(labels)}
