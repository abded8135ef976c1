"""Diffractometer instrument files: GSAS-II ``.instprm`` and old GSAS ``.prm``/``.PRM``/``.iparm``.

Both are turned into one ``ssbkit.xrd.Instrument`` (FullProf's convention, degrees 2θ:
Gaussian FWHM² = U tan²θ + V tanθ + W, Lorentzian FWHM = X tanθ + Y/cosθ). Only
constant-wavelength banks are read (X-ray, and neutron with polarization 0); time-of-flight
and energy-dispersive files are refused.

GSAS-II ``.instprm``: ``key:value`` lines (several may share a line, split by ``;``;
``#Bank n:`` headings separate banks). ``Lam`` or ``Lam1``/``Lam2`` with ``I(L2)/I(L1)``
[Å]; ``Zero`` [deg]; σ² terms ``U``, ``V``, ``W`` [centideg²]; γ terms ``X`` (1/cosθ) and
``Y`` (tanθ) [centideg]; ``SH/L`` (S/L + H/L). ``Z``, a constant Lorentzian term, has no
place in ``Instrument`` and is refused when not 0.

GSAS ``.prm``: fixed 80-column ``INS`` records. ``INS  n ICONS`` holds λ1, λ2 [Å], ZERO
[centideg], POLA, IPOLA and the Kα2/Kα1 ratio in columns 1–10, 11–20, 21–30, 41–50, 51–55,
56–65 (λ2 = 0: one wavelength); ``INS   HTYPE`` the data type (``PXC``: X-ray,
``PNC``: neutron, constant wavelength); ``INS  nPRCFm`` the m-th profile function (the first
is the default): its type, the number of coefficients, the peak cut-off, then
``INS  nPRCFmk`` lines with the coefficients. Profile types read (GSAS manual, CW
profiles; coefficient order as EXPGUI lists it):

- 1, Gaussian: GU GV GW asym F1 F2;
- 2, pseudo-Voigt: GU GV GW LX LY trns asym shft GP stec ptec sfec L11 … L23;
- 3, pseudo-Voigt with Finger–Cox–Jephcoat asymmetry: GU GV GW GP LX LY S/L H/L trns shft
  stec ptec sfec L11 … L23.

Types 4 and 5 (Stephens anisotropic strain) are refused, and so is a non-zero ``asym`` of
types 1 and 2 (an empirical asymmetry that FCJ cannot express). Conversion, with
k = 8 ln2 / 10⁴ (σ² in centideg² to FWHM² in deg²): the Gaussian P/cos²θ term is exact as
P + P tan²θ, so U = (GU + GP)·k, V = GV·k, W = (GW + GP)·k; X = LY/100, Y = LX/100 (GSAS's
LX is the 1/cosθ term); zero = ZERO/100; asymmetry = S/L + H/L. The sample terms (trns,
shft, stec, ptec, sfec, Lij) describe a specimen, not the instrument, and are not read.

Polarization: GSAS-II's factor is (1 − P) cos²2θ + P at azimuth 0 (P = ``Polariz.``; 0.5 is
unpolarised), and a .prm's POLA is taken as P, as GSAS-II imports it (IPOLA other than 0 is
refused). ``Instrument.polarization`` is K in 1 − K + K cos²2θ, so K = 1 − P; at azimuth a,
K = (1 − P) cos²a + P sin²a. Neutron data have no polarization factor (K = 0).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cu.instprm"
>>> _ = path.write_text("#GSAS-II instrument parameter file\\nType:PXC\\nLam1:1.540593\\n"
...                     "Lam2:1.544414\\nI(L2)/I(L1):0.5\\nZero:0.0\\nPolariz.:0.5\\n"
...                     "U:7.21\\nV:-3.61\\nW:3.61\\nX:0.0\\nY:0.0\\nZ:0.0\\nSH/L:0.0005\\n")
>>> ins = read_instrument(path)
>>> round(ins.U, 5), round(ins.V, 5), round(ins.W, 5), ins.wavelengths[1], ins.polarization
(0.004, -0.002, 0.002, (1.544414, 0.5), 0.5)
"""

from __future__ import annotations

import math
import re
from os import PathLike
from pathlib import Path
from typing import Any

from ssbkit.core.citations import register
from ssbkit.core.errors import InputError
from ssbkit.io._text import read_text, split_lines

__all__ = ["read_instrument"]

register("gsas_manual", "A. C. Larson and R. B. Von Dreele, General Structure Analysis System "
         "(GSAS), Los Alamos National Laboratory Report LAUR 86-748 (2004).")

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?")
_PROFILE_NAMES = {
    1: ("GU", "GV", "GW", "asym", "F1", "F2"),
    2: ("GU", "GV", "GW", "LX", "LY", "trns", "asym", "shft", "GP", "stec", "ptec", "sfec"),
    3: ("GU", "GV", "GW", "GP", "LX", "LY", "S/L", "H/L", "trns", "shft", "stec", "ptec", "sfec"),
}


def read_instrument(path: str | PathLike[str], *, bank: int | None = None,
                    profile: int | None = None) -> Any:
    """The ``ssbkit.xrd.Instrument`` in a GSAS-II ``.instprm`` or GSAS ``.prm`` file.

    ``bank`` picks one of several banks (default: the only one, or the first); ``profile``
    a .prm's profile function number (default: the first listed, GSAS's default).
    """
    path = Path(path)
    lines = split_lines(read_text(path))
    if any(line.startswith("INS ") for line in lines[:40]):
        return _from_prm(path, lines, bank, profile)
    if profile is not None:
        raise InputError("only GSAS .prm files list several profile functions", source="profile")
    if any(":" in line and not line.startswith("#") for line in lines):
        return _from_instprm(path, lines, bank)
    raise InputError("neither a GSAS-II .instprm (key:value lines) nor a GSAS .prm (INS records)",
                     source=path)


def _number(text: str, what: str, path: Path, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{what} {text.strip()!r} is not a number", source=path, location=where) from None
    if not math.isfinite(value):
        raise InputError(f"{what} is {value}", source=path, location=where)
    return value


# ----------------------------------------------------------------------- GSAS-II .instprm
def _from_instprm(path: Path, lines: list[str], bank: int | None) -> Any:
    from ssbkit.xrd.data import Instrument

    sections: dict[int, dict[str, tuple[str, int]]] = {}
    current = 1
    for n, line in enumerate(lines, start=1):
        heading = re.match(r"#\s*bank\s+(\d+)\s*:", line, re.IGNORECASE)
        if heading:
            current = int(heading[1])
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for item in line.split(";"):
            key, sep, value = item.strip().partition(":")
            if not sep:
                raise InputError(f"expected key:value, got {item.strip()!r}", source=path,
                                 location=f"line {n}")
            sections.setdefault(current, {})[key.strip()] = (value.strip(), n)
    chosen = min(sections) if bank is None else bank
    if chosen not in sections:
        raise InputError(f"bank {bank} is not in the file; it holds {sorted(sections)}", source="bank")
    items = sections[chosen]

    def get(key: str, default: float | None = None) -> float:
        if key not in items:
            if default is None:
                raise InputError(f"the key {key!r} is missing", source=path)
            return default
        value, n = items[key]
        return _number(value, key, path, f"line {n}")

    kind = items.get("Type", ("", 0))[0].upper()
    if len(kind) < 3 or kind[0] != "P" or kind[1] not in "XN" or kind[2] != "C":
        raise InputError(f"Type {kind or '(missing)'!r} is not constant-wavelength powder data "
                         "(PXC or PNC); time-of-flight and energy-dispersive files are not read",
                         source=path)
    if "Lam1" in items:
        wavelengths: tuple[tuple[float, float], ...] = (
            (get("Lam1"), 1.0), (get("Lam2"), get("I(L2)/I(L1)", 0.5)))
        if wavelengths[1][1] == 0:
            wavelengths = wavelengths[:1]
    else:
        wavelengths = ((get("Lam"), 1.0),)
    if get("Z", 0.0) != 0:
        raise InputError(f"Z = {get('Z'):g} centideg, a constant Lorentzian width, has no "
                         "counterpart in ssbkit's Instrument (X tanθ + Y/cosθ); set it to 0",
                         source=path, location=f"line {items['Z'][1]}")
    # neutrons: P = 1 makes K = 0, no polarization factor
    p = 1.0 if kind[1] == "N" else _gsas_p(get("Polariz.", 0.5), get("Azimuth", 0.0))
    return Instrument.from_gsas(U=get("U"), V=get("V"), W=get("W"), X=get("X", 0.0),
                                Y=get("Y", 0.0), zero=get("Zero", 0.0), SH_L=get("SH/L", 0.0),
                                polarization=p, wavelengths=wavelengths, source=str(path))


def _gsas_p(gsas_p: float, azimuth_deg: float) -> float:
    """GSAS-II's P at azimuth 0 equivalent to P at azimuth a, for ``Instrument.from_gsas``
    (which sets K = 1 − P): 1 − K with K = (1 − P) cos²a + P sin²a, i.e. P cos²a + (1 − P) sin²a."""
    if not 0.0 <= gsas_p <= 1.0:
        raise InputError(f"the polarization {gsas_p:g} is not a fraction in [0, 1]",
                         source="Polariz.")
    c2 = math.cos(math.radians(azimuth_deg)) ** 2
    return gsas_p * c2 + (1.0 - gsas_p) * (1.0 - c2)


# ------------------------------------------------------------------------- GSAS .prm
def _records(path: Path, lines: list[str]) -> dict[tuple[int, str], tuple[str, int]]:
    """``{(bank, key): (value, line)}`` from the fixed columns of INS records."""
    out: dict[tuple[int, str], tuple[str, int]] = {}
    for n, line in enumerate(lines, start=1):
        if not line.startswith("INS"):
            continue
        bank_text, key = line[3:6].strip(), line[6:12].strip()
        out[(int(bank_text) if bank_text.isdigit() else 0, key)] = (line[12:], n)
    return out


def _from_prm(path: Path, lines: list[str], bank: int | None, profile: int | None) -> Any:
    from ssbkit.xrd.data import Instrument

    records = _records(path, lines)
    htype = records.get((0, "HTYPE"), ("", 0))[0].strip().upper()
    if len(htype) < 3 or htype[0] != "P" or htype[1] not in "XN" or htype[2] != "C":
        raise InputError(f"HTYPE {htype or '(missing)'!r} is not constant-wavelength powder data "
                         "(PXC or PNC); time-of-flight and energy-dispersive files are not read",
                         source=path)
    banks = sorted({b for b, key in records if key == "ICONS" and b > 0})
    if not banks:
        raise InputError("no 'INS  n ICONS' record (wavelengths, zero, polarization)", source=path)
    chosen = banks[0] if bank is None else bank
    if chosen not in banks:
        raise InputError(f"bank {bank} is not in the file; it holds {banks}", source="bank")
    icons, n = records[(chosen, "ICONS")]
    where = f"line {n}"
    fixed = [icons[0:10], icons[10:20], icons[20:30], icons[40:50], icons[50:55], icons[55:65]]
    try:
        lam1, lam2, zero, pola, ipola, ratio = (float(f) if f.strip() else 0.0 for f in fixed)
    except ValueError:
        tokens = icons.split()
        if len(tokens) < 7:
            raise InputError("ICONS needs λ1, λ2, ZERO, POLA, IPOLA and the Kα2/Kα1 ratio",
                             source=path, location=where) from None
        lam1, lam2, zero, _, pola, ipola, ratio = (_number(t, "ICONS", path, where) for t in tokens[:7])
    if ipola != 0:
        raise InputError(f"IPOLA = {ipola:g}: only IPOLA = 0 (POLA a polarization fraction, as "
                         "GSAS-II reads it) is understood", source=path, location=where)
    wavelengths = ((lam1, 1.0),) if lam2 == 0 else ((lam1, 1.0), (lam2, ratio or 0.5))
    p = 1.0 if htype[1] == "N" else _gsas_p(pola, 0.0)  # neutrons: K = 1 − P = 0
    kind, coefficients = _profile(path, records, chosen, profile)
    c = dict(zip(_PROFILE_NAMES[kind], coefficients, strict=False))
    if kind in (1, 2) and c["asym"] != 0:
        raise InputError(f"profile type {kind} has asym = {c['asym']:g}, an empirical asymmetry "
                         "that Finger–Cox–Jephcoat (ssbkit's) cannot express; use type 3",
                         source=path)
    gp = c.get("GP", 0.0)
    return Instrument.from_gsas(U=c["GU"] + gp, V=c["GV"], W=c["GW"] + gp, X=c.get("LX", 0.0),
                                Y=c.get("LY", 0.0), zero=zero / 100.0,
                                SH_L=c.get("S/L", 0.0) + c.get("H/L", 0.0), polarization=p,
                                wavelengths=wavelengths, source=str(path))


def _profile(path: Path, records: dict[tuple[int, str], tuple[str, int]], bank: int,
             profile: int | None) -> tuple[int, list[float]]:
    listed = sorted(int(key[4]) for b, key in records
                    if b == bank and len(key) == 5 and key.startswith("PRCF") and key[4].isdigit())
    if not listed:
        raise InputError(f"bank {bank} has no profile function ('INS  {bank}PRCF1' record)", source=path)
    number = listed[0] if profile is None else profile
    if number not in listed:
        raise InputError(f"profile {profile} is not in bank {bank}; it lists {listed}", source="profile")
    header, n = records[(bank, f"PRCF{number}")]
    fields = header.split()
    if len(fields) < 2:
        raise InputError("a PRCF record needs the profile type and the number of coefficients",
                         source=path, location=f"line {n}")
    kind = int(_number(fields[0], "profile type", path, f"line {n}"))
    count = int(_number(fields[1], "number of coefficients", path, f"line {n}"))
    if kind not in _PROFILE_NAMES:
        raise InputError(f"profile type {kind} is not read; types 1, 2 and 3 (constant-wavelength "
                         "Gaussian, pseudo-Voigt, pseudo-Voigt with FCJ asymmetry) are",
                         source=path, location=f"line {n}")
    values: list[float] = []
    k = 1
    while (bank, f"PRCF{number}{k}") in records and len(values) < count:
        text, line = records[(bank, f"PRCF{number}{k}")]
        values += [_number(t, f"coefficient {len(values) + 1}", path, f"line {line}")
                   for t in _NUMBER.findall(text)]
        k += 1
    if count < 3:
        raise InputError(f"the profile announces {count} coefficients; GU, GV and GW at least "
                         "are needed", source=path, location=f"line {n}")
    if len(values) < count:
        raise InputError(f"the profile announces {count} coefficients but the file gives "
                         f"{len(values)}", source=path, location=f"line {n}")
    # GSAS lets a record stop early: the coefficients it leaves out are 0
    return kind, values[:count] + [0.0] * max(0, len(_PROFILE_NAMES[kind]) - count)
