"""Powder X-ray diffraction: patterns, structures, pattern simulation, Le Bail / Pawley /
Rietveld refinement, phase identification, size and strain.

Reading scans and instrument files is ``ssbkit.io.read_pattern`` / ``ssbkit.io.read_instrument``;
plots are in ``ssbkit.xrd.plot``.
"""

from ssbkit.xrd.crystal import Phase, Reflections, Site, reflections, structure_factors
from ssbkit.xrd.data import ANODES, Instrument, Pattern, wavelengths_from
from ssbkit.xrd.identify import Identification, PhaseMatch, identify
from ssbkit.xrd.refine import PhaseRefinement, RefinementResult, refine
from ssbkit.xrd.simulate import PhaseBroadening, calculate_pattern, simulate_pattern, weight_fractions
from ssbkit.xrd.sizestrain import SizeStrainResult, fit_peaks, scherrer, sizestrain, williamson_hall
from ssbkit.xrd.structures import BUILTIN_PHASES, argyrodite, builtin_phase

__all__ = [
    "ANODES",
    "BUILTIN_PHASES",
    "Identification",
    "Instrument",
    "Pattern",
    "Phase",
    "PhaseBroadening",
    "PhaseMatch",
    "PhaseRefinement",
    "Reflections",
    "RefinementResult",
    "Site",
    "SizeStrainResult",
    "argyrodite",
    "builtin_phase",
    "calculate_pattern",
    "fit_peaks",
    "identify",
    "reflections",
    "refine",
    "scherrer",
    "simulate_pattern",
    "sizestrain",
    "structure_factors",
    "weight_fractions",
    "wavelengths_from",
    "williamson_hall",
]
