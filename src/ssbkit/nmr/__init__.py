"""Solid-state NMR: Bruker data and processing, 1D deconvolution, 2D-EXSY volumes, diffusion
and multi-site exchange models, Arrhenius fits of D(T) and k(T).
"""

from ssbkit.nmr.data import FID, NMRSpectrum

__all__ = ["FID", "NMRSpectrum"]
