"""Powder X-ray diffraction: patterns, structures, pattern simulation, Le Bail / Pawley /
Rietveld refinement, phase identification, size and strain.
"""

from ssbkit.xrd.data import ANODES, Instrument, Pattern, wavelengths_from

__all__ = ["ANODES", "Instrument", "Pattern", "wavelengths_from"]
