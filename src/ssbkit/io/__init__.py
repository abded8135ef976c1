"""Readers for instrument files, one module per vendor format.

Readers are declared in the ``ssbkit.readers`` entry-point group of ``pyproject.toml`` and
chosen by content through ``ssbkit.core.registry`` (``ssbkit.read(path)``). Every reader
returns a list of containers in canonical units: ``ssbkit.eis.Spectrum`` (frequency [Hz],
impedance [Ohm] with Z = Z' + jZ'', a capacitive arc having Z'' < 0) and, for DC
polarisation records, ``ssbkit.eis.Chronoamperometry`` (time [s], current [A], voltage
[V]). ``read_spectra`` and ``read_chronoamperometry`` keep one kind and refuse a file
that holds none of it.

========================  =====================================================  ============
reader                    files                                                  module
========================  =====================================================  ============
``biologic-mpt``          EC-Lab text export .mpt (PEIS/GEIS, CA)                ``biologic``
``biologic-mpr``          EC-Lab binary .mpr, via galvani (extra ``gpl``)        ``biologic``
``gamry-dta``             Gamry .DTA (EISPOT/EISGALV, CHRONOA)                   ``gamry``
``zplot``                 Scribner ZPlot/ZView .z (both layouts)                 ``zplot``
``versastudio-par``       VersaStudio .par                                       ``versastudio``
``chi-txt``               CH Instruments A.C. Impedance text                     ``chinstruments``
``neisys-txt``            NEISYS text (temperature from the file name)          ``neisys``
``squidstat-csv``         Admiral Squidstat CSV (EIS repeats, DC steps)          ``squidstat``
``ivium``                 Ivium .idf/.ids                                        ``ivium``
``palmsens-pssession``    PalmSens .pssession                                    ``palmsens``
``autolab-dfr``           Eco Chemie / Autolab FRA .dfr                          ``autolab``
``p00``                   .P00 impedance text                                    ``p00``
``elchemea-i2b``          Elchemea Analytical .i2b                               ``elchemea``
``spreadsheet``           .xlsx/.ods, one table per sheet                        ``spreadsheet``
``table``                 CSV/TSV with named columns, or bare f, Z', Z''         ``table``
                          (also Parstat, PowerSuite, Autolab NOVA exports)
``neware-nda``            Neware .nda/.ndax (fastnda; NewareNDA as fallback)     ``neware``
``neware-csv``            Neware BTSDA CSV export                                ``neware``
``biologic-mpr/-mpt``     EC-Lab GCPL/CP/Modulo Bat cycling (as above)           ``biologic``
``arbin-res``             Arbin .res (MS Access, via mdbtools' mdb-export)       ``arbin``
``arbin-export``          Arbin CSV and Excel exports                            ``arbin``
``maccor-txt``            Maccor text exports (tab separated, several versions)  ``maccor``
``bdf-csv``               Battery Data Format CSV (human or machine names)       ``bdf``
``basytec-txt``           Basytec text export                                    ``cycler_text``
``novonix-csv``           Novonix CSV export                                     ``cycler_text``
``pressure-log``          stack-pressure logs (time + pressure or force)         ``pressure``
``bruker-nmr``            Bruker TopSpin experiment folder, fid/ser, pdata/N     ``bruker_nmr``
``xrd-xy``                2θ–intensity(–σ) columns: .xy, .xye, .csv, .dat       ``xrd_text``
``gsas-powder``           GSAS powder data .gsa/.gss/.XRA/.fxye (STD/ESD/FXYE)   ``gsas``
``panalytical-xrdml``     PANalytical .xrdml                                     ``xrdml``
``rigaku-ras/-rasx``      Rigaku .ras text and .rasx (zip)                       ``rigaku``
``bruker-brml/-raw``      Bruker .brml (zip) and .raw v3/v4 (binary)             ``bruker_xrd``
========================  =====================================================  ============

Cycler readers return one ``ssbkit.cycling.CyclingRecord`` per channel, with Battery Data
Format columns (``Test Time / s``, ``Voltage / V``, ``Current / A`` > 0 charging, the
cycler's charge and discharge counters in Ah, ...); ``read_cycling`` keeps the record and
adds the file's hash to its metadata. Columns a reader does not know are kept under their
own names with one ``UnknownColumnWarning``, so a new software version never stops a file
from being read. A cycling record's ``start_time`` is ISO 8601, with its UTC offset where
the file reveals it (Neware .ndax: local start time against UTC unix time); otherwise
``metadata["timezone"]`` says the instrument's clock was taken as UTC.

Powder-diffraction readers return one ``ssbkit.xrd.Pattern`` per scan (2θ [deg], counts,
σ where the file gives it, and the radiation lines where it names them); ``read_pattern`` keeps
one and adds the file's hash. ``read_instrument`` reads GSAS-II ``.instprm`` and GSAS ``.prm``
instrument files into an ``ssbkit.xrd.Instrument``. The Bruker NMR reader returns an
``ssbkit.nmr.FID`` (raw ``fid``/``ser``) or an ``ssbkit.nmr.NMRSpectrum`` (processed ``pdata``).

Conventions shared by all readers (see ``ssbkit.io._build``):

- several sweeps in one file become several spectra (grouped by cycle/repeat/step columns,
  split where the frequency turns back); ``split_sweeps=False`` keeps a group whole;
- points that a ``Spectrum`` cannot hold (frequency missing, NaN, ≤ 0 or repeated; impedance
  not finite) are dropped and listed in ``metadata["dropped"]`` with their line numbers;
  ``strict=True`` raises an ``InputError`` naming the first such line instead;
- empty, truncated and wrong-format files, cells that are not numbers and unknown units
  raise an ``InputError`` (or a subclass) naming the file and, where known, the line;
- metadata keys: ``format``, ``file``, ``sweep``, ``first_line``/``last_line``, and where
  the file has them ``start_time`` (impedance files: as written), ``instrument``, ``technique``,
  ``temperature_K``, ``cycle``/``step``, ``dc_potential_V``, ``area_cm2``, ``time_s``
  (first and last point), ``assumed_units`` (columns without a unit).

>>> import ssbkit.io
>>> callable(ssbkit.io.read_spectra), "table" in ssbkit.io.list_readers()
(True, True)
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.core.registry import find_reader, list_readers, read, register_reader

__all__ = [
    "find_reader",
    "list_readers",
    "read",
    "read_chronoamperometry",
    "read_cycling",
    "read_instrument",
    "read_nmr",
    "read_pattern",
    "read_pressure",
    "read_spectra",
    "register_reader",
]


def read_spectra(path: str | PathLike[str], **options: Any) -> list[Any]:
    """Every impedance ``Spectrum`` in ``path`` (``InputError`` if it holds none).

    ``options`` go to the reader (``strict``, ``split_sweeps``, ``format=`` to skip
    sniffing, and the reader's own, such as ``imaginary`` for bare CSV tables).
    """
    from ssbkit.eis.data import Spectrum

    containers = read(path, **options)
    spectra = [c for c in containers if isinstance(c, Spectrum)]
    if not spectra:
        raise InputError(f"holds no impedance spectrum ({_kinds(containers)})", source=Path(path))
    return spectra


def read_chronoamperometry(path: str | PathLike[str], **options: Any) -> list[Any]:
    """Every DC ``Chronoamperometry`` record in ``path`` (``InputError`` if it holds none)."""
    from ssbkit.eis.data import Chronoamperometry

    containers = read(path, **options)
    records = [c for c in containers if isinstance(c, Chronoamperometry)]
    if not records:
        raise InputError(f"holds no chronoamperometry record ({_kinds(containers)})",
                         source=Path(path))
    return records


def read_cycling(path: str | PathLike[str], *, channel: int | None = None,
                 **options: Any) -> Any:
    """The ``CyclingRecord`` in ``path`` (``InputError`` if it holds none).

    A file with several channels needs ``channel=`` (0-based); the error lists them. The
    record's ``metadata["sha256"]`` is the file's hash, which results cite as provenance.
    """
    import dataclasses

    from ssbkit.core.results import hash_file
    from ssbkit.cycling.data import CyclingRecord

    containers = read(path, **options)
    records = [c for c in containers if isinstance(c, CyclingRecord)]
    if not records:
        raise InputError(f"holds no cycling record ({_kinds(containers)})", source=Path(path))
    if channel is None and len(records) > 1:
        names = ", ".join(f"{j}: {r.metadata.get('channel', '?')}" for j, r in enumerate(records))
        raise InputError(f"holds {len(records)} cycling records ({names}); choose one with "
                         "channel=", source=Path(path))
    if channel is not None and not 0 <= channel < len(records):
        raise InputError(f"channel {channel} does not exist; the file holds {len(records)}",
                         source="channel")
    record = records[channel or 0]
    return dataclasses.replace(record, metadata={**record.metadata, "sha256": hash_file(path)})


def read_pressure(path: str | PathLike[str], **options: Any) -> Any:
    """The stack-pressure log in ``path`` (see ``ssbkit.io.pressure.read_pressure``)."""
    from ssbkit.io.pressure import read_pressure as _read_pressure

    return _read_pressure(path, **options)


def read_instrument(path: str | PathLike[str], **options: Any) -> Any:
    """The ``ssbkit.xrd.Instrument`` of a GSAS-II ``.instprm`` or GSAS ``.prm`` file."""
    from ssbkit.io.xrd_instrument import read_instrument as _read_instrument

    return _read_instrument(path, **options)


def read_pattern(path: str | PathLike[str], *, scan: int | None = None, **options: Any) -> Any:
    """The powder ``ssbkit.xrd.Pattern`` in ``path`` (``InputError`` if it holds none).

    A file with several scans needs ``scan=`` (0-based); the error lists them. The pattern's
    ``metadata["sha256"]`` is the file's hash, which results cite as provenance.
    """
    import dataclasses

    from ssbkit.core.results import hash_file
    from ssbkit.xrd.data import Pattern

    containers = read(path, technique="xrd", **options)
    patterns = [c for c in containers if isinstance(c, Pattern)]
    if not patterns:
        raise InputError(f"holds no powder pattern ({_kinds(containers)})", source=Path(path))
    if scan is None and len(patterns) > 1:
        raise InputError(f"holds {len(patterns)} scans; choose one with scan= (0-based)", source=Path(path))
    if scan is not None and not 0 <= scan < len(patterns):
        raise InputError(f"scan {scan} does not exist; the file holds {len(patterns)}", source="scan")
    pattern = patterns[scan or 0]
    digest = hash_file(path) if Path(path).is_file() else None
    return dataclasses.replace(pattern, metadata={**pattern.metadata, "sha256": digest})


def read_nmr(path: str | PathLike[str], **options: Any) -> Any:
    """The NMR data in ``path`` (a Bruker experiment folder, its ``fid``/``ser``, or ``pdata/N``).

    Returns an ``ssbkit.nmr.FID`` for raw data and an ``ssbkit.nmr.NMRSpectrum`` for processed
    ``pdata``; ``InputError`` when the path holds neither.
    """
    from ssbkit.nmr.data import FID, NMRSpectrum

    containers = read(path, technique="nmr", **options)
    found = [c for c in containers if isinstance(c, FID | NMRSpectrum)]
    if not found:
        raise InputError(f"holds no NMR data ({_kinds(containers)})", source=Path(path))
    return found[0]


def _kinds(containers: list[Any]) -> str:
    if not containers:
        return "nothing was read"
    counts: dict[str, int] = {}
    for c in containers:
        counts[type(c).__name__] = counts.get(type(c).__name__, 0) + 1
    return "found " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
