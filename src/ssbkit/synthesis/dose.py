"""Milling dose in a planetary ball mill: the Burgio–Magini kinematic model.

No maintained Python package computes this, so it is written here from the equations as
they are commonly quoted from Burgio et al. (Il Nuovo Cimento D 13 (1991) 459) and
Iasonna & Magini (Acta Mater. 44 (1996) 1109). Symbols: ω_p the plate (sun-disk) angular
velocity; ω_v the jar's angular velocity **in the laboratory frame**; R_p the distance
from the plate centre to the jar centre; r_v the jar's inner radius; d_b the ball
diameter; m_b the mass of one ball; N_b the number of balls; m_p the powder mass; t the
time::

    ball velocity at detachment   v_b = [(ω_p R_p)² + ω_v² (r_v − d_b/2)² (1 − 2 ω_v/ω_p)]^½
    energy of one impact          E_b = ½ m_b v_b²
    impacts per ball per second   f_b = K (ω_p − ω_v) / 2π          (K ≈ 1)
    hindering factor              φ_b = 1 − n_v^ε,  n_v = N_b / N_b,max   (φ_b = 1 when ε is not given)
    milling power                 P   = φ_b E_b N_b f_b
    specific dose                 D   = P t / m_p                   [J/g]

**The frame of ω_v matters.** A ball riding on the jar wall leaves it where the wall's
push falls to zero, cos α = −(r_v − d_b/2) ω_v² / (R_p ω_p²); the velocity there is the
v_b above only when ω_v is the jar's absolute (laboratory-frame) angular velocity. Mill
data sheets give a *transmission ratio* k (1:−2 for the Fritsch P7 and Retsch PM100):
the jar's turns per plate turn measured on the plate, so ω_v = (1 + k) ω_p, i.e. −ω_p for
1:−2. This module takes k (``transmission_ratio``), as printed on the data sheet, and
converts it. The model needs the ball to leave the wall at all,
(r_v − d_b/2) ω_v² ≤ R_p ω_p²; conditions where it does not are refused.

Assumptions, stated because they limit what the numbers mean:

- every impact is completely inelastic and releases all of the ball's kinetic energy
  (Burgio's full expression also subtracts the energy the ball keeps after the hit);
- ball–ball collisions and the powder's cushioning are ignored; φ_b (applied once, to
  the power) is the only correction for a crowded jar, and its exponent ε is empirical
  and depends on the ball size, so it is left to the user (``hindering_exponent``);
- N_b,max, the most balls a jar holds, is a bed at the packing fraction filling the jar.

Absolute doses therefore carry the model's uncertainty; ratios between conditions on the
same mill and jar (``MillingGrid`` reports them) are robust. At fixed speed and jar,
D ∝ BMR · φ_b · v_b² · f_b · t.

Examples
--------
>>> from ssbkit.synthesis.milling import plan_milling
>>> plan = plan_milling(jar_volume_ml=50, ball_diameter_mm=10, ball_material="WC", frb=0.1, bmr=80)
>>> d = milling_dose(plan, rpm=300, time_h=1, plate_radius_mm=70, jar_radius_mm=22.5)
>>> d.lab_speed_ratio, round(d.ball_velocity.value, 3), round(d.impact_frequency.value, 3)
(-1.0, 2.396, 10.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ssbkit.core import citations
from ssbkit.core.errors import InputError
from ssbkit.core.results import Estimate, Result, make_provenance
from ssbkit.core.validate import in_range, positive, require_finite_outputs
from ssbkit.synthesis.milling import MillingPlan

__all__ = ["MillingDose", "milling_dose"]

citations.register(
    "burgio1991",
    "N. Burgio, A. Iasonna, M. Magini, S. Martelli, F. Padella, Mechanical alloying of the "
    "Fe-Zr system. Correlation between input energy and end products, Il Nuovo Cimento D 13 "
    "(1991) 459-476.",
)
citations.register(
    "iasonna1996",
    "A. Iasonna, M. Magini, Power measurements during mechanical milling. An experimental way "
    "to investigate the energy transfer phenomena, Acta Mater. 44 (1996) 1109-1117.",
)


@dataclass(frozen=True, kw_only=True)
class MillingDose(Result):
    """Energy delivered to the powder by one milling condition."""

    plan: MillingPlan
    rpm: float
    time: Estimate
    plate_radius: Estimate
    jar_radius: Estimate
    transmission_ratio: float
    lab_speed_ratio: float
    ball_velocity: Estimate
    impact_energy: Estimate
    impact_frequency: Estimate
    hindering_factor: float
    power: Estimate
    total_energy: Estimate
    dose: Estimate

    def _report_lines(self) -> list[str]:
        return [
            f"  {self.rpm:g} rpm (transmission 1:{self.transmission_ratio:g}), "
            f"R_p {self.plate_radius.value:g} mm, r_v {self.jar_radius.value:g} mm, "
            f"{self.time.value / 3600:g} h",
            f"  ball velocity {self.ball_velocity.value:.3f} m/s, "
            f"{1e3 * self.impact_energy.value:.2f} mJ per impact, "
            f"{self.impact_frequency.value:.2f} impacts/s per ball, φ_b {self.hindering_factor:.3f}",
            f"  power {self.power.value:.3f} W for {self.plan.n_balls} balls; "
            f"dose {self.dose.value:.4g} J/g on {self.plan.powder_mass.value:.3f} g of powder",
        ]


def milling_dose(
    plan: MillingPlan,
    *,
    rpm: float,
    time_h: float,
    plate_radius_mm: float,
    jar_radius_mm: float,
    transmission_ratio: float = -2.0,
    hindering_exponent: float | None = None,
    impact_constant: float = 1.0,
) -> MillingDose:
    """Burgio–Magini energy, power and specific dose of milling ``plan`` (see module docstring).

    Parameters
    ----------
    plan
        The charge, from ``plan_milling``.
    rpm
        Plate (sun-disk) speed [rpm].
    time_h
        Milling time [h], pauses excluded.
    plate_radius_mm
        Distance from the plate centre to the jar centre, R_p [mm] (half the "effective
        sun-disk diameter" of the mill's data sheet).
    jar_radius_mm
        Inner radius of the jar, r_v [mm].
    transmission_ratio
        The data sheet's jar-to-plate ratio k, measured on the plate (−2 for 1:−2 mills);
        the jar turns at ω_v = (1 + k) ω_p in the laboratory frame.
    hindering_exponent
        ε of φ_b = 1 − n_v^ε; ``None`` for no hindering (φ_b = 1).
    impact_constant
        K, impacts per relative revolution (≈ 1).
    """
    # Generous physical bounds: far beyond any laboratory mill, but they keep the
    # arithmetic finite and turn typos (1e30 rpm) into clear errors.
    speed = in_range("rpm", rpm, 0.0, 1e5, low_inclusive=False)
    seconds = in_range("time_h", time_h, 0.0, 1e6, low_inclusive=False) * 3600.0
    plate = in_range("plate_radius_mm", plate_radius_mm, 0.0, 1e4, low_inclusive=False) / 1e3
    vial = in_range("jar_radius_mm", jar_radius_mm, 0.0, 1e4, low_inclusive=False) / 1e3
    k = in_range("transmission_ratio", transmission_ratio, -100.0, 100.0)
    impacts = positive("impact_constant", impact_constant)
    ball_radius = plan.ball_diameter.value / 2e3
    if vial <= ball_radius:
        raise InputError(f"the jar radius {vial * 1e3:g} mm must exceed the ball radius "
                         f"{ball_radius * 1e3:g} mm", source="jar_radius_mm")
    if k == 0.0:
        raise InputError("a jar that does not turn on the plate (ratio 0) gives no impacts",
                         source="transmission_ratio")

    lab_ratio = 1.0 + k
    omega_p = 2.0 * math.pi * speed / 60.0
    omega_v = lab_ratio * omega_p
    orbit = vial - ball_radius  # radius of the ball centre's path around the jar centre
    if orbit * omega_v**2 > plate * omega_p**2:
        raise InputError(
            f"with transmission 1:{k:g} the balls never leave the jar wall "
            f"((r_v − d_b/2)·ω_v² = {orbit * lab_ratio**2 * 1e3:.4g} mm·ω_p² exceeds "
            f"R_p·ω_p² = {plate * 1e3:g} mm·ω_p²), so the impact model does not apply",
            source="transmission_ratio",
        )
    v_squared = (omega_p * plate) ** 2 + omega_v**2 * orbit**2 * (1.0 - 2.0 * omega_v / omega_p)
    velocity = math.sqrt(v_squared)
    mass_kg = plan.single_ball_mass.value / 1e3
    impact_energy = 0.5 * mass_kg * v_squared
    frequency = impacts * abs(k) * omega_p / (2.0 * math.pi)  # |ω_p − ω_v| = |k| ω_p, exactly

    if hindering_exponent is None:
        hindering = 1.0
    else:
        epsilon = positive("hindering_exponent", hindering_exponent)
        filling = plan.n_balls * plan.ball_volume / (plan.packing * plan.jar_volume.value)
        hindering = 1.0 - min(filling, 1.0) ** epsilon

    power = hindering * impact_energy * plan.n_balls * frequency
    energy = power * seconds
    require_finite_outputs(power=power, energy=energy, dose=energy / plan.powder_mass.value)
    return MillingDose(
        plan=plan,
        rpm=speed,
        time=Estimate(seconds, unit="s"),
        plate_radius=Estimate(plate * 1e3, unit="mm"),
        jar_radius=Estimate(vial * 1e3, unit="mm"),
        transmission_ratio=k,
        lab_speed_ratio=lab_ratio,
        ball_velocity=Estimate(velocity, unit="m/s"),
        impact_energy=Estimate(impact_energy, unit="J"),
        impact_frequency=Estimate(frequency, unit="Hz"),
        hindering_factor=hindering,
        power=Estimate(power, unit="W"),
        total_energy=Estimate(energy, unit="J"),
        dose=Estimate(energy / plan.powder_mass.value, unit="J/g"),
        provenance=make_provenance(
            "ssbkit.synthesis.milling_dose",
            settings={"transmission_ratio": k, "hindering_exponent": hindering_exponent,
                      "impact_constant": impacts},
            inputs={"plan": plan.provenance.inputs if plan.provenance else None, "rpm": speed,
                    "time_h": seconds / 3600, "plate_radius_mm": plate * 1e3,
                    "jar_radius_mm": vial * 1e3},
            citations=["burgio1991", "iasonna1996"],
        ),
    )
