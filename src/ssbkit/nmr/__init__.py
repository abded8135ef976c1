"""Solid-state NMR: Bruker data and processing, 1D deconvolution, 2D-EXSY volumes, diffusion
and multi-site exchange models, Arrhenius fits of D(T) and k(T).

Reading Bruker data is ``ssbkit.io.read_nmr`` (readers live in ``ssbkit.io``); plots are in
``ssbkit.nmr.plot``.
"""

from ssbkit.nmr.buildup import (
    BuildupFit,
    BuildupSeriesFit,
    GlobalArrheniusFit,
    RateArrhenius,
    arrhenius_rate,
    fit_buildup,
    fit_buildup_series,
    read_buildup_table,
)
from ssbkit.nmr.data import FID, NMRSpectrum
from ssbkit.nmr.deconvolve import Deconvolution, Line, deconvolve, estimate_noise, pseudo_voigt
from ssbkit.nmr.exchange import (
    ExchangeFit,
    ExchangeInversion,
    ExchangeRate,
    exchange_matrix_inversion,
    exchange_volumes,
    fit_exchange,
    kinetic_matrix,
    read_exchange_table,
)
from ssbkit.nmr.models import MODELS, BuildupModel, get_model
from ssbkit.nmr.process import (
    apodize,
    autophase,
    baseline,
    fourier_transform,
    phase,
    process,
    process_2d,
    reference,
    remove_digital_filter,
    zero_fill,
)
from ssbkit.nmr.simulate import STUDY_SHIFTS_PPM, simulate_buildup, simulate_exchange, simulate_exsy_spectra
from ssbkit.nmr.volumes import DEFAULT_SITES, VolumeTable, exsy_volumes, normalize, t1_correct

__all__ = [
    "DEFAULT_SITES",
    "FID",
    "MODELS",
    "STUDY_SHIFTS_PPM",
    "BuildupFit",
    "BuildupModel",
    "BuildupSeriesFit",
    "Deconvolution",
    "ExchangeFit",
    "ExchangeInversion",
    "ExchangeRate",
    "GlobalArrheniusFit",
    "Line",
    "NMRSpectrum",
    "RateArrhenius",
    "VolumeTable",
    "apodize",
    "arrhenius_rate",
    "autophase",
    "baseline",
    "deconvolve",
    "estimate_noise",
    "exchange_matrix_inversion",
    "exchange_volumes",
    "exsy_volumes",
    "fit_buildup",
    "fit_buildup_series",
    "fit_exchange",
    "fourier_transform",
    "get_model",
    "kinetic_matrix",
    "normalize",
    "phase",
    "process",
    "process_2d",
    "pseudo_voigt",
    "read_buildup_table",
    "read_exchange_table",
    "reference",
    "remove_digital_filter",
    "simulate_buildup",
    "simulate_exchange",
    "simulate_exsy_spectra",
    "t1_correct",
    "zero_fill",
]
