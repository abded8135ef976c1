"""PalmSens session files (.pssession, PSTrace).

A session file is UTF-16 text holding one JSON document (``"Type":
"PalmSens.DataFiles.SessionFile"``) with a list of ``Measurements``. Each impedance
measurement (``DataSet.Type`` mentioning EIS) has value arrays tagged by unit type:
``PalmSens.Units.Hertz`` (frequency), ``ZRe`` and ``ZIm``. The quantity label of ``ZIm``
says ``-Z''`` in PSTrace files, so it is negated to reach Z = Z' + jZ''; an array labelled
``Z''`` is taken as stored. Measurement title, device and time stamp (.NET ticks, turned
into an ISO date) go into the metadata. Sessions without an impedance measurement are an
``InputError``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import build_spectra, check_options
from ssbkit.io._text import decode, read_bytes

__all__ = ["PalmSensReader"]


def _document(text: str) -> str:
    start, stop = text.find("{"), text.rfind("}")
    return text[start:stop + 1] if start >= 0 and stop > start else ""


class PalmSensReader:
    """PalmSens PSTrace session files with EIS measurements."""

    name = "palmsens-pssession"
    extensions = (".pssession",)
    techniques = frozenset({"eis"})
    description = "PalmSens PSTrace session (.pssession), EIS measurements"

    def sniff(self, path: Path, head: bytes) -> bool:
        return "PalmSens.DataFiles.SessionFile" in decode(head[:4096]).replace("\x00", "")

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One spectrum per EIS measurement and sweep; options ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        try:
            session = json.loads(_document(decode(read_bytes(path)).replace("\x00", "")))
        except json.JSONDecodeError as exc:
            raise InputError(f"the session's JSON is broken near character {exc.pos}: {exc.msg} "
                             "(truncated file?)", source=path) from None
        spectra: list[Any] = []
        for number, measurement in enumerate(session.get("Measurements") or []):
            data_set = measurement.get("DataSet") or {}
            if "EIS" not in str(data_set.get("Type", "")):
                continue
            arrays = _arrays(path, data_set.get("Values") or [], number)
            metadata = {"format": self.name, "file": path.name, "measurement": number,
                        "title": measurement.get("Title", ""), "instrument": "PalmSens"}
            if measurement.get("DeviceSerial"):
                metadata["device_serial"] = str(measurement["DeviceSerial"])
            stamp = _ticks(measurement.get("TimeStamp"))
            if stamp:
                metadata["start_time"] = stamp
            f, z = arrays["frequency"], arrays["z_real"] + 1j * arrays["z_imag"]
            spectra += build_spectra(path, f, z, np.arange(1, f.size + 1), metadata=metadata,
                                     split=opts["split_sweeps"], strict=opts["strict"],
                                     row_label="point")
        if not spectra:
            raise InputError("no EIS measurement in this session", source=path)
        return spectra


def _arrays(path: Path, values: list[dict[str, Any]], number: int) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for array in values:
        unit = array.get("Unit") or {}
        kind = str(unit.get("Type", "")).rsplit(".", 1)[-1]
        key = {"Hertz": "frequency", "ZRe": "z_real", "ZIm": "z_imag"}.get(kind)
        if key is None or key in found:
            continue
        data = np.array([float(v.get("V", np.nan)) for v in array.get("DataValues") or []])
        if key == "z_imag" and str(unit.get("Q", "-Z''")).strip().startswith("-"):
            data = -data
        found[key] = data
    missing = [k for k in ("frequency", "z_real", "z_imag") if k not in found]
    if missing:
        raise InputError(f"measurement {number} lacks {', '.join(missing)} arrays", source=path)
    sizes = {k: v.size for k, v in found.items()}
    if len(set(sizes.values())) != 1:
        raise InputError(f"measurement {number}: arrays differ in length {sizes}", source=path)
    return found


def _ticks(value: Any) -> str | None:
    """.NET ticks (100 ns since 0001-01-01) as an ISO date-time, or None."""
    try:
        ticks = int(value)
    except (TypeError, ValueError):
        return None
    if ticks <= 0:
        return None
    return (datetime(1, 1, 1) + timedelta(microseconds=ticks // 10)).isoformat(timespec="seconds")
