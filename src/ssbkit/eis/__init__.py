"""Impedance spectroscopy: spectra, equivalent circuits, fitting, Kramers–Kronig,
conductivity, DC polarisation, Arrhenius analysis and the distribution of relaxation
times (DRT).
"""

from ssbkit.eis.arrhenius import ArrheniusResult, arrhenius, arrhenius_from_conductivities
from ssbkit.eis.circuits import Circuit, parse_circuit
from ssbkit.eis.conductivity import (
    ConductivityResult,
    PelletGeometry,
    assign_arcs,
    conductivity_from_fit,
    effective_capacitance,
    ionic_conductivity,
    layer_ionic_conductivity,
)
from ssbkit.eis.data import Chronoamperometry, Spectrum
from ssbkit.eis.dcpol import DCPolarisationResult, electronic_conductivity
from ssbkit.eis.drt import DRTPeak, DRTResult, deconvolve_peaks, drt, drt_batch
from ssbkit.eis.drt_basis import RBF_TYPES, drt_basis
from ssbkit.eis.drt_series import DRTSeries, drt_series
from ssbkit.eis.elements import ELEMENTS, Element, ParameterSpec
from ssbkit.eis.fit import FitResult, fit_circuit, fit_circuits
from ssbkit.eis.guess import find_processes, guess_parameters
from ssbkit.eis.kk import KramersKronigResult, linkk
from ssbkit.eis.simulate import simulate_polarisation, simulate_spectrum

__all__ = [
    "ELEMENTS",
    "RBF_TYPES",
    "DRTPeak",
    "DRTResult",
    "DRTSeries",
    "ArrheniusResult",
    "Chronoamperometry",
    "Circuit",
    "ConductivityResult",
    "DCPolarisationResult",
    "Element",
    "FitResult",
    "KramersKronigResult",
    "ParameterSpec",
    "PelletGeometry",
    "Spectrum",
    "arrhenius",
    "arrhenius_from_conductivities",
    "assign_arcs",
    "conductivity_from_fit",
    "deconvolve_peaks",
    "drt",
    "drt_basis",
    "drt_batch",
    "drt_series",
    "effective_capacitance",
    "electronic_conductivity",
    "find_processes",
    "fit_circuit",
    "fit_circuits",
    "guess_parameters",
    "ionic_conductivity",
    "layer_ionic_conductivity",
    "linkk",
    "parse_circuit",
    "simulate_polarisation",
    "simulate_spectrum",
]
