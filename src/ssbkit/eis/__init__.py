"""Impedance spectroscopy: spectra, equivalent circuits and synthetic data.

Fitting, Kramers–Kronig, conductivity, Arrhenius and DRT are still to come (issues 3, 4).
"""

from ssbkit.eis.circuits import Circuit, parse_circuit
from ssbkit.eis.data import Chronoamperometry, Spectrum
from ssbkit.eis.elements import ELEMENTS, Element, ParameterSpec
from ssbkit.eis.simulate import simulate_spectrum

__all__ = [
    "ELEMENTS",
    "Chronoamperometry",
    "Circuit",
    "Element",
    "ParameterSpec",
    "Spectrum",
    "parse_circuit",
    "simulate_spectrum",
]
