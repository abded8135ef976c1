"""The peer side of the DRT benchmark: pyDRTtools 0.2 ``simple_run``, headless and quiet.

pyDRTtools is a GUI program; its Tikhonov DRT lives in ``pyDRTtools.runs.simple_run``.
Three things stand between that function and a benchmark loop, and this module handles
them so that ``drt.py``'s benchmark can call the peer like any function:

- ``pyDRTtools/__init__.py`` imports the PyQt5 GUI (``GUI``, ``layout``, ``cli``) and prints
  to stdout. Rather than install PyQt5 (about 60 MB of Qt) or fake its widget classes, the
  package is registered in ``sys.modules`` from its import spec *without running its
  ``__init__``*; ``pyDRTtools.runs`` and what it imports (``basics``, ``BHT``, ``HMC``,
  ``parameter_selection``, ...) never touch Qt, so the numerics are exactly the published
  ones and no GUI module is loaded at all.
- The modules print (``parameter_selection`` prints ``sys.path`` on import, ``simple_run``
  prints lambda, SLSQP runs with ``disp=True``) and cvxopt prints solver progress: cvxopt's
  ``show_progress`` is switched off and the rest goes to a null stream.
- Its undeclared imports (cvxopt, GPL-3.0; scikit-learn; matplotlib) are pinned in the
  ``bench`` extra; matplotlib is forced onto the Agg backend.

Conventions of the peer, checked in its source: ``EIS_object(freq, Z', Z'')`` builds
``Z = Z' + jZ''`` and its imaginary kernel is ``-g_ii < 0``, so Z'' is passed with the
usual sign (capacitive Z'' < 0, as in its sample files); the inductance column is
``+2*pi*f``. Collocation times are ``tau = 1/f``. Frequencies are handed over from high to
low, as in all of its sample files: with ascending frequencies its mean log-spacing turns
negative and its "log-spaced?" test (``std/mean < 0.01``) then always passes, so it would
build the A matrices with the Toeplitz shortcut even for irregular grids.

Two properties of the peer that a comparison must allow for (measured on the files below):

- Its A matrices come from the Toeplitz shortcut whenever the log-spacing varies by < 1 %.
  ``data_1.csv`` passes at 0.98 %, and its entries then differ from the exact quadrature by
  up to 5.8e-4 (2.3e-3 of the largest entry); on ``data_ZARC.csv`` (exactly log-spaced) by
  5.5e-6. Its quadratures also raise scipy IntegrationWarnings on ``data_1.csv``
  (silenced here; the full-grid values agree with a careful quadrature to 3e-10).
- Its GCV is SLSQP on log(lambda) from log(1e-3) with SLSQP's default ``ftol`` = 1e-6,
  an absolute tolerance on an unscaled score in Ohm^2. On ``data_1.csv`` (|Z| ~ 0.1 Ohm)
  the score is ~3e-8, so SLSQP stops after one iteration and "GCV" returns the start,
  1e-3, although the score falls monotonically towards the 1e-7 bound there. On
  ``data_ZARC.csv`` (|Z| ~ 10-60 Ohm) it finds the interior minimum, 2.78e-2.

    benchmarks/.venv/bin/python benchmarks/drt_peer.py
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

_INSTALL_HINT = (
    "pyDRTtools 0.2 is not installed in this environment; run `make bench` (it installs the "
    "'bench' extra, pinned in constraints.txt, into benchmarks/.venv) or "
    "`pip install -c constraints.txt -e '.[bench,eis]'`"
)
REPEAT = 5  # the same spectrum timed this many times (after the warm-up)
_METHODS = ("GCV", "mGCV", "rGCV", "LC", "re-im", "kf")
_RBFS = ("Gaussian", "C0 Matern", "C2 Matern", "C4 Matern", "C6 Matern", "Inverse Quadratic",
         "Inverse Quadric", "Cauchy", "PWL")


def load_peer() -> Any:
    """``pyDRTtools.runs``, imported without its GUI package ``__init__`` and without output."""
    if "pyDRTtools.runs" in sys.modules:
        return sys.modules["pyDRTtools.runs"]
    spec = importlib.util.find_spec("pyDRTtools")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_INSTALL_HINT)
    os.environ.setdefault("MPLBACKEND", "Agg")  # runs.py imports pyplot; no display here
    # The package object without executing __init__.py: submodules and their relative
    # imports resolve through __path__, the GUI modules are never imported.
    package = importlib.util.module_from_spec(spec)
    sys.modules["pyDRTtools"] = package
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            runs = importlib.import_module("pyDRTtools.runs")
    except ImportError as exc:
        sys.modules.pop("pyDRTtools", None)
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    from cvxopt import solvers

    solvers.options["show_progress"] = False
    return runs


def _spectrum(freq: Any, z: Any) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(freq, dtype=float)
    zz = np.asarray(z, dtype=complex)
    if f.ndim != 1 or zz.shape != f.shape or f.size < 3:
        raise ValueError(f"freq and z must be 1-D of the same length >= 3, got {f.shape} and {zz.shape}")
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(zz)) and np.all(f > 0)):
        raise ValueError("freq must be finite and > 0, z finite")
    order = np.argsort(-f, kind="stable")  # high to low, as the peer's own files
    return f[order], zz[order]


def peer_drt(
    freq: Any,
    z: Any,
    *,
    lam: float | None = None,
    method: str = "GCV",
    rbf: str = "Gaussian",
    order: int = 1,
    inductance: int = 1,
    coeff: float = 0.5,
) -> dict[str, Any]:
    """One pyDRTtools ``simple_run`` (combined Re-Im data, FWHM shape control) on one spectrum.

    ``freq`` in Hz, ``z`` complex in Ohm with ``Z = Z' + jZ''`` (capacitive ``Z'' < 0``).
    ``lam`` given: ``cv_type="custom"`` with ``reg_param=lam``; else ``method`` picks lambda
    (GCV by default, SLSQP from log(1e-3) as the peer does). ``order`` is the derivative in
    the penalty (1 or 2). ``inductance``: 0 fit without L, 1 fit L, 2 drop the points with
    Z'' > 0 first and fit without L (what the peer's GUI does before calling ``simple_run``).

    Returns tau (collocation times, ascending), x (RBF coefficients on tau), tau_fine and
    gamma (the DRT on the peer's fine grid, Ohm), R_inf [Ohm], L [H], lambda, epsilon.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if rbf not in _RBFS:
        raise ValueError(f"rbf must be one of {_RBFS}, got {rbf!r}")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    if inductance not in (0, 1, 2):
        raise ValueError(f"inductance must be 0, 1 or 2, got {inductance!r}")
    if lam is not None and not (np.isfinite(lam) and lam > 0):
        raise ValueError(f"lam must be finite and > 0, got {lam!r}")
    f, zz = _spectrum(freq, z)
    if inductance == 2:
        keep = zz.imag <= 0
        f, zz = f[keep], zz[keep]
    runs = load_peer()
    entry = runs.EIS_object(f, zz.real.copy(), zz.imag.copy())
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy IntegrationWarning from its quadratures
        runs.simple_run(
            entry,
            rbf_type=rbf,
            data_used="Combined Re-Im Data",
            induct_used=inductance,
            der_used="1st order" if order == 1 else "2nd order",
            cv_type="custom" if lam is not None else method,
            reg_param=1e-3 if lam is None else float(lam),
            shape_control="FWHM Coefficient",
            coeff=coeff,
        )
    return {
        "tau": np.asarray(entry.tau, dtype=float),
        "x": np.asarray(entry.x, dtype=float),
        "tau_fine": np.asarray(entry.out_tau_vec, dtype=float).ravel(),
        "gamma": np.asarray(entry.gamma, dtype=float).ravel(),
        "R_inf": float(entry.R),
        "L": float(entry.L),
        "lambda": float(np.ravel(entry.lambda_value)[0]),  # GCV leaves a 1-element array
        "epsilon": float(entry.epsilon),
    }


def time_peer(spectra: Sequence[tuple[Any, Any]], **kw: Any) -> tuple[float, list[dict[str, Any]]]:
    """Seconds per spectrum of ``peer_drt`` over ``spectra`` ((freq, z) pairs), and the results.

    One warm-up call on the first spectrum (imports, first-call caches) is not timed.
    """
    if not spectra:
        raise ValueError("spectra is empty")
    peer_drt(*spectra[0], **kw)
    with contextlib.redirect_stdout(io.StringIO()):  # one null stream for the whole loop
        t0 = time.perf_counter()
        results = [peer_drt(f, z, **kw) for f, z in spectra]
        seconds = time.perf_counter() - t0
    return seconds / len(spectra), results


def _read(*parts: str) -> tuple[np.ndarray, np.ndarray]:
    from ssbkit.testing import shared_data_root

    root = shared_data_root()
    path = None if root is None else root.joinpath(*parts)
    if path is None or not path.exists():
        raise SystemExit(f"shared data file {'/'.join(parts)!r} not found (set SSBKIT_SHARED_DATA)")
    data = np.loadtxt(path, delimiter=",")
    return data[:, 0], data[:, 1] + 1j * data[:, 2]


def main() -> None:
    import importlib.metadata as md

    load_peer()
    versions = ", ".join(f"{p} {md.version(p)}" for p in ("pyDRTtools", "cvxopt", "numpy", "scipy"))
    print(f"pyDRTtools simple_run (Gaussian RBF, coeff 0.5, 1st-order penalty, Re+Im, L fitted); {versions}")
    for parts in (("eis", "pyDRTtools", "data_1.csv"), ("eis", "DRTtools", "data_ZARC.csv")):
        f, z = _read(*parts)
        print(f"  {parts[-1]} ({f.size} points, {f.min():.3g}-{f.max():.3g} Hz)")
        for label, kw in (("lambda = 1e-3", {"lam": 1e-3}), ("GCV", {"method": "GCV"})):
            per, results = time_peer([(f, z)] * REPEAT, **kw)
            res = results[0]
            peak = int(np.argmax(res["gamma"]))
            print(f"    {label:14s} {1e3 * per:9.1f} ms/spectrum  lambda {res['lambda']:.3e}  "
                  f"R_inf {res['R_inf']:.4g} Ohm  L {res['L']:.3g} H  "
                  f"gamma peak {res['gamma'][peak]:.4g} Ohm at tau {res['tau_fine'][peak]:.3g} s")


if __name__ == "__main__":
    main()
