"""Bruker TopSpin NMR data: raw ``fid``/``ser`` as an ``ssbkit.nmr.FID``, processed ``pdata`` as an
``ssbkit.nmr.NMRSpectrum``.

What is claimed (``BrukerNmrReader.sniff``; folder layout and file names that only Bruker uses):

- an experiment folder (``…/<expno>``) holding ``acqus`` and ``fid`` (1D) or ``ser`` (2D);
- the ``fid`` or ``ser`` file itself, beside its ``acqus``;
- a processed folder ``…/pdata/<procno>`` holding ``procs`` and ``1r`` (1D) or ``2rr`` (2D), or
  that ``1r``/``2rr`` file itself.

A folder or file that is plainly one of these with a part missing or broken (``fid`` without
``acqus``, an ``acqus`` that is not JCAMP-DX, ``acqus`` without data, ``1r`` without ``procs``)
is claimed as well, so that ``ssbkit.io.read`` passes it here and the error says what is
missing, instead of "no reader recognises this file". A ``fid`` beside a Varian/Agilent
``procpar`` is left alone: that format is not Bruker's.

``read_bruker(path)`` gives the raw data of an experiment folder and the processed data of a
``pdata`` folder; ``processed=True`` asks for ``pdata/<procno>`` of an experiment folder.

**Raw data.** Parameters come from the JCAMP-DX files ``acqus`` (direct dimension) and
``acqu2s`` (indirect), parsed by ``nmrglue.bruker.read_jcamp``; the binary file is read by
``nmrglue.bruker.read_binary`` once its size has been checked here: values are int32
(``DTYPA=0``) or float64 (``DTYPA=2``), little- or big-endian (``BYTORDA``), real and
imaginary interleaved, and every row of a ``ser`` starts on a 1024-byte boundary (TD rounded up
to 256 int32 or 128 float64 values). The FID keeps ``TD/2`` complex points per row (the padding
is dropped). A ``ser`` keeps every row the file holds: the file size is trusted over the TD of
``acqu2s`` (an acquisition stopped early leaves TD at the rows measured and the rest of the
file zero; the shared HMQC dataset has TD = 147 and 192 rows, rows 147–191 all zero), and
``metadata["notes"]`` says so. Checks nmrglue does not make (it warns and returns a 1D array):
an empty or truncated file, a size that is not a whole number of complex points or rows, and
a byte order that contradicts ``BYTORDA`` (int32 values read in the wrong order fill the whole
int32 range: for real data fewer than 0.1 % of the values reach 2**29, byte-swapped more than
70 %) are ``InputError`` naming the file.

Per dimension, in array order (indirect first): spectral width ``SW_h`` [Hz]; the frequency
of 0 ppm ``SF`` [MHz] of ``pdata/1/procs`` (``proc2s`` for the indirect dimension) where it
exists, which carries TopSpin's referencing (SF = BF1 + SR), else ``BF1``; the carrier
``(SFO1 − SF)/SF`` [ppm]; the nucleus ``NUC1``. So ``ppm = carrier_ppm + ν/observe_MHz`` for
an offset ν [Hz] from the carrier is TopSpin's own axis. The digital-filter group delay is
``GRPDLY`` [points]; where that is absent or −1 it comes from nmrglue's DECIM/DSPFVS table
(0 for ``DIGMOD=0``, no digital filter). The indirect quadrature scheme comes from ``FnMODE``
of ``acqu2s`` (1 QF, 3 TPPI, 4 States, 5 States-TPPI, 6 echo–antiecho; 0 means "see ``MC2``
of ``pdata/1/proc2s``": 0 QF, 2 TPPI, 3 States, 4 States-TPPI, 5 echo–antiecho). QSEQ
(``FnMODE=2``, ``MC2=1``) has no name in ``FID.acquisition_mode``; it is left ``None`` and
``metadata["fnmode"]`` says ``"QSEQ"``.

Metadata: ``format``, ``file``, ``experiment`` (folder), ``nucleus``, ``observe_MHz``,
``sfo1_MHz``, ``td`` (per dimension, as acquired), ``rows`` (2D, as stored),
``number_of_scans`` (NS), ``pulse_program`` (PULPROG), ``temperature_K`` (TE; None where TE is
not a temperature in kelvin), ``mixing_time_s`` (``D[8]``, the EXSY/NOESY mixing time of the
Bruker pulse programs; other programs may use D8 for something else), ``spinning_rate_Hz``
(MASR), ``date`` (ISO 8601, UTC, from DATE), ``fnmode``, ``reference`` (where SF came
from), ``notes``.

**Processed data** (``pdata``): ``nmrglue.bruker.read_pdata`` reads ``1r`` (and ``1i``) or
``2rr`` and scales the stored integers by 2**NC_proc as TopSpin does; the axis of each
dimension is ``ppm[i] = OFFSET − i·SW_p/(SF·SI)`` from ``procs``/``proc2s``. The parameters
TopSpin processed with (WDW, LB, GB, SSB, PHC0, PHC1, SI, MC2, …) are listed in
``metadata["processing"]``.

Examples
--------
>>> reader = BrukerNmrReader()
>>> reader.name, sorted(reader.techniques)
('bruker-nmr', ['nmr'])
>>> from pathlib import Path
>>> reader.sniff(Path("/no/such/folder"), b"")
False
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ssbkit.core.errors import DependencyError, InputError

__all__ = ["BrukerNmrReader", "read_bruker"]

_FNMODE = {1: "QF", 2: "QSEQ", 3: "TPPI", 4: "States", 5: "States-TPPI", 6: "echo-antiecho"}
_MC2 = {0: "QF", 1: "QSEQ", 2: "TPPI", 3: "States", 4: "States-TPPI", 5: "echo-antiecho"}
_RAW = ("fid", "ser")
_PROCESSED = ("1r", "2rr")
_BLOCK_BYTES = 1024  # every row of a ser (and a 1D fid) starts on a 1024-byte boundary


def _nmrglue() -> Any:
    try:
        import nmrglue
    except ImportError:
        raise DependencyError('Bruker NMR data need nmrglue: pip install "ssbkit[nmr]"') from None
    return nmrglue


def _is_jcamp(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"##" in handle.read(256)
    except OSError:
        return False


def _kind(path: Path) -> tuple[str, Path] | None:
    """("raw"|"processed", folder) for a path this reader claims, complete or not, else None.
    Never raises; ``_complete`` says whether it can be read."""
    try:
        if path.is_dir():
            raw = any((path / n).is_file() for n in _RAW)
            if (raw and not (path / "procpar").is_file()) or (path / "acqus").is_file():
                return "raw", path
            if (path / "procs").is_file() or any((path / n).is_file() for n in _PROCESSED):
                return "processed", path
            return None
        if path.is_file():
            folder = path.parent
            if path.name in _RAW and ((folder / "acqus").is_file() or not (folder / "procpar").is_file()):
                return "raw", folder
            if path.name in _PROCESSED:
                return "processed", folder
    except OSError:
        return None
    return None


def _complete(what: str, folder: Path) -> bool:
    """Whether a claimed folder holds its parameter file (JCAMP-DX) and a data file."""
    parameters, data = ("acqus", _RAW) if what == "raw" else ("procs", _PROCESSED)
    try:
        return _is_jcamp(folder / parameters) and any((folder / n).is_file() for n in data)
    except OSError:
        return False


class BrukerNmrReader:
    """Bruker TopSpin experiment folders (fid/ser) and processed pdata folders (1r/2rr)."""

    name: ClassVar[str] = "bruker-nmr"
    extensions: ClassVar[tuple[str, ...]] = ()
    techniques: ClassVar[frozenset[str]] = frozenset({"nmr"})
    description: ClassVar[str] = "Bruker TopSpin NMR: experiment folder (acqus + fid/ser), pdata/N (1r/2rr)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _kind(Path(path)) is not None

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Options: ``processed`` (None: raw for an experiment, processed for pdata), ``procno``."""
        unknown = sorted(set(options) - {"processed", "procno"})
        if unknown:
            raise InputError(f"the {self.name} reader takes no option {', '.join(map(repr, unknown))}; "
                             "it takes processed, procno", source="options")
        return [read_bruker(path, **options)]


def read_bruker(path: str | PathLike[str], *, processed: bool | None = None, procno: int = 1) -> Any:
    """The data of a Bruker experiment folder, its ``fid``/``ser``, or a ``pdata/N`` folder.

    Returns an ``FID`` for raw data and an ``NMRSpectrum`` for processed data. ``processed``:
    None reads what ``path`` is; True reads ``pdata/<procno>`` of an experiment folder; False
    refuses a ``pdata`` folder.
    """
    path = Path(path)
    if processed is not None and not isinstance(processed, bool):
        raise InputError(f"must be True, False or None, got {processed!r}", source="processed")
    if isinstance(procno, bool) or not isinstance(procno, int) or procno < 1:
        raise InputError(f"must be a whole number ≥ 1, got {procno!r}", source="procno")
    if not path.exists():
        raise InputError("no such file or folder", source=path)
    kind = _kind(path)
    folder = path if path.is_dir() else path.parent
    if kind is None:
        _refuse(path, folder)
    what, folder = kind
    if what == "processed":
        if processed is False:
            raise InputError("is a processed pdata folder; give the experiment folder (two levels up) "
                             "for the raw FID", source=path)
        if not _complete("processed", folder):
            _refuse(path, folder)
        return _read_processed(folder)
    if processed:  # pdata first: an experiment may keep its processed data without its fid
        pdata = folder / "pdata" / str(procno)
        if not pdata.is_dir():
            raise InputError(f"has no processed data pdata/{procno}", source=folder)
        if not _complete("processed", pdata):
            _refuse(pdata, pdata)
        return _read_processed(pdata)
    if not _complete("raw", folder):
        _refuse(path, folder)
    return _read_raw(folder, path if path.is_file() else None)


def _refuse(path: Path, folder: Path) -> None:
    """Raise the InputError that says what is missing for ``path`` to be Bruker data."""
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    for parameters, data in (("acqus", _RAW), ("procs", _PROCESSED)):
        relevant = path.name in data if path.is_file() else bool(names & set(data))
        if relevant and (folder / parameters).is_file() and not _is_jcamp(folder / parameters):
            raise InputError(f"{parameters} is present but not a JCAMP-DX parameter file (no '##' "
                             "records at its start): damaged, or not written by TopSpin", source=path)
    if path.is_file() and path.name in _RAW:
        raise InputError(f"no acqus parameter file beside this {path.name}", source=path)
    if path.is_file() and path.name in _PROCESSED:
        raise InputError(f"no procs parameter file beside this {path.name}", source=path)
    if path.is_file():
        raise InputError("is not Bruker NMR data: expected an experiment folder (acqus + fid/ser), "
                         "its fid/ser, or a pdata/N folder (procs + 1r/2rr)", source=path)
    if names & set(_RAW):
        raise InputError(f"has {'/'.join(sorted(names & set(_RAW)))} but no acqus parameter file",
                         source=path)
    if names & set(_PROCESSED):
        raise InputError(f"has {'/'.join(sorted(names & set(_PROCESSED)))} but no procs parameter file",
                         source=path)
    if "acqus" in names:
        hint = (" (its processed data can be read with processed=True)"
                if any((folder / "pdata" / "1" / n).is_file() for n in _PROCESSED) else "")
        raise InputError(f"has acqus but no fid or ser data file{hint}", source=path)
    if "procs" in names:
        raise InputError("has procs but no 1r or 2rr data file", source=path)
    raise InputError("is not a Bruker NMR folder: no acqus with fid/ser, no procs with 1r/2rr",
                     source=path)


# -- parameters ---------------------------------------------------------------------------------


def _jcamp(path: Path, notes: list[str]) -> dict[str, Any]:
    ng = _nmrglue()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            params = ng.bruker.read_jcamp(str(path), encoding="latin-1")
        except (OSError, ValueError, IndexError) as exc:
            raise InputError(f"cannot parse the parameter file: {exc}", source=path) from None
    if caught:
        notes.append(f"{path.name}: {len(caught)} line(s) nmrglue could not parse")
    return params


def _number(params: Mapping[str, Any], key: str, source: Path, default: float | None = None) -> float:
    value = params.get(key, default)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        found = "is missing" if key not in params else f"is {value!r}, not a number"
        raise InputError(f"parameter {key} {found}", source=source)
    return number


def _text(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    text = str(value).strip().strip("<>").strip()
    return text or None


def _optional_procs(folder: Path, name: str, notes: list[str]) -> dict[str, Any]:
    path = folder / "pdata" / "1" / name
    return _jcamp(path, notes) if path.is_file() else {}


def _group_delay(acqus: Mapping[str, Any], source: Path, notes: list[str]) -> float:
    grpdly = float(acqus.get("GRPDLY", -1) or -1)
    if grpdly > 0:
        return grpdly
    if int(acqus.get("DIGMOD", 1) or 0) == 0:
        return 0.0
    decim, dspfvs = acqus.get("DECIM"), acqus.get("DSPFVS")
    table = getattr(_nmrglue().bruker, "bruker_dsp_table", {})
    try:
        if int(dspfvs) >= 14:  # firmware that always writes GRPDLY: none is needed
            return 0.0
        return float(table[int(dspfvs)][int(decim)])
    except (TypeError, ValueError, KeyError):
        notes.append(f"group delay unknown (GRPDLY {acqus.get('GRPDLY')}, DECIM {decim}, "
                     f"DSPFVS {dspfvs}): taken as 0; phase the spectrum to first order")
        return 0.0


def _dimension(acqu: Mapping[str, Any], procs: Mapping[str, Any], source: Path,
               notes: list[str] | None = None) -> dict[str, Any]:
    """One dimension's parameters; ``notes`` is given for the indirect one, whose SW_h may be stale."""
    sw = _number(acqu, "SW_h", source)
    sfo1 = _number(acqu, "SFO1", source)
    bf1 = _number(acqu, "BF1", source)
    sw_ppm = acqu.get("SW")
    if notes is not None and isinstance(sw_ppm, int | float) and sw_ppm > 0:
        # TopSpin keeps SW [ppm] of acqu2s tied to the increment IN0; SW_h there is not always updated
        if abs(sw_ppm * sfo1 - sw) > 1e-4 * sw:
            notes.append(f"{source.name}: SW_h = {sw:.6g} Hz disagrees with SW = {sw_ppm:.6g} ppm "
                         f"(= {sw_ppm * sfo1:.6g} Hz at SFO1); SW is used")
        sw = sw_ppm * sfo1
    if sw <= 0 or sfo1 <= 0 or bf1 <= 0:
        raise InputError(f"SW_h, SFO1 and BF1 must be > 0, got {sw:g}, {sfo1:g}, {bf1:g}", source=source)
    sf = float(procs.get("SF") or 0.0)
    reference = "SF of pdata/1" if sf > 0 and abs(sf - bf1) < 1e-3 * bf1 else "BF1"
    zero_ppm = sf if reference != "BF1" else bf1
    return {"sw": sw, "sfo1": sfo1, "sf": zero_ppm, "carrier_ppm": (sfo1 - zero_ppm) / zero_ppm * 1e6,
            "nucleus": _text(acqu, "NUC1") or "", "td": int(_number(acqu, "TD", source)),
            "reference": reference}


def _metadata(folder: Path, acqus: Mapping[str, Any], file: Path, notes: list[str]) -> dict[str, Any]:
    te = acqus.get("TE")
    temperature = float(te) if isinstance(te, int | float) and te > 0 else None
    if te is not None and temperature is None:
        notes.append(f"TE = {te} is not a temperature in kelvin (no temperature unit?): temperature_K None")
    delays = acqus.get("D")
    mixing = float(delays[8]) if isinstance(delays, list) and len(delays) > 8 else None
    date = acqus.get("DATE")
    iso = (_dt.datetime.fromtimestamp(int(date), tz=_dt.UTC).isoformat()
           if isinstance(date, int | float) and date > 0 else None)
    masr = acqus.get("MASR")
    return {"format": "bruker", "file": str(file), "experiment": str(folder),
            "number_of_scans": int(acqus["NS"]) if isinstance(acqus.get("NS"), int | float) else None,
            "pulse_program": _text(acqus, "PULPROG"), "temperature_K": temperature,
            "mixing_time_s": mixing,
            "spinning_rate_Hz": float(masr) if isinstance(masr, int | float) else None,
            "date": iso}


# -- raw data -------------------------------------------------------------------------------------


def _read_raw(folder: Path, given: Path | None) -> Any:
    from ssbkit.nmr.data import FID

    notes: list[str] = []
    acqus_path = folder / "acqus"
    acqus = _jcamp(acqus_path, notes)
    binary = given if given is not None else next(folder / n for n in _RAW if (folder / n).is_file())
    two_d = binary.name == "ser"
    if (folder / "acqu3s").is_file():
        raise InputError("3D (and higher) Bruker data are not supported (acqu3s present)", source=folder)
    acqu2s: dict[str, Any] = {}
    if two_d:
        if not (folder / "acqu2s").is_file():
            raise InputError("a ser file needs acqu2s for its indirect dimension; it is missing",
                             source=folder)
        acqu2s = _jcamp(folder / "acqu2s", notes)
    aq_mod = int(_number(acqus, "AQ_mod", acqus_path, default=3))
    if aq_mod not in (1, 3):
        raise InputError(f"AQ_mod = {aq_mod}: a direct dimension that is not complex (qf/qseq) is not "
                         "supported", source=acqus_path)
    procs = _optional_procs(folder, "procs", notes)
    direct = _dimension(acqus, procs, acqus_path)
    dims = [direct]
    if two_d:
        dims.insert(0, _dimension(acqu2s, _optional_procs(folder, "proc2s", notes), folder / "acqu2s",
                                  notes))
    data, rows = _binary(binary, acqus, direct["td"], two_d, notes)
    group_delay = _group_delay(acqus, acqus_path, notes)
    metadata = _metadata(folder, acqus, binary, notes)
    mode = None
    if two_d:
        fnmode = int(acqu2s.get("FnMODE", 0) or 0)
        name = _FNMODE.get(fnmode)
        if fnmode == 0:
            proc2s = _optional_procs(folder, "proc2s", [])
            name = _MC2.get(int(proc2s["MC2"])) if "MC2" in proc2s else None
            if name is None:
                notes.append("FnMODE 0 and no MC2 in pdata/1/proc2s: quadrature scheme unknown")
        metadata["fnmode"] = name
        mode = name if name != "QSEQ" else None
        td1 = dims[0]["td"]
        metadata["rows"] = rows
        if rows != td1:
            zero = np.flatnonzero(~np.any(data != 0, axis=1))
            tail = (f"; rows {td1}–{rows - 1} are all zero (acquisition stopped before the end?)"
                    if rows > td1 and zero.size and np.array_equal(zero, np.arange(td1, rows)) else "")
            notes.append(f"acqu2s TD = {td1} but the ser file holds {rows} rows; all {rows} are kept "
                         f"(the file size is trusted){tail}")
    metadata.update({
        "nucleus": tuple(d["nucleus"] for d in dims),
        "observe_MHz": tuple(d["sf"] for d in dims),
        "sfo1_MHz": tuple(d["sfo1"] for d in dims),
        "td": tuple(d["td"] for d in dims),
        "reference": tuple(d["reference"] for d in dims),
        "notes": tuple(notes),
    })
    return FID(data, spectral_width_Hz=tuple(d["sw"] for d in dims),
               observe_MHz=tuple(d["sf"] for d in dims), carrier_ppm=tuple(d["carrier_ppm"] for d in dims),
               nucleus=tuple(d["nucleus"] for d in dims),
               group_delay=group_delay, acquisition_mode=mode,
               metadata=metadata, source=str(binary))


def _binary(binary: Path, acqus: Mapping[str, Any], td: int, two_d: bool,
            notes: list[str]) -> tuple[np.ndarray, int]:
    """The complex points of ``binary`` (rows × TD/2), after checking its size and byte order."""
    dtypa = int(acqus.get("DTYPA", 0) or 0)
    if dtypa not in (0, 2):
        raise InputError(f"DTYPA = {dtypa}: only int32 (0) and float64 (2) data are known",
                         source=binary.parent / "acqus")
    itemsize = 4 if dtypa == 0 else 8
    big = int(acqus.get("BYTORDA", 0) or 0) == 1
    if td < 2:
        raise InputError(f"TD = {td}: no complex points to read", source=binary.parent / "acqus")
    size = binary.stat().st_size
    if size == 0:
        raise InputError("the data file is empty", source=binary)
    if size % (2 * itemsize):
        raise InputError(f"holds {size} bytes, not a whole number of complex points of "
                         f"{2 * itemsize} bytes ({'float64' if itemsize == 8 else 'int32'}, DTYPA={dtypa})",
                         source=binary)
    per_block = _BLOCK_BYTES // itemsize
    padded = -(-td // per_block) * per_block
    values = size // itemsize
    if two_d:
        if values % padded:
            raise InputError(f"holds {values} values, not a whole number of rows of {padded} (TD = {td} "
                             f"padded to {_BLOCK_BYTES}-byte blocks): truncated, or TD is wrong",
                             source=binary)
        rows, width = values // padded, padded
    else:
        if values < td:
            raise InputError(f"truncated: holds {values} values, TD = {td} needs {td}", source=binary)
        if values > padded:
            raise InputError(f"holds {values} values, more than TD = {td} (padded: {padded}); a 1D fid "
                             "holds one FID: is TD right, or is this a ser?", source=binary)
        rows, width = 1, values
    ng = _nmrglue()
    shape = (rows, width // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, raw = ng.bruker.read_binary(str(binary), shape=shape, cplex=True, big=big, isfloat=itemsize == 8)
    raw = np.asarray(raw).reshape(shape)[:, : td // 2]
    _check_byte_order(binary, raw, itemsize, big)
    if not np.isfinite(raw).all():
        raise InputError("holds values that are not finite numbers (wrong DTYPA or byte order?)",
                         source=binary)
    return (raw if two_d else raw[0]), rows


def _check_byte_order(binary: Path, data: np.ndarray, itemsize: int, big: bool) -> None:
    stored = "big" if big else "little"
    parts = np.concatenate([data.real.ravel(), data.imag.ravel()])
    parts = parts[parts != 0]
    if parts.size < 16:
        return
    if itemsize == 4:
        swapped = parts.astype(np.int64).astype(np.int32).byteswap().astype(float)
        wide, wide_swapped = np.mean(np.abs(parts) >= 2**29), np.mean(np.abs(swapped) >= 2**29)
        wrong = wide > 0.5 and wide_swapped < 0.1
    else:
        with np.errstate(all="ignore"):
            scale = np.abs(parts)
            wrong = bool(np.mean(~np.isfinite(scale) | (scale > 1e30) | (scale < 1e-30)) > 0.5)
    if wrong:
        raise InputError(f"the values look byte-swapped: BYTORDA says {stored}-endian, but they fill the "
                         "whole number range as data written in the other byte order do", source=binary)


# -- processed data -------------------------------------------------------------------------------


def _read_processed(folder: Path) -> Any:
    from ssbkit.nmr.data import NMRSpectrum

    notes: list[str] = []
    procs = _jcamp(folder / "procs", notes)
    two_d = (folder / "2rr").is_file()
    name = "2rr" if two_d else "1r"
    binary = folder / name
    if two_d and not (folder / "proc2s").is_file():
        raise InputError("a 2rr file needs proc2s for its F1 dimension; it is missing", source=folder)
    proc2s = _jcamp(folder / "proc2s", notes) if two_d else {}
    dims = ([proc2s] if two_d else []) + [procs]
    sources = ([folder / "proc2s"] if two_d else []) + [folder / "procs"]
    sizes = [int(_number(p, "SI", s)) for p, s in zip(dims, sources, strict=True)]
    if min(sizes) < 2:
        raise InputError(f"SI = {min(sizes)}: a spectrum needs at least 2 points", source=folder)
    dtypp = int(procs.get("DTYPP", 0) or 0)
    itemsize = 8 if dtypp == 2 else 4
    expected = int(np.prod(sizes)) * itemsize
    size = binary.stat().st_size
    if size != expected:
        raise InputError(f"holds {size} bytes; SI = {' x '.join(map(str, sizes))} "
                         f"{'float64' if itemsize == 8 else 'int32'} values need {expected}", source=binary)
    ng = _nmrglue()
    big = int(procs.get("BYTORDP", 0) or 0) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            params, data = ng.bruker.read_pdata(str(folder), bin_files=[name], scale_data=True, big=big,
                                                isfloat=itemsize == 8)
            imag = None
            if not two_d and (folder / "1i").is_file() and (folder / "1i").stat().st_size == expected:
                _, imag = ng.bruker.read_pdata(str(folder), bin_files=["1i"], scale_data=True, big=big,
                                               isfloat=itemsize == 8)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise InputError(f"cannot read the processed data: {exc}", source=binary) from None
    data = np.asarray(data, dtype=float).reshape(sizes)
    axes = []
    for p, s, n in zip(dims, sources, sizes, strict=True):
        offset, sw_p, sf = _number(p, "OFFSET", s), _number(p, "SW_p", s), _number(p, "SF", s)
        if sw_p <= 0 or sf <= 0:
            raise InputError(f"SW_p and SF must be > 0, got {sw_p:g}, {sf:g}", source=s)
        axes.append(offset - np.arange(n) * sw_p / (sf * n))
    acqus = params.get("acqus", {}) if isinstance(params, dict) else {}
    experiment = folder.parent.parent
    metadata: dict[str, Any] = {"format": "bruker-pdata", "file": str(binary)}
    nuclei = []
    for k, p in enumerate(dims):
        acqu = params.get("acqu2s" if two_d and k == 0 else "acqus", {}) if isinstance(params, dict) else {}
        nuclei.append(_text(acqu, "NUC1") or str(p.get("AXNUC", "")).strip("<>"))
    if acqus:
        metadata.update(_metadata(experiment, acqus, binary, notes))
        metadata["format"] = "bruker-pdata"
    keys = ("SI", "WDW", "LB", "GB", "SSB", "PHC0", "PHC1", "PH_mod", "BC_mod", "MC2", "NC_proc", "SR")
    steps = [{"step": "topspin", "dimension": "F1" if two_d and k == 0 else "F2",
              **{key: p[key] for key in keys if key in p}} for k, p in enumerate(dims)]
    metadata.update({"nucleus": tuple(nuclei), "observe_MHz": tuple(float(p["SF"]) for p in dims),
                     "processing": steps, "notes": tuple(notes)})
    return NMRSpectrum(data, tuple(axes), imag=None if imag is None else np.asarray(imag, float),
                       metadata=metadata, source=str(binary))
