"""ssbkit: from raw instrument files to reproducible results for solid-state battery research.

Subpackages, one per task:

- ``core``       units, ``Estimate``, ``Result``, errors, validation, reader registry
- ``synthesis``  formulas, precursor recipes, ball-mill plans and milling dose
- ``eis``        impedance: spectra, circuits, fitting with data-derived starts, lin-KK,
                 pellet conductivity, DC polarisation, Arrhenius, synthetic data, plots
- ``io``         readers for instrument files (registered through entry points)
- ``cli``        the ``ssbkit`` command
- ``testing``    assertions and helpers for tests of ssbkit and of code built on it

DRT, cycling, pressure, XRD, NMR and the study database arrive as
their own subpackages, or extend these, with the same shape.
"""

from ssbkit.core.errors import InputError, SSBKitError
from ssbkit.core.registry import list_readers, read

__version__ = "0.1.0"

__all__ = ["InputError", "SSBKitError", "__version__", "list_readers", "read"]
