"""Ball-mill plans: how many balls, and how much powder, for a filling rate and a ratio.

Two quantities describe a planetary-mill charge:

- **FRB, the filling rate of balls**, has two conventions in the literature:

  * ``"solid"`` — the balls' own volume as a fraction of the jar volume,
    FRB = N·V_ball / V_jar (what "balls occupy 10 % of the jar" literally says).
    A jar packed full of balls reaches only the random packing fraction, so FRB ≤ packing.
  * ``"bulk"`` — the volume of the ball *bed* (balls plus the voids between them) as a
    fraction of the jar volume, FRB = N·V_ball / (packing·V_jar); the engineering
    "ball filling ratio" of tumbling and planetary mills. FRB ≤ 1.

  The ball counts of the two differ by the packing fraction (≈ 40 %); a plan always
  records which convention it used.
- **BMR, the ball-to-material (powder) mass ratio**: powder mass = ball mass / BMR.

The number of balls is rounded to the nearest whole ball, and the filling rate actually
achieved is reported beside the one asked for.

Ball densities (g/cm³) and where they come from are in ``BALL_MATERIALS``; measured
densities of your own balls (``ball_density_g_cm3``) are always better.

Examples
--------
>>> p = plan_milling(jar_volume_ml=50, ball_diameter_mm=10, ball_material="WC", frb=0.10, bmr=80)
>>> p.n_balls, round(p.frb_achieved, 4), round(p.ball_mass.value, 2), round(p.powder_mass.value, 3)
(10, 0.1047, 81.68, 1.021)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.validate import in_range, one_of, positive, require_finite_outputs

__all__ = [
    "BALL_MATERIALS",
    "BallMaterial",
    "MillingPlan",
    "find_ball_material",
    "plan_milling",
]

# Random packing of equal spheres: 0.60 (loose) to 0.64 (close); Scott & Kilgour,
# J. Phys. D 2 (1969) 863.
DEFAULT_PACKING = 0.60


@dataclass(frozen=True)
class BallMaterial:
    """A grinding-ball material: its density [g/cm³] and where the number comes from."""

    name: str
    density: float
    source: str


BALL_MATERIALS: dict[str, BallMaterial] = {
    m.name: m
    for m in (
        BallMaterial("WC", 15.6, "tungsten carbide, CRC Handbook of Chemistry and Physics, "
                     "physical constants of inorganic compounds (WC–Co cemented media: 14.3–15.0)"),
        BallMaterial("ZrO2", 5.9, "yttria-stabilised zirconia grinding media, typical mill-maker "
                     "value (5.7–6.1 across makers; 3Y-TZP theoretical 6.05)"),
        BallMaterial("steel", 7.9, "stainless steel AISI 304/316, ASM Handbook Vol. 1 "
                     "(hardened chrome steel: 7.8)"),
        BallMaterial("agate", 2.65, "agate (microcrystalline SiO2), density of quartz, "
                     "CRC Handbook of Chemistry and Physics"),
        BallMaterial("Si3N4", 3.2, "sintered silicon nitride media, typical mill-maker value "
                     "(3.1–3.25; β-Si3N4 theoretical 3.19)"),
    )
}
_MATERIAL_ALIASES = {
    "wc": "WC", "tungsten carbide": "WC", "zro2": "ZrO2", "zirconia": "ZrO2",
    "ysz": "ZrO2", "steel": "steel", "stainless steel": "steel", "ss": "steel",
    "agate": "agate", "si3n4": "Si3N4", "silicon nitride": "Si3N4",
}


def ball_volume_ml(diameter_mm: float) -> float:
    """Volume [mL] of a ball of ``diameter_mm``: π d³ / 6."""
    return math.pi * (diameter_mm / 10.0) ** 3 / 6.0


def find_ball_material(name: str) -> BallMaterial:
    """The ``BallMaterial`` called ``name`` (WC, ZrO2, steel, agate, Si3N4, or a common alias)."""
    key = _MATERIAL_ALIASES.get(str(name).strip().lower())
    if key is None:
        raise InputError(
            f"unknown ball material {name!r}; known: {', '.join(BALL_MATERIALS)} "
            "(or give the density instead)",
            source="ball_material",
        )
    return BALL_MATERIALS[key]


@dataclass(frozen=True, kw_only=True)
class MillingPlan(Result):
    """A milling charge: balls and powder for one jar."""

    jar_volume: Estimate
    ball_diameter: Estimate
    ball_material: str
    ball_density: Estimate
    convention: str
    packing: float
    frb_target: float
    bmr: float
    n_balls: int
    n_balls_exact: float
    frb_achieved: float
    single_ball_mass: Estimate
    ball_mass: Estimate
    powder_mass: Estimate

    @property
    def ball_volume(self) -> float:
        """Volume of one ball [mL]."""
        return ball_volume_ml(self.ball_diameter.value)

    def _report_lines(self) -> list[str]:
        return [
            f"  jar {self.jar_volume.value:g} mL, {self.ball_diameter.value:g} mm "
            f"{self.ball_material} balls ({self.ball_density.value:g} g/cm³, "
            f"{self.single_ball_mass.value:.3f} g each)",
            f"  FRB ({self.convention} convention): asked {100 * self.frb_target:g} %, "
            f"achieved {100 * self.frb_achieved:.2f} % with {self.n_balls} balls "
            f"({self.n_balls_exact:.2f} exact)",
            f"  ball mass {self.ball_mass.value:.2f} g; BMR {self.bmr:g}:1 → "
            f"powder {self.powder_mass.value:.3f} g",
        ]


def plan_milling(
    *,
    jar_volume_ml: float,
    ball_diameter_mm: float,
    frb: float,
    bmr: float,
    ball_material: str | None = None,
    ball_density_g_cm3: float | None = None,
    convention: str = "solid",
    packing: float = DEFAULT_PACKING,
) -> MillingPlan:
    """Number of balls, ball mass and powder mass for a jar, a filling rate and a BMR.

    Parameters
    ----------
    jar_volume_ml
        Jar volume [mL].
    ball_diameter_mm
        Ball diameter [mm].
    frb
        Filling rate of balls as a fraction (0.10 for 10 %), in ``convention``.
    bmr
        Ball-to-material mass ratio (80 for 80:1).
    ball_material, ball_density_g_cm3
        Exactly one: a material from ``BALL_MATERIALS`` or the density [g/cm³].
    convention
        ``"solid"`` (balls' own volume / jar volume) or ``"bulk"`` (ball-bed volume /
        jar volume, bed = balls / packing); see the module docstring.
    packing
        Random packing fraction of the ball bed (0.60 loose, 0.64 close).
    """
    # Generous bounds (a 1 m³ jar, 1 µm to 1 m balls, BMR 1e5) keep the arithmetic finite.
    jar = in_range("jar_volume_ml", jar_volume_ml, 0.0, 1e6, low_inclusive=False)
    diameter = in_range("ball_diameter_mm", ball_diameter_mm, 1e-3, 1e3)
    ratio = in_range("bmr", bmr, 0.0, 1e5, low_inclusive=False)
    convention = one_of("convention", convention, ("solid", "bulk"))
    packing = in_range("packing", packing, 0.0, 0.7405, low_inclusive=False,
                       why="random packing of spheres is 0.60–0.64; 0.7405 is the densest")
    if (ball_material is None) == (ball_density_g_cm3 is None):
        raise InputError("give either a ball material or a ball density, not both or neither",
                         source="ball_material")
    if ball_material is not None:
        material = find_ball_material(ball_material)
        density, material_name = material.density, material.name
    else:
        density = in_range("ball_density_g_cm3", ball_density_g_cm3, 0.0, 25.0,
                           low_inclusive=False, why="osmium, the densest element, is 22.6")
        material_name = "custom"

    # The most a jar can hold: a bed of balls filling it at the packing fraction.
    frb_max = packing if convention == "solid" else 1.0
    frb = positive("frb", frb)
    if frb > frb_max:
        why = (f"balls packed at {packing:g} fill at most {100 * packing:g} % of the jar"
               if convention == "solid" else "a ball bed cannot exceed the jar volume")
        raise InputError(f"FRB {frb:g} is more than balls can fill ({why})", source="frb")

    ball_volume = ball_volume_ml(diameter)
    if ball_volume > jar:
        raise InputError(f"one {diameter:g} mm ball ({ball_volume:.3g} mL) is larger than "
                         f"the {jar:g} mL jar", source="ball_diameter_mm")
    bed_fraction = 1.0 if convention == "solid" else packing
    n_exact = frb * bed_fraction * jar / ball_volume
    if n_exact > 1e7:
        raise InputError(f"the plan would need {n_exact:.3g} balls; check the jar volume and "
                         "ball diameter", source="jar_volume_ml")
    # The nearest whole number of balls, but never more than the jar holds.
    most = math.floor(frb_max * bed_fraction * jar / ball_volume * (1 + 1e-12))
    n_balls = min(round(n_exact), most)
    if most < 1:
        raise InputError(f"even one {diameter:g} mm ball overfills the {jar:g} mL jar "
                         f"(FRB limit {frb_max:g} in the {convention} convention)",
                         source="ball_diameter_mm")
    if n_balls < 1:
        raise InputError(f"FRB {frb:g} holds {n_exact:.2f} balls of {diameter:g} mm; "
                         "at least one is needed", source="frb")
    frb_achieved = n_balls * ball_volume / (bed_fraction * jar)

    single = density * ball_volume
    ball_mass = n_balls * single
    require_finite_outputs(ball_mass=ball_mass, powder_mass=ball_mass / ratio)
    return MillingPlan(
        jar_volume=Estimate(jar, unit="mL"),
        ball_diameter=Estimate(diameter, unit="mm"),
        ball_material=material_name,
        ball_density=Estimate(density, unit="g/cm³"),
        convention=convention,
        packing=packing,
        frb_target=frb,
        bmr=ratio,
        n_balls=n_balls,
        n_balls_exact=n_exact,
        frb_achieved=frb_achieved,
        single_ball_mass=Estimate(single, unit="g"),
        ball_mass=Estimate(ball_mass, unit="g"),
        powder_mass=Estimate(ball_mass / ratio, unit="g"),
        provenance=make_provenance(
            "ssbkit.synthesis.plan_milling",
            settings={"convention": convention, "packing": packing},
            inputs={"jar_volume_ml": jar, "ball_diameter_mm": diameter, "frb": frb, "bmr": ratio,
                    "ball_material": material_name, "ball_density_g_cm3": density},
        ),
    )
