"""From an FID to a spectrum: digital filter, apodisation, zero filling, FFT, phase, baseline, ppm.

``process(fid)`` runs the 1D chain and ``process_2d(fid)`` the 2D one; each step is also a
function of its own, and every step appends its settings to ``metadata["processing"]``.

**Conventions.**

- Time domain: point k of a dimension is at t = k/SW. A line at an offset ν [Hz] above the
  carrier rotates as exp(+2πiνt) (so Bruker data are stored; the tests check it against
  TopSpin's own ``1r``).
- FFT: the N points of a spectrum lie at ν_k = (⌊N/2⌋ − k)·SW/N, k = 0…N−1, from +SW/2 (k = 0)
  down to −SW/2 + SW/N, and ppm_k = carrier_ppm + ν_k/observe_MHz = (carrier_Hz + ν_k)/observe_MHz:
  high ppm first, as spectra are drawn and as TopSpin writes ``1r``
  (OFFSET − k·SW_p/(SF·SI)).
- Phase [degrees], TopSpin's sign: S_k → S_k·exp(−i·(p0 + p1·k/N)), k = 0 at the high-ppm end;
  a line whose FID carries a phase φ is put into absorption by p0 = φ. TopSpin's PHC0/PHC1 can
  be given as they stand.
- Windows (t from 0 to AQ = N/SW): ``exponential`` exp(−π·LB·t), which adds LB [Hz] to a
  Lorentzian's full width at half height (FWHM = 1/(πT2) + LB); ``gaussian``, TopSpin's GM,
  exp(−π·LB·t + π·LB·t²/(2·GB·AQ)) with LB < 0 and its maximum at t = GB·AQ; ``sine``
  sin(π·s + π·(1 − s)·t/AQ) and ``sine-squared`` its square, where s = ``sine_offset``
  (TopSpin's 1/SSB: 0 a pure sine, 0.5 a cosine); ``cos2`` is ``sine-squared`` with s = 0.5.
  They are one-line formulas, written here so that the same weights serve the indirect
  dimension of a 2D, whose points come in pairs.
- Digital filter: Bruker's group delay (GRPDLY points, often fractional: 67.987 on the shared
  COSY) is a time shift, a phase linear in the offset from the carrier. It is undone here by
  that linear phase on the signed DFT frequencies. ``nmrglue.bruker.rm_dig_filter`` rounds the
  delay down by default (leaving up to 360° of first-order phase) and otherwise shifts with the
  unsigned frequencies 0…N−1, which for a fractional delay adds 360°·(fraction − 1) of
  zero-order phase to one half of the spectrum only (−7° at GRPDLY 67.98; the tests measure it).
- First point: ``first_point`` scales the t = 0 point before the FFT. A sampled FID's DFT
  carries a constant offset of half that point (the discrete sum counts t = 0 once where the
  integral of a decay starting there counts it half); 0.5 removes it. In 1D the default (None)
  is 0.5 for an FID without a digital-filter group delay and 1 for one with it, as TopSpin
  processes digitally filtered Bruker data, so that our spectrum of such data matches its
  ``1r`` (the tests compare them). F2 of a 2D keeps 1 (TopSpin's practice), and F1 takes 0.5,
  where the offset would otherwise become a ridge through every F2 line (2 % of the peak on
  the test spectra).
- Whatever first point is kept, automatic phasing in ``process``/``process_2d`` scores the
  phase on the spectrum without that offset and applies the phase found to the spectrum
  asked for: the offset is a constant complex lift of every point, so in the real part it
  cancels negative intensity, and ACME's negativity penalty, which is what pins p0 between
  overlapping lines, stops acting (p0 then wandered by 7–17° on the study's 6Li lines).

**2D** (array order: F1 indirect, F2 direct). F2 is apodised, zero filled, transformed and
phased row by row; the phase in F2 comes from the first increment (t1 = 0), autophased unless
given. The rows then become one complex t1 signal per F2 point, by the quadrature scheme
(``FID.acquisition_mode``):

- ``QF``: each row is one t1 point, phase-modulated as the echo (N-type) pathway that
  gradient-selected magnitude experiments keep (cosygpqf, hmbcgplpndqf), exp(−iΩ1t1); complex
  FT in F1 with that sign, and magnitude (phase-twisted lines cannot be phased). The shared
  COSY (exam2d_HH) puts its diagonal on F1 = F2 this way, and on the anti-diagonal otherwise.
- ``TPPI``: real t1 points at dwell 1/(2·SW1) whose phase advances 90° per row (the F1 offset
  appears shifted by +SW1/2); the shift is removed and the central half of the FT kept.
- ``States``: rows 2j and 2j+1 are the cosine and sine modulated parts; t1 signal
  Re(row 2j) + i·Re(row 2j+1) (hypercomplex, pure absorption in both dimensions).
- ``States-TPPI``: as States, with the sign of increment j alternating, (−1)^j.
- ``echo-antiecho``: rows 2j (echo, exp(−iΩ1t1)) and 2j+1 (antiecho, exp(+iΩ1t1)) become
  cosine (A + E)/2 and sine (A − E)/(2i) rows, then as States.

The F1 signs of TPPI, States and echo–antiecho follow these definitions and are checked on
synthetic data built to them; on real data, QF by the COSY's diagonal and States-TPPI by the
shared 27Al{31P} HMQC, whose Al–O–P peak lands at 27Al 35–41 ppm and 31P −24 to −30 ppm
(mirrored F1 would put 31P near +20 ppm).

A ser whose acquisition stopped early (``metadata["td"][0]`` below the rows stored) is cut to
the rows acquired, rounded down to whole increments.

**Automatic phasing.** ``autophase`` minimises one of two published criteria: ``acme``, the
entropy of the first derivative of the real part plus a penalty on negative intensity (Chen
et al., J. Magn. Reson. 158 (2002) 164), and ``peak_minima``, the difference of the minima on
either side of the tallest peak, which must be positive. Zero order: a scan of p0 over the
whole circle (5° steps), then a bounded refinement. With ``first_order=True``: a scan of the
(p0, p1) plane, p0 over the circle in 10° steps and p1 from −``p1_limit_deg`` to
+``p1_limit_deg`` (default 180°) in 24 steps, then Nelder–Mead within ±20° of the best p0
and within the p1 limit. nmrglue's ``autops`` optimises p0 and p1 together from one starting
point; on test spectra with a pure zero-order error that traded p0 against p1 and stopped
7–14° away, and a refinement started at p1 = 0 missed a p1 of 340° by 85°, so the scans are
done here. The criterion itself has limits the search cannot remove: ACME leaves a few
degrees of error on narrow lines in noise (the penalty also acts on the noise), and p1 is
ill-determined when the signal sits in a narrow band (TopSpin's own PHC1 on the shared 1H MAS
spectrum is −17°, ACME's minimum near +178°, with the same phase at the line).

**Baseline.** ``baseline`` fits a polynomial by least squares to signal-free points and
subtracts it. Signal-free points are given as ppm regions or found as in Dietrich et al.
(J. Magn. Reson. 91 (1991) 1): points where the smoothed first derivative stays within three
noise standard deviations, widened by a margin on each side of every signal, then refined by
refitting and dropping points more than three standard deviations from the fit (which catches
the flat tops of broad lines). nmrglue's ``proc_bl`` offers no polynomial fit on such regions.

Examples
--------
>>> import numpy as np
>>> from ssbkit.nmr.data import FID
>>> t = np.arange(2000) / 5000.0                          # SW = 5 kHz, 2.5 Hz per point
>>> fid = FID(np.exp(2j * np.pi * 1000.0 * t - t / 0.05), spectral_width_Hz=5000.0,
...           observe_MHz=100.0, carrier_ppm=0.0)
>>> s = process(fid, phase=None, window="none", zero_fill=None)
>>> round(float(s.ppm[0][np.argmax(s.data)]), 3)          # 1000 Hz above the carrier at 100 MHz
10.0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ssbkit.core.citations import register
from ssbkit.core.errors import DependencyError, InputError
from ssbkit.core.validate import finite, in_range, one_of, positive_int
from ssbkit.nmr.data import ACQUISITION_MODES, FID, NMRSpectrum

__all__ = [
    "AUTOPHASE_METHODS",
    "WINDOWS",
    "apodize",
    "autophase",
    "baseline",
    "fourier_transform",
    "frequency_offsets_Hz",
    "phase",
    "ppm_axis",
    "process",
    "process_2d",
    "reference",
    "remove_digital_filter",
    "zero_fill",
]

WINDOWS = ("none", "exponential", "gaussian", "sine", "sine-squared", "cos2")
AUTOPHASE_METHODS = ("acme", "peak_minima")

register("chen2002acme", "L. Chen, Z. Weng, L. Goh, M. Garland, An efficient algorithm for automatic phase "
         "correction of NMR spectra based on entropy minimization, J. Magn. Reson. 158 (2002) 164-168.",
         "10.1016/S1090-7807(02)00069-1")
register("dietrich1991baseline", "W. Dietrich, C. H. Rüdel, M. Neumann, Fast and precise automatic baseline "
         "correction of one- and two-dimensional NMR spectra, J. Magn. Reson. 91 (1991) 1-11.",
         "10.1016/0022-2364(91)90402-F")


# -- axes ----------------------------------------------------------------------------------------


def frequency_offsets_Hz(n: int, spectral_width_Hz: float) -> np.ndarray:
    """Offsets from the carrier [Hz] of the n points of a spectrum: (⌊n/2⌋ − k)·SW/n.

    >>> frequency_offsets_Hz(4, 100.0).tolist()
    [50.0, 25.0, 0.0, -25.0]
    """
    n = positive_int("n", n)
    return (n // 2 - np.arange(n)) * (finite("spectral_width_Hz", spectral_width_Hz) / n)


def ppm_axis(n: int, *, spectral_width_Hz: float, observe_MHz: float, carrier_ppm: float) -> np.ndarray:
    """The chemical-shift axis [ppm] of n points: carrier_ppm + ν_k/observe_MHz."""
    return carrier_ppm + frequency_offsets_Hz(n, spectral_width_Hz) / observe_MHz


def _fft(data: np.ndarray, axis: int, *, reverse: bool = False) -> np.ndarray:
    """FFT with point k at ν_k = (⌊n/2⌋ − k)·SW/n; ``reverse``: a signal exp(−2πiνt) lands at ν."""
    n = data.shape[axis]
    index = (np.arange(n) - n // 2) if reverse else (n // 2 - np.arange(n))
    return np.take(np.fft.fft(data, axis=axis), index % n, axis=axis)


# -- time domain ---------------------------------------------------------------------------------


def _step(container: Any, **step: Any) -> dict[str, Any]:
    metadata = dict(container.metadata)
    metadata["processing"] = [*metadata.get("processing", []), step]
    return metadata


def remove_digital_filter(fid: FID) -> FID:
    """The FID without the Bruker digital filter's group delay (``fid.group_delay`` points).

    The FID is shifted back by the delay (a linear phase exp(2πi·f·g) on its signed DFT
    frequencies f, a whole or fractional number g of points), and the last ⌈g⌉ points, which
    then hold the filter's rise before t = 0, are dropped.
    """
    fid = _fid(fid)
    delay = fid.group_delay
    if delay == 0:
        return dataclasses.replace(fid, metadata=_step(fid, step="remove_digital_filter", group_delay=0.0,
                                                       note="no group delay: nothing removed"))
    n = fid.shape[-1]
    drop = math.ceil(delay)
    if n <= drop + 8:
        raise InputError(f"{n} points are too few to remove a group delay of {delay:g} points",
                         source=fid.source or "fid")
    shift = np.exp(2j * np.pi * delay * np.fft.fftfreq(n))
    data = np.fft.ifft(np.fft.fft(fid.data, axis=-1) * shift, axis=-1)[..., : n - drop]
    return dataclasses.replace(fid, data=data, group_delay=0.0,
                               metadata=_step(fid, step="remove_digital_filter", group_delay=delay,
                                              points_left=n - drop))


def _window(n: int, sw: float, window: str, lb: float, gb: float, offset: float) -> np.ndarray:
    t = np.arange(n) / sw
    aq = n / sw
    if window == "none":
        return np.ones(n)
    if window == "exponential":
        return np.exp(-np.pi * lb * t)
    if window == "gaussian":
        return np.exp(-np.pi * lb * t + np.pi * lb * t**2 / (2 * gb * aq))
    s = 0.5 if window == "cos2" else offset
    w = np.sin(np.pi * s + np.pi * (1 - s) * t / aq)
    return w**2 if window in ("sine-squared", "cos2") else w


def _window_settings(window: str, line_broadening_Hz: float, gaussian_position: float,
                     sine_offset: float) -> dict[str, Any]:
    window = one_of("window", window, WINDOWS)
    lb = finite("line_broadening_Hz", line_broadening_Hz)
    settings: dict[str, Any] = {"window": window}
    if window in ("exponential", "gaussian"):
        settings["line_broadening_Hz"] = lb
    if window == "gaussian":
        if lb >= 0:
            raise InputError("the gaussian (TopSpin GM) window needs line_broadening_Hz < 0, the Lorentzian "
                             f"width it removes; got {lb:g}", source="line_broadening_Hz")
        settings["gaussian_position"] = in_range("gaussian_position", gaussian_position, 0, 1,
                                                 low_inclusive=False, high_inclusive=False)
    if window in ("sine", "sine-squared"):
        settings["sine_offset"] = in_range("sine_offset", sine_offset, 0, 1, high_inclusive=False)
    return settings


def _apodize_array(data: np.ndarray, sw: float, settings: dict[str, Any], axis: int) -> np.ndarray:
    n = data.shape[axis]
    w = _window(n, sw, settings["window"], settings.get("line_broadening_Hz", 0.0),
                settings.get("gaussian_position", 0.1), settings.get("sine_offset", 0.0))
    shape = [1] * data.ndim
    shape[axis] = n
    return data * w.reshape(shape)


def apodize(fid: FID, *, window: str = "exponential", line_broadening_Hz: float = 0.0,
            gaussian_position: float = 0.1, sine_offset: float = 0.0) -> FID:
    """The FID multiplied by a window along its direct dimension (formulas in the module notes).

    >>> from ssbkit.nmr.data import FID
    >>> f = apodize(FID(np.ones(4), spectral_width_Hz=1.0, observe_MHz=1.0, carrier_ppm=0.0),
    ...             window="exponential", line_broadening_Hz=1 / np.pi)
    >>> np.round(f.data.real, 4).tolist()                  # exp(-t) at t = 0, 1, 2, 3 s
    [1.0, 0.3679, 0.1353, 0.0498]
    """
    fid = _fid(fid)
    settings = _window_settings(window, line_broadening_Hz, gaussian_position, sine_offset)
    data = _apodize_array(np.array(fid.data), fid.spectral_width_Hz[-1], settings, -1)
    return dataclasses.replace(fid, data=data, metadata=_step(fid, step="apodize", **settings))


def _zero_fill_size(name: str, value: Any, n: int) -> int:
    if value is None:
        return n
    if isinstance(value, str):
        one_of(name, value, ("auto",))
        return 1 << (2 * n - 1).bit_length()  # the next power of two at least twice n
    size = positive_int(name, value)
    if size < n:
        raise InputError(f"{size} points would cut the {n} points measured; give at least {n}", source=name)
    return size


def _pad(data: np.ndarray, size: int, axis: int) -> np.ndarray:
    widths = [(0, 0)] * data.ndim
    widths[axis] = (0, size - data.shape[axis])
    return np.pad(data, widths)


def zero_fill(fid: FID, size: int | str = "auto") -> FID:
    """The FID padded with zeros to ``size`` complex points along its direct dimension
    (``"auto"``: the next power of two at least twice the points measured)."""
    fid = _fid(fid)
    n = fid.shape[-1]
    size = _zero_fill_size("zero_fill", size, n)
    return dataclasses.replace(fid, data=_pad(np.array(fid.data), size, -1),
                               metadata=_step(fid, step="zero_fill", points=n, size=size))


def fourier_transform(fid: FID) -> NMRSpectrum:
    """The spectrum of a 1D FID (real and imaginary parts), high ppm first."""
    fid = _fid(fid, ndim=1)
    spectrum = _fft(np.array(fid.data), 0)
    axis = ppm_axis(spectrum.size, spectral_width_Hz=fid.spectral_width_Hz[0], observe_MHz=fid.observe_MHz[0],
                    carrier_ppm=fid.carrier_ppm[0])
    metadata = _step(fid, step="fourier_transform", size=int(spectrum.size))
    metadata.update({"nucleus": fid.nucleus, "observe_MHz": fid.observe_MHz})
    return NMRSpectrum(spectrum.real, (axis,), imag=spectrum.imag, metadata=metadata, source=fid.source)


# -- phase -----------------------------------------------------------------------------------------


def _phase_factor(n: int, p0: float, p1: float) -> np.ndarray:
    return np.exp(-1j * np.deg2rad(p0 + p1 * np.arange(n) / n))


def _complex(spectrum: NMRSpectrum, what: str) -> np.ndarray:
    if not isinstance(spectrum, NMRSpectrum):
        raise InputError(f"needs an NMRSpectrum, got {type(spectrum).__name__}", source="spectrum")
    if spectrum.ndim != 1:
        raise InputError(f"{what} works on 1D spectra; for 2D use process_2d(phase=..., phase_f1=...)",
                         source=spectrum.source or "spectrum")
    if spectrum.imag is None:
        raise InputError(f"{what} needs the imaginary part, which this spectrum does not keep",
                         source=spectrum.source or "spectrum")
    return spectrum.data + 1j * spectrum.imag


def phase(spectrum: NMRSpectrum, p0: float = 0.0, p1: float = 0.0) -> NMRSpectrum:
    """The spectrum phased by p0 + p1·k/N degrees (TopSpin's PHC0, PHC1 sign; module notes)."""
    z = _complex(spectrum, "phase")
    p0, p1 = finite("p0", p0), finite("p1", p1)
    z = z * _phase_factor(z.size, p0, p1)
    return dataclasses.replace(spectrum, data=z.real, imag=z.imag,
                               metadata=_step(spectrum, step="phase", p0_deg=p0, p1_deg=p1))


def _acme(real: np.ndarray, scale: float) -> float:
    r = real / scale
    d = np.abs(np.diff(r))
    if d.sum() == 0:
        return float(1000.0 * np.sum(np.minimum(r, 0.0) ** 2))
    p = d / d.sum()
    entropy = -np.sum(p[p > 0] * np.log(p[p > 0]))
    return float(entropy + 1000.0 * np.sum(np.minimum(r, 0.0) ** 2))


def _peak_minima(real: np.ndarray, scale: float, peak: int, width: int) -> float:
    left = real[max(peak - width, 0): peak]
    right = real[peak + 1: peak + 1 + width]
    if left.size == 0 or right.size == 0:
        return 0.0
    return float(abs(left.min() - right.min()) / scale + 10.0 * max(-real[peak], 0.0) / scale)


def _find_phase(z: np.ndarray, method: str, first_order: bool, peak_width: int,
                p1_limit: float = 180.0) -> tuple[float, float]:
    try:
        from scipy.optimize import minimize, minimize_scalar
    except ImportError:
        raise DependencyError('automatic phasing needs scipy: pip install "ssbkit[nmr]"') from None

    scale = float(np.abs(z).max())
    if scale == 0 or z.size < 3:
        raise InputError("the spectrum holds no signal to phase", source="spectrum")
    peak = int(np.argmax(np.abs(z)))
    k = np.arange(z.size) / z.size

    def score(p0: float, p1: float = 0.0) -> float:
        real = (z * np.exp(-1j * np.deg2rad(p0 + p1 * k))).real
        return _acme(real, scale) if method == "acme" else _peak_minima(real, scale, peak, peak_width)

    if not first_order:
        grid = np.arange(0.0, 360.0, 5.0)
        best = float(grid[np.argmin([score(p) for p in grid])])
        refined = minimize_scalar(score, bounds=(best - 5.0, best + 5.0), method="bounded",
                                  options={"xatol": 1e-3})
        return (float(refined.x) + 180.0) % 360.0 - 180.0, 0.0
    # p0 and p1 trade against each other: a refinement from p1 = 0 stops in the nearest valley
    p0_grid, p1_grid = np.arange(0.0, 360.0, 10.0), np.linspace(-p1_limit, p1_limit, 25)
    costs = np.array([[score(a, b) for a in p0_grid] for b in p1_grid])
    row, column = np.unravel_index(int(np.argmin(costs)), costs.shape)
    start = [float(p0_grid[column]), float(p1_grid[row])]
    p1_step = float(p1_grid[1] - p1_grid[0])
    simplex = [start, [start[0] + 10.0, start[1]],
               [start[0], start[1] + (p1_step if start[1] + p1_step <= p1_limit else -p1_step)]]
    result = minimize(lambda x: score(x[0], x[1]), x0=start, method="Nelder-Mead",
                      bounds=[(start[0] - 20.0, start[0] + 20.0), (-p1_limit, p1_limit)],
                      options={"xatol": 1e-3, "fatol": 1e-10, "maxiter": 4000, "initial_simplex": simplex})
    return (float(result.x[0]) + 180.0) % 360.0 - 180.0, float(result.x[1])


def autophase(spectrum: NMRSpectrum, *, method: str = "acme", first_order: bool = False,
              peak_width: int = 100, p1_limit_deg: float = 180.0) -> NMRSpectrum:
    """The spectrum phased automatically (p0, and p1 within ±``p1_limit_deg`` when
    ``first_order``); module notes.

    The phase is scored on the spectrum as given: one transformed with its whole first point
    carries a constant lift that weakens the criteria (``process`` removes it for the scoring).
    The phases found are in ``metadata["processing"][-1]`` (``p0_deg``, ``p1_deg``).
    """
    return _autophase(spectrum, method=method, first_order=first_order, peak_width=peak_width,
                      p1_limit_deg=p1_limit_deg)


def _autophase(spectrum: NMRSpectrum, *, method: str, first_order: bool, peak_width: int,
               p1_limit_deg: float = 180.0, offset: complex = 0.0) -> NMRSpectrum:
    """``autophase`` scoring the phase on the spectrum minus a constant ``offset`` (module notes)."""
    z = _complex(spectrum, "autophase")
    method = one_of("method", method, AUTOPHASE_METHODS)
    if not isinstance(first_order, bool):
        raise InputError(f"must be True or False, got {first_order!r}", source="first_order")
    limit = in_range("p1_limit_deg", p1_limit_deg, 0.0, 3600.0, low_inclusive=False)
    p0, p1 = _find_phase(z - offset, method, first_order, positive_int("peak_width", peak_width), limit)
    z = z * _phase_factor(z.size, p0, p1)
    extra: dict[str, Any] = {"citation": "chen2002acme"} if method == "acme" else {}
    if first_order:
        extra["p1_limit_deg"] = limit
    if offset != 0:
        extra["scored_without_first_point_offset"] = True
    return dataclasses.replace(spectrum, data=z.real, imag=z.imag, metadata=_step(
        spectrum, step="autophase", method=method, first_order=first_order, p0_deg=p0, p1_deg=p1, **extra))


# -- baseline and referencing ----------------------------------------------------------------------


def _noise_sigma(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values)))) or float(np.std(values)) or 1.0


def _signal_free(y: np.ndarray, order: int) -> np.ndarray:
    n = y.size
    width = max(3, n // 512)
    smooth = np.convolve(y, np.ones(width) / width, mode="same")
    derivative = np.gradient(smooth)
    signal = np.abs(derivative - np.median(derivative)) > 3.0 * _noise_sigma(derivative)
    margin = max(2 * width, n // 200)
    free = ~np.convolve(signal, np.ones(2 * margin + 1), mode="same").astype(bool)
    x = np.linspace(-1.0, 1.0, n)
    for _ in range(10):
        if free.sum() <= 2 * (order + 1):
            break
        fit = np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyfit(x[free], y[free], order))
        residual = y - fit
        far = np.abs(residual) > 3.0 * _noise_sigma(residual[free])
        grown = np.convolve(far & (np.abs(residual - np.median(residual[free])) > 0), np.ones(2 * width + 1),
                            mode="same").astype(bool)
        updated = free & ~grown
        if np.array_equal(updated, free):
            break
        free = updated
    return free


def baseline(spectrum: NMRSpectrum, *, order: int = 3,
             regions: Sequence[tuple[float, float]] | None = None) -> NMRSpectrum:
    """The 1D spectrum minus a polynomial of ``order`` fitted to its signal-free points.

    ``regions``: signal-free ppm ranges ``[(a, b), …]``; None finds them (module notes). The
    points used are listed in the processing step as ppm ranges.
    """
    if not isinstance(spectrum, NMRSpectrum) or spectrum.ndim != 1:
        raise InputError("baseline works on a 1D NMRSpectrum", source="spectrum")
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 0 <= order <= 10:
        raise InputError(f"must be a whole number from 0 to 10, got {order!r}", source="order")
    y, ppm = spectrum.data, spectrum.ppm[0]
    if regions is None:
        free = _signal_free(y, int(order))
    else:
        free = np.zeros(y.size, bool)
        for j, region in enumerate(regions):
            try:
                a, b = (finite(f"regions[{j}]", v) for v in region)
            except (TypeError, ValueError):
                raise InputError(f"each region is a pair of ppm values, got {region!r}",
                                 source=f"regions[{j}]") from None
            free |= (ppm >= min(a, b)) & (ppm <= max(a, b))
    if free.sum() <= order + 1:
        raise InputError(f"{int(free.sum())} signal-free points cannot fix a polynomial of order {order}",
                         source="regions" if regions is not None else spectrum.source or "spectrum")
    x = np.linspace(-1.0, 1.0, y.size)
    coefficients = np.polynomial.polynomial.polyfit(x[free], y[free], int(order))
    fitted = np.polynomial.polynomial.polyval(x, coefficients)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], free.astype(int), [0]])))
    used = [(float(ppm[a]), float(ppm[b - 1])) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    step = {"step": "baseline", "order": int(order), "regions_ppm": used, "points": int(free.sum())}
    if regions is None:
        step["citation"] = "dietrich1991baseline"
    return dataclasses.replace(spectrum, data=y - fitted, metadata=_step(spectrum, **step))


def reference(spectrum: NMRSpectrum, *, observed_ppm: float, true_ppm: float,
              dimension: int = -1) -> NMRSpectrum:
    """The spectrum with its ppm axis (of ``dimension``) shifted so ``observed_ppm`` reads ``true_ppm``.

    >>> s = NMRSpectrum(np.ones(3), (np.array([2.0, 1.0, 0.0]),))
    >>> reference(s, observed_ppm=1.0, true_ppm=1.5).ppm[0].tolist()
    [2.5, 1.5, 0.5]
    """
    if not isinstance(spectrum, NMRSpectrum):
        raise InputError(f"needs an NMRSpectrum, got {type(spectrum).__name__}", source="spectrum")
    if dimension not in range(-spectrum.ndim, spectrum.ndim):
        raise InputError(f"the spectrum has {spectrum.ndim} dimension(s), got {dimension}",
                         source="dimension")
    shift = finite("true_ppm", true_ppm) - finite("observed_ppm", observed_ppm)
    axes = list(spectrum.ppm)
    axes[dimension] = axes[dimension] + shift
    return dataclasses.replace(spectrum, ppm=tuple(axes), metadata=_step(
        spectrum, step="reference", dimension=dimension % spectrum.ndim, observed_ppm=float(observed_ppm),
        true_ppm=float(true_ppm), shift_ppm=shift))


# -- drivers -----------------------------------------------------------------------------------

# the drivers take options named like these steps
_do_zero_fill, _do_phase, _do_baseline = zero_fill, phase, baseline


def _fid(fid: Any, ndim: int | None = None) -> FID:
    if not isinstance(fid, FID):
        raise InputError(f"needs an FID, got {type(fid).__name__}", source="fid")
    if ndim is not None and fid.ndim != ndim:
        hint = "; use process_2d" if fid.ndim == 2 else ""
        raise InputError(f"needs a {ndim}D FID, this one is {fid.ndim}D{hint}", source=fid.source or "fid")
    return fid


def _phase_choice(name: str, value: Any) -> str | tuple[float, float] | None:
    if value is None or (isinstance(value, str) and one_of(name, value, ("auto",))):
        return value
    try:
        p0, p1 = value
    except (TypeError, ValueError):
        raise InputError(f"must be 'auto', (p0, p1) in degrees or None, got {value!r}", source=name) from None
    return finite(name, p0), finite(name, p1)


def process(fid: FID, *, window: str = "exponential", line_broadening_Hz: float = 0.0,
            gaussian_position: float = 0.1, sine_offset: float = 0.0, zero_fill: int | str | None = "auto",
            phase: str | tuple[float, float] | None = "auto", autophase_method: str = "acme",
            first_order: bool = False, baseline: int | None = None, first_point: float | None = None,
            remove_filter: bool = True) -> NMRSpectrum:
    """A 1D FID to a spectrum: filter removal, window, first point, zero filling, FFT, phase, baseline.

    ``phase``: ``"auto"`` (``autophase`` with ``autophase_method`` and ``first_order``, scored
    without the first point's offset), a pair (p0, p1) in degrees (TopSpin's sign), or None.
    ``first_point``: the factor on the t = 0 point; None: 0.5, or 1 for digitally filtered data
    (module notes). ``baseline``: a polynomial order, or None.
    """
    fid = _fid(fid, ndim=1)
    choice = _phase_choice("phase", phase)
    scale = (1.0 if fid.group_delay > 0 else 0.5) if first_point is None else first_point
    scale = in_range("first_point", scale, 0, 1)
    if remove_filter and fid.group_delay > 0:
        fid = remove_digital_filter(fid)
    fid = apodize(fid, window=window, line_broadening_Hz=line_broadening_Hz,
                  gaussian_position=gaussian_position, sine_offset=sine_offset)
    # the window and the first-point factor commute; the point as windowed gives the offset to remove
    first = complex(fid.data[0])
    if scale != 1.0:
        data = np.array(fid.data)
        data[0] *= scale
        fid = dataclasses.replace(fid, data=data, metadata=_step(fid, step="first_point", scale=scale))
    if zero_fill is not None:
        fid = _do_zero_fill(fid, zero_fill)
    spectrum = fourier_transform(fid)
    if choice == "auto":
        spectrum = _autophase(spectrum, method=autophase_method, first_order=first_order, peak_width=100,
                              offset=(scale - 0.5) * first)
    elif choice is not None:
        spectrum = _do_phase(spectrum, *choice)
    if baseline is not None:
        spectrum = _do_baseline(spectrum, order=baseline)
    return spectrum


def _per_dimension(name: str, value: Any) -> tuple[Any, Any]:
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise InputError(f"give one value or a pair (F1, F2), got {value!r}", source=name)
        return value[0], value[1]
    return value, value


def _t1_signal(spectra: np.ndarray, mode: str) -> np.ndarray:
    """Rows (F2 spectra) to one complex t1 signal per F2 point, by quadrature scheme."""
    if mode == "QF":
        return spectra
    if mode == "TPPI":
        return spectra.real * np.exp(-0.5j * np.pi * np.arange(spectra.shape[0]))[:, None]
    signal = spectra[0::2].real + 1j * spectra[1::2].real
    if mode == "States-TPPI":
        signal = signal * ((-1.0) ** np.arange(signal.shape[0]))[:, None]
    return signal


def process_2d(fid: FID, *, mode: str | None = None, window: str | tuple[str, str] = "cos2",
               line_broadening_Hz: float | tuple[float, float] = 0.0,
               gaussian_position: float | tuple[float, float] = 0.1,
               sine_offset: float | tuple[float, float] = 0.0,
               zero_fill: int | str | None | tuple[Any, Any] = "auto",
               phase: str | tuple[float, float] | None = "auto",
               phase_f1: tuple[float, float] | None = None, magnitude: bool | None = None,
               first_point: float | tuple[float, float] = (0.5, 1.0),
               remove_filter: bool = True) -> NMRSpectrum:
    """A 2D FID to a spectrum (F1, F2); the indirect dimension by its quadrature scheme.

    ``mode`` overrides ``fid.acquisition_mode``. Window settings and ``zero_fill`` take one value
    for both dimensions or a pair (F1, F2). ``phase`` is the F2 phase (``"auto"``: from the first
    increment), ``phase_f1`` a pair (p0, p1) for F1. ``magnitude`` (default: True for QF only)
    gives the modulus. The result holds the real part (or the modulus); module notes.
    """
    fid = _fid(fid, ndim=2)
    where = fid.source or "fid"
    mode = mode if mode is not None else fid.acquisition_mode
    if mode is None:
        raise InputError(f"the quadrature scheme of F1 is unknown ({fid.metadata.get('fnmode')}); pass mode= "
                         f"one of {', '.join(ACQUISITION_MODES)}", source=where)
    mode = one_of("mode", mode, ACQUISITION_MODES)
    magnitude = (mode == "QF") if magnitude is None else magnitude
    if not isinstance(magnitude, bool):
        raise InputError(f"must be True, False or None, got {magnitude!r}", source="magnitude")
    if mode == "QF" and not magnitude:
        raise InputError("QF data are phase-twisted: only magnitude=True makes sense", source="magnitude")
    f2_phase = _phase_choice("phase", phase)
    f1_phase = _phase_choice("phase_f1", phase_f1)
    if f1_phase == "auto":
        raise InputError("phase_f1 takes (p0, p1) or None", source="phase_f1")
    windows = [_window_settings(w, lb, gb, so) for w, lb, gb, so in zip(
        _per_dimension("window", window), _per_dimension("line_broadening_Hz", line_broadening_Hz),
        _per_dimension("gaussian_position", gaussian_position), _per_dimension("sine_offset", sine_offset),
        strict=True)]
    fills = _per_dimension("zero_fill", zero_fill)
    f1_first, f2_first = (in_range("first_point", v, 0, 1)
                          for v in _per_dimension("first_point", first_point))
    steps: list[dict[str, Any]] = [{"step": "process_2d", "mode": mode, "magnitude": magnitude,
                                    "first_point": (f1_first, f2_first)}]
    if remove_filter and fid.group_delay > 0:
        fid = remove_digital_filter(fid)
    data = np.array(fid.data)
    per_increment = 2 if mode in ("States", "States-TPPI", "echo-antiecho") else 1
    acquired = (fid.metadata.get("td") or (data.shape[0],))[0]
    rows = min(int(acquired), data.shape[0]) // per_increment * per_increment
    if rows < 2 * per_increment:
        raise InputError(f"{rows} usable rows: a 2D needs at least two increments", source=where)
    if rows != data.shape[0]:
        steps.append({"step": "rows", "kept": rows, "stored": int(data.shape[0]),
                      "why": "rows acquired (TD of the indirect dimension), whole increments"})
    data = data[:rows]
    if mode == "echo-antiecho":
        echo, antiecho = data[0::2], data[1::2]
        data = np.empty_like(data)
        data[0::2], data[1::2] = (antiecho + echo) / 2, (antiecho - echo) / 2j
    sw1, sw2 = fid.spectral_width_Hz
    data = _apodize_array(data, sw2, windows[1], 1)
    first = complex(data[0, 0])  # of the first increment, as windowed: its offset is left out of phasing
    data[:, 0] *= f2_first
    n2 = _zero_fill_size("zero_fill", fills[1], data.shape[1])
    spectra = _fft(_pad(data, n2, 1), 1)
    steps.append({"step": "F2", **windows[1], "size": n2})
    if f2_phase is not None and not magnitude:
        if f2_phase == "auto":  # scored without the first point's offset (module notes)
            p0, p1 = _find_phase(spectra[0] - (f2_first - 0.5) * first, "acme", False, 100)
        else:
            p0, p1 = f2_phase
        spectra = spectra * _phase_factor(n2, p0, p1)[None, :]
        steps.append({"step": "phase F2", "p0_deg": p0, "p1_deg": p1, "auto": f2_phase == "auto"})
    signal = _t1_signal(spectra, mode)
    signal[0] *= f1_first
    dwell_sw1 = 2 * sw1 if mode == "TPPI" else sw1
    signal = _apodize_array(signal, dwell_sw1, windows[0], 0)
    n1 = _zero_fill_size("zero_fill", fills[0], signal.shape[0])
    spectrum = _fft(_pad(signal, n1, 0), 0, reverse=mode == "QF")
    if mode == "TPPI":  # the FT spans 2·SW1; the central half is the F1 window
        spectrum = spectrum[n1 // 4: n1 // 4 + n1 // 2]
    steps.append({"step": "F1", **windows[0], "size": int(spectrum.shape[0])})
    if f1_phase is not None and not magnitude:
        spectrum = spectrum * _phase_factor(spectrum.shape[0], *f1_phase)[:, None]
        steps.append({"step": "phase F1", "p0_deg": f1_phase[0], "p1_deg": f1_phase[1]})
    axes = tuple(ppm_axis(spectrum.shape[k], spectral_width_Hz=fid.spectral_width_Hz[k],
                          observe_MHz=fid.observe_MHz[k], carrier_ppm=fid.carrier_ppm[k]) for k in (0, 1))
    values = np.abs(spectrum) if magnitude else spectrum.real
    metadata = dict(fid.metadata)
    metadata["processing"] = [*metadata.get("processing", []), *steps]
    metadata.update({"nucleus": fid.nucleus, "observe_MHz": fid.observe_MHz})
    return NMRSpectrum(values, axes, metadata=metadata, source=fid.source)
