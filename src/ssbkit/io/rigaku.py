"""Rigaku SmartLab / MiniFlex files: RAS text (.ras) and RASX archives (.rasx).

RAS: ``*RAS_DATA_START``, then per scan a header of ``*KEY "value"`` lines between
``*RAS_HEADER_START`` and ``*RAS_HEADER_END``, and rows ``2θ intensity attenuation``
between ``*RAS_INT_START`` and ``*RAS_INT_END``. RASX: a zip archive whose
``Data<n>/Profile<m>.txt`` holds the same rows (tab separated, UTF-8 with a byte-order mark)
and ``Data<n>/MesurementConditions<m>.xml`` (sic) the conditions, as elements
(``GeneralInformation/SampleName``, ``HWConfigurations/XrayGenerator/TargetName``,
``WaveType``, ``WavelengthKalpha1``…, ``ScanInformation/AxisName``, ``Mode``, ``Step``,
``Speed``, ``SpeedUnit``, ``IntensityUnit``, ``StartTime``) and as a ``RASHeader`` of
``*KEY``/value pairs; both are mapped onto the RAS keys used below.

Keys used: ``MEAS_SCAN_AXIS_X`` (a 2θ axis: ``TwoThetaTheta``, ``TwoTheta``,
``TwoThetaOmega``, ``2θ/θ``…; others are refused), ``MEAS_SCAN_UNIT_X`` (deg),
``MEAS_SCAN_UNIT_Y`` (``counts`` or ``cps``), ``MEAS_SCAN_MODE``, ``MEAS_SCAN_STEP``,
``MEAS_SCAN_SPEED`` with ``MEAS_SCAN_SPEED_UNIT``, ``MEAS_DATA_COUNT`` (checked),
``MEAS_SCAN_START_TIME``, ``HW_XG_TARGET_NAME``, ``MEAS_COND_XG_WAVE_TYPE`` (``Ka``, ``Ka1``,
``Kb``), ``HW_XG_WAVE_LENGTH_ALPHA1``/``ALPHA2``/``BETA``, ``FILE_SAMPLE``.

Intensity: the third column is the attenuator factor; the true intensity is the counted
value times it (σ = factor·√counted). The time per step is step/speed (deg/min) for a
continuous scan, or the speed itself (s) for a step scan; intensities in ``cps`` are
multiplied by it to give counts per step, and stay in cps (said in
``metadata["intensity"]``) when the file does not give the time. The file does not state the
Kα2/Kα1 ratio: 0.5 is used and ``metadata["wavelengths"]`` says so.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "s.ras"
>>> _ = path.write_text('*RAS_DATA_START\\n*RAS_HEADER_START\\n*MEAS_SCAN_UNIT_Y "counts"\\n'
...                     '*RAS_HEADER_END\\n*RAS_INT_START\\n28.40 5107 11.23\\n28.42 5479 1\\n'
...                     '*RAS_INT_END\\n*RAS_DATA_END\\n')
>>> (p,) = RasReader().read(path)
>>> p.intensity.tolist(), p.metadata["intensity"]
([57351.61, 5479.0], 'counts per step (counted × attenuation factor)')
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options
from ssbkit.io._text import decode, read_text, split_lines
from ssbkit.io.xrd_text import attenuated_sigma, build_pattern

__all__ = ["RasReader", "RasxReader"]

_KEY = re.compile(r'^\*(\w[\w-]*)\s+"?(.*?)"?\s*$')
_TWO_THETA_AXES = ("twotheta", "2theta", "2θ", "2-theta")
_PROFILE = re.compile(r"(?:^|/)(Data\d+)/Profile(\d+)\.txt$")
# RASX condition elements, as (parent, element) → RAS key
_RASX_KEYS = {
    ("GeneralInformation", "SampleName"): "FILE_SAMPLE",
    ("GeneralInformation", "SystemName"): "FILE_SYSTEM_NAME",
    ("XrayGenerator", "TargetName"): "HW_XG_TARGET_NAME",
    ("XrayGenerator", "WaveType"): "MEAS_COND_XG_WAVE_TYPE",
    ("XrayGenerator", "WavelengthKalpha1"): "HW_XG_WAVE_LENGTH_ALPHA1",
    ("XrayGenerator", "WavelengthKalpha2"): "HW_XG_WAVE_LENGTH_ALPHA2",
    ("XrayGenerator", "WavelengthKbeta"): "HW_XG_WAVE_LENGTH_BETA",
    ("ScanInformation", "AxisName"): "MEAS_SCAN_AXIS_X",
    ("ScanInformation", "Mode"): "MEAS_SCAN_MODE",
    ("ScanInformation", "Step"): "MEAS_SCAN_STEP",
    ("ScanInformation", "Speed"): "MEAS_SCAN_SPEED",
    ("ScanInformation", "SpeedUnit"): "MEAS_SCAN_SPEED_UNIT",
    ("ScanInformation", "PositionUnit"): "MEAS_SCAN_UNIT_X",
    ("ScanInformation", "IntensityUnit"): "MEAS_SCAN_UNIT_Y",
    ("ScanInformation", "StartTime"): "MEAS_SCAN_START_TIME",
}


# what zipfile raises on a damaged archive: a bad offset seeks before the start (OSError EINVAL), a
# damaged header asks for a version it does not support (NotImplementedError), ValueError, …
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               NotImplementedError,
               ValueError, struct.error)

def _number(header: dict[str, str], key: str, path: Path) -> float | None:
    text = header.get(key, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{key} {text!r} is not a number", source=path) from None


def _wavelengths(header: dict[str, str], path: Path) -> tuple[tuple[tuple[float, float], ...], str]:
    alpha1 = _number(header, "HW_XG_WAVE_LENGTH_ALPHA1", path)
    alpha2 = _number(header, "HW_XG_WAVE_LENGTH_ALPHA2", path)
    beta = _number(header, "HW_XG_WAVE_LENGTH_BETA", path)
    wave = header.get("MEAS_COND_XG_WAVE_TYPE", "Ka").strip().lower().replace("α", "a")
    if wave.startswith("kb") and beta:
        return ((beta, 1.0),), "Kβ"
    if not alpha1:
        return (), "not in the file"
    if wave.startswith("ka1") or not alpha2:
        return ((alpha1, 1.0),), "Kα1"
    return ((alpha1, 1.0), (alpha2, 0.5)), "Kα1 + Kα2, ratio 0.5 assumed (not in the file)"


def _time_per_step(header: dict[str, str], path: Path) -> float | None:
    speed = _number(header, "MEAS_SCAN_SPEED", path)
    step = _number(header, "MEAS_SCAN_STEP", path)
    unit = header.get("MEAS_SCAN_SPEED_UNIT", "").strip().lower()
    mode = header.get("MEAS_SCAN_MODE", "").strip().lower()
    if not speed or speed <= 0:
        return None
    if "/min" in unit and step:
        return abs(step) / speed * 60.0
    if "/s" in unit and step:
        return abs(step) / speed
    if unit in ("s", "sec", "second", "seconds") or (mode.startswith("step") and not unit):
        return speed
    return None


def _rigaku_pattern(path: Path, header: dict[str, str], rows: np.ndarray, lines: np.ndarray, *,
                   name: str, strict: bool, extra: dict[str, Any] | None = None) -> Any:
    """A ``Pattern`` from RAS keys and rows (2θ, intensity[, attenuation])."""
    axis = header.get("MEAS_SCAN_AXIS_X", "").strip()
    flat = axis.lower().replace(" ", "").replace("_", "")
    if axis and not any(flat.startswith(a) for a in _TWO_THETA_AXES):
        raise InputError(f"the scan axis is {axis!r}, not 2θ: not a powder scan", source=path)
    unit_x = header.get("MEAS_SCAN_UNIT_X", "deg").strip().lower()
    if unit_x not in ("deg", "degree", "degrees", "°", ""):
        raise InputError(f"the scan axis unit is {unit_x!r}, not degrees", source=path)
    if rows.shape[1] < 2:
        raise InputError("the rows hold 2θ only, no intensities", source=path)
    x, counted = rows[:, 0], rows[:, 1]
    factors = rows[:, 2] if rows.shape[1] > 2 else np.ones(x.size)
    if not (np.isfinite(factors).all() and (factors > 0).all()):
        i = int(np.flatnonzero(~(np.isfinite(factors) & (factors > 0)))[0])
        raise InputError(f"attenuation factor {factors[i]:g} is not > 0", source=path,
                         location=f"line {lines[i]}")
    expected = _number(header, "MEAS_DATA_COUNT", path)
    if expected is not None and int(expected) != x.size:
        raise InputError(f"MEAS_DATA_COUNT announces {int(expected)} points but {x.size} rows "
                         f"follow{': truncated' if x.size < expected else ''}", source=path)
    wavelengths, said = _wavelengths(header, path)
    meta: dict[str, Any] = {"format": name, "file": path.name, "wavelengths": said,
                            "scan_axis": axis or "(not stated)", **(extra or {})}
    for key, target in (("FILE_SAMPLE", "sample"), ("HW_XG_TARGET_NAME", "anode"),
                        ("MEAS_SCAN_START_TIME", "start_time"), ("FILE_SYSTEM_NAME", "instrument")):
        if header.get(key, "").strip():
            meta[target] = header[key].strip()
    step = _number(header, "MEAS_SCAN_STEP", path)
    if step:
        meta["step_deg"] = abs(step)
    time = _time_per_step(header, path)
    if time is not None:
        meta["time_per_step_s"] = time
    unit_y = header.get("MEAS_SCAN_UNIT_Y", "counts").strip().lower()
    attenuated = bool((factors != 1).any())
    note = "counted × attenuation factor" if attenuated else "as stored"
    if unit_y == "cps":
        if time is None:
            meta["intensity"] = f"counts per second ({note}); the file gives no time per step"
            sigma = None
        else:
            counted = counted * time
            meta["intensity"] = f"counts per step (cps × {time:g} s; {note})"
            sigma = attenuated_sigma(counted * factors, factors)
    elif unit_y in ("counts", "count", ""):
        meta["intensity"] = f"counts per step ({note})"
        sigma = attenuated_sigma(counted * factors, factors)
    else:
        raise InputError(f"intensity unit {unit_y!r} is not counts or cps", source=path)
    return build_pattern(path, x, counted * factors, sigma, lines=lines, wavelengths=wavelengths,
                         metadata=meta, strict=strict)


def _rows(path: Path, lines: list[str], first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    values, numbers = [], []
    for i in range(first, stop):
        text = lines[i].strip()
        if not text:
            continue
        try:
            values.append([float(v) for v in text.replace(",", " ").split()[:3]])
        except ValueError:
            raise InputError(f"{text!r} is not a row of numbers (2θ, intensity, attenuation)",
                             source=path, location=f"line {i + 1}") from None
        numbers.append(i + 1)
    if not values:
        raise InputError("a scan without rows", source=path, location=f"line {first}")
    width = min(len(v) for v in values)
    if width < 2:
        at = next(numbers[k] for k, v in enumerate(values) if len(v) < 2)
        raise InputError("a row without an intensity", source=path, location=f"line {at}")
    return np.array([v[:width] for v in values]), np.array(numbers)


class RasReader:
    """Rigaku RAS text files, one pattern per scan."""

    name = "rigaku-ras"
    extensions = (".ras",)
    techniques = frozenset({"xrd"})
    description = "Rigaku RAS text (*RAS_DATA_START … *RAS_INT_START rows)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return decode(head[:1024]).lstrip("\ufeff \r\n\t").startswith("*RAS_DATA_START")

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern`` per scan; option ``strict``."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        lines = split_lines(read_text(path))
        patterns, header, i = [], {}, 0
        while i < len(lines):
            line = lines[i].strip()
            if line == "*RAS_HEADER_START":
                header = {}
            elif line == "*RAS_INT_START":
                end = next((k for k in range(i + 1, len(lines)) if lines[k].strip().startswith("*")), None)
                if end is None or lines[end].strip() != "*RAS_INT_END":
                    raise InputError("a scan's rows do not end with *RAS_INT_END: the file is "
                                     "truncated", source=path, location=f"line {i + 1}")
                rows, numbers = _rows(path, lines, i + 1, end)
                patterns.append(_rigaku_pattern(path, header, rows, numbers, name=self.name,
                                               strict=opts["strict"], extra={"scan": len(patterns)}))
                i = end
            else:
                match = _KEY.match(line)
                if match and not line.startswith("*RAS_"):
                    header[match[1]] = match[2]
            i += 1
        if not patterns:
            raise InputError("no *RAS_INT_START … *RAS_INT_END block", source=path)
        return patterns


def _rasx_header(xml: bytes, member: str, path: Path) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise InputError(f"{member} is not well-formed XML ({exc.msg.split(':')[0]})", source=path) from None
    header: dict[str, str] = {}
    for parent in root.iter():
        pname = parent.tag.rsplit("}", 1)[-1]
        if pname == "Pair":  # RASHeader/Pair: two <string> children, "*KEY" then the value
            texts = [(c.text or "").strip() for c in parent]
            if len(texts) == 2 and texts[0].startswith("*"):
                header.setdefault(texts[0][1:], texts[1])
            continue
        for child in parent:
            key = _RASX_KEYS.get((pname, child.tag.rsplit("}", 1)[-1]))
            if key and child.text and child.text.strip():
                header[key] = child.text.strip()  # the elements win over the copied header
    return header


class RasxReader:
    """Rigaku RASX archives: one pattern per ``Data<n>/Profile<m>.txt``."""

    name = "rigaku-rasx"
    extensions = (".rasx",)
    techniques = frozenset({"xrd"})
    description = "Rigaku RASX (zip of Data0/Profile0.txt and MesurementConditions0.xml)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        if b"Profile0.txt" in head or b"MesurementConditions" in head:
            return True
        try:
            with zipfile.ZipFile(path) as archive:
                return any(_PROFILE.search(n) for n in archive.namelist())
        except Exception:  # sniff never raises
            return False

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern`` per profile; option ``strict``."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                profiles = sorted((n for n in names if _PROFILE.search(n)), key=_order)
                if not profiles:
                    raise InputError("the archive holds no Data*/Profile*.txt", source=path)
                patterns = []
                for member in profiles:
                    folder, number = _PROFILE.search(member).groups()
                    conditions = next((n for n in names if re.search(
                        rf"{re.escape(folder)}/Me(?:a)?surementConditions{number}\.xml$", n)), None)
                    if conditions is None:
                        raise InputError(f"no measurement conditions for {member} "
                                         f"({folder}/MesurementConditions{number}.xml)", source=path)
                    header = _rasx_header(archive.read(conditions), conditions, path)
                    lines = split_lines(decode(archive.read(member)))
                    rows, numbers = _rows(path, lines, 0, len(lines))
                    patterns.append(_rigaku_pattern(path, header, rows, numbers, name=self.name,
                                                   strict=opts["strict"], extra={"member": member}))
        except InputError:
            raise
        except _ZIP_ERRORS as exc:
            raise InputError(f"not a readable zip archive ({type(exc).__name__}: {exc}); the file may be "
                             "truncated or damaged", source=path) from None
        return patterns



def _order(member: str) -> tuple[int, int]:
    folder, number = _PROFILE.search(member).groups()
    return int(folder[4:]), int(number)
