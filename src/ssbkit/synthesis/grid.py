"""Milling designs: plans over a grid of FRB × BMR, compared by their dose.

The argyrodite study milled at FRB 5/10/20 % × BMR 20:1/40:1/80:1. ``mill_grid`` plans
every pair; given the mill geometry, speed and time (``dose=``) it also computes the
Burgio–Magini dose of each and its ratio to a reference condition, the robust way to
compare conditions (see ``ssbkit.synthesis.dose``).

Examples
--------
>>> g = mill_grid(jar_volume_ml=50, ball_diameter_mm=10, ball_material="WC",
...               frbs=[0.05, 0.10, 0.20], bmrs=[20, 40, 80])
>>> [p.n_balls for p in g.plans[::3]], round(g.plans[-1].powder_mass.value, 3)
([5, 10, 19], 1.94)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ssbkit.core.errors import InputError
from ssbkit.core.results import Result, make_provenance
from ssbkit.core.units import label
from ssbkit.synthesis.dose import MillingDose, milling_dose
from ssbkit.synthesis.milling import MillingPlan, plan_milling

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MillingGrid", "mill_grid"]


@dataclass(frozen=True, kw_only=True)
class MillingGrid(Result):
    """Milling plans over FRB × BMR (FRB varying slowest), with doses when asked for."""

    plans: tuple[MillingPlan, ...]
    doses: tuple[MillingDose, ...] = ()
    reference: int = 0  # index of the condition that dose ratios are relative to

    @property
    def dose_ratios(self) -> tuple[float, ...]:
        """Dose of each condition over the reference condition's dose."""
        if not self.doses:
            return ()
        ref = self.doses[self.reference].dose.value
        return tuple(d.dose.value / ref for d in self.doses)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        columns: dict[str, list[Any]] = {
            label("FRB target", "%"): [100 * p.frb_target for p in self.plans],
            "BMR": [p.bmr for p in self.plans],
            "balls": [p.n_balls for p in self.plans],
            label("FRB achieved", "%"): [100 * p.frb_achieved for p in self.plans],
            label("ball mass", "g"): [p.ball_mass.value for p in self.plans],
            label("powder mass", "g"): [p.powder_mass.value for p in self.plans],
        }
        if self.doses:
            columns[label("dose", "J/g")] = [d.dose.value for d in self.doses]
            columns["dose ratio"] = list(self.dose_ratios)
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["dose_ratios"] = list(self.dose_ratios)
        return out

    def _report_lines(self) -> list[str]:
        first = self.plans[0]
        lines = [
            f"  jar {first.jar_volume.value:g} mL, {first.ball_diameter.value:g} mm "
            f"{first.ball_material} balls, FRB {first.convention} convention",
        ]
        if self.doses:
            d = self.doses[0]
            lines.append(
                f"  dose at {d.rpm:g} rpm for {d.time.value / 3600:g} h (R_p {d.plate_radius.value:g} mm, "
                f"r_v {d.jar_radius.value:g} mm, transmission 1:{d.transmission_ratio:g}); "
                f"ratios against FRB {100 * self.plans[self.reference].frb_target:g} %, "
                f"BMR {self.plans[self.reference].bmr:g}:1"
            )
        head = (f"  {'FRB [%]':>8}{'BMR':>7}{'balls':>7}{'FRB achieved [%]':>18}"
                f"{'ball mass [g]':>15}{'powder [g]':>12}")
        lines.append(head + (f"{'dose [J/g]':>12}{'ratio':>8}" if self.doses else ""))
        ratios = self.dose_ratios or (None,) * len(self.plans)
        for i, (p, ratio) in enumerate(zip(self.plans, ratios, strict=True)):
            row = (f"  {100 * p.frb_target:>8g}{p.bmr:>5g}:1{p.n_balls:>7d}"
                   f"{100 * p.frb_achieved:>18.2f}{p.ball_mass.value:>15.2f}"
                   f"{p.powder_mass.value:>12.3f}")
            if ratio is not None:
                row += f"{self.doses[i].dose.value:>12.4g}{ratio:>8.2f}"
            lines.append(row)
        return lines


def mill_grid(
    *,
    frbs: Iterable[float],
    bmrs: Iterable[float],
    dose: Mapping[str, Any] | None = None,
    reference: int = 0,
    **plan_options: Any,
) -> MillingGrid:
    """``plan_milling`` for every FRB × BMR pair, FRB varying slowest.

    ``plan_options`` go to ``plan_milling`` (jar, balls, convention, packing). ``dose``,
    when given, holds the keyword arguments of ``milling_dose`` (``rpm``, ``time_h``,
    ``plate_radius_mm``, ``jar_radius_mm``, …) and adds each condition's dose and its
    ratio to condition number ``reference`` (0: the first).
    """
    frbs, bmrs = list(frbs), list(bmrs)
    if not frbs or not bmrs:
        raise InputError("the grid needs at least one FRB and one BMR")
    plans = tuple(plan_milling(frb=f, bmr=b, **plan_options) for f in frbs for b in bmrs)
    if not 0 <= reference < len(plans):
        raise InputError(f"must index one of the {len(plans)} conditions, got {reference}",
                         source="reference")
    doses = tuple(milling_dose(p, **dose) for p in plans) if dose is not None else ()
    if doses and doses[reference].dose.value <= 0.0:
        raise InputError("the reference condition receives no dose (its jar is full of balls, "
                         "so the hindering factor is 0); choose another reference",
                         source="reference")
    return MillingGrid(
        plans=plans,
        doses=doses,
        reference=reference,
        provenance=make_provenance(
            "ssbkit.synthesis.mill_grid",
            settings={"dose": dict(dose) if dose is not None else None, "reference": reference,
                      **plan_options},
            inputs={"frbs": frbs, "bmrs": bmrs},
            citations=["burgio1991", "iasonna1996"] if doses else [],
        ),
    )
