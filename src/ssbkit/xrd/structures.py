"""Built-in structures of the phases a sulfide solid-electrolyte study meets.

Each builder returns a ``Phase`` from published Wyckoff positions (facts, written out here,
no CIF needed) in the standard setting, with its space-group operations generated from a
few generators and the lattice centring (checked against pymatgen's tables in the tests).
Displacement parameters default to Biso = 1 Å² for every atom; cell parameters to the
values below and are meant to be refined.

- ``argyrodite``: F-43m (216), a = 9.85 Å; P 4b (½,½,½); S 16e (x,x,x) x = 0.38053; 4d (¾,¾,¾)
  S/X; 4a (0,0,0) X/S; Li 48h (x,x,z) x = 0.3148, z = 0.982 (Deiseroth et al. 2008; halide
  disorder over 4a/4d: Kraft et al. 2017);
- ``li6ps5cl``: as above with a = 9.859 Å, Cl on 4a, S on 4d, Li occupancy ½ (Deiseroth 2008);
- ``li2s``: antifluorite Fm-3m (225), a = 5.708 Å; S 4a (0,0,0), Li 8c (¼,¼,¼);
- ``licl``, ``libr``, ``lii``: rock salt Fm-3m, a = 5.130, 5.501, 6.000 Å; Li 4a, X 4b (½,½,½);
- ``tis2``: CdI2 type P-3m1 (164), a = 3.407, c = 5.695 Å; Ti 1a (0,0,0), S 2d (⅓,⅔,z), z ≈ ¼;
- ``li2tis3``: cation-disordered rock salt Fm-3m, a ≈ 5.06 Å; (⅔ Li, ⅓ Ti) 4a, S 4b
  (Sakuda et al. 2014).

Argyrodite Li(7−y)PS(6−y)X(y) (X = Cl, Br, I, mixed): the halide fills 4a first and the
rest shares 4d with S (``halide_4a`` moves halide between the two sites, the site disorder
Kraft et al. relate to conductivity); the halide mix (Cl:Br) is the same on both sites; Li
occupies 48h with occupancy (7 − y)/12 (charge balance; Deiseroth's refinement gave 0.56 for
y = 1). For Li5.5PS4.5Cl0.8Br0.7 this is exactly the truth model of
``shared/data/xrd/synthetic_argyrodite`` (4a: Cl 0.5333 Br 0.4667; 4d: S 0.5, Cl 0.2667,
Br 0.2333; Li 5.5/12).

P2S5 and Li3PS4 are not built in: no open, citable set of their positions was at hand to
write out here (give their CIFs to ``Phase.from_cif``).

Examples
--------
>>> p = argyrodite("Li5.5PS4.5Cl0.8Br0.7", a=9.8532)
>>> {k: round(v, 4) for k, v in p.sites[3].species.items()}   # 4d
{'S': 0.5, 'Cl': 0.2667, 'Br': 0.2333}
>>> round(p.cell_mass / 4, 3)   # four formula units per cell
297.707
>>> sorted(BUILTIN_PHASES)[:4]
['Li2S', 'Li2TiS3', 'Li5.5PS4.5Cl0.8Br0.7', 'Li6PS5Cl']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.validate import finite, in_range, positive
from ssbkit.xrd.crystal import Phase, Site, SymmetryOperations

__all__ = ["BUILTIN_PHASES", "argyrodite", "builtin_phase", "li2s", "li2tis3", "li6ps5cl", "libr", "licl",
           "lii", "tis2"]

citations.register(
    "deiseroth2008",
    "H.-J. Deiseroth, S.-T. Kong, H. Eckert, J. Vannahme, C. Reiner, T. Zaiß, M. Schlosser, Li6PS5X: "
    "a class of crystalline Li-rich solids with an unusually high Li+ mobility, Angew. Chem. Int. Ed. 47 "
    "(2008) 755-758.",
    "10.1002/anie.200703900",
)
citations.register(
    "kraft2017",
    "M. A. Kraft, S. P. Culver, M. Calderon, F. Böcher, T. Krauskopf, A. Senyshyn, C. Dietrich, "
    "A. Zevalkink, J. Janek, W. G. Zeier, Influence of lattice polarizability on the ionic conductivity "
    "in the lithium superionic argyrodites Li6PS5X (X = Cl, Br, I), J. Am. Chem. Soc. 139 (2017) "
    "10909-10918.",
    "10.1021/jacs.7b06327",
)
citations.register(
    "sakuda2014",
    "A. Sakuda, T. Takeuchi, K. Okamura, H. Kobayashi, H. Sakaebe, K. Tatsumi, Z. Ogumi, Rock-salt-type "
    "lithium metal sulphides as novel positive-electrode materials, Sci. Rep. 4 (2014) 4883.",
    "10.1038/srep04883",
)

_GENERATORS = {
    "F-43m": (("z,x,y", "y,-x,-z"), "F", 216),
    "Fm-3m": (("z,x,y", "y,-x,-z", "-x,-y,-z"), "F", 225),
    "P-3m1": (("-y,x-y,z", "y,x,-z", "-x,-y,-z"), "P", 164),
}
_HALIDES = ("F", "Cl", "Br", "I")
DEFAULT_ARGYRODITE = "Li5.5PS4.5Cl0.8Br0.7"


@cache
def _operations(symbol: str) -> SymmetryOperations:
    # one object per group, so every phase of that group shares the symmetry caches
    generators, centring, _ = _GENERATORS[symbol]
    return SymmetryOperations.from_generators(generators, centring=centring, source=symbol)


def _phase(name: str, symbol: str, sites: list[Site], *, a: float, c: float | None = None,
           gamma: float = 90.0) -> Phase:
    return Phase(name=name, a=positive("a", a), b=positive("a", a), c=positive("c", c if c else a),
                 gamma=gamma, space_group=symbol, space_group_number=_GENERATORS[symbol][2], sites=sites,
                 operations=_operations(symbol), source=f"ssbkit.xrd.structures: {name}")


def argyrodite(composition: str | None = None, *, y: float | None = None,
               halides: Mapping[str, float] | None = None, a: float = 9.85, halide_4a: float | None = None,
               x_s: float = 0.38053, li_xz: tuple[float, float] = (0.3148, 0.982), biso: float = 1.0,
               name: str | None = None) -> Phase:
    """Argyrodite Li(7−y)PS(6−y)X(y), F-43m (see the module for sites and sources).

    Give the ``composition`` (``"Li6PS5Cl"``; default ``"Li5.5PS4.5Cl0.8Br0.7"``) or ``y`` with
    ``halides`` (amounts per formula unit, scaled to add up to y; Cl alone by default).
    ``halide_4a`` is the halide occupancy of 4a (default min(y, 1)); the rest of the
    halide shares 4d with S.

    >>> p = argyrodite(y=1.0, halides={"Br": 1})
    >>> p.name, {s.label: dict(s.species) for s in p.sites}["X4a"]
    ('Li6PS5Br', {'Br': 1.0})
    """
    if composition is not None and (y is not None or halides is not None):
        raise InputError("give either composition or y/halides, not both", source="composition")
    if composition is None and y is None and halides is None:
        composition = DEFAULT_ARGYRODITE
    if composition is not None:
        y, halides = _argyrodite_composition(composition)
    else:
        y = in_range("y", 1.0 if y is None else y, 0.0, 2.0, low_inclusive=False)
        halides = dict(halides or {"Cl": 1.0})
        unknown = set(halides) - set(_HALIDES)
        if unknown or not halides:
            raise InputError(f"halides are {', '.join(_HALIDES)}; got {', '.join(sorted(halides))}",
                             source="halides")
        total = sum(positive(f"halides[{k}]", v) for k, v in halides.items())
        halides = {k: y * v / total for k, v in halides.items()}
    share = {k: v / y for k, v in halides.items()}
    on_4a = min(y, 1.0) if halide_4a is None else in_range("halide_4a", halide_4a, 0.0, 1.0)
    on_4d = y - on_4a
    if not -1e-9 <= on_4d <= 1 + 1e-9:
        raise InputError(f"with y = {y:g}, halide_4a = {on_4a:g} leaves {on_4d:g} halide for 4d "
                         "(must be 0–1)", source="halide_4a")
    on_4d = min(max(on_4d, 0.0), 1.0)

    def mixed(halide: float) -> dict[str, float]:
        out = {"S": 1.0 - halide} if halide < 1.0 - 1e-12 else {}
        out.update({k: halide * f for k, f in share.items() if halide > 0})
        return out

    x = finite("x_s", x_s)
    lx, lz = (finite("li_xz", v) for v in li_xz)
    b = finite("biso", biso)
    sites = [
        Site("Li", {"Li": (7.0 - y) / 12.0}, (lx, lx, lz), b, wyckoff="48h"),
        Site("P", {"P": 1.0}, (0.5, 0.5, 0.5), b, wyckoff="4b"),
        Site("S16e", {"S": 1.0}, (x, x, x), b, wyckoff="16e"),
        Site("X4d", mixed(on_4d), (0.75, 0.75, 0.75), b, wyckoff="4d"),
        Site("X4a", mixed(on_4a), (0.0, 0.0, 0.0), b, wyckoff="4a"),
    ]
    if name is None:
        name = composition or _argyrodite_name(y, halides)
    return _phase(name, "F-43m", sites, a=a)


def _argyrodite_composition(composition: str) -> tuple[float, dict[str, float]]:
    from ssbkit.core.formula import parse_formula

    amounts = dict(parse_formula(composition).composition)
    p = amounts.pop("P", 0.0)
    if p <= 0:
        raise InputError(f"{composition!r} has no P: not an argyrodite Li(7-y)PS(6-y)X(y)",
                         source="composition")
    amounts = {k: v / p for k, v in amounts.items()}
    halides = {k: amounts.pop(k) for k in list(amounts) if k in _HALIDES}
    y = sum(halides.values())
    li, s = amounts.pop("Li", 0.0), amounts.pop("S", 0.0)
    if amounts or not 0 < y <= 2 or abs(li - (7 - y)) > 1e-6 or abs(s - (6 - y)) > 1e-6:
        raise InputError(f"{composition!r} is not Li(7-y)PS(6-y)X(y) with 0 < y <= 2 "
                         f"(Li {li:g}, S {s:g}, halide {y:g} per P)", source="composition")
    return y, halides


def _argyrodite_name(y: float, halides: Mapping[str, float]) -> str:
    def fmt(v: float) -> str:
        return "" if abs(v - 1) < 1e-9 else f"{v:.4g}"

    return f"Li{fmt(7 - y)}PS{fmt(6 - y)}" + "".join(f"{k}{fmt(v)}" for k, v in halides.items())


def li6ps5cl(*, a: float = 9.859, biso: float = 1.0) -> Phase:
    """Li6PS5Cl (Deiseroth et al. 2008): Cl on 4a, S on 4d, Li 48h occupancy ½."""
    return argyrodite("Li6PS5Cl", a=a, biso=biso)


def li2s(*, a: float = 5.708, biso: float = 1.0) -> Phase:
    """Li2S, antifluorite: S 4a (0,0,0), Li 8c (¼,¼,¼)."""
    return _phase("Li2S", "Fm-3m", [Site("S", {"S": 1.0}, (0, 0, 0), biso, wyckoff="4a"),
                                    Site("Li", {"Li": 1.0}, (0.25, 0.25, 0.25), biso, wyckoff="8c")], a=a)


def _rock_salt(name: str, cation: Mapping[str, float], anion: str, a: float, biso: float) -> Phase:
    return _phase(name, "Fm-3m", [Site("M", dict(cation), (0, 0, 0), biso, wyckoff="4a"),
                                  Site(anion, {anion: 1.0}, (0.5, 0.5, 0.5), biso, wyckoff="4b")], a=a)


def licl(*, a: float = 5.130, biso: float = 1.0) -> Phase:
    """LiCl, rock salt: Li 4a, Cl 4b."""
    return _rock_salt("LiCl", {"Li": 1.0}, "Cl", a, biso)


def libr(*, a: float = 5.501, biso: float = 1.0) -> Phase:
    """LiBr, rock salt: Li 4a, Br 4b."""
    return _rock_salt("LiBr", {"Li": 1.0}, "Br", a, biso)


def lii(*, a: float = 6.000, biso: float = 1.0) -> Phase:
    """LiI, rock salt: Li 4a, I 4b."""
    return _rock_salt("LiI", {"Li": 1.0}, "I", a, biso)


def li2tis3(*, a: float = 5.06, biso: float = 1.0) -> Phase:
    """Li2TiS3 as milled, a cation-disordered rock salt (Sakuda et al. 2014): (⅔ Li, ⅓ Ti) 4a, S 4b."""
    return _rock_salt("Li2TiS3", {"Li": 2 / 3, "Ti": 1 / 3}, "S", a, biso)


def tis2(*, a: float = 3.407, c: float = 5.695, z: float = 0.25, biso: float = 1.0) -> Phase:
    """TiS2, CdI2 type P-3m1: Ti 1a (0,0,0), S 2d (⅓,⅔,z)."""
    z = finite("z", z)
    sites = [Site("Ti", {"Ti": 1.0}, (0, 0, 0), biso, wyckoff="1a"),
             Site("S", {"S": 1.0}, (1 / 3, 2 / 3, z), biso, wyckoff="2d")]
    return _phase("TiS2", "P-3m1", sites, a=a, c=c, gamma=120.0)


BUILTIN_PHASES: Mapping[str, Callable[..., Phase]] = {
    "Li5.5PS4.5Cl0.8Br0.7": argyrodite,
    "Li6PS5Cl": li6ps5cl,
    "Li2S": li2s,
    "LiCl": licl,
    "LiBr": libr,
    "LiI": lii,
    "TiS2": tis2,
    "Li2TiS3": li2tis3,
}


def builtin_phase(name: str, **kwargs: Any) -> Phase:
    """A built-in phase by name (case-insensitive; ``"argyrodite"`` is Li5.5PS4.5Cl0.8Br0.7).

    >>> builtin_phase("licl", a=5.13).a
    5.13
    """
    key = str(name).strip().lower()
    if key == "argyrodite":
        return argyrodite(**kwargs)
    for known, builder in BUILTIN_PHASES.items():
        if known.lower() == key:
            return builder(**kwargs)
    raise InputError(f"no built-in phase {name!r}; built in: argyrodite, {', '.join(BUILTIN_PHASES)}",
                     source="phase")
